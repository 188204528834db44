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

from . import tape as _tape
from .tensor import Tensor

_state = _tape._state
_ndarray = np.ndarray
_new_tensor = _new = object.__new__
# ctx.needs_input_grad of one- and two-argument ops, shared (indexed by 2·na + nb): a record
# allocates one tracked object fewer, and the garbage collector runs that much less often
_NEEDS1 = ((False,), (True,))
_NEEDS2 = ((False, False), (False, True), (True, False), (True, True))
_INPUTS = ("saved: the inputs",)  # Context._slots of an op that saved exactly its arguments


class Context:
    """What a forward leaves for its backward: saved values and named hyperparameters.

    ``save_for_backward(*arrays)`` keeps arrays; in backward ``saved_tensors`` hands them back
    as Tensors. An array that *is* one of the inputs or the output comes back as that very
    tensor (so second derivatives flow through it) and is version-checked: if it was changed
    in place since the forward, backward raises instead of returning a wrong gradient.
    """

    # inputs: the positional arguments of apply (tensors and constants)
    # output: set by the replay only while backward runs (never kept: that would be a cycle);
    #   the tensor a saved output resolves to. A backward that needs its output saves it
    #   (save_for_backward(..., y)) so it is version-checked: reading ctx.output directly is
    #   not, and gave a wrong gradient after an in-place change (Div, Pow, MaxPool2d did)
    # grad_owned: set by the replay while backward runs: True when the incoming gradient's
    #   buffer is the replay's alone (see tape.replay), so backward may overwrite it in place
    # _saved: what forward saved; _slots: where each saved value lives (set when recorded)
    # Slots, not an instance dict: measured 50.2K -> 48.3K instructions per op on the per-op
    # chain (no dict is made per op); an op's own attributes (ctx.ta) go to a __dict__
    __slots__ = ("inputs", "needs_input_grad", "output", "grad_owned", "_saved", "_slots",
                 "__dict__")

    def __init__(self, inputs: tuple, needs_input_grad: tuple) -> None:
        self.inputs = inputs
        self.needs_input_grad = needs_input_grad
        self.output = None
        self.grad_owned = False
        self._saved = self._slots = ()

    def save_for_backward(self, *values) -> None:
        self._saved = values

    def _resolve(self, out: Tensor, arrays: tuple | None = None) -> None:
        """Map each saved array to an input, the output, or a constant (recording only).

        A saved array is an input's when it *is* the array forward received for it: the
        input's own array, or, where two different tensors share one array (``x`` and
        ``x.detach()``), the view ``apply`` handed over for the later one (``arrays``, what
        forward received, is passed only then). Matching the shared array itself picked the
        first input holding it: for ``x * x.detach()`` the alias was differentiated as ``x``,
        and a second derivative came out 1 instead of 0, quietly."""
        saved, inputs = self._saved, self.inputs
        if arrays is None and len(saved) == len(inputs):
            # the common case (Mul, Pow, MatMul, ...): it saved exactly its arguments, in order,
            # none with a version counter yet (so each is at version 0). Nothing to build:
            # saved_tensors hands back the inputs themselves after checking their versions
            # (measured: ~4.8K instructions fewer per Mul on the per-op chain, no tuples made)
            for v, a in zip(saved, inputs):
                if a is v:  # a Python scalar argument
                    if type(a) is _ndarray:
                        break  # an array argument: saved_tensors wraps it, the generic way
                elif not (isinstance(a, Tensor) and a.data is v and a._vc is None):
                    break
            else:
                self._slots = _INPUTS
                self._saved = ()
                return
        slots = []
        for v in saved:
            slot = None
            if type(v) is _ndarray:
                for i, a in enumerate(inputs):
                    if isinstance(a, Tensor) and (a.data if arrays is None else arrays[i]) is v:
                        vc = a._vc  # (Tensor._version, inlined: this runs for every record)
                        slot = (0, i, vc[0] if vc else 0)
                        break
                else:
                    if v is out.data:  # a view op's output starts at its base's version
                        vc = out._vc
                        slot = (1, 0, vc[0] if vc else 0)
            slots.append(slot or (2, v, 0))
        self._slots = tuple(slots)
        self._saved = ()  # (the slots hold what it held: one object fewer per record)

    @property
    def saved_tensors(self) -> tuple:
        if self._slots is _INPUTS:  # saved its arguments, none changed in place since then?
            for t in self.inputs:
                if isinstance(t, Tensor):
                    vc = t._vc
                    if vc and vc[0]:
                        i = next(i for i, a in enumerate(self.inputs) if a is t)
                        raise RuntimeError(self._modified_message(0, i, t, 0))
            return self.inputs
        out = []
        for kind, ref, version in self._slots:
            if kind == 0:
                t = self.inputs[ref]
            elif kind == 1:
                t = self.output
            else:
                out.append(Tensor._wrap(ref) if type(ref) is _ndarray else ref)
                continue
            vc = t._vc  # (Tensor._version, inlined)
            if (vc[0] if vc else 0) != version:
                raise RuntimeError(self._modified_message(kind, ref, t, version))
            out.append(t)
        return tuple(out)

    def _modified_message(self, kind: int, index: int, t: Tensor, version: int) -> str:
        """Name the op that saved ``t``, what it was, and the in-place op that changed it."""
        rec = None if self.output is None else self.output._record  # set while backward runs
        op = "an op" if rec is None else rec.name
        what = f"input {index}" if kind == 0 else "output"
        created = ""
        if rec is not None:
            created = (
                f" {op} was created at {rec.where}." if rec.where else
                f" (Run the forward inside tg.detect_anomaly() to see where {op} was created.)"
            )
        return (
            f"{op}.backward: a tensor that {op} saved for backward (its {what}, shape "
            f"{t.shape}, {t.dtype}) was modified by {t._vc[1]}: it is at version {t._version}, "
            f"but {op} saved it at version {version}, so its gradient would be wrong. Clone it "
            f"before changing it (x = x.clone()), or change it after backward.{created}"
        )

    @property
    def saved_arrays(self) -> tuple:
        """The saved values as raw arrays (for backward code that needs plain NumPy)."""
        return tuple(t.data if isinstance(t, Tensor) else t for t in self.saved_tensors)

    def saved_buffers(self, out: Tensor | None = None) -> dict[int, int]:
        """``{id: nbytes}`` of the memory the saved values keep alive for backward: every saved
        array (inputs and the output included), each buffer once, a view counted as the
        whole buffer it keeps alive. ``out`` is the op's output (needed if it was saved)."""
        held = {}
        for kind, ref, _ in self._slot_triples():
            if kind == 0:
                arr = self.inputs[ref].data
            elif kind == 1:
                arr = None if out is None else out.data
            else:
                arr = ref
            if not isinstance(arr, _ndarray):
                continue
            while isinstance(arr.base, _ndarray):
                arr = arr.base
            held[id(arr)] = arr.nbytes
        return held

    def _slot_triples(self) -> tuple:
        """``_slots`` as (kind, ref, version) triples, the saved-its-inputs case spelled out."""
        if self._slots is not _INPUTS:
            return self._slots
        return tuple(
            (0, i, 0) if isinstance(a, Tensor) else (2, a, 0) for i, a in enumerate(self.inputs)
        )

    def saved_nbytes(self, out: Tensor | None = None) -> int:
        """Bytes kept alive for backward (see ``saved_buffers``): the tape listing's column."""
        return sum(self.saved_buffers(out).values())


