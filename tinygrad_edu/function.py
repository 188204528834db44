"""Function: the base of every primitive, and of the ops users define themselves.

A Function has a ``forward(ctx, *arrays) -> array`` on NumPy arrays and a
``backward(ctx, grad_output) -> grads`` written with Tensor ops (so that
``backward(create_graph=True)`` can record it). ``Function.apply`` runs the forward and, when
recording is on and an input requires grad, appends one record to the thread's tape.

>>> import numpy as np, tinygrad_edu as tg
>>> class Cube(tg.Function):
...     '''y = x**3;  dx = grad * 3 x**2'''
...     @staticmethod
...     def forward(ctx, x):
...         ctx.save_for_backward(x)
...         return x ** 3
...     @staticmethod
...     def backward(ctx, grad):
...         (x,) = ctx.saved_tensors
...         return grad * 3 * x * x
>>> x = tg.tensor([2.0], requires_grad=True)
>>> Cube.apply(x).sum().backward()
>>> x.grad
tensor([12.])
"""

from __future__ import annotations

import numpy as np

from .grad_mode import _modes, check_finite, user_frame
from .tape import get_tape
from .tensor import Tensor

_OUTPUT = "the output"  # marks a saved value that is the op's own output


class Context:
    """What a forward leaves for its backward: saved values and named hyperparameters.

    ``save_for_backward(*arrays)`` keeps arrays; in backward ``saved_tensors`` hands them back
    as Tensors. An array that *is* one of the inputs or the output comes back as that very
    tensor (so second derivatives flow through it) and is version-checked: if it was changed
    in place since the forward, backward raises instead of returning a wrong gradient.
    """

    # the fields every context has; an op's own hyperparameters (ctx.axes) go to __dict__
    __slots__ = ("fn", "inputs", "needs_input_grad", "record", "to_save", "saved", "__dict__")

    def __init__(self, fn: type, inputs: tuple, needs_input_grad: tuple) -> None:
        self.fn = fn
        self.inputs = inputs  # the positional arguments of apply (tensors and constants)
        self.needs_input_grad = needs_input_grad
        self.record = None  # set by the replay while this op's backward runs
        self.to_save: tuple = ()
        self.saved: tuple = ()  # (tensor or constant, version or None), once recorded

    def save_for_backward(self, *values) -> None:
        self.to_save = values

    def keep_saved(self, arrays: list, raw_out, out: Tensor) -> None:
        """When the op is recorded: each saved array becomes the tensor it belongs to, with
        that tensor's version now. An input's is the very array forward received for it
        (``x`` and ``x.detach()`` arrive as two objects, see ``_forward_args``); the output's
        is what forward returned; any other array is a constant that forward made."""
        saved = []
        for v in self.to_save:
            owner = None
            for t, a in zip(self.inputs, arrays):
                if a is v and isinstance(t, Tensor):
                    owner = t
                    break
            if owner is not None:
                saved.append((owner, owner._version))
            elif v is raw_out or v is out._data:
                saved.append((_OUTPUT, out._version))
            else:
                saved.append((v, None))
        self.saved, self.to_save = tuple(saved), ()

    @property
    def saved_tensors(self) -> tuple:
        values = []
        for v, version in self.saved:
            if version is None:  # a constant (NumPy's 0-d results arrive as scalars)
                is_array = isinstance(v, (np.ndarray, np.generic))
                values.append(Tensor._wrap(np.asarray(v)) if is_array else v)
                continue
            t = self.record() if v is _OUTPUT else v
            if t._version != version:
                raise RuntimeError(self._modified_message(t, v is _OUTPUT, version))
            values.append(t)
        return tuple(values)

    def _modified_message(self, t: Tensor, is_output: bool, version: int) -> str:
        """Name the op that saved ``t``, what it was, and the in-place op that changed it."""
        op, rec = self.fn.__name__, self.record
        what = "output" if is_output else f"input {[a is t for a in self.inputs].index(True)}"
        created = ""
        if rec is not None:
            created = (
                f" {op} was created at {rec.where}." if rec.where else
                f" (Run the forward inside tg.detect_anomaly() to see where {op} was created.)"
            )
        return (
            f"{op}.backward: a tensor that {op} saved for backward (its {what}, shape "
            f"{t.shape}, {t.dtype}) was modified by {t._vc.last}: it is at version "
            f"{t._version}, but {op} saved it at version {version}, so its gradient would be "
            f"wrong. Clone it before changing it (x = x.clone()), or change it after "
            f"backward.{created}"
        )

    def saved_buffers(self, out: Tensor | None) -> dict[int, int]:
        """``{id: nbytes}`` of the memory the saved values keep alive for backward, each buffer
        once, a view counted as the whole buffer behind it (the tape listing's column)."""
        held = {}
        for v, version in self.saved:
            arr = out if v is _OUTPUT else v
            arr = arr._data if isinstance(arr, Tensor) else arr
            if isinstance(arr, np.ndarray):
                while isinstance(arr.base, np.ndarray):
                    arr = arr.base
                held[id(arr)] = arr.nbytes
        return held


