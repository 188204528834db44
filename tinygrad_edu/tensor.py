"""Tensor: an ndarray (``._data``), an optional gradient (``.grad``), and a link to the record
that produced it (``._record``, PyTorch's ``grad_fn``).

This file holds what autodiff needs of a tensor: making one, ``backward``, accumulating
``.grad``, the version counter that guards in-place changes, and the arithmetic operators.
The rest of PyTorch's tensor methods (reductions, shapes, comparisons, conversions) are plain
forwards to ``functional`` in ``tensor_methods.py``, which ``Tensor`` inherits.

The one back-edge in the dependency graph is here: operators reach ``functional`` (and
through it the primitives in ``ops``) by a single late import at the bottom of this file.
"""

from __future__ import annotations

import copy
import numbers
import warnings

import numpy as np

from . import dtypes
from ._shapes import unbroadcast
from ._tensor_str import Size
from .device import check_device
from .grad_mode import _modes, user_frame
from .hooks import HookMethods
from .tensor_methods import TensorMethods


def _to_array(data, dtype=None) -> np.ndarray:
    """Array from data: Python floats become the default float (float32); NumPy scalars and
    arrays keep their dtype, also inside lists (``[np.float64(1.0)]`` is float64)."""
    if isinstance(data, Tensor):
        data = data._data
    if dtype is not None:
        return np.array(data, dtype=dtypes.as_numpy(dtype))
    if isinstance(data, np.ndarray):
        return data.copy()
    if isinstance(data, np.generic):
        return np.array(data)
    try:
        arr = np.array(data)
    except ValueError as e:  # ragged nesting: [[1.0, 2.0], [3.0]]
        raise ValueError(
            f"tensor: the data is not a rectangular nested sequence ({e}); every row must have "
            "the same length"
        ) from None
    if arr.dtype.kind == "f":  # NumPy reads a Python float as float64, PyTorch as the default
        arr = arr.astype(dtypes.data_float_dtype(data), copy=False)
    elif arr.dtype.kind == "O":
        raise TypeError(f"tensor: cannot make a tensor from {type(data).__name__} data {data!r}")
    return arr


def _legacy_array(args: tuple, dtype) -> np.ndarray:
    """The array of ``Tensor(*args)``: sizes give an uninitialised array, data is copied."""
    sizes = tuple(args[0]) if len(args) == 1 and isinstance(args[0], Size) else args or (0,)
    if all(isinstance(n, numbers.Integral) and not isinstance(n, bool) for n in sizes):
        return np.empty(sizes, dtypes.as_numpy(dtype))
    if len(args) == 1 and not isinstance(args[0], numbers.Number):
        return _to_array(args[0], dtype)
    raise TypeError(
        f"Tensor: expects data (a list, array or tensor) or sizes (Tensor(2, 3)), got "
        f"{', '.join(type(a).__name__ for a in args)}; for a tensor holding one number use "
        "tg.tensor(value)"
    )


def _check_can_require_grad(dtype: np.dtype, where: str) -> None:
    if dtype.kind not in "fc":
        raise TypeError(
            f"{where}: only floating-point tensors can require gradients, got dtype {dtype}; "
            "convert first, e.g. x.float() or tg.tensor(data, dtype=tg.float32)"
        )


class _Version:
    """How often a tensor's memory was changed in place, and by what (for the error a
    backward raises when it needed the old value). Views and detached aliases share their
    base's."""

    __slots__ = ("count", "last")

    def __init__(self) -> None:
        self.count = 0
        self.last = ""  # the in-place op and its source line