def inplace_refusal(x: Tensor) -> str:
    """Why an in-place op on ``x`` cannot be recorded now ("" when it can): while recording,
    ``x`` must not be a leaf that requires grad, nor share its memory with another tensor (a
    view, one with views, or detached), whose other names the tape could not follow."""
    if not (_state.grad_enabled and x.requires_grad):
        return ""  # nothing is recorded: version counters guard what was saved
    if x._record is None:
        return (
            f"a leaf tensor that requires grad (shape {x.shape}) cannot be changed in place "
            "while gradients are recorded; use the out-of-place form"
        )
    if x._vc is not None and x._vc[2]:
        return (
            f"this tensor (shape {x.shape}) shares its memory with another (it is a view, has "
            "views, or was detached), so the tape cannot follow an in-place change of it; use "
            "the out-of-place form, or clone() it first"
        )
    return ""


def _distinct(args: tuple, arrays) -> tuple:
    """The arrays forward receives, with an array shared by two different tensors among
    ``args`` (x and x.detach()) replaced by a view for the later one: one object per input,
    so ``Context._resolve`` can tell which input a saved array is."""
    arrays = list(arrays)
    first: dict[int, int] = {}
    for i, (a, x) in enumerate(zip(args, arrays)):
        if isinstance(a, Tensor):
            j = first.setdefault(id(x), i)
            if j != i and args[j] is not a:
                arrays[i] = x.view()
    return tuple(arrays)


