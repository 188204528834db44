"""The tape: one list of records per thread, and the reverse replay that is backprop.

Every differentiable op that runs while recording appends one ``Record`` (the Function, its
context with saved arrays and inputs, and a *weak* reference to its output). Append order is a
topological order, so ``backward`` is one loop over the records in reverse; nothing sorts.

Memory: a record is dropped as soon as its output tensor dies (the weak reference's callback
drops it at once, emptying a queue iteratively as inputs die in turn, so a 100,000-op chain never
recurses), and ``backward`` releases every record it replays unless ``retain_graph=True``.

This module knows nothing about ``Tensor``: the replay talks to tensors only through their
attributes (``data``, ``requires_grad``, ``_record``, ``_reduce_to``), which keeps the
dependency direction ``_shapes <- tape <- tensor <- function <- ops``.
"""

from __future__ import annotations

import functools
import sys
import threading
import weakref
from typing import Any, Callable, Iterator

import numpy as np

__all__ = [
    "Record",
    "Tape",
    "get_tape",
    "no_grad",
    "enable_grad",
    "set_grad_enabled",
    "is_grad_enabled",
    "detect_anomaly",
    "is_anomaly_enabled",
    "AnomalyError",
]


class AnomalyError(FloatingPointError):
    """A forward or backward produced NaN or inf while ``detect_anomaly`` was on."""


class _State(threading.local):
    """Per-thread state: the tape, grad mode and anomaly mode (never shared by two threads)."""

    def __init__(self) -> None:
        self.tape = Tape()
        self.grad_enabled = True
        self.anomaly = False


def get_tape() -> "Tape":
    """The calling thread's tape. ``len(get_tape())`` counts the records it holds."""
    return _state.tape


class Record(weakref.ref):
    """One recorded op: ``fn`` applied to ``ctx.inputs`` produced the (weakly held) output.

    Calling the record (``rec()``) returns the output tensor, or None once it has died.
    ``ctx`` is None once the record has been released by a backward (or dropped).
    """

    __slots__ = ("seq", "fn", "ctx", "where", "nbytes", "prev")
    # prev: set only by an in-place op (Function.apply_): the record that produced the
    # output before this op changed it in place (for the listing and viz)

    # no __init__ of its own: weakref.ref's C constructor takes (output, callback) and
    # Tape.append fills the slots, so making a record runs no Python frame

    @property
    def name(self) -> str:
        return self.fn.__name__

    @property
    def inputs(self) -> tuple:
        if self.ctx is None:
            return ()
        return self.ctx.inputs or (self(),)  # (an in-place record's input is its output)

    def saved_bytes(self) -> int:
        """Bytes this record keeps alive for backward: every array it saved, the inputs and
        output it saved included, each buffer once (0 once released)."""
        if self.ctx is None:
            return 0
        return self.ctx.saved_nbytes(self())


