"""Module: the base of every layer. Parameters, buffers and submodules register themselves by
attribute assignment, as in ``torch.nn.Module``; ``state_dict`` keys and layouts are PyTorch's.

Registered values are also kept in the instance ``__dict__``, so ``self.weight`` is a plain
attribute read in ``forward`` (no ``__getattr__`` detour on the hot path).
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

from .. import grad_mode as _tape
from ..tensor import Tensor
from .parameter import Parameter

IncompatibleKeys = collections.namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class Module:
    """Base class of layers and models: subclass it, assign layers/parameters in ``__init__``
    and write ``forward``. Calling the module calls ``forward``.

    >>> import tinygrad_edu as tg
    >>> from tinygrad_edu import nn
    >>> class Affine(nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.w = nn.Parameter(tg.ones(2))
    ...     def forward(self, x):
    ...         return x * self.w
    >>> m = Affine()
    >>> [name for name, _ in m.named_parameters()]
    ['w']
    >>> m(tg.tensor([1.0, 2.0]))
    tensor([1., 2.], grad_fn=<Mul>)
    """

    training: bool

    def __init__(self) -> None:
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = {}
        d["_buffers"] = {}
        d["_non_persistent"] = set()
        d["_modules"] = {}

    # -- registration --------------------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"cannot assign {name!r} before Module.__init__() call; call "
                "super().__init__() first in your module's __init__"
            )
        params, buffers, mods = self._parameters, self._buffers, self._modules
        if isinstance(value, Parameter):
            self._forget(name)
            params[name] = value
        elif isinstance(value, Module):
            self._forget(name)
            mods[name] = value
        elif name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__} as parameter {name!r} "
                    "(nn.Parameter or None expected); wrap it: nn.Parameter(tensor)"
                )
            params[name] = None
        elif name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign {type(value).__name__} as buffer {name!r}")
            buffers[name] = value
        elif name in mods:
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} as submodule {name!r}")
            mods[name] = None
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        self._forget(name)
        object.__delattr__(self, name)

    def _forget(self, name: str) -> None:
        for d in (self._parameters, self._buffers, self._modules):
            d.pop(name, None)
        self._non_persistent.discard(name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add a parameter (or None: a declared but absent parameter, like a missing bias)."""
        self._forget(name)
        self._parameters[name] = param
        object.__setattr__(self, name, param)

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Add a state tensor that is not learned (e.g. BatchNorm's ``running_mean``).
        Persistent buffers are part of ``state_dict``."""
        self._forget(name)
        self._buffers[name] = tensor
        if not persistent:
            self._non_persistent.add(name)
        object.__setattr__(self, name, tensor)

    def add_module(self, name: str, module: Module | None) -> None:
        self._forget(name)
        self._modules[name] = module
        object.__setattr__(self, name, module)

    register_module = add_module

    # -- calling -------------------------------------------------------------------------
    def forward(self, *args, **kwargs):  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} has no forward(); define one")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    # -- traversal -----------------------------------------------------------------------
    def named_modules(
        self, memo: set | None = None, prefix: str = ""
    ) -> Iterator[tuple[str, Module]]:
        """This module and every submodule below it, each once, as ``(dotted_name, module)``."""
        memo = set() if memo is None else memo
        if id(self) in memo:
            return
        memo.add(id(self))
        yield prefix, self
        for name, m in self._modules.items():
            if m is not None:
                yield from m.named_modules(memo, f"{prefix}.{name}" if prefix else name)

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, Module]]:
        for name, m in self._modules.items():
            if m is not None:
                yield name, m

    def children(self) -> Iterator[Module]:
        for _, m in self.named_children():
            yield m

    def _named_members(self, kind: str, prefix: str, recurse: bool):
        seen = set()
        mods = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for mod_prefix, m in mods:
            for name, v in getattr(m, kind).items():
                if v is None or id(v) in seen:
                    continue
                seen.add(id(v))
                yield (f"{mod_prefix}.{name}" if mod_prefix else name), v

    def named_parameters(
        self, prefix: str = "", recurse: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """``(name, parameter)`` pairs with dotted names (``'0.weight'``); shared ones once."""
        return self._named_members("_parameters", prefix, recurse)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Tensor]]:
        return self._named_members("_buffers", prefix, recurse)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call ``fn`` on every submodule (children first) and on self, e.g. custom init."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    # -- modes and gradients ---------------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Training mode (Dropout drops, BatchNorm uses batch statistics); returns self."""
        for m in self.modules():
            m.__dict__["training"] = bool(mode)
        return self

    def eval(self) -> Module:
        """Evaluation mode: ``train(False)``."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every parameter's ``.grad`` (to None by default, as PyTorch 2 does)."""
        for p in self.parameters():
            if set_to_none or p.grad is None:
                p.grad = None
            else:
                p.grad._data[...] = 0

    # -- dtype ---------------------------------------------------------------------------
    def _apply_arrays(self, fn: Callable[[np.ndarray], np.ndarray]) -> Module:
        for m in self.modules():
            for p in m._parameters.values():
                if p is not None and p._data.dtype.kind == "f":
                    p._data = fn(p._data)
                    if p.grad is not None:
                        p.grad = Tensor._wrap(fn(p.grad._data))
            for b in m._buffers.values():
                if b is not None and b._data.dtype.kind == "f":
                    b._data = fn(b._data)
        return self

    def to(self, *args, **kwargs) -> Module:
        """``to(dtype)`` casts floating parameters and buffers in place; 'cpu' is accepted."""
        dtype = kwargs.get("dtype")
        for a in args:
            if not (isinstance(a, str) and a.startswith("cpu")):
                dtype = a
        if dtype is None:
            return self
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"Module.to: only floating dtypes are allowed, got {dtype}")
        return self._apply_arrays(lambda a: a if a.dtype == dtype else a.astype(dtype))

    def float(self) -> Module:
        return self.to(np.float32)

    def double(self) -> Module:
        return self.to(np.float64)

    def cpu(self) -> Module:
        return self

    # -- state -----------------------------------------------------------------------------
    def state_dict(
        self, prefix: str = "", keep_vars: bool = False
    ) -> collections.OrderedDict[str, Tensor]:
        """Parameters and persistent buffers by dotted name, in PyTorch's order and layouts.

        The tensors share memory with the module (detached unless ``keep_vars``), so
        ``{k: v.numpy() for k, v in m.state_dict().items()}`` gives the raw arrays.
        """
        out: collections.OrderedDict[str, Tensor] = collections.OrderedDict()
        for name, p in self._parameters.items():
            if p is not None:
                out[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent:
                out[prefix + name] = b if keep_vars else b.detach()
        for name, m in self._modules.items():
            if m is not None:
                out.update(m.state_dict(prefix=f"{prefix}{name}.", keep_vars=keep_vars))
        return out

    def load_state_dict(
        self, state_dict: Mapping[str, Any], strict: bool = True
    ) -> IncompatibleKeys:
        """Copy values (Tensors or arrays) into the parameters and buffers, in place.

        Raises ``RuntimeError`` listing every wrongly shaped entry, and with ``strict=True``
        also every missing and unexpected key. Returns ``(missing_keys, unexpected_keys)``.
        """
        own = self.state_dict(keep_vars=True)
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        mismatched = []
        for k, target in own.items():
            if k in state_dict:
                shape = tuple(np.shape(_as_array(state_dict[k])))
                if shape != target.shape:
                    mismatched.append(
                        f"size mismatch for {k}: copying a param with shape {shape} from "
                        f"checkpoint, the shape in current model is {target.shape}."
                    )
        problems = list(mismatched)
        if strict:
            if unexpected:
                problems.insert(
                    0, "Unexpected key(s) in state_dict: " + ", ".join(map(repr, unexpected)) + "."
                )
            if missing:
                problems.insert(
                    0, "Missing key(s) in state_dict: " + ", ".join(map(repr, missing)) + "."
                )
        if problems:
            raise RuntimeError(
                f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                + "\n\t".join(problems)
            )
        with _tape.no_grad():
            for k, target in own.items():
                if k in state_dict:
                    target._data[...] = _as_array(state_dict[k])
                    target._bump_version()
        return IncompatibleKeys(missing, unexpected)

    # -- printing --------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The text inside the parentheses of this module's line in ``repr`` (override it)."""
        return ""

    def __repr__(self) -> str:
        lines = []
        for name, m in self._modules.items():
            body = repr(m).replace("\n", "\n  ")
            lines.append(f"({name}): {body}")
        head = type(self).__name__ + "(" + self.extra_repr()
        if not lines:
            return head + ")"
        return head + "\n  " + "\n  ".join(lines) + "\n)"


def _as_array(v) -> np.ndarray:
    return v._data if isinstance(v, Tensor) else np.asarray(v)


def save(obj: Module | Mapping[str, Any], path) -> None:
    """Write a module's ``state_dict`` (or any name -> tensor/array mapping) to an ``.npz`` file.

    The file is written to exactly ``path`` (NumPy's savez would append ``.npz`` otherwise);
    read it back with ``nn.load`` and ``module.load_state_dict``.

    >>> import tempfile, os
    >>> from tinygrad_edu import nn
    >>> m = nn.Linear(2, 1)
    >>> path = os.path.join(tempfile.mkdtemp(), "m.npz")
    >>> nn.save(m, path)
    >>> m.load_state_dict(nn.load(path))
    IncompatibleKeys(missing_keys=[], unexpected_keys=[])
    """
    state = obj.state_dict() if isinstance(obj, Module) else obj
    arrays = {k: _as_array(v) for k, v in state.items()}
    with open(path, "wb") as f:
        np.savez(f, **arrays)


def load(path) -> collections.OrderedDict[str, Tensor]:
    """Read an ``.npz`` written by ``nn.save``: an ordered dict of name -> Tensor."""
    with np.load(path, allow_pickle=False) as z:
        return collections.OrderedDict((k, Tensor._wrap(z[k])) for k in z.files)
