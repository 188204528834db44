"""Optimizer: the base class of every update rule, with PyTorch's ``param_groups`` and
``state_dict`` layout.

An optimizer holds a list of parameter groups (dicts with ``'params'`` and hyperparameters
such as ``'lr'``) and per-parameter ``state`` (momentum buffers, moment estimates ...).
``step()`` changes each parameter's array (``p._data``) in place with NumPy, outside the tape,
and bumps the tensor's version counter so that a graph recorded before the update cannot
silently use the changed weights in a later backward.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from ..grad_mode import enable_grad
from ..tensor import Tensor


class _Required:
    """Marks a hyperparameter with no default (``lr`` of SGD, as in PyTorch)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _Required()


class Optimizer:
    """Base class: a subclass passes its ``defaults`` and defines ``_update(p, group)``, the
    rule's step for one parameter; ``step()`` calls it for each parameter with a gradient.

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
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    if p.grad.requires_grad:  # a create_graph gradient: cut it from its graph
                        p.grad = Tensor._wrap(np.zeros_like(p.grad._data))
                    else:
                        p.grad._data[...] = 0

    def step(self, closure: Callable | None = None):
        """Apply one update to every parameter that has a gradient.

        ``closure`` (optional) re-evaluates the model and returns the loss; it runs with
        gradients enabled and its result is returned, as in PyTorch.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    self._update(p, group)
                    p._bump_version(f"{type(self).__name__}.step()")
        return loss

    def _update(self, p: Tensor, group: dict[str, Any]) -> None:  # pragma: no cover - abstract
        """Change ``p._data`` in place by one step of the rule, reading ``p.grad``."""
        raise NotImplementedError(f"{type(self).__name__} must define _update(p, group)")

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


def _check_non_negative(name: str, **hyperparameters: float) -> None:
    """``SGD: invalid momentum=-0.1; it must be >= 0`` for the first negative one."""
    for key, value in hyperparameters.items():
        if value is not required and value < 0.0:
            what = "learning rate lr" if key == "lr" else key
            raise ValueError(f"{name}: invalid {what}={value}; it must be >= 0")


def _gradient(p: Tensor, maximize: bool, weight_decay: float) -> np.ndarray:
    """``g = -p.grad if maximize else p.grad;  g = g + weight_decay * p`` (PyTorch's first lines
    of Adam and RMSprop). ``p.grad``'s array is returned as is when nothing changes it: read it,
    never write it, it is the user's."""
    g = -p.grad._data if maximize else p.grad._data
    if weight_decay != 0:
        g = g + weight_decay * p._data
    return g


def _zeros_state(p: Tensor) -> Tensor:
    """A fresh state buffer (moment estimate, momentum ...) shaped and typed like ``p``."""
    return Tensor._wrap(np.zeros_like(p._data))


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
        return Tensor._wrap(v._data.copy())
    if isinstance(v, np.ndarray):
        return v.copy()
    return copy.deepcopy(v)


def _cast_value(v, p: Tensor, key: str, name: str):
    """A saved state entry as this optimizer keeps it: arrays copied into the param's dtype."""
    if key == "step":
        return int(np.asarray(v._data if isinstance(v, Tensor) else v))
    arr = v._data if isinstance(v, Tensor) else np.asarray(v)
    if arr.shape != p.shape:
        raise ValueError(
            f"{name}.load_state_dict: state '{key}' has shape {arr.shape} but its parameter has "
            f"shape {p.shape}"
        )
    return Tensor._wrap(np.array(arr, dtype=p.dtype))
