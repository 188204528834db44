"""The tape never leaks: records die with their outputs, backward releases what it replayed,
and training as a user writes it runs in constant memory with the cyclic GC switched off.

The model is written with core ops only (``x @ W.T + b``, relu, log_softmax + integer-index
gather, an in-place SGD update under ``no_grad``) so these tests depend on the engine alone.
"""

from __future__ import annotations

import gc
import itertools
import tracemalloc
import weakref

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu.function import Context
from tinygrad_edu.tape import Record


# -- a 784-128-10 MLP from core ops --------------------------------------------------------------
def init_mlp(seed: int, sizes=(784, 128, 10)) -> list[tg.Tensor]:
    rng = np.random.default_rng(seed)
    params = []
    for fan_in, fan_out in itertools.pairwise(sizes):
        bound = 1.0 / np.sqrt(fan_in)
        w = rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32)
        b = rng.uniform(-bound, bound, (fan_out,)).astype(np.float32)
        params += [tg.tensor(w, requires_grad=True), tg.tensor(b, requires_grad=True)]
    return params


def forward(params, x):
    w1, b1, w2, b2 = params
    h = (x @ w1.T + b1).relu()
    return h @ w2.T + b2


def nll(logits, y: np.ndarray):
    logp = logits.log_softmax(-1)
    return -logp[np.arange(len(y)), y].mean()


def sgd_step(params, lr: float) -> None:
    with tg.no_grad():
        for p in params:
            p -= lr * p.grad  # in place: bumps p's version
            p.grad = None


def graph_tensors(t) -> list:
    """Every non-leaf tensor that ``t`` was computed from (walking records' inputs)."""
    seen, stack, out = set(), [t], []
    while stack:
        u = stack.pop()
        if id(u) in seen or u._record is None or u._record.ctx is None:
            continue
        seen.add(id(u))
        out.append(u)
        stack.extend(a for a in u._record.ctx.inputs if isinstance(a, tg.Tensor))
    return out


def train(steps: int, *, batch=8, eval_every=10, keep=None, snapshots=(), check_dead=True):
    """Train on random data; return tracemalloc's traced size at each step in ``snapshots``.

    After every step (and every eval pass) the step's intermediates must already be dead:
    weak references to them are checked right away, with the cyclic GC disabled by the caller.
    ``keep`` (a list) receives each eval pass's logits: the leak a user makes by hoarding them.
    """
    rng = np.random.default_rng(1)
    params = init_mlp(0)
    x_all = rng.standard_normal((64, 784)).astype(np.float32)
    y_all = rng.integers(0, 10, 64)
    x_eval = tg.tensor(rng.standard_normal((16, 784)).astype(np.float32))
    sizes = {}
    total = 0.0
    for step in range(1, steps + 1):
        i = (step * batch) % 64
        x, y = tg.tensor(x_all[i : i + batch]), y_all[i : i + batch]
        loss = nll(forward(params, x), y)
        refs = [weakref.ref(t) for t in graph_tensors(loss)]
        loss.backward()
        sgd_step(params, 0.05)
        total += loss.item()
        del loss
        if check_dead:
            assert all(r() is None for r in refs), f"step {step}: intermediates outlived the step"
        if step % eval_every == 0:
            logits = forward(params, x_eval)  # evaluation without no_grad: records, no backward
            refs = [weakref.ref(t) for t in graph_tensors(logits)]
            _ = (logits.argmax(-1) == 0).float().mean().item()
            if keep is not None:
                keep.append(logits)
            del logits
            if check_dead and keep is None:
                assert all(r() is None for r in refs), f"step {step}: eval graph outlived it"
                assert len(tg.get_tape()) == 0
        if step in snapshots:
            sizes[step] = tracemalloc.get_traced_memory()[0]
    assert np.isfinite(total)
    return sizes


@pytest.fixture
def no_cyclic_gc():
    """Disable the cyclic collector and report any of the engine's objects it would have found."""
    gc.collect()
    was = gc.isenabled()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        yield
        gc.collect()
        ours = [o for o in gc.garbage if isinstance(o, (tg.Tensor, Record, Context, tg.Tape))]
        assert ours == [], f"reference cycles through {len(ours)} engine object(s)"
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if was:
            gc.enable()


def test_mlp_training_1000_steps_constant_memory(no_cyclic_gc):
    tracemalloc.start()
    try:
        sizes = train(1000, snapshots=(100, 1000))
    finally:
        tracemalloc.stop()
    growth = sizes[1000] - sizes[100]
    assert growth < 1_000_000, f"traced memory grew by {growth / 1e6:.2f} MB from step 100 to 1000"
    assert len(tg.get_tape()) == 0


