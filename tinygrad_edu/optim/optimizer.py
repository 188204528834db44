"""Optimizer: the base class of every update rule, with PyTorch's ``param_groups`` and
``state_dict`` layout.

An optimizer holds a list of parameter groups (dicts with ``'params'`` and hyperparameters
such as ``'lr'``) and per-parameter ``state`` (momentum buffers, moment estimates ...).
``step()`` changes each parameter's array (``p.data``) in place with NumPy ufuncs (``out=``),
outside the tape, and bumps the tensor's version counter so that a graph recorded before
the update cannot silently use the changed weights in a later backward.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import scipy.linalg.blas

from ..tape import _user_frame, enable_grad
from ..tensor import Tensor

# elements per block of a NumPy in-place update: 256 KB of float32, so the block's scratch
# stays in L2 beside its operands (see Optimizer._axpy_numpy)
_AXPY_BLOCK = 1 << 16
# elements per BLAS axpy call: OpenBLAS keeps axpy on the calling thread up to 10,000
# elements (see Optimizer._axpy)
_BLAS_BLOCK = 8192
# BLAS axpy by dtype character ('f' float32, 'd' float64): y += a * x in place
_BLAS_AXPY = {"f": scipy.linalg.blas.saxpy, "d": scipy.linalg.blas.daxpy}


def _blas_thread_getter():
    """``scipy_openblas_get_num_threads`` of the OpenBLAS behind scipy.linalg.blas (a getter:
    it changes nothing), or None when that BLAS cannot be asked (another BLAS or build)."""
    try:
        import ctypes

        from scipy.linalg import _fblas

        getter = ctypes.CDLL(_fblas.__file__).scipy_openblas_get_num_threads
    except (ImportError, OSError, AttributeError):
        return None
    getter.restype, getter.argtypes = ctypes.c_int, []
    return getter


# asked once per step(): with one thread, axpy has no pool to wake, so an array goes in one call
_BLAS_THREADS = _blas_thread_getter()


class _Required:
    """Marks a hyperparameter with no default (``lr`` of SGD, as in PyTorch)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _Required()


