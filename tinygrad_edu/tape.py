"""The tape is the computation graph, and backprop is one loop over it in reverse.

Every differentiable op that runs while recording appends one ``Record``: the Function, its
context (inputs and saved values) and a *weak* reference to its output. Records are appended
in the order the ops ran, which is a topological order of the graph, so the reverse replay
needs no sorting: walk the records newest first; each one takes its output's gradient, calls
its op's backward (the local derivative), and adds what comes out to its inputs' gradients.

Memory: a record dies with its output tensor (the weak reference's callback drops it; the
tape itself holds records weakly, the output holds its record), and a backward releases
every record it replays unless ``retain_graph=True``.

This module knows nothing about ``Tensor``: it reads tensors' ``_data``, ``requires_grad``,
``_record`` and ``_hooks`` and calls ``_refresh_view``, ``_sum_to``, ``_run_hooks`` and
``_accumulate_grad`` on them.
"""

from __future__ import annotations

import threading
import weakref
from typing import Iterator

from .grad_mode import _modes, check_finite


class _InPlace:
    def __repr__(self) -> str:
        return "IN_PLACE"


IN_PLACE = _InPlace()  # an in-place op's input 0: the old value of its own output


class Record(weakref.ref):
    """One recorded op: ``fn`` applied to ``ctx.inputs`` produced the (weakly held) output.

    Calling the record (``rec()``) returns the output tensor, or None once it has died.
    ``ctx`` is None once a backward has released the record.
    """

    # seq: position on the tape; where: the creating source line (anomaly mode only);
    # in_place: its op overwrote its output's memory; prev: then the record that made the
    # value it overwrote
    __slots__ = ("seq", "fn", "ctx", "where", "in_place", "prev", "__weakref__")

    @property
    def name(self) -> str:
        return self.fn.__name__

    @property
    def inputs(self) -> tuple:
        """The op's arguments. An in-place op (``relu_``, ``+=``) read its output's old value:
        that input is the output itself (``IN_PLACE`` stands for it in ``ctx.inputs``, so that
        it is held weakly like every output and can still die)."""
        if self.ctx is None:
            return ()
        inputs = self.ctx.inputs
        return (self(),) + inputs[1:] if inputs and inputs[0] is IN_PLACE else inputs

    def __repr__(self) -> str:
        return f"<{self.name}Backward0 record #{self.seq}>"  # PyTorch's grad_fn name

    def saved_bytes(self) -> int:
        """Bytes this record keeps alive for backward (0 once released)."""
        return 0 if self.ctx is None else sum(self.ctx.saved_buffers(self()).values())


