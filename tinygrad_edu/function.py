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
from .tape import IN_PLACE, get_tape
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

    def keep_saved(self, arrays: list, raw_out, out: Tensor, out_version: int) -> None:
        """When the op is recorded: each saved array becomes the tensor it belongs to, with
        that tensor's version now (the output's: ``out_version``). An input's is the very
        array forward received for it (``x`` and ``x.detach()`` arrive as two objects, see
        ``_forward_args``); the output's is what forward returned; any other array is a
        constant that forward made."""
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
                saved.append((_OUTPUT, out_version))
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
            f"{tuple(t.shape)}, {t.dtype}) was modified by {t._vc.last}: it is at version "
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
    replay sums them down to each input's shape. Optional: ``forward_(ctx, array, *args)``
    overwrites its first argument in place (``Relu.apply_(x)`` is ``relu_``); ops without it
    run in place by copying forward's result into the tensor.
    """

    #: False for ops whose backward is not written in differentiable Tensor ops;
    #: create_graph=True through them raises NotImplementedError naming the op.
    twice_differentiable = True
    #: True for ops whose output may share memory with input 0. When it does, the output is a
    #: view: one version counter with its parent, and ``write_back(ctx, view)`` returns
    #: ``(fn, args)`` such that ``parent = fn(parent, *args)`` in place records a change
    #: made through the view on the parent.
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
        if recording:
            for a in args:
                if isinstance(a, Tensor) and a._view is not None:
                    refresh_view(a)
        needs = tuple([recording and isinstance(a, Tensor) and a.requires_grad for a in args])
        ctx = Context(cls, args, needs)
        arrays = _forward_args(args)
        raw = _quietly(cls.forward, ctx, arrays, kwargs)
        # (NumPy returns scalars, not 0-d arrays, from 0-d arithmetic)
        out = Tensor._wrap(raw if type(raw) is np.ndarray else np.asarray(raw), True in needs)
        if cls.is_view and np.may_share_memory(out._data, arrays[0]):
            out._vc = args[0]._shared_version()
            out._view = View(ctx, args[0]._record, recording)
        if anomaly:
            check_finite(out._data, cls.__name__, "forward", None)
        if out.requires_grad:
            ctx.keep_saved(arrays, raw, out, out._version)
            out._record = get_tape().append(cls, ctx, out)
            if anomaly:
                out._record.where = user_frame()
        return out

    @classmethod
    def apply_(cls, x: Tensor, *args, op: str | None = None, **kwargs) -> Tensor:
        """Run the op in place: ``x``'s memory gets ``op(x, *args)``; returns ``x``
        (``relu_``, ``x += y``, ``x[i] = v``; ``op`` names it in errors).

        ``x``'s version moves on, so a backward that saved its old value raises. While
        recording, ``x`` becomes the output of a new record whose input 0 is ``x`` as it was:
        the replay, going backwards, sends ``x``'s gradient through this record first and then
        on to ``x``'s earlier producer. If the backward reads that old value, a copy of it
        (``x.clone()``) is that input instead, as PyTorch keeps one.
        """
        op = op or f"{cls.__name__.lower()}_"
        recording = _inplace_recorded(x, args, op)
        inputs = (x,) + args
        needs = tuple([recording and isinstance(a, Tensor) and a.requires_grad for a in inputs])
        ctx = Context(cls, (IN_PLACE,) + args, needs)
        arrays = _forward_args(inputs)
        forward_ = getattr(cls, "forward_", None)
        try:
            raw = _quietly(forward_ or cls.forward, ctx, arrays, kwargs)
        except (ValueError, TypeError) as e:  # NumPy's shape and casting errors, with our context
            raise type(e)(f"{op}: on a tensor of shape {tuple(x.shape)} ({x._data.dtype}): {e}") from None
        if recording and forward_ is None and any(v is arrays[0] for v in ctx.to_save):
            old = x.clone()  # backward reads the value the write below destroys
            ctx.to_save = tuple(old._data if v is arrays[0] else v for v in ctx.to_save)
            ctx.inputs, arrays[0] = (old,) + args, old._data
        if recording:  # the inputs' versions as forward read them, x's as the write leaves it
            ctx.keep_saved(arrays, x._data if forward_ else raw, x, x._version + 1)
        if forward_ is None:
            _write(x, raw, op)
        x._bump_version(op)
        if _modes.anomaly:
            check_finite(x._data, cls.__name__, "forward", None)
        if recording:
            _record_in_place(x, ctx)
        return x


@np.errstate(all="ignore")
def _quietly(forward, ctx, arrays: list, kwargs: dict):
    """Run a forward with NumPy's floating-point warnings off: ``sqrt(-1)`` is nan and
    ``1 / 0`` is inf quietly, as in PyTorch (anomaly mode is the way to catch them)."""
    return forward(ctx, *arrays, **kwargs)


class View:
    """How a view was made from its parent (``ctx.inputs[0]``): the view op and its arguments
    (``ctx``), the parent's record at the time (``parent_record``), and whether gradients were
    being recorded (``grad_mode``). With these an in-place change through the view is recorded
    on the parent, and the view's history is remade after the parent changed in place."""

    __slots__ = ("ctx", "parent_record", "grad_mode")

    def __init__(self, ctx: Context, parent_record, grad_mode: bool) -> None:
        self.ctx, self.parent_record, self.grad_mode = ctx, parent_record, grad_mode