class Function:
    """Base class of a differentiable op: subclass, write ``forward`` and ``backward``.

    ``forward(ctx, *args)`` receives NumPy arrays for tensor arguments (other arguments as
    given) and returns an array. ``backward(ctx, grad_output)`` receives a Tensor and returns
    one gradient per positional argument of ``apply`` (None where no gradient is needed;
    ``ctx.needs_input_grad`` says which). Gradients may have the output's broadcast shape: the
    engine sums them down to each input's shape.

    Optional: ``forward_(ctx, array)`` overwrites its argument in place (``Relu.apply_(x)`` is
    ``relu_``); ``fresh_grads = True`` promises the replay that backward returns new arrays
    (then ``ctx.grad_owned`` may let the next backward write into them).
    """

    #: False for ops whose backward is not written in differentiable Tensor ops;
    #: create_graph=True through them raises NotImplementedError naming the op.
    twice_differentiable = True
    #: True for ops whose output shares memory with input 0 (they share a version counter).
    is_view = False
    #: True for ops whose backward returns, for each input, a new writeable array, or the
    #: incoming gradient (or a view of it) for at most one input; never a saved or cached
    #: array. The replay then lets the next backward overwrite that gradient in place
    #: (ctx.grad_owned); read-only views (broadcasts) are never overwritten.
    fresh_grads = False

    @staticmethod
    def forward(ctx: Context, *args, **kwargs):  # pragma: no cover - abstract
        raise NotImplementedError("a Function subclass must define forward(ctx, *args)")

    @staticmethod
    def backward(ctx: Context, grad_output: Tensor):  # pragma: no cover - abstract
        raise NotImplementedError("a Function subclass must define backward(ctx, grad_output)")

    @classmethod
    def apply_(cls, x: Tensor, **kwargs) -> Tensor:
        """Run the op in place on ``x`` through the class's ``forward_(ctx, array)``, which
        overwrites the array (PyTorch's ``relu_``); returns ``x``.

        ``x``'s version moves on, so a backward that saved its old value raises. While
        recording, ``x`` becomes the output of a new record whose input is ``x`` as it was:
        the replay, going backwards, sends ``x``'s gradient through this record first and then
        on to ``x``'s earlier producer. Refused while recording for a leaf that requires grad
        and for a tensor that shares its memory with another (a view, or one with views), whose
        other names the tape could not follow.
        """
        forward_ = getattr(cls, "forward_", None)
        if forward_ is None:
            raise TypeError(f"{cls.__name__} has no in-place form (define forward_)")
        op = f"{cls.__name__.lower()}_"
        refusal = inplace_refusal(x)
        if refusal:
            raise RuntimeError(f"{op}: {refusal}")
        record = _state.grad_enabled and x.requires_grad
        ctx = _new(Context)
        # no inputs: the input is the output, which a record holds weakly (a strong reference
        # from its own record would keep x alive forever); the replay reads it as (output,)
        ctx.inputs, ctx.needs_input_grad = (), (record,)
        ctx._saved = ctx._slots = ()
        forward_(ctx, x.data, **kwargs)
        x._bump_version(op)
        if _state.anomaly:
            _tape.check_finite(x.data, cls.__name__, "forward", None)
        if record:
            if ctx._saved:
                ctx._resolve(x)  # x's own array: saved as the output, at its new version
            prev = x._record
            x._record = rec = _state.tape.append(cls, ctx, x)
            rec.prev = prev  # x's earlier producer (for the tape listing and viz)
            if _state.anomaly:
                rec.where = _tape._user_frame()
        return x

    @classmethod
    def apply(cls, *args, **kwargs) -> Tensor:
        """Run forward on the arrays of ``args``; record it if an input requires grad.

        The hot path of the engine: one- and two-argument calls avoid building lists, and the
        output tensor is built in place rather than through a constructor call.
        """
        # this thread's state as its dict: one thread-local lookup instead of three (each
        # costs ~600 instructions, ~1.3% of an op on the per-op chain: measured)
        st = _state.__dict__
        on = st["grad_enabled"]
        n = len(args)
        if n == 2:
            a, b = args
            if isinstance(a, Tensor):
                xa, na = a.data, on and a.requires_grad
            else:
                xa, na = a, False
            if isinstance(b, Tensor):
                xb, nb = b.data, on and b.requires_grad
            else:
                xb, nb = b, False
            arrays = None  # (set only when two tensors share one array: see _resolve)
            if xb is xa and b is not a:  # two tensors on one array (x and x.detach()):
                xb = xb.view()  # forward gets two objects, so a saved array names its input
                arrays = (xa, xb)
            record = na or nb
            ctx = _new(Context)  # Context(args, needs), without a Python __init__ frame
            ctx.inputs, ctx.needs_input_grad = args, _NEEDS2[2 * na + nb]
            ctx._saved = ctx._slots = ()
            data = cls.forward(ctx, xa, xb, **kwargs) if kwargs else cls.forward(ctx, xa, xb)
        elif n == 1:
            a = args[0]
            record = on and a.requires_grad
            ctx = _new(Context)
            ctx.inputs, ctx.needs_input_grad = args, _NEEDS1[record]
            ctx._saved = ctx._slots = ()
            arrays = None
            data = cls.forward(ctx, a.data, **kwargs) if kwargs else cls.forward(ctx, a.data)
        elif n == 3 and isinstance(args[0], Tensor) and isinstance(args[1], Tensor) and (
            isinstance(args[2], Tensor)
        ):
            a, b, c = args  # three tensors (Addmm, Where): no list building
            na, nb, nc = on and a.requires_grad, on and b.requires_grad, on and c.requires_grad
            record = na or nb or nc
            ctx = _new(Context)
            ctx.inputs, ctx.needs_input_grad = args, (na, nb, nc)
            ctx._saved = ctx._slots = ()
            xa, xb, xc = a.data, b.data, c.data
            arrays = None
            if xa is xb or xb is xc or xa is xc:
                arrays = xa, xb, xc = _distinct(args, (xa, xb, xc))
            data = cls.forward(ctx, xa, xb, xc, **kwargs)
        else:
            needs = tuple([on and isinstance(a, Tensor) and a.requires_grad for a in args])
            record = True in needs
            ctx = Context(args, needs)
            given = [a.data if isinstance(a, Tensor) else a for a in args]
            arrays = None
            if len(set(map(id, given))) < n:  # an array (or a constant) passed twice
                arrays = given = _distinct(args, given)
            data = cls.forward(ctx, *given, **kwargs)
        if type(data) is not _ndarray:
            raw, data = data, np.asarray(data)  # NumPy returns scalars from 0-d arithmetic
            if ctx._saved:  # a saved 0-d result must still be recognised as the output
                ctx._saved = tuple(data if v is raw else v for v in ctx._saved)
        out = _new_tensor(Tensor)  # Tensor._wrap, inlined
        out.data = data
        out.requires_grad = record
        out._grad = out._record = None
        out._vc = args[0]._shared_vc() if cls.is_view else None
        anomaly = st["anomaly"]  # all that anomaly mode costs when off: this one read
        if anomaly:
            _tape.check_finite(data, cls.__name__, "forward", None)
        if record:
            if ctx._saved:
                ctx._resolve(out, arrays)
            out._record = rec = st["tape"].append(cls, ctx, out)
            if anomaly:
                rec.where = _tape._user_frame()
        return out
