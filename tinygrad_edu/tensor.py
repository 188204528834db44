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

from typing import Any

import numpy as np

from . import dtypes
from ._shapes import unbroadcast
from .grad_mode import user_frame
from .tensor_methods import TensorMethods


def _to_array(data, dtype=None) -> np.ndarray:
    """Array from data: Python floats become the default float (float32), ndarrays keep theirs."""
    if isinstance(data, Tensor):
        data = data._data
    if dtype is not None:
        return np.array(data, dtype=np.dtype(dtype))
    if isinstance(data, np.ndarray):
        return data.copy()
    if isinstance(data, np.generic):
        return np.array(data)
    arr = np.array(data)
    if arr.dtype.kind == "f" and arr.dtype != dtypes.get_default_dtype():
        arr = arr.astype(dtypes.get_default_dtype())
    elif arr.dtype.kind == "O":
        raise TypeError(f"tensor: cannot make a tensor from {type(data).__name__} data {data!r}")
    return arr


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


class Tensor(TensorMethods):
    """An n-dimensional array that can record the ops applied to it and backpropagate.

    >>> import tinygrad_edu as tg
    >>> x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad
    tensor([2., 4., 6.])
    """

    # _view: how a view was made from its parent (function.View), None for other tensors
    __slots__ = ("_data", "requires_grad", "_grad", "_record", "_vc", "_view", "__weakref__")
    # NumPy leaves tensors to their own operators: array + tensor is the tensor's reflected
    # operator (a tensor), and array += tensor raises TypeError (an array cannot hold a tensor)
    __array_ufunc__ = None
    _is_parameter = False  # True for nn.Parameter

    def __init__(self, data: Any, dtype=None, requires_grad: bool = False) -> None:
        self._data = _to_array(data, dtype)
        self._grad = self._record = self._vc = self._view = None
        self.requires_grad = False
        if requires_grad:
            _check_can_require_grad(self._data.dtype, "Tensor(requires_grad=True)")
            self.requires_grad = True

    @classmethod
    def _wrap(cls, data: np.ndarray, requires_grad: bool = False) -> "Tensor":
        """Wrap an array without copying or checks (the engine's internal constructor)."""
        t = object.__new__(cls)
        t._data, t.requires_grad = data, requires_grad
        t._grad = t._record = t._vc = t._view = None
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
        return self._grad

    @grad.setter
    def grad(self, value) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                value = Tensor(value, dtype=self._data.dtype)
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
                f"backward: this tensor (shape {self.shape}) does not require grad and was not "
                "produced by a recorded op; set requires_grad=True on the leaves you want "
                "gradients for, and make sure the forward did not run under no_grad()"
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

    # -- arithmetic operators: each one is a primitive (or a composite) in ops ---------------
    def __add__(self, other): return functional.add(self, other)
    def __radd__(self, other): return functional.add(other, self)
    def __sub__(self, other): return functional.sub(self, other)
    def __rsub__(self, other): return functional.sub(other, self)
    def __mul__(self, other): return functional.mul(self, other)
    def __rmul__(self, other): return functional.mul(other, self)
    def __truediv__(self, other): return functional.div(self, other)
    def __rtruediv__(self, other): return functional.div(other, self)
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

    def __setitem__(self, index, value) -> None:
        functional.setitem_(self, index, value)

    def _assign(self, index, value, op: str) -> "Tensor":
        """``self[index] = value`` in place, named ``op`` in errors (``fill_``, ``zero_``)."""
        return functional.setitem_(self, index, value, op)


def _initial_grad(t: Tensor, gradient, op: str) -> Tensor:
    """The seed gradient of a backward: ones for a one-element output, else ``gradient``."""
    if gradient is None:
        if t._data.size != 1:
            raise RuntimeError(
                f"{op}: output has shape {t.shape}, so backward() needs a `gradient` argument of "
                "that shape (the vector in the vector-Jacobian product); for a loss, reduce it "
                "to a scalar first, e.g. loss.sum().backward() or loss.mean().backward()"
            )
        return Tensor._wrap(np.ones_like(t._data))
    g = gradient if isinstance(gradient, Tensor) else Tensor(np.asarray(gradient, dtype=t.dtype))
    if g._data.shape != t._data.shape:
        raise RuntimeError(
            f"{op}: gradient has shape {g._data.shape} but the output has shape {t.shape}; "
            "pass a gradient of exactly the output's shape"
        )
    if not g.requires_grad:
        g = Tensor._wrap(np.array(g._data, dtype=t.dtype))  # a private copy: never alias the caller's
    return g


from . import functional, tape, tensor_methods  # noqa: E402  (the one back-edge: operators reach ops)

tensor_methods.Tensor, tensor_methods.functional = Tensor, functional