def test_the_memory_check_catches_hoarded_eval_outputs(no_cyclic_gc):
    """The same measurement sees the classic leak: keeping forward outputs keeps their graphs."""
    kept: list = []
    tracemalloc.start()
    try:
        sizes = train(200, keep=kept, snapshots=(100, 200))
    finally:
        tracemalloc.stop()
    # every eval graph is still held: 2 x (permute W, matmul, add b) + relu = 7 records each
    assert len(tg.get_tape()) == 20 * 7
    assert sizes[200] - sizes[100] > 10 * 16 * 128 * 4  # at least the hidden activations
    kept.clear()
    assert len(tg.get_tape()) == 0  # and dropping them frees everything


def test_forward_passes_without_backward_do_not_grow_the_tape(no_cyclic_gc):
    params = init_mlp(0, sizes=(20, 16, 4))
    x = tg.randn(8, 20)
    tracemalloc.start()
    try:
        for i in range(1000):
            out = forward(params, x).sum()  # rebinding drops the previous graph
            if i == 99:
                base = tracemalloc.get_traced_memory()[0]
            assert len(tg.get_tape()) <= 2 * 5 + 1  # at most the previous and the current graph
        grown = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
    assert grown < 100_000
    del out
    assert len(tg.get_tape()) == 0


def test_backward_releases_records_and_saved_arrays():
    w = tg.randn(5, 3, requires_grad=True)
    x = tg.randn(4, 5)
    h = (x @ w).tanh()
    loss = (h * h).sum()
    h_ref = weakref.ref(h)
    tanh_rec = h._record
    assert len(tg.get_tape()) == 4 and tanh_rec.ctx.saved[0][0] == "the output"
    del h
    assert h_ref() is not None  # held by the graph until backward
    loss.backward()
    assert len(tg.get_tape()) == 0
    assert h_ref() is None  # loss is alive, but no longer holds its graph
    assert loss._record.ctx is None and tanh_rec.ctx is None  # saved arrays and inputs released
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        loss.backward()


def test_retain_graph_keeps_records_until_the_output_dies():
    w = tg.randn(3, requires_grad=True)
    loss = (w * w).sum()
    loss.backward(retain_graph=True)
    assert len(tg.get_tape()) == 2
    loss.backward()
    np.testing.assert_allclose(w.grad.numpy(), 4 * w._data, rtol=1e-6)
    assert len(tg.get_tape()) == 0


def test_record_is_dropped_when_its_output_dies():
    a = tg.randn(3, requires_grad=True)
    b = a * 2
    c = b + 1
    assert len(tg.get_tape()) == 2
    b_ref = weakref.ref(b)
    del b
    assert b_ref() is not None and len(tg.get_tape()) == 2  # c's record still needs it
    del c
    assert b_ref() is None
    assert len(tg.get_tape()) == 0


def test_loss_item_accumulation_keeps_nothing_alive():
    w = tg.randn(10, requires_grad=True)
    total = 0.0
    refs = []
    for _ in range(5):
        loss = (w * w).sum()
        refs.append(weakref.ref(loss))
        total += loss.item()  # a Python float: holds no tensor and no graph
        del loss
        assert len(tg.get_tape()) == 0
    assert type(total) is float
    assert all(r() is None for r in refs)


def test_summing_loss_tensors_keeps_graphs_alive():
    """The contrast that makes the previous test meaningful: ``total += loss`` holds graphs."""
    w = tg.randn(10, requires_grad=True)
    total = 0.0
    for _ in range(5):
        loss = (w * w).sum()
        total = total + loss  # (``+=`` on a graph tensor raises: in-place on a non-leaf)
    del loss
    assert len(tg.get_tape()) == 2 * 5 + 5  # five graphs plus the additions that chain them
    del total
    assert len(tg.get_tape()) == 0


N_CHAIN = 100_000


def test_100k_op_chain_backward_then_freed(no_cyclic_gc):
    x = tg.tensor(1.0, dtype=tg.float64, requires_grad=True)
    y = x
    for _ in range(N_CHAIN):
        y = y * 1.0001
    assert len(tg.get_tape()) == N_CHAIN
    y.backward()  # one loop, no recursion
    assert len(tg.get_tape()) == 0
    np.testing.assert_allclose(x.grad.item(), 1.0001**N_CHAIN, rtol=1e-9)
    del y


def test_100k_op_chain_dropped_without_backward(no_cyclic_gc):
    x = tg.randn(2, requires_grad=True)
    y = x
    for _ in range(N_CHAIN):
        y = y + 1.0
    first = weakref.ref(y._record.ctx.inputs[0])
    assert len(tg.get_tape()) == N_CHAIN
    del y  # the whole chain dies by reference counting, without recursion
    assert len(tg.get_tape()) == 0
    assert first() is None