class Optimizer:
    """Base class: subclasses define ``defaults`` and ``step``.

    >>> import tinygrad_edu as tg
    >>> from tinygrad_edu import optim
    >>> w = tg.tensor([1.0, 2.0], requires_grad=True)
    >>> opt = optim.SGD([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> opt.step(); opt.zero_grad()
    >>> w
    tensor([0.8, 1.6], requires_grad=True)
    """

    def __init__(self, params: Iterable, defaults: dict[str, Any]) -> None:
        name = type(self).__name__
        self.defaults = defaults
        self.state: defaultdict = defaultdict(dict)  # param tensor -> its state dict
        self.param_groups: list[dict[str, Any]] = []
        self._scratch_buffers: dict[tuple, np.ndarray] = {}
        self._blas_block = _BLAS_BLOCK  # elements per axpy call (set by step(), see _axpy)
        # what a backward that needed a parameter's old value names as the in-place change
        # (set by step(): one frame walk per step, not one per parameter)
        self._update_label = f"`{name}.step()`"
        if isinstance(params, Tensor):
            raise TypeError(
                f"{name}: params should be an iterable of Tensors or dicts, but got a single "
                f"Tensor of shape {params.shape}; wrap it in a list: {name}([w], ...)"
            )
        if not hasattr(params, "__iter__"):
            hint = (
                " (pass model.parameters(), not the model)" if hasattr(params, "parameters") else ""
            )
            raise TypeError(
                f"{name}: params should be an iterable of Tensors or dicts, but got "
                f"{type(params).__name__}{hint}"
            )
        groups = list(params)
        if not groups:
            raise ValueError(
                f"{name}: got an empty parameter list; pass the tensors to optimise, e.g. "
                f"{name}(model.parameters(), ...) (a generator such as model.parameters() can "
                "be consumed only once)"
            )
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own hyperparameters (missing ones default).

        Useful for fine-tuning: a new layer can join with a larger ``lr``.
        """
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(
                f"{name}.add_param_group: expected a dict like {{'params': [...], 'lr': 0.1}}, "
                f"got {type(param_group).__name__}"
            )
        params = param_group.get("params")
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError(
                f"{name}: parameters must be given in a fixed order (a list), not a set; "
                "the order of a set changes between runs"
            )
        else:
            params = list(params) if params is not None else []
        if not params:
            raise ValueError(f"{name}: a parameter group has an empty 'params' list")
        for i, p in enumerate(params):
            _check_param(p, i, name)
        group = {"params": params}
        for key, value in param_group.items():
            if key != "params":
                group[key] = value
        for key, default in self.defaults.items():
            if default is required and key not in group:
                raise ValueError(
                    f"{name}: parameter group didn't specify a value of required '{key}'"
                )
            group.setdefault(key, default)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if len({id(p) for p in params}) != len(params):
            raise ValueError(f"{name}: a parameter appears twice in one parameter group")
        if any(id(p) in seen for p in params):
            raise ValueError(f"{name}: some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    # -- the training-loop calls ------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients: ``p.grad = None`` (default), or fill them with zeros."""
        if set_to_none:  # (the attribute, not the property: once per parameter)
            for group in self.param_groups:
                for p in group["params"]:
                    p._grad = None
            return
        for group in self.param_groups:
            for p in group["params"]:
                g = p._grad
                if g is None:
                    continue
                if g.requires_grad:  # a create_graph gradient: cut it from its graph
                    g = p.grad = Tensor._wrap(np.zeros_like(g.data))
                g.data[...] = 0

    def step(self, closure: Callable | None = None):
        """Apply one update to every parameter that has a gradient.

        ``closure`` (optional) re-evaluates the model and returns the loss; it runs with
        gradients enabled and its result is returned, as in PyTorch.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        self._update_label = f"`{type(self).__name__}.step()` at {_user_frame()}"
        one_thread = _BLAS_THREADS is not None and _BLAS_THREADS() == 1
        self._blas_block = (1 << 62) if one_thread else _BLAS_BLOCK
        for group in self.param_groups:
            self._update_group(group)
        return loss

    def _update_group(self, group: dict[str, Any]) -> None:  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} must define _update_group(group)")

    def _axpy(self, y: np.ndarray, alpha: float, x: np.ndarray) -> None:
        """``y += alpha * x`` in place, with no temporary: BLAS ``axpy`` for float32/float64
        (one pass that reads x and y and writes y), else NumPy through a small scratch.

        The optimizer may not scale ``p.grad`` in place (it is the user's), so NumPy needs a
        second array for ``alpha * x``; axpy does not, and made the MLP step ~3% faster than
        the blocked scratch (measured side by side, ``benchmarks/interleaved.py``). Large
        arrays go in calls of ``_BLAS_BLOCK`` elements: OpenBLAS runs axpy on one thread up to
        10,000 elements, and above that wakes a thread pool of its own (scipy's OpenBLAS is
        not NumPy's) whose spinning workers steal the core NumPy's next matmul needs (measured
        on 2 cores: 1.45x the hand-written step with one whole-array call, 1.01x in blocks).
        When that BLAS runs on one thread (``step()`` asks it), an array goes in one call: the
        65 calls of an MLP's weights cost ~1.5% of its step."""
        n = y.size
        axpy = _BLAS_AXPY.get(y.dtype.char) if x.dtype == y.dtype else None
        yflags = y.flags
        # (f2py would silently update a copy of any other y: only these are written in place)
        if axpy is None or not (
            yflags.c_contiguous and yflags.aligned and yflags.writeable and x.flags.c_contiguous
        ):
            self._axpy_numpy(y, alpha, x)
            return
        yf, xf = y.reshape(-1), x.reshape(-1)  # views: both are contiguous
        block = self._blas_block
        if n <= block:
            axpy(xf, yf, n, alpha)  # (positional arguments: f2py parses keywords slowly)
            return
        whole = n - n % block
        for i in range(0, whole, block):
            axpy(xf, yf, block, alpha, i, 1, i, 1)
        if whole < n:
            axpy(xf, yf, n - whole, alpha, whole, 1, whole, 1)

    def _axpy_numpy(self, y: np.ndarray, alpha: float, x: np.ndarray) -> None:
        """``y += alpha * x`` by NumPy for what BLAS does not take (float16, strided arrays).

        Large arrays go in blocks of ``_AXPY_BLOCK`` elements: with one scratch as large as the
        weight (1.6 MB for a 512x784 layer) the gradient, the scratch and the weight did not fit
        in L2 together, and the update was 1.4x slower than the hand-written ``g *= lr; w -= g``
        (measured)."""
        n = y.size
        if n <= _AXPY_BLOCK or not (y.flags.c_contiguous and x.flags.c_contiguous):
            y += np.multiply(x, alpha, out=self._scratch(y, 2))
            return
        yf, xf = y.reshape(-1), x.reshape(-1)  # views: both are contiguous
        tmp = self._scratch(yf[:_AXPY_BLOCK], 2)
        for i in range(0, n, _AXPY_BLOCK):
            xb = xf[i : i + _AXPY_BLOCK]
            tb = tmp[: xb.size]
            np.multiply(xb, alpha, out=tb)
            yf[i : i + _AXPY_BLOCK] += tb

    def _scratch(self, arr: np.ndarray, slot: int = 0) -> np.ndarray:
        """A reusable work array shaped like ``arr`` (a view into one flat buffer per dtype
        and slot), so updates allocate nothing per step."""
        key = (arr.dtype, slot)
        buf = self._scratch_buffers.get(key)
        if buf is None or buf.size < arr.size:
            buf = self._scratch_buffers[key] = np.empty(arr.size, arr.dtype)
        return buf[: arr.size].reshape(arr.shape)

    # -- saving and loading -----------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """PyTorch's layout: ``{'state': {index: {...}}, 'param_groups': [{..., 'params':
        [index, ...]}]}``, parameters numbered in order across the groups. Arrays are copied,
        so the result is a snapshot that later steps do not change."""
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
            for p in group["params"]:
                index.setdefault(id(p), len(index))
            packed["params"] = [index[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {}
        for group in self.param_groups:
            for p in group["params"]:
                if self.state.get(p):
                    state[index[id(p)]] = {k: _copy_value(v) for k, v in self.state[p].items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore hyperparameters and state saved by ``state_dict`` (same parameter layout)."""
        name = type(self).__name__
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups):
            raise ValueError(
                f"{name}.load_state_dict: the saved state has {len(groups)} parameter group(s), "
                f"this optimizer has {len(self.param_groups)}"
            )
        sizes = [len(g["params"]) for g in self.param_groups]
        saved_sizes = [len(g["params"]) for g in groups]
        if sizes != saved_sizes:
            raise ValueError(
                f"{name}.load_state_dict: the saved groups hold {saved_sizes} parameters, this "
                f"optimizer's groups hold {sizes}; it was saved for a different model"
            )
        by_index = {}
        for saved, group in zip(groups, self.param_groups):
            for i, p in zip(saved["params"], group["params"]):
                by_index[i] = p
        self.state = defaultdict(dict)
        for i, entries in state_dict["state"].items():
            p = by_index.get(int(i))
            if p is None:
                raise ValueError(f"{name}.load_state_dict: state for unknown parameter index {i}")
            self.state[p] = {k: _cast_value(v, p, k, name) for k, v in entries.items()}
        for saved, group in zip(groups, self.param_groups):
            for k, v in saved.items():
                if k != "params":
                    group[k] = copy.deepcopy(v)

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(k for k in group if k != "params"):
                lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)