class Tape:
    """The records of one thread, in the order they were appended."""

    def __init__(self) -> None:
        # seq -> Record, in insertion order, held weakly: a record lives as long as its output
        # tensor holds it (``_record``, or a later in-place record's ``prev``), so a graph
        # that an in-place op made cyclic is still freed with its tensors
        self._records: weakref.WeakValueDictionary[int, Record] = weakref.WeakValueDictionary()
        self._kept: dict[int, Record] = {}  # records no tensor holds any more (see ``keep``)
        self._next = 0
        self._dead: list[Record] = []
        self._dropping = False
        tape = weakref.ref(self)  # (a bound method would put the tape in a reference cycle)
        self._on_dead = lambda rec: tape() is not None and tape()._drop(rec)

    def append(self, fn, ctx, out) -> Record:
        rec = Record(out, self._on_dead)
        rec.seq, rec.fn, rec.ctx, rec.where = self._next, fn, ctx, None
        rec.in_place, rec.prev = False, None
        self._records[self._next] = rec
        self._next += 1
        return rec

    def _drop(self, rec: Record) -> None:
        """A record's output died: forget the record. Dropping it frees its inputs, whose own
        records may die inside this call; those only join the queue, which the outermost call
        empties, so a long chain of ops dies without deep recursion."""
        if rec.ctx is None:
            return  # released by a backward already
        self._dead.append(rec)
        if self._dropping:
            return
        self._dropping = True
        try:
            while self._dead:
                self.release(self._dead.pop())
        finally:
            self._dropping = False

    def keep(self, rec: Record) -> None:
        """Hold a record that its output lets go of (``detach_``) until the output dies or a
        backward releases it: ops that read the output earlier still backpropagate through it."""
        self._kept[rec.seq] = rec

    def release(self, rec: Record) -> None:
        """Forget a record: its saved values and inputs go with its context."""
        self._records.pop(rec.seq, None)
        self._kept.pop(rec.seq, None)
        rec.ctx = None

    def clear(self) -> None:
        """Release every record (tensors made before now become graph-less)."""
        for rec in list(self._records.values()):
            self.release(rec)

    def __len__(self) -> int:
        return len(self._records)

    def __iter__(self) -> Iterator[Record]:
        return iter(list(self._records.values()))

    def listing(self) -> str:
        """The records as a program, one line per op (see ``viz.listing``)."""
        from .viz import listing  # the printer sits on the public API, above the engine

        return listing(self)

    def show(self, file=None) -> None:
        print(self.listing(), file=file)

    def __str__(self) -> str:
        return self.listing()

    def __repr__(self) -> str:
        return f"<Tape of {len(self)} record(s) in thread {threading.current_thread().name}>"


class _Tapes(threading.local):
    def __init__(self) -> None:
        self.tape = Tape()


_tapes = _Tapes()


def get_tape() -> Tape:
    """The calling thread's tape. ``len(get_tape())`` counts the records it holds."""
    return _tapes.tape


# -- the reverse replay ---------------------------------------------------------------------
def backward(roots, root_grads, *, retain_graph=False, create_graph=False, wanted=None):
    """Backpropagate from ``roots`` seeded with ``root_grads``; see ``replay``."""
    found: dict = {}
    for _ in replay(roots, root_grads, retain_graph, create_graph, wanted, found):
        pass
    return found


def replay(roots, root_grads, retain_graph, create_graph, wanted=None, found=None):
    """The chain rule, one record at a time, newest first.

    Leaves' gradients go into their ``.grad`` at the end; with ``wanted`` (``tg.grad``) the
    gradients of those tensors go into the dict ``found`` instead and no ``.grad`` changes.
    A generator: after each record it yields ``(record, inputs, grad_out, grads_in)`` for
    ``tg.backward_steps``; ``backward`` runs it to the end.
    """
    tape = get_tape()
    grads = _Gradients(wanted, found, create_graph)
    for t, g in zip(roots, root_grads):
        t._refresh_view()
        _check_replayable(tape, t)
        grads.add(t, g)
    for rec in reversed(_records_to_replay(tape, wanted)):
        out = rec()
        grad_out = None if out is None or rec.ctx is None else grads.take(out, rec)
        if grad_out is None:
            continue  # dead, released meanwhile, or not on a path to the roots
        inputs = rec.inputs
        grads_in = _local_backward(rec, grad_out, create_graph)
        for inp, g, needed in zip(inputs, grads_in, rec.ctx.needs_input_grad):
            if needed and g is not None:
                g = g._sum_to(inp, rec.name)  # undo broadcasting: the one place it happens
                if _modes.anomaly:
                    check_finite(g._data, rec.name, "backward", rec.where)
                grads.add(inp, g)
        yield rec, inputs, grad_out, grads_in
        if not retain_graph:
            tape.release(rec)
    grads.deliver()