class Tape:
    """The records of one thread, in the order they were appended (a topological order)."""

    def __init__(self) -> None:
        self._records: dict[int, Record] = {}  # insertion-ordered: seq -> Record
        self._dead: list[Record] = []  # records whose output died, waiting to be dropped
        self._next = 0
        self._on_dead = _dropper(self._records, self._dead)  # weakref callback: drops at once

    # -- bookkeeping -------------------------------------------------------------------
    def append(self, fn, ctx, out) -> Record:
        if self._dead:
            self.purge()
        seq = self._next
        self._next = seq + 1
        rec = Record(out, self._on_dead)
        rec.seq = seq
        rec.fn = fn
        rec.ctx = ctx
        rec.where = None  # the creating source line, set by Function.apply in anomaly mode
        self._records[seq] = rec
        return rec

    def purge(self) -> None:
        """Drop records whose outputs died (normally done already, by the weakref callback)."""
        self._on_dead(None)

    def release(self, rec: Record) -> None:
        """Free a record after backward: its saved arrays and inputs go."""
        self._records.pop(rec.seq, None)
        rec.ctx = None

    def clear(self) -> None:
        """Release every record (tensors made before now become graph-less)."""
        for rec in list(self._records.values()):
            rec.ctx = None
        self._records.clear()
        self.purge()

    def __len__(self) -> int:
        self.purge()
        return len(self._records)

    def __iter__(self) -> Iterator[Record]:
        self.purge()
        return iter(list(self._records.values()))

    # -- a readable listing (the lecture's computation graph as a program) ---------------
    def listing(self) -> str:
        """The records as a program, one line per op::

            %7 = matmul(%3, %5)   (128, 256) float32   saved 131 KB

        Tensors are numbered in order of first appearance; a leaf (``parameter``,
        ``leaf, requires_grad`` or ``constant``) gets a line of its own where first used.
        ``saved`` is the memory the op keeps alive for its backward: every array it saved,
        the inputs and output it saved included (not only arrays it made), each buffer once,
        a view counted as the whole buffer behind it. Two ops that save the same tensor both
        show it, so the last line totals the distinct buffers. (A record also holds its
        inputs as graph edges; that memory is the tensors' own, on their own lines.)
        """
        self.purge()
        names: dict[int, str] = {}
        rows: list[tuple[str, str, str, str]] = []  # (name, op call or leaf kind, type, saved)
        held: dict[int, int] = {}

        def name_of(t) -> str:
            key = id(t)
            if key not in names:
                names[key] = f"%{len(names)}"
                if t._record is None or t._record.ctx is None:
                    rows.append((names[key], _leaf_kind(t), _fmt_type(t), ""))
            return names[key]

        for rec in list(self._records.values()):
            out, ctx = rec(), rec.ctx
            if out is None or ctx is None:
                continue
            ins = ctx.inputs or (out,)  # an in-place record (Function.apply_): out is its input
            args = ", ".join(name_of(a) if hasattr(a, "_record") else _fmt_arg(a) for a in ins)
            lhs = name_of_output(names, out)
            buffers = ctx.saved_buffers(out)
            held.update(buffers)
            saved = f"saved {_fmt_bytes(sum(buffers.values()))}"
            op = rec.name.lower() + ("" if ctx.inputs else "_")
            rows.append((lhs, f"{op}({args})", _fmt_type(out), saved))
        if not rows:
            return "(empty tape)"
        w0 = max(len(r[0]) for r in rows)
        w1 = min(max(len(r[1]) for r in rows), 40)
        w2 = max(len(r[2]) for r in rows)
        lines = [f"{a:<{w0}} = {b:<{w1}}   {c:<{w2}}   {d}".rstrip() for a, b, c, d in rows]
        n = sum(1 for r in rows if r[3])
        lines.append(
            f"# {n} record(s); {_fmt_bytes(sum(held.values()))} held for backward in "
            f"{len(held)} distinct buffer(s)"
        )
        return "\n".join(lines)

    def show(self, file=None) -> None:
        print(self.listing(), file=file)

    def __str__(self) -> str:
        return self.listing()

    def __repr__(self) -> str:
        return f"<Tape of {len(self)} record(s) in thread {threading.current_thread().name}>"


def _dropper(records: dict, dead: list) -> Callable:
    """The weakref callback of a tape's records: drop a dead output's record at once.

    Dropping a record releases its inputs, whose own records may die inside this call: those
    only join the queue, and the outermost call empties it in a loop, so a 100,000-op chain
    dies without recursion. A closure over the tape's containers, not a bound method, so the
    tape is in no reference cycle (a thread's tape is freed by reference counting).
    """
    busy = [False]

    def drop(rec: Record | None) -> None:
        if rec is not None:
            if rec.ctx is None:
                return  # released by a backward already (and off the tape): nothing to free
            dead.append(rec)
        if busy[0]:
            return
        busy[0] = True
        try:
            while dead:
                rec = dead.pop()
                records.pop(rec.seq, None)
                rec.ctx = None  # releases the inputs; their records may be queued in turn
        finally:
            busy[0] = False

    return drop


_state = _State()  # created once Tape exists; each thread gets its own fields


def name_of_output(names: dict, out) -> str:
    key = id(out)
    if key not in names:
        names[key] = f"%{len(names)}"
    return names[key]


def _leaf_kind(t) -> str:
    if t._record is not None:
        return "result, graph released"  # its record was freed by a backward
    if not t.requires_grad:
        return "constant"
    return "parameter" if type(t).__name__ == "Parameter" else "leaf, requires_grad"


def _fmt_type(t) -> str:
    return f"{tuple(t.data.shape)} {t.data.dtype}"


def _fmt_arg(a) -> str:
    """A non-tensor argument, short: arrays (e.g. an index) as their dtype and shape."""
    if isinstance(a, np.ndarray):
        return repr(a.tolist()) if a.size <= 4 else f"<{a.dtype} array {a.shape}>"
    if isinstance(a, tuple):
        return "(" + ", ".join(_fmt_arg(x) for x in a) + ("," if len(a) == 1 else "") + ")"
    if isinstance(a, slice):
        parts = ["" if v is None else str(v) for v in (a.start, a.stop, a.step)]
        return ":".join(parts[:2] if a.step is None else parts)
    text = repr(a)
    return text if len(text) <= 24 else text[:21] + "..."


