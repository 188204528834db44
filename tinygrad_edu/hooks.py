"""Gradients of intermediates: ``register_hook`` and ``retain_grad``, as in PyTorch.

The replay calls ``_run_hooks`` on a tensor whose gradient is complete (see
``tape._Gradients``); ``Tensor`` inherits these methods.
"""

from __future__ import annotations

from .grad_mode import _modes
from .utils.hooks import RemovableHandle


class _Hooks:
    """What the replay does with a tensor's finished gradient besides passing it on: call the
    ``register_hook`` functions, each kept with the record that produced the tensor when it
    was registered (after an in-place op a hook still sees the gradient of the value it was
    registered on), and keep the gradient in ``.grad`` if ``retain_grad`` was called."""

    __slots__ = ("fns", "retain")

    def __init__(self) -> None:
        self.fns: dict = {}  # handle id -> (record or None, hook)
        self.retain = False


class HookMethods:
    """``register_hook``, ``retain_grad`` and the replay's ``_run_hooks`` (mixed into Tensor)."""

    __slots__ = ()

    def register_hook(self, hook) -> RemovableHandle:
        """Call ``hook(grad)`` when this tensor's gradient is complete in a backward; a tensor
        it returns replaces the gradient (for a leaf, before it is added to ``.grad``). Returns
        a handle whose ``remove()`` unregisters the hook.

        >>> import tinygrad_edu as tg
        >>> x = tg.tensor([1.0, 2.0], requires_grad=True)
        >>> y = x * 3
        >>> handle = y.register_hook(lambda g: g * 10)
        >>> y.sum().backward()
        >>> x.grad
        tensor([30., 30.])
        """
        if not self.requires_grad:
            raise RuntimeError(
                f"register_hook: cannot register a hook on a tensor that doesn't require grad "
                f"(shape {self._data.shape}); hooks see gradients, and only tensors that require "
                "grad get one"
            )
        hooks = self._hooks = self._hooks or _Hooks()
        handle = RemovableHandle(hooks.fns)
        hooks.fns[handle.id] = (self._record, hook)
        return handle

    def retain_grad(self) -> None:
        """Keep this non-leaf tensor's gradient in ``.grad`` in later backwards (summed over
        backwards, like a leaf's). On a leaf it does nothing: leaves keep theirs anyway."""
        if not self.requires_grad:
            raise RuntimeError(
                f"retain_grad: can't retain_grad on a tensor that has requires_grad=False "
                f"(shape {self._data.shape}); it gets no gradient"
            )
        if self._record is not None:
            self._hooks = self._hooks or _Hooks()
            self._hooks.retain = True

    @property
    def retains_grad(self) -> bool:
        return self._hooks is not None and self._hooks.retain

    def _run_hooks(self, g, rec, create_graph: bool):
        """This tensor's gradient ``g`` is complete (``rec`` produced the value it belongs
        to; None for a leaf): run the hooks registered on that value, in order, each seeing
        the previous one's result, then retain it. Hooks run with recording on only under
        ``create_graph``, like the ops' backwards. What a hook saw or returned may be kept by
        the user, so the gradient passed on is then a copy that ``.grad`` may own."""
        mode, _modes.grad_enabled = _modes.grad_enabled, create_graph
        try:
            hooks = [hook for hook_rec, hook in self._hooks.fns.values() if hook_rec is rec]
            for hook in hooks:
                new = hook(g)
                if new is not None:
                    g = _checked_hook_result(hook, new, g)
            if hooks and not g.requires_grad:
                g = type(g)._wrap(g._data.copy())
            if self._hooks.retain and rec is not None and rec is self._record:
                self._grad = g.clone() if self._grad is None else self._grad + g
        finally:
            _modes.grad_enabled = mode
        return g


def _checked_hook_result(hook, new, g):
    name = getattr(hook, "__name__", type(hook).__name__)
    if not isinstance(new, type(g)):
        raise TypeError(
            f"register_hook: hook {name!r} returned {type(new).__name__}; a hook returns a "
            "Tensor (the new gradient) or None (keep the gradient)"
        )
    if new._data.shape != g._data.shape or new._data.dtype != g._data.dtype:
        raise RuntimeError(
            f"register_hook: hook {name!r} changed the gradient from shape {g._data.shape}, "
            f"{g._data.dtype} to shape {new._data.shape}, {new._data.dtype}; a replacement "
            "gradient must keep both"
        )
    return new