def _local_backward(rec: Record, grad_out, create_graph: bool) -> tuple:
    """One op's backward: its inputs' gradients from its output's. Recorded only with
    ``create_graph`` (so gradients can be differentiated again); never checked as a forward."""
    if create_graph and not rec.fn.twice_differentiable:
        raise NotImplementedError(_NO_SECOND.format(op=rec.name))
    modes = _modes.grad_enabled, _modes.anomaly
    _modes.grad_enabled, _modes.anomaly = create_graph, False
    rec.ctx.record = rec  # lets a saved output resolve to ``rec()`` (never kept after)
    try:
        grads_in = rec.fn.backward(rec.ctx, grad_out)
    finally:
        _modes.grad_enabled, _modes.anomaly = modes
        rec.ctx.record = None
    grads_in = grads_in if type(grads_in) is tuple else (grads_in,)
    if len(grads_in) != len(rec.inputs):
        raise RuntimeError(_BAD_COUNT.format(op=rec.name, n=len(grads_in), m=len(rec.inputs)))
    return grads_in


class _Gradients:
    """The gradients gathered so far, by tensor: ``add`` sums, ``take`` removes one.

    A gradient is complete when the replay takes it (a non-leaf's) or delivers it (a leaf's):
    ``finished`` then runs the tensor's hooks (``register_hook``, ``retain_grad``).
    For ``tg.grad`` (``wanted`` given) it remembers each wanted tensor's gradient when the
    replay takes it, and at the end delivers the rest there instead of into ``.grad``.
    """

    def __init__(self, wanted, found, create_graph: bool) -> None:
        self.grads: dict[int, tuple] = {}  # id(tensor) -> (tensor, gradient)
        self.wanted = None if wanted is None else {id(t) for t in wanted}
        self.found = found
        self.create_graph = create_graph

    def add(self, t, g) -> None:
        old = self.grads.get(id(t))
        self.grads[id(t)] = (t, g if old is None else old[1] + g)

    def take(self, t, rec: Record):
        """``t``'s gradient, now complete, for the value of ``t`` that ``rec`` produced."""
        entry = self.grads.pop(id(t), None)
        if entry is None:
            return None
        g = self.finished(t, rec, entry[1])
        if self.wanted is not None and id(t) in self.wanted:
            # (setdefault: after an in-place op the same tensor is taken twice; the first,
            # newest, value is the one asked about)
            self.found.setdefault(id(t), g)
        return g

    def finished(self, t, rec: Record | None, g):
        return g if t._hooks is None else t._run_hooks(g, rec, self.create_graph)

    def deliver(self) -> None:
        if self.wanted is not None:
            for key, (t, g) in self.grads.items():
                if key in self.wanted:
                    self.found.setdefault(key, self.finished(t, None, g))
            return
        for t, _ in self.grads.values():  # all checked before any .grad changes
            _check_is_leaf(t)
        adopted: set = set()
        for t, g in self.grads.values():
            t._accumulate_grad(self.finished(t, None, g), self.create_graph, adopted)


def _records_to_replay(tape: Tape, wanted) -> list:
    """Every record; for ``tg.grad`` only those downstream of a wanted tensor (one forward
    sweep), since nothing upstream can reach the wanted gradients."""
    records = list(tape._records.values())
    if wanted is None:
        return records
    reached = {id(t) for t in wanted}
    order = []
    for rec in records:
        out = rec()
        if out is not None and any(id(a) in reached for a in rec.inputs):
            reached.add(id(out))
            order.append(rec)
    return order


def _check_replayable(tape: Tape, t) -> None:
    rec = t._record
    if rec is None:
        return
    if rec.ctx is None:
        raise RuntimeError(_FREED.format(op=rec.name))
    if tape._records.get(rec.seq) is not rec:
        raise RuntimeError(_OTHER_THREAD.format(op=rec.name))


def _check_is_leaf(t) -> None:
    """A non-leaf gradient left at the end means its record was not replayed: refuse, rather
    than lose that gradient quietly."""
    rec = t._record
    if rec is not None:
        raise RuntimeError((_FREED if rec.ctx is None else _OTHER_THREAD).format(op=rec.name))


_FREED = (
    "backward: trying to backward through part of the graph a second time, but its saved "
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