def _check_param(p, i: int, name: str) -> None:
    if not isinstance(p, Tensor):
        raise TypeError(
            f"{name}: can only optimise Tensors, but parameter {i} is a {type(p).__name__}; "
            "pass model.parameters() or a list of tensors created with requires_grad=True"
        )
    if not p.is_leaf:
        raise ValueError(
            f"{name}: can't optimise a non-leaf Tensor (parameter {i}, shape {p.shape}, made by "
            f"{p.grad_fn.name}); optimise the leaf it was computed from, or detach() it and "
            "call requires_grad_()"
        )
    if p.dtype.kind not in "fc":
        raise TypeError(
            f"{name}: parameter {i} has dtype {p.dtype}; only floating-point tensors can be "
            "optimised"
        )


def _copy_value(v):
    if isinstance(v, Tensor):
        return Tensor._wrap(v.data.copy())
    if isinstance(v, np.ndarray):
        return v.copy()
    return copy.deepcopy(v)


def _cast_value(v, p: Tensor, key: str, name: str):
    """A saved state entry as this optimizer keeps it: arrays copied into the param's dtype."""
    if key == "step":
        return int(np.asarray(v.data if isinstance(v, Tensor) else v))
    arr = v.data if isinstance(v, Tensor) else np.asarray(v)
    if arr.shape != p.shape:
        raise ValueError(
            f"{name}.load_state_dict: state '{key}' has shape {arr.shape} but its parameter has "
            f"shape {p.shape}"
        )
    return Tensor._wrap(np.array(arr, dtype=p.dtype))
