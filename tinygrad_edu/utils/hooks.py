"""RemovableHandle: what ``Tensor.register_hook`` and the ``Module.register_*_hook`` methods
return, as ``torch.utils.hooks.RemovableHandle``."""

from __future__ import annotations

import itertools


class RemovableHandle:
    """Takes one registered hook out again with ``remove()`` (a second call does nothing);
    as a context manager it removes the hook when the block ends.

    >>> import tinygrad_edu as tg
    >>> x = tg.tensor([1.0, 2.0], requires_grad=True)
    >>> with x.register_hook(lambda g: g * 0):
    ...     (x * 3).sum().backward()
    >>> x.grad
    tensor([0., 0.])
    """

    _ids = itertools.count()

    def __init__(self, hooks: dict) -> None:
        self.hooks_dict = hooks  # the dict the hook lives in, under the key self.id
        self.id = next(RemovableHandle._ids)

    def remove(self) -> None:
        self.hooks_dict.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc) -> None:
        self.remove()