def _fmt_bytes(n: int) -> str:
    if n < 1000:
        return f"{n} B"
    if n < 1_000_000:
        return f"{n / 1000:.0f} KB"
    return f"{n / 1e6:.1f} MB"


_PKG_DIR = __file__.rsplit("/", 1)[0]


def _user_frame() -> str:
    """``file:line in func`` of the innermost frame outside tinygrad_edu (for error messages)."""
    f = sys._getframe(1)
    while f is not None and f.f_code.co_filename.startswith(_PKG_DIR):
        f = f.f_back
    if f is None:
        return "<unknown>"
    return f"{f.f_code.co_filename}:{f.f_lineno} in {f.f_code.co_name}"


# -- grad mode ----------------------------------------------------------------------------
class set_grad_enabled:
    """Switch recording on or off for this thread; a context manager and a decorator.

    >>> import tinygrad_edu as tg
    >>> with tg.set_grad_enabled(False):
    ...     tg.is_grad_enabled()
    False
    """

    def __init__(self, mode: bool) -> None:
        self.mode = bool(mode)
        self.prev: list[bool] = []

    def __enter__(self):
        self.prev.append(_state.grad_enabled)
        _state.grad_enabled = self.mode
        return self

    def __exit__(self, *exc) -> None:
        _state.grad_enabled = self.prev.pop()

    def __call__(self, func: Callable) -> Callable:
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(self.mode):  # a fresh manager per call: re-entrant
                return func(*args, **kwargs)

        return wrapper


class no_grad(set_grad_enabled):
    """Record nothing inside: for evaluation and optimizer updates. Also a decorator."""

    def __init__(self) -> None:
        super().__init__(False)


class enable_grad(set_grad_enabled):
    """Record inside, even within ``no_grad``. Also a decorator."""

    def __init__(self) -> None:
        super().__init__(True)


def is_grad_enabled() -> bool:
    return _state.grad_enabled


class detect_anomaly:
    """Find the op that first makes NaN or inf, forward or backward (off by default).

    Inside the block every record remembers the source line that created it, every forward
    output and every gradient is checked, and the first non-finite value raises
    ``AnomalyError`` naming the op, the pass (forward/backward) and that line. Outside the
    block the engine pays one attribute check per op.
    """

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = check_nan
        self.prev: list[bool] = []

    def __enter__(self):
        self.prev.append(_state.anomaly)
        _state.anomaly = self.check_nan
        return self

    def __exit__(self, *exc) -> None:
        _state.anomaly = self.prev.pop()

    def __call__(self, func: Callable) -> Callable:
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with detect_anomaly(self.check_nan):
                return func(*args, **kwargs)

        return wrapper


def is_anomaly_enabled() -> bool:
    return _state.anomaly


def check_finite(arr: np.ndarray, fn_name: str, phase: str, where: str | None) -> None:
    """Raise AnomalyError if ``arr`` holds NaN or inf (only called in anomaly mode)."""
    if arr.dtype.kind in "fc" and not np.isfinite(arr).all():
        bad = "NaN" if np.isnan(arr).any() else "inf"
        if where is None and phase == "forward":
            where = _user_frame()
        place = (
            f"the op was created at {where}" if where else "its forward ran outside "
            "detect_anomaly(), so the line that created it is unknown: run the forward inside "
            "the block too"
        )
        raise AnomalyError(f"{fn_name}: the {phase} produced {bad} (shape {arr.shape}); {place}")


# -- the replay ---------------------------------------------------------------------------
_FREED = (
    "{what}: trying to backward through part of the graph a second time, but its saved "
    "values were freed by the first backward ({op} record). Pass retain_graph=True to the "
    "first backward() if you need to backpropagate through the same graph twice, or "
    "recompute the forward pass."
)
_NO_SECOND = (
    "{op}: has no second derivative, so backward(create_graph=True) cannot pass through it; "
    "differentiate it to first order only"
)
_BAD_COUNT = (
    "{op}.backward returned {n} gradient(s) for {m} input(s); return one per argument of "
    "apply (None for arguments that need no gradient)"
)
_OTHER_THREAD = (
    "backward: part of this graph ({op} record) was recorded by another thread; each thread "
    "has its own tape, so run the forward and its backward in the same thread"
)


