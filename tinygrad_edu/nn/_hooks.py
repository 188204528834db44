"""Module hooks, as in ``torch.nn.Module``: functions called around a module's forward
(``register_forward_pre_hook``, ``register_forward_hook``) and when its gradients are known
(``register_full_backward_hook``). ``Module.__call__`` comes here only when a hook is set.

A full backward hook is built from tensor hooks: each input that requires grad passes
through ``BackwardHook``, an identity op (it shows on the tape, as PyTorch's
``BackwardHookFunctionBackward`` shows in its graph) whose output's gradient is the module's
input gradient; a hook on the output collects the output gradient, which is complete first.
"""

from __future__ import annotations

from ..function import Function
from ..grad_mode import is_grad_enabled
from ..tensor import Tensor
from ..utils.hooks import RemovableHandle


def register(hooks: dict, entry: tuple, prepend: bool) -> RemovableHandle:
    """Add ``entry`` to ``hooks`` (last, or first with ``prepend``) under a new handle's id."""
    handle = RemovableHandle(hooks)
    rest = list(hooks.items()) if prepend else []
    if prepend:
        hooks.clear()
    hooks[handle.id] = entry
    hooks.update(rest)
    return handle


def call_with_hooks(module, args: tuple, kwargs: dict):
    """``module(*args, **kwargs)`` with its pre-hooks, forward hooks and backward hooks."""
    for hook, with_kwargs in list(module._forward_pre_hooks.values()):
        result = hook(module, args, kwargs) if with_kwargs else hook(module, args)
        if result is None:
            continue
        if with_kwargs:
            if not (isinstance(result, tuple) and len(result) == 2 and type(result[1]) is dict):
                raise RuntimeError(
                    f"forward pre-hook {_name(hook)} must return None or a tuple of "
                    f"(new_args, new_kwargs), got {type(result).__name__}"
                )
            args, kwargs = result
        else:
            args = result if isinstance(result, tuple) else (result,)
    backward = None
    if module._backward_hooks and is_grad_enabled():
        backward = _BackwardHooks(module, args)
        args = backward.wrap_inputs(args)
    try:
        out = module.forward(*args, **kwargs)
    except Exception:
        for hook, with_kwargs, always_call in list(module._forward_hooks.values()):
            if always_call:
                hook(module, args, kwargs, None) if with_kwargs else hook(module, args, None)
        raise
    for hook, with_kwargs, _ in list(module._forward_hooks.values()):
        result = hook(module, args, kwargs, out) if with_kwargs else hook(module, args, out)
        if result is not None:
            out = result
    if backward is not None:
        backward.watch_outputs(out)
    return out


class BackwardHook(Function):
    """y = x;  dx = grad   (marks where a module's input gradient is complete)"""

    is_view = True

    @staticmethod
    def forward(ctx, x):
        return x.view()

    @staticmethod
    def backward(ctx, grad):
        return grad


class _BackwardHooks:
    """One call's bookkeeping for ``register_full_backward_hook``: the gradients of the
    module's outputs, then of its inputs (one per positional argument, None where there is
    none); the user's hooks run when all are known."""

    def __init__(self, module, args: tuple) -> None:
        self.module = module
        self.grad_inputs: list = [None] * len(args)
        self.grad_outputs: list = []
        self.wrapped = self.waiting_inputs = self.waiting_outputs = 0

    def wrap_inputs(self, args: tuple) -> tuple:
        args = list(args)
        for k, a in enumerate(args):
            if isinstance(a, Tensor) and a.requires_grad:
                args[k] = BackwardHook.apply(a)
                args[k].register_hook(lambda g, k=k: self._input_grad(k, g))
                self.wrapped += 1
        self.waiting_inputs = self.wrapped
        return tuple(args)

    def watch_outputs(self, out) -> None:
        outs = out if isinstance(out, tuple) else (out,)
        self.grad_outputs = [None] * len(outs)
        for k, o in enumerate(outs):
            if isinstance(o, Tensor) and o.requires_grad:
                o.register_hook(lambda g, k=k: self._output_grad(k, g))
                self.waiting_outputs += 1

    def _output_grad(self, k: int, g) -> None:
        self.grad_outputs[k] = g
        self.waiting_outputs -= 1
        if self.waiting_outputs == 0 and self.waiting_inputs == 0:
            self._call_hooks()  # no input needs a gradient: the hooks run now, as in PyTorch

    def _input_grad(self, k: int, g):
        self.grad_inputs[k] = g
        self.waiting_inputs -= 1
        if self.waiting_inputs > 0:
            return None
        new = self._call_hooks()
        if new is None:
            return None
        if self.wrapped > 1:  # the other inputs' gradients have flowed on already
            raise NotImplementedError(
                f"{type(self.module).__name__} full backward hook: replacing grad_input is "
                "supported for a module with one input that requires grad; this call had "
                f"{self.wrapped}. Return None, and change the gradients with tensor hooks "
                "(input.register_hook) instead"
            )
        return new[k]

    def _call_hooks(self):
        grad_in, grad_out = tuple(self.grad_inputs), tuple(self.grad_outputs)
        result = None
        for hook in list(self.module._backward_hooks.values()):
            new = hook(self.module, grad_in, grad_out)
            if new is not None:
                new = new if isinstance(new, tuple) else (new,)
                if len(new) != len(grad_in):
                    raise RuntimeError(
                        f"backward hook {_name(hook)} returned {len(new)} gradient(s) for "
                        f"{len(grad_in)} input(s) of {type(self.module).__name__}"
                    )
                grad_in = result = new
        return result


def _name(hook) -> str:
    return repr(getattr(hook, "__name__", type(hook).__name__))