def refresh_view(t: Tensor) -> None:
    """If view ``t``'s parent was changed in place by a recorded op since ``t``'s history was
    made, ``t`` becomes the output of a new record of its view op on the parent as it is now,
    so that gradients reach what ``t`` now shows (PyTorch regenerates a view's grad_fn so)."""
    view = t._view
    parent = view.ctx.inputs[0]
    if parent._view is not None:
        refresh_view(parent)
    if parent._record is view.parent_record or not view.grad_mode or not parent.requires_grad:
        return
    fn, inputs = view.ctx.fn, view.ctx.inputs
    ctx = Context(fn, inputs, (True,) + (False,) * (len(inputs) - 1))
    fn.forward(ctx, *_forward_args(inputs))  # fills ctx (its result is t's memory already)
    t._view = View(ctx, parent._record, True)
    t.requires_grad = True
    prev, t._record = t._record, get_tape().append(fn, ctx, t)
    t._record.prev = prev  # (readers of t's earlier value still reach the parent through it)


def _record_in_place(x: Tensor, ctx: Context) -> None:
    """``x``, whose memory now holds the result, becomes the output of a new record. A change
    through a view is recorded on its parent too (``parent[where x is] = x``, the write already
    done), and so up to the base: PyTorch rebases the base's history the same way."""
    x.requires_grad = True
    prev, x._record = x._record, get_tape().append(ctx.fn, ctx, x)
    x._record.in_place, x._record.prev = True, prev
    if _modes.anomaly:
        x._record.where = user_frame()
    view = x._view
    if view is not None:
        parent = view.ctx.inputs[0]
        fn, args = view.ctx.fn.write_back(view.ctx, x)
        needs = tuple(isinstance(a, Tensor) and a.requires_grad for a in (parent,) + args)
        _record_in_place(parent, Context(fn, (IN_PLACE,) + args, needs))
        view.parent_record = parent._record


def _inplace_recorded(x: Tensor, args: tuple, op: str) -> bool:
    """Whether an in-place op on ``x`` with ``args`` is recorded (an input requires grad while
    recording, or ``x`` is a view of a tensor that does); raise where PyTorch refuses it."""
    if not x._data.flags.writeable:
        raise RuntimeError(
            f"{op}: this tensor (shape {tuple(x.shape)}) is read-only: it is an expand/broadcast view, "
            "where several elements share one memory location, or wraps a read-only array; "
            "clone() it before changing it in place"
        )
    if not _modes.grad_enabled:
        return False
    for a in (x,) + args:
        if isinstance(a, Tensor) and a._view is not None:
            refresh_view(a)
    base, no_grad_view = x, False
    while base._view is not None:
        no_grad_view = no_grad_view or not base._view.grad_mode
        base = base._view.ctx.inputs[0]
    inputs_need = any(isinstance(a, Tensor) and a.requires_grad for a in (x,) + args)
    if not (inputs_need or base.requires_grad):
        return False  # nothing to record: version counters guard what was saved
    if no_grad_view:
        raise RuntimeError(
            f"{op}: this view (shape {tuple(x.shape)}) was created in no_grad mode and is being "
            "modified in place with grad mode enabled; make both the view and the in-place "
            "change inside no_grad (not recorded), or both outside it (recorded)"
        )
    if base.requires_grad and base._record is None:
        what = "a leaf tensor" if base is x else f"a view (shape {tuple(x.shape)}) of a leaf tensor"
        raise RuntimeError(
            f"{op}: {what} that requires grad (shape {tuple(base.shape)}) cannot be changed in place "
            "while gradients are recorded; wrap the update in `with tg.no_grad():` (as "
            "optimizers do) or work on x.detach()"
        )
    return True


def _write(x: Tensor, result, op: str) -> None:
    """Copy an in-place op's result into ``x``'s memory, in ``x``'s dtype (as PyTorch does)."""
    if np.shape(result) != x.shape:
        raise RuntimeError(
            f"{op}: the result has shape {np.shape(result)} but the tensor changed in place has "
            f"shape {tuple(x.shape)}; an in-place op cannot change a tensor's shape (write it out of "
            "place instead: x = x op y)"
        )
    if not np.can_cast(np.result_type(result), x._data.dtype, "same_kind"):
        raise RuntimeError(
            f"{op}: the result's dtype {np.result_type(result)} can't be cast to the tensor's "
            f"dtype {x._data.dtype} in place; convert first (x = x.float()) or write it out of place"
        )
    np.copyto(x._data, result, casting="same_kind")


def _forward_args(args: tuple) -> list:
    """What forward receives: each tensor's array, other arguments as given. A tensor whose
    array was already passed for another tensor (``x * x.detach()``) gets a view of it, so
    that a saved array names exactly one input."""
    arrays = [a._data if isinstance(a, Tensor) else a for a in args]
    for i in range(1, len(arrays)):
        if isinstance(args[i], Tensor) and id(arrays[i]) in map(id, arrays[:i]):
            arrays[i] = arrays[i].view()
    return arrays