def run_backward(
    roots: list,
    root_grads: list,
    *,
    retain_graph: bool,
    create_graph: bool,
    wanted: list | None = None,
) -> dict[int, Any]:
    """Reverse-replay the tape from ``roots`` (tensors) seeded with ``root_grads`` (tensors).

    With ``wanted`` (a list of tensors) the gradients of those tensors are returned as a dict
    ``id -> grad`` and no ``.grad`` is touched (``tg.grad``); otherwise leaf gradients are
    accumulated into ``.grad`` (``Tensor.backward``).
    """
    found: dict[int, Any] = {}
    for _ in replay(roots, root_grads, retain_graph, create_graph, wanted, found, False):
        pass
    return found


def replay(roots, root_grads, retain_graph, create_graph, wanted, found, stepping):
    """The backward pass as a generator: one loop over the records in reverse.

    When ``stepping`` it yields ``(record, inputs, grad_out, grads_in)`` after each record
    (with the caller's grad and anomaly modes restored while suspended); else it never yields.
    """
    tape = _state.tape
    grads = _seed(tape, roots, root_grads)  # id(tensor) -> [tensor, gradient so far, owned]
    wanted_ids = None if wanted is None else {id(t) for t in wanted}
    # Ownership: a gradient is *owned* when only this loop can reach its buffer: it came from
    # a backward that promises fresh gradients (Function.fresh_grads), for one input only, is
    # writeable, and is nobody's result (not a tg.grad answer, not yielded to a debugger, not
    # part of a create_graph graph). A backward told ctx.grad_owned may overwrite its incoming
    # gradient in place, as hand-written backprop does (ReLU: g *= mask).
    can_own = not create_graph and not stepping
    anomaly, prev_mode = _state.anomaly, _state.grad_enabled
    # ops inside a backward are not checked as forwards: each gradient is checked as it is sent,
    # in the name of the op whose backward made it
    _state.grad_enabled, _state.anomaly = create_graph, False
    records = tape._records
    # tg.grad replays only the records a wanted tensor flows into: nothing else can reach it
    order = list(records.values()) if wanted_ids is None else _downstream(records, wanted_ids)
    try:
        for rec in reversed(order):
            ctx = rec.ctx  # None: released meanwhile (its output died with the gradient path)
            out = None if ctx is None else rec()
            entry = None if out is None else grads.pop(id(out), None)
            if entry is None:
                continue  # a record whose output got no gradient (or died) is not on the path
            grad_out, mine = entry[1], entry[2]
            if wanted_ids is not None and id(out) in wanted_ids:
                # (setdefault: after an in-place op, x's earlier producer is replayed later,
                # with the gradient of x's older value; tg.grad answers for the newest)
                found.setdefault(id(out), grad_out)
                mine = False
            # the local computation: the op's backward, one gradient per input
            if create_graph and not rec.fn.twice_differentiable:
                raise NotImplementedError(_NO_SECOND.format(op=rec.name))
            ctx.output, ctx.grad_owned = out, mine
            try:
                grads_in = rec.fn.backward(ctx, grad_out)
            finally:
                ctx.output = None  # the output must not stay reachable from its own record
            if type(grads_in) is not tuple:
                grads_in = (grads_in,)
            # (an in-place record, Function.apply_, holds no inputs: its input is its output)
            inputs = ctx.inputs or (out,)
            if len(grads_in) != len(inputs):
                raise RuntimeError(_BAD_COUNT.format(op=rec.name, n=len(grads_in), m=len(inputs)))
            # then each input that needs it gets its gradient: summed down to its shape (the
            # one unbroadcast), checked in anomaly mode, and added to what it already has
            fresh = can_own and rec.fn.fresh_grads
            # each gradient returned for one input only (no object twice in grads_in)? Decided
            # here once per record, so a new array (_owned's common case) needs no call: ~2K
            # instructions a gradient, 1.3% of the per-op chain (measured)
            n_in = len(grads_in)
            once = fresh and (
                n_in == 1 or (grads_in[0] is not grads_in[1] if n_in == 2 else
                              len(set(map(id, grads_in))) == n_in)
            )
            incoming = grad_out.data
            for inp, g, need in zip(inputs, grads_in, ctx.needs_input_grad):
                if g is None or not need:
                    continue
                gd, idata = g.data, inp.data
                own = fresh
                gt, it = gd.dtype, idata.dtype  # (the same dtype object, almost always)
                if gd.shape != idata.shape or (gt is not it and gt != it):
                    g = g._reduce_to(inp, rec.name)  # a new array
                elif own and not (
                    once and gd.base is None and gd is not incoming and gd is not incoming.base
                ):  # (else a new array, returned for this input only: the replay's own)
                    own = _owned(gd, g, grad_out, mine, grads_in)
                if anomaly:
                    check_finite(g.data, rec.name, "backward", rec.where)
                key = id(inp)
                entry = grads.get(key)
                if entry is None:
                    grads[key] = [inp, g, own]
                else:  # out of place: g may alias another input's gradient; the sum is new
                    entry[1], entry[2] = entry[1] + g, can_own
            if stepping:
                _state.grad_enabled, _state.anomaly = prev_mode, anomaly
                yield rec, inputs, grad_out, grads_in
                _state.grad_enabled, _state.anomaly = create_graph, False
            if not retain_graph:
                del records[rec.seq]  # release: saved arrays and inputs go with the context
                rec.ctx = None
    finally:
        _state.grad_enabled, _state.anomaly = prev_mode, anomaly
    _finish(grads, wanted_ids, found, create_graph)