class Function:
    """Base class of a differentiable op: subclass, write ``forward`` and ``backward``.

    ``forward(ctx, *args)`` receives NumPy arrays for tensor arguments (other arguments as
    given) and returns an array. ``backward(ctx, grad_output)`` receives a Tensor and returns
    one gradient per positional argument of ``apply`` (None for arguments that need none;
    ``ctx.needs_input_grad`` says which). Gradients may have the output's broadcast shape: the
    replay sums them down to each input's shape. Optional: ``forward_(ctx, array)`` overwrites
    its argument in place (``Relu.apply_(x)`` is ``relu_``).
    """

    #: False for ops whose backward is not written in differentiable Tensor ops;
    #: create_graph=True through them raises NotImplementedError naming the op.
    twice_differentiable = True
    #: True for ops whose output shares memory with input 0 (they share a version counter).
    is_view = False

    @staticmethod
    def forward(ctx: Context, *args, **kwargs):  # pragma: no cover - abstract
        raise NotImplementedError("a Function subclass must define forward(ctx, *args)")

    @staticmethod
    def backward(ctx: Context, grad_output: Tensor):  # pragma: no cover - abstract
        raise NotImplementedError("a Function subclass must define backward(ctx, grad_output)")

    @classmethod
    def apply(cls, *args, **kwargs) -> Tensor:
        """Run forward on the arrays of ``args``; record it if an input requires grad."""
        recording, anomaly = _modes.grad_enabled, _modes.anomaly
        needs = tuple([recording and isinstance(a, Tensor) and a.requires_grad for a in args])
        ctx = Context(cls, args, needs)
        arrays = _forward_args(args)
        raw = cls.forward(ctx, *arrays, **kwargs)
        # (NumPy returns scalars, not 0-d arrays, from 0-d arithmetic)
        out = Tensor._wrap(raw if type(raw) is np.ndarray else np.asarray(raw), True in needs)
        if cls.is_view:
            out._vc = args[0]._shared_version()
        if anomaly:
            check_finite(out._data, cls.__name__, "forward", None)
        if out.requires_grad:
            ctx.keep_saved(arrays, raw, out)
            out._record = get_tape().append(cls, ctx, out)
            if anomaly:
                out._record.where = user_frame()
        return out

    @classmethod
    def apply_(cls, x: Tensor, **kwargs) -> Tensor:
        """Run the op in place on ``x`` through ``forward_(ctx, array)``, which overwrites the
        array (PyTorch's ``relu_``); returns ``x``.

        ``x``'s version moves on, so a backward that saved its old value raises. While
        recording, ``x`` becomes the output of a new record whose input is ``x`` as it was:
        the replay, going backwards, sends ``x``'s gradient through this record first and then
        on to ``x``'s earlier producer.
        """
        if getattr(cls, "forward_", None) is None:
            raise TypeError(f"{cls.__name__} has no in-place form (define forward_)")
        op = f"{cls.__name__.lower()}_"
        refusal = inplace_refusal(x)
        if refusal:
            raise RuntimeError(f"{op}: {refusal}")
        recording = _modes.grad_enabled and x.requires_grad
        ctx = Context(cls, (), (recording,))  # no inputs: its input is its output (Record.inputs)
        cls.forward_(ctx, x._data, **kwargs)
        x._bump_version(op)
        if _modes.anomaly:
            check_finite(x._data, cls.__name__, "forward", None)
        if recording:
            ctx.keep_saved([], x._data, x)
            prev, x._record = x._record, get_tape().append(cls, ctx, x)
            x._record.prev = prev
            if _modes.anomaly:
                x._record.where = user_frame()
        return x


def _forward_args(args: tuple) -> list:
    """What forward receives: each tensor's array, other arguments as given. A tensor whose
    array was already passed for another tensor (``x * x.detach()``) gets a view of it, so
    that a saved array names exactly one input."""
    arrays = [a._data if isinstance(a, Tensor) else a for a in args]
    for i in range(1, len(arrays)):
        if isinstance(args[i], Tensor) and id(arrays[i]) in map(id, arrays[:i]):
            arrays[i] = arrays[i].view()
    return arrays


def inplace_refusal(x: Tensor) -> str:
    """Why an in-place op on ``x`` cannot be recorded now ("" when it can): while recording,
    ``x`` must not be a leaf that requires grad, nor share its memory with another tensor (a
    view, one with views, or detached), whose other names the tape could not follow."""
    if not (_modes.grad_enabled and x.requires_grad):
        return ""  # nothing is recorded: version counters guard what was saved
    if x._record is None:
        return (
            f"a leaf tensor that requires grad (shape {x.shape}) cannot be changed in place "
            "while gradients are recorded; use the out-of-place form"
        )
    if x._vc is not None and x._vc.shared:
        return (
            f"this tensor (shape {x.shape}) shares its memory with another (it is a view, has "
            "views, or was detached), so the tape cannot follow an in-place change of it; use "
            "the out-of-place form, or clone() it first"
        )
    return ""