class Tensor(TensorMethods, HookMethods):
    """An n-dimensional array that can record the ops applied to it and backpropagate.

    >>> import tinygrad_edu as tg
    >>> x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad
    tensor([2., 4., 6.])
    """

    # _view: how a view was made from its parent (function.View), None for other tensors
    __slots__ = (
        "_data", "requires_grad", "_grad", "_record", "_vc", "_hooks", "_view", "__weakref__"
    )
    # NumPy leaves tensors to their own operators: array + tensor is the tensor's reflected
    # operator (a tensor), and array += tensor raises TypeError (an array cannot hold a tensor)
    __array_ufunc__ = None
    _is_parameter = False  # True for nn.Parameter

    def __init__(self, *args, dtype=None, device=None, requires_grad: bool = False) -> None:
        """PyTorch's ``torch.Tensor(...)``: ``Tensor(data)`` copies data into a tensor of the
        default float dtype (float32) whatever the data's type, ``Tensor(2, 3)`` makes an
        uninitialised tensor of that shape and ``Tensor()`` an empty one. ``tg.tensor(data)``
        keeps integer and bool data as they are."""
        check_device(device, "Tensor")
        self._data = _legacy_array(args, dtypes.get_default_dtype() if dtype is None else dtype)
        self._grad = self._record = self._vc = self._hooks = self._view = None
        self.requires_grad = False
        if requires_grad:
            _check_can_require_grad(self._data.dtype, "Tensor(requires_grad=True)")
            self.requires_grad = True

    @classmethod
    def _wrap(cls, data: np.ndarray, requires_grad: bool = False) -> "Tensor":
        """Wrap an array without copying or checks (the engine's internal constructor)."""
        t = object.__new__(cls)
        t._data, t.requires_grad = data, requires_grad
        t._grad = t._record = t._vc = t._hooks = t._view = None
        return t

    @property
    def data(self) -> "Tensor":
        """This tensor's memory as a tensor cut from the graph, whose in-place changes are
        neither recorded nor version-counted (PyTorch's ``.data``: ``p.data.add_(-lr * g)``).
        The NumPy array is ``t.numpy()`` or ``np.asarray(t)``."""
        return Tensor._wrap(self._data)

    @data.setter
    def data(self, value: "Tensor") -> None:
        """``t.data = other``: ``t`` takes ``other``'s memory, shape and dtype, as in PyTorch."""
        if not isinstance(value, Tensor):
            raise TypeError(
                f"data: must be set to a tensor, got {type(value).__name__}; wrap it first "
                "(t.data = tg.tensor(...))"
            )
        if self.requires_grad:
            _check_can_require_grad(value._data.dtype, "data")
        self._data = value._data

    @property
    def grad(self) -> "Tensor | None":
        """The gradient a backward accumulated: kept for leaves, and for other tensors only
        after ``retain_grad()`` (reading it otherwise warns, as in PyTorch)."""
        if self._grad is None and self._record is not None and not self.retains_grad:
            warnings.warn(_NON_LEAF_GRAD.format(shape=self._data.shape), UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                value = Tensor._wrap(_to_array(value, self._data.dtype))
            if value._data.shape != self._data.shape:
                raise ValueError(
                    f"grad: assigned gradient has shape {value._data.shape} but the tensor has "
                    f"shape {self._data.shape}; they must match"
                )
        self._grad = value

    __hash__ = object.__hash__

    # -- autograd ---------------------------------------------------------------------------
    def backward(self, gradient=None, retain_graph: bool | None = None, create_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad`` by one reverse pass.

        A scalar needs no ``gradient``; any other tensor needs one of its own shape (the
        vector of a vector-Jacobian product). The records replayed are freed afterwards unless
        ``retain_graph=True``; ``create_graph=True`` records the backward itself so the
        gradients can be differentiated again.
        """
        if not self.requires_grad:
            raise RuntimeError(
                f"backward: this tensor (shape {tuple(self.shape)}) does not require grad and "
                "was not produced by a recorded op; set requires_grad=True on the leaves you "
                "want gradients for, and make sure the forward did not run under no_grad()"
            )
        grad = _initial_grad(self, gradient, "backward")
        if retain_graph is None:
            retain_graph = create_graph
        tape.backward([self], [grad], retain_graph=retain_graph, create_graph=create_graph)

    def _accumulate_grad(self, g: "Tensor", create_graph: bool, adopted: set) -> None:
        """Add a finished gradient into a leaf's ``.grad``.

        The first gradient's buffer is adopted without a copy unless it is read-only (a
        broadcast view) or another leaf adopted the same memory in this backward (``adopted``
        holds those buffers' ids): a later backward adds into ``.grad`` in place, and two
        leaves must never share that buffer.
        """
        if create_graph:
            self._grad = g if self._grad is None else self._grad + g
        elif self._grad is None:
            arr = g._data
            owner = arr if arr.base is None else arr.base
            if not arr.flags.writeable or id(owner) in adopted:
                arr = owner = arr.copy()
            adopted.add(id(owner))
            self._grad = Tensor._wrap(arr)
        elif self._grad.requires_grad:
            self._grad = Tensor._wrap(self._grad._data + g._data)
        else:
            self._grad._data += g._data

    def _refresh_view(self) -> None:
        """A view whose base changed in place since it was made gets its history remade
        (``function.refresh_view``); the replay calls this on the tensors it starts from."""
        if self._view is not None:
            from .function import refresh_view  # (function.py sits above this module)

            refresh_view(self)

    def _sum_to(self, like: "Tensor", op: str) -> "Tensor":
        """This gradient summed down to ``like``'s shape and cast to its dtype: the replay's
        one unbroadcast. Recorded (``functional.sum_to``) when the gradient itself requires grad."""
        shape, dtype = like._data.shape, like._data.dtype
        g = self
        if g._data.shape != shape:
            lead = g.ndim - len(shape)
            if lead < 0 or any(n not in (1, m) for n, m in zip(shape, g._data.shape[lead:])):
                raise RuntimeError(
                    f"{op}.backward returned a gradient of shape {g._data.shape} for an input "
                    f"of shape {shape}; a gradient must have the input's shape or a shape the "
                    "input broadcasts to"
                )
            g = functional.sum_to(g, shape) if g.requires_grad else Tensor._wrap(unbroadcast(g._data, shape))
        if g._data.dtype != dtype:
            g = functional.cast(g, dtype) if g.requires_grad else Tensor._wrap(g._data.astype(dtype))
        return g

    def detach(self) -> "Tensor":
        """A new tensor sharing this one's data, cut from the graph."""
        t = Tensor._wrap(self._data)
        t._vc = self._shared_version()
        return t

    # -- copying and pickling: the data, never the graph (PyTorch's rules) --------------------
    def __reduce_ex__(self, protocol):
        """Pickle the array and ``requires_grad`` only, as PyTorch does: a non-leaf unpickles as
        a leaf holding its values, and ``.grad`` is not saved."""
        return type(self)._wrap, (self._data, self.requires_grad)

    def __deepcopy__(self, memo) -> "Tensor":
        """A leaf's copy, with a copy of its ``.grad``. A non-leaf raises, as in PyTorch: its
        copy could not keep the graph, and dropping it silently would change what backward
        computes."""
        if self._record is not None:
            raise RuntimeError(
                f"deepcopy: only leaf tensors can be deep-copied, but this one (shape "
                f"{self.shape}) was made by {self._record.name}; copy a detached tensor "
                "(x.detach()) and call requires_grad_() on it if it should be a new leaf"
            )
        t = type(self)._wrap(copy.deepcopy(self._data, memo), self.requires_grad)
        t._grad = copy.deepcopy(self._grad, memo)
        return t

    def detach_(self) -> "Tensor":
        if self._record is not None:
            tape.get_tape().keep(self._record)  # (ops that read this tensor before still need it)
        self._record = None
        self.requires_grad = False
        return self

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        if self._record is not None and not requires_grad:
            raise RuntimeError(
                "requires_grad_: you can only change requires_grad of leaf tensors; use "
                "detach() to get a tensor cut from the graph"
            )
        if requires_grad:
            _check_can_require_grad(self._data.dtype, "requires_grad_")
        self.requires_grad = bool(requires_grad)
        return self

    # -- version counter: in-place changes are counted, so a stale saved value is caught ----
    @property
    def _version(self) -> int:
        return 0 if self._vc is None else self._vc.count

    def _shared_version(self) -> _Version:
        """This tensor's version counter, for a view or a detached alias to share."""
        if self._vc is None:
            self._vc = _Version()
        return self._vc

    def _bump_version(self, op: str | None = None, label: str | None = None) -> None:
        """Count an in-place change and remember it: ``op`` and the user's source line, or a
        ready-made ``label`` (optimizers pass one, naming themselves)."""
        if self._vc is None:
            self._vc = _Version()
        self._vc.count += 1
        if label is None:
            label = f"{f'`{op}`' if op else 'an in-place operation'} at {user_frame()}"
        self._vc.last = label

    def _check_inplace(self, op: str) -> None:
        if _modes.grad_enabled and self.requires_grad:
            if self._record is None:
                raise RuntimeError(
                    f"{op}: a leaf tensor that requires grad (shape {tuple(self.shape)}) is "
                    "being changed in place while gradients are recorded; wrap the update in "
                    "`with tg.no_grad():` (as optimizers do) or work on x.detach()"
                )
            raise RuntimeError(
                f"{op}: in-place change of a tensor that is part of the recorded graph (shape "
                f"{tuple(self.shape)}); use the out-of-place form (x = x + y), or detach() first"
            )

    # -- arithmetic operators: each one is a primitive (or a composite) in ops ---------------
    def __add__(self, other): return functional.add(self, other)
    def __radd__(self, other): return functional.add(other, self)
    def __sub__(self, other): return functional.sub(self, other)
    def __rsub__(self, other): return functional.sub(other, self)
    def __mul__(self, other): return functional.mul(self, other)
    def __rmul__(self, other): return functional.mul(other, self)
    def __truediv__(self, other): return functional.div(self, other)
    def __rtruediv__(self, other): return functional.div(other, self)
    def __floordiv__(self, other): return functional.floor_divide(self, other)
    def __rfloordiv__(self, other): return functional.floor_divide(other, self)
    def __mod__(self, other): return functional.remainder(self, other)  # the divisor's sign
    def __rmod__(self, other): return functional.remainder(other, self)
    def __pow__(self, other): return functional.pow(self, other)
    def __rpow__(self, other): return functional.pow(other, self)
    def __matmul__(self, other): return functional.matmul(self, other)
    def __rmatmul__(self, other): return functional.matmul(other, self)
    def __neg__(self): return functional.neg(self)
    def __pos__(self): return self
    def __abs__(self): return functional.abs(self)

    # -- in place: the memory changes, the version counter moves on, and while gradients are
    #    recorded the tensor becomes the output of the in-place op's record (Function.apply_)
    def __iadd__(self, other): return functional.add_(self, other, "+=")
    def __isub__(self, other): return functional.sub_(self, other, "-=")
    def __imul__(self, other): return functional.mul_(self, other, "*=")
    def __itruediv__(self, other): return functional.div_(self, other, "/=")
    def __ifloordiv__(self, other): return self._inplace(functional.floor_divide, other, "//=")
    def __imod__(self, other): return self._inplace(functional.remainder, other, "%=")
    def __iand__(self, other): return self._inplace(functional.bitwise_and, other, "&=")
    def __ior__(self, other): return self._inplace(functional.bitwise_or, other, "|=")
    def __ixor__(self, other): return self._inplace(functional.bitwise_xor, other, "^=")

    def __setitem__(self, index, value) -> None:
        functional.setitem_(self, index, value)

    def _inplace(self, fn, other, op: str) -> "Tensor":
        """``self = fn(self, other)`` written into self's memory, in self's dtype (the integer
        and bitwise operators, which are not recorded): computed in
        the promoted dtype, then stored (PyTorch's rule), so a float result for an integer
        tensor raises instead of being truncated."""
        self._check_inplace(op)
        _refuse_recorded_operand(other, op)
        out = fn(Tensor._wrap(self._data), other)._data
        if out.shape != self._data.shape:
            raise RuntimeError(
                f"{op}: the result has shape {out.shape}, but the tensor changed in place has "
                f"shape {self._data.shape}; an in-place op cannot change the shape"
            )
        if dtypes.category(out.dtype) > dtypes.category(self._data.dtype):
            raise RuntimeError(
                f"{op}: result type {out.dtype} can't be cast to the desired output type "
                f"{self._data.dtype}; use the out-of-place form (x = x + y), or convert first "
                "(x = x.float())"
            )
        np.copyto(self._data, out, casting="unsafe")
        self._bump_version(op)
        return self

    def _assign(self, index, value, op: str) -> "Tensor":
        """``self[index] = value`` in place, named ``op`` in errors (``fill_``, ``zero_``)."""
        return functional.setitem_(self, index, value, op)


def _refuse_recorded_operand(other, op: str) -> None:
    if isinstance(other, Tensor) and other.requires_grad and _modes.grad_enabled:
        raise RuntimeError(
            f"{op}: the right-hand side requires grad, so the result must be recorded; build "
            "the result out of place instead (x = x + y, tg.where, tg.cat)"
        )


_NON_LEAF_GRAD = (
    "The .grad attribute of a tensor that is not a leaf (shape {shape}) is being accessed: "
    "backward() fills .grad only for leaves. Call .retain_grad() on it before the backward to "
    "keep its gradient, or read the .grad of the leaf tensor you meant."
)


def _initial_grad(t: Tensor, gradient, op: str) -> Tensor:
    """The seed gradient of a backward: ones for a one-element output, else ``gradient``."""
    if gradient is None:
        if t._data.size != 1:
            raise RuntimeError(
                f"{op}: output has shape {tuple(t.shape)}, so backward() needs a `gradient` "
                "argument of that shape (the vector in the vector-Jacobian product); for a "
                "loss, reduce it to a scalar first, e.g. loss.sum().backward() or "
                "loss.mean().backward()"
            )
        return Tensor._wrap(np.ones_like(t._data))
    g = gradient
    if not isinstance(g, Tensor):
        g = Tensor._wrap(np.asarray(g, t._data.dtype))
    if g._data.shape != t._data.shape:
        raise RuntimeError(
            f"{op}: gradient has shape {g._data.shape} but the output has shape {tuple(t.shape)}; "
            "pass a gradient of exactly the output's shape"
        )
    if not g.requires_grad:
        g = Tensor._wrap(np.array(g._data, dtype=t._data.dtype))  # a private copy: never alias the caller's
    return g


from . import functional, tape, tensor_methods  # noqa: E402  (the one back-edge: operators reach ops)

tensor_methods.Tensor, tensor_methods.functional = Tensor, functional