def _owned(gd, g, grad_out, mine: bool, grads_in: tuple) -> bool:
    """Whether gradient ``g`` (array ``gd``) that a fresh_grads backward returned is the
    replay's alone: writeable, returned for one input only, and either a new array or (the
    incoming ``grad_out`` itself, or a view of its buffer) owned already."""
    if len(grads_in) > 1:  # returned for one input only
        n = 0
        for other in grads_in:
            if other is g:
                n += 1
        if n != 1:
            return False
    incoming = grad_out.data
    ibase = incoming.base
    if gd is incoming or gd is ibase:
        return mine  # the incoming gradient (or its buffer): as much the replay's as it is
    gbase = gd.base
    if gbase is None:
        return True  # a new array (fresh_grads: never a saved or cached one)
    if not gd.flags.writeable:
        return False  # e.g. a broadcast view
    if gbase is (incoming if ibase is None else ibase):
        return mine  # a view of the incoming gradient's buffer
    return True


def _seed(tape: Tape, roots, root_grads) -> dict:
    """The gradients the replay starts from, after checking each root can be replayed."""
    tape.purge()
    grads: dict[int, list] = {}
    for t, g in zip(roots, root_grads):
        rec = t._record
        if rec is not None:
            if rec.ctx is None:
                raise RuntimeError(_FREED.format(what="backward", op=rec.name))
            if tape._records.get(rec.seq) is not rec:  # else nothing would be replayed
                raise RuntimeError(_OTHER_THREAD.format(op=rec.name))
        _accumulate(grads, t, g)
    return grads


def _finish(grads: dict, wanted_ids, found: dict, create_graph: bool) -> None:
    """Deliver what reached the leaves: into ``found`` for tg.grad, else into ``.grad``."""
    if wanted_ids is not None:
        for t, g, _ in grads.values():
            if id(t) in wanted_ids:
                found.setdefault(id(t), g)
        return
    for t, _, _ in grads.values():  # all checked before any .grad changes: never half a gradient
        rec = t._record
        if rec is not None:
            # a non-leaf whose record is gone: its gradient would be silently lost
            if rec.ctx is None:
                raise RuntimeError(_FREED.format(what="backward", op=rec.name))
            raise RuntimeError(_OTHER_THREAD.format(op=rec.name))  # alive, not on this tape
    adopted: set = set()
    for t, g, _ in grads.values():
        t._accumulate_grad(g, create_graph, adopted)


def _downstream(records: dict, start: set) -> list:
    """The records whose inputs depend on a tensor in ``start`` (one forward sweep)."""
    reach = set(start)
    order = []
    for rec in records.values():
        ctx = rec.ctx
        out = None if ctx is None else rec()
        # (an in-place record holds no inputs: its input is its output)
        if out is not None and any(id(a) in reach for a in (ctx.inputs or (out,))):
            reach.add(id(out))
            order.append(rec)
    return order


def _accumulate(grads: dict, t, g) -> None:
    """A seed gradient (never owned: the caller may hold it)."""
    entry = grads.get(id(t))
    if entry is None:
        grads[id(t)] = [t, g, False]
    else:
        entry[1] = entry[1] + g  # out of place: g may alias another input's gradient
