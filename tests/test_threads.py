"""One tape per thread: the tape, grad mode and anomaly mode are thread-local, so threads that
train their own models at the same time get bit-for-bit the results of running one after
another, and a ``no_grad`` in one thread never switches recording off in another."""

from __future__ import annotations

import sys
import threading

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import nn, optim
from tinygrad_edu.nn import functional as F

N_THREADS = 8
STEPS = 200


def train(seed: int) -> dict[str, np.ndarray]:
    """A seeded run: model init, data and dropout all draw from this thread's generator."""
    tg.manual_seed(seed)
    model = nn.Sequential(nn.Linear(12, 24), nn.ReLU(), nn.Dropout(0.1), nn.Linear(24, 3))
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    x = tg.randn(32, 12)
    y = tg.randint(0, 3, (32,))
    for step in range(STEPS):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        if step % 20 == 0:
            model.eval()
            _ = model(x).argmax(-1)  # an eval pass that records and is dropped
            model.train()
    assert len(tg.get_tape()) == 0, "this thread's tape kept records"
    out = {f"param:{k}": v._data.copy() for k, v in model.named_parameters()}
    out.update({f"grad:{k}": v.grad._data.copy() for k, v in model.named_parameters()})
    out["loss"] = np.asarray(loss.item())
    return out


@pytest.fixture
def fast_thread_switching():
    """Switch between threads every 10 µs (default 5 ms) so their steps interleave finely."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    yield
    sys.setswitchinterval(old)


def run_threads(target, args_list):
    results, errors = {}, []
    start = threading.Barrier(len(args_list))

    def body(i, *args):
        try:
            start.wait()
            results[i] = target(*args)
        except BaseException as e:  # noqa: BLE001 - reported in the main thread
            errors.append(e)

    threads = [threading.Thread(target=body, args=(i, *a)) for i, a in enumerate(args_list)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results


def test_eight_threads_train_exactly_like_sequential_runs(fast_thread_switching):
    seeds = [100 + i for i in range(N_THREADS)]
    sequential = [train(s) for s in seeds]
    parallel = run_threads(train, [(s,) for s in seeds])
    for i, seq in enumerate(sequential):
        par = parallel[i]
        assert seq.keys() == par.keys()
        for k in seq:
            assert np.array_equal(seq[k], par[k]), f"thread {i}: {k} differs"
    # the runs are really different from each other (seeds matter), so equality is not trivial
    assert not np.array_equal(sequential[0]["loss"], sequential[1]["loss"])


def test_no_grad_in_one_thread_does_not_switch_recording_off_in_another():
    inside = threading.Event()
    checked = threading.Event()
    seen = {}

    def other():
        with tg.no_grad():
            inside.set()
            checked.wait(10)
            w = tg.ones(2, requires_grad=True)
            seen["other_records"] = (w * 2).requires_grad
            seen["other_mode"] = tg.is_grad_enabled()

    t = threading.Thread(target=other)
    t.start()
    assert inside.wait(10)
    # the other thread is inside no_grad right now; this thread still records
    assert tg.is_grad_enabled()
    w = tg.ones(2, requires_grad=True)
    y = w * 3
    assert y.requires_grad and len(tg.get_tape()) == 1
    checked.set()
    t.join()
    assert seen == {"other_records": False, "other_mode": False}
    y.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [3.0, 3.0])


def test_each_thread_has_its_own_tape_and_anomaly_mode():
    w = tg.ones(3, requires_grad=True)
    mine = w * 2  # one record on the main thread's tape
    main_tape = tg.get_tape()
    seen = {}

    def other():
        seen["tape"] = tg.get_tape()
        seen["starts_empty"] = len(tg.get_tape())
        seen["anomaly"] = tg.is_anomaly_enabled()
        z = w * 5  # the shared leaf, recorded on this thread's tape only
        seen["records"] = len(tg.get_tape())
        z.sum().backward()
        seen["after"] = len(tg.get_tape())

    with tg.detect_anomaly():
        t = threading.Thread(target=other)
        t.start()
        t.join()
    assert seen["tape"] is not main_tape
    assert seen == {
        "tape": seen["tape"],
        "starts_empty": 0,
        "anomaly": False,
        "records": 1,
        "after": 0,
    }
    assert len(main_tape) == 1  # the other thread neither saw nor released this record
    np.testing.assert_array_equal(w.grad.numpy(), [5.0, 5.0, 5.0])
    del mine
    assert len(main_tape) == 0


def test_backward_of_a_graph_recorded_by_another_thread_raises_instead_of_doing_nothing():
    x = tg.ones(3, requires_grad=True)
    box = {}

    def work():
        box["y"] = (x * 2).sum()  # recorded on the worker's tape

    t = threading.Thread(target=work)
    t.start()
    t.join()
    y = box.pop("y")
    with pytest.raises(RuntimeError, match="recorded by another thread"):
        y.backward()
    z = (y * 3) + (x * x).sum()  # a graph mixing this thread's ops with the worker's
    with pytest.raises(RuntimeError, match=r"\(Sum record\) was recorded by another thread"):
        z.backward()
    assert x.grad is None  # never a silently partial gradient
    del y, z
