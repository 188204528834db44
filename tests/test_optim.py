"""Optimizers against their update rules written out here in NumPy (PyTorch's documented
algorithms), schedulers against closed-form lr sequences, and the Optimizer base contract."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import optim
from tinygrad_edu.optim import lr_scheduler

# -- reference update rules (float64 NumPy, one function per optimizer) ------------------------


def ref_sgd(
    w, g, state, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False
):
    g = g + weight_decay * w
    if momentum:
        if "b" not in state:
            state["b"] = g.copy()
        else:
            state["b"] = momentum * state["b"] + (1 - dampening) * g
        g = g + momentum * state["b"] if nesterov else state["b"]
    return w + lr * g if maximize else w - lr * g


def ref_adam(
    w,
    g,
    state,
    lr=1e-3,
    betas=(0.9, 0.999),
    eps=1e-8,
    weight_decay=0.0,
    amsgrad=False,
    maximize=False,
    decoupled=False,
):
    b1, b2 = betas
    if maximize:
        g = -g
    if decoupled:
        w = w * (1 - lr * weight_decay)
    else:
        g = g + weight_decay * w
    t = state["t"] = state.get("t", 0) + 1
    m = state["m"] = b1 * state.get("m", 0.0) + (1 - b1) * g
    v = state["v"] = b2 * state.get("v", 0.0) + (1 - b2) * g * g
    if amsgrad:
        v = state["vmax"] = np.maximum(state.get("vmax", 0.0), v)
    m_hat = m / (1 - b1**t)
    v_hat = v / (1 - b2**t)
    # PyTorch puts eps outside the bias-corrected sqrt: sqrt(v)/sqrt(1-b2^t) + eps
    return w - lr * m_hat / (np.sqrt(v_hat) + eps)


def ref_adamw(w, g, state, lr=1e-3, weight_decay=1e-2, **kw):
    return ref_adam(w, g, state, lr=lr, weight_decay=weight_decay, decoupled=True, **kw)


def ref_rmsprop(
    w,
    g,
    state,
    lr=1e-2,
    alpha=0.99,
    eps=1e-8,
    weight_decay=0.0,
    momentum=0.0,
    centered=False,
    maximize=False,
):
    if maximize:
        g = -g
    g = g + weight_decay * w
    s = state["s"] = alpha * state.get("s", 0.0) + (1 - alpha) * g**2
    if centered:
        a = state["a"] = alpha * state.get("a", 0.0) + (1 - alpha) * g
        denom = np.sqrt(s - a**2) + eps
    else:
        denom = np.sqrt(s) + eps
    if momentum > 0:
        b = state["b"] = momentum * state.get("b", 0.0) + g / denom
        return w - lr * b
    return w - lr * g / denom


CASES = [
    (optim.SGD, ref_sgd, {"lr": 0.1}),
    (optim.SGD, ref_sgd, {"lr": 0.1, "momentum": 0.9}),
    (optim.SGD, ref_sgd, {"lr": 0.1, "momentum": 0.9, "dampening": 0.3}),
    (optim.SGD, ref_sgd, {"lr": 0.1, "momentum": 0.8, "nesterov": True}),
    (optim.SGD, ref_sgd, {"lr": 0.1, "weight_decay": 0.05}),
    (optim.SGD, ref_sgd, {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.1, "nesterov": True}),
    (optim.SGD, ref_sgd, {"lr": 0.05, "momentum": 0.5, "maximize": True}),
    (optim.SGD, ref_sgd, {"lr": 0.05, "momentum": 0.7, "nesterov": True, "maximize": True}),
    (optim.SGD, ref_sgd, {"lr": 0.05, "momentum": 0.9, "dampening": 0.5, "weight_decay": 0.1}),
    (optim.Adam, ref_adam, {}),
    (optim.Adam, ref_adam, {"lr": 0.1, "betas": (0.8, 0.9), "eps": 1e-3}),
    (optim.Adam, ref_adam, {"lr": 0.05, "weight_decay": 0.1}),
    (optim.Adam, ref_adam, {"lr": 0.05, "amsgrad": True}),
    (optim.Adam, ref_adam, {"lr": 0.05, "weight_decay": 0.1, "amsgrad": True, "maximize": True}),
    (optim.AdamW, ref_adamw, {"lr": 0.05}),
    (optim.Adam, ref_adam, {"lr": 0.05, "maximize": True}),
    (optim.AdamW, ref_adamw, {"lr": 0.05, "weight_decay": 0.3, "amsgrad": True}),
    (optim.AdamW, ref_adamw, {"lr": 0.05, "weight_decay": 0.0}),
    (optim.AdamW, ref_adamw, {"lr": 0.05, "betas": (0.5, 0.8), "maximize": True}),
    (optim.RMSprop, ref_rmsprop, {}),
    (optim.RMSprop, ref_rmsprop, {"lr": 0.05, "alpha": 0.9, "centered": True}),
    (optim.RMSprop, ref_rmsprop, {"lr": 0.05, "momentum": 0.9}),
    (
        optim.RMSprop,
        ref_rmsprop,
        {"lr": 0.01, "momentum": 0.5, "centered": True, "weight_decay": 0.1},
    ),
    (optim.RMSprop, ref_rmsprop, {"lr": 0.01, "maximize": True}),
    (optim.RMSprop, ref_rmsprop, {"lr": 0.01, "weight_decay": 0.2, "centered": True}),
    (
        optim.RMSprop,
        ref_rmsprop,
        {"lr": 0.01, "momentum": 0.3, "weight_decay": 0.1, "maximize": True},
    ),
]


def _ids(case):
    cls, _, kw = case
    return cls.__name__ + "-" + ",".join(f"{k}={v}" for k, v in kw.items())


def _loss_and_grad_coeffs():
    """A loss whose gradient depends on w (so the order of the update's terms matters):
    L = sum(c * w**3 / 3 + d * w),  dL/dw = c * w**2 + d."""
    rng = np.random.default_rng(0)
    c = rng.uniform(0.5, 2.0, (3, 4))
    d = rng.normal(size=(3, 4))
    return c, d


@pytest.mark.parametrize("case", CASES, ids=[_ids(c) for c in CASES])
def test_optimizer_matches_update_rule(case):
    cls, ref, kw = case
    c, d = _loss_and_grad_coeffs()
    w0 = np.random.default_rng(1).normal(size=(3, 4))
    bias0 = np.array([0.5, -2.0])  # a second parameter, with a gradient of its own
    w = tg.tensor(w0, requires_grad=True)
    bias = tg.tensor(bias0, requires_grad=True)
    opt = cls([w, bias], **kw)
    ref_w, ref_b, state_w, state_b = w0.copy(), bias0.copy(), {}, {}
    for _ in range(5):
        opt.zero_grad()
        loss = (
            (tg.tensor(c) * w * w * w / 3.0).sum() + (tg.tensor(d) * w).sum() + (bias * bias).sum()
        )
        loss.backward()
        grad = w.grad._data.copy()
        opt.step()
        np.testing.assert_array_equal(w.grad._data, grad)  # the step reads p.grad, never writes it
        ref_w = ref(ref_w, c * ref_w**2 + d, state_w, **kw)
        ref_b = ref(ref_b, 2 * ref_b, state_b, **kw)
        np.testing.assert_allclose(w._data, ref_w, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(bias._data, ref_b, rtol=1e-10, atol=1e-12)
    assert w.dtype == np.float64 and w.is_leaf and w.requires_grad


@pytest.mark.parametrize("cls", [optim.SGD, optim.Adam, optim.AdamW, optim.RMSprop])
def test_float32_parameters_stay_float32_and_updated_in_place(cls):
    w = tg.tensor([[1.0, -2.0], [0.5, 3.0]], requires_grad=True)
    buffer = w._data
    opt = cls([w], lr=0.1)
    (w * w).sum().backward()
    opt.step()
    assert w._data is buffer and w.dtype == np.float32
    assert not np.allclose(w._data, [[1.0, -2.0], [0.5, 3.0]])
    for v in opt.state[w].values():
        if isinstance(v, tg.Tensor):
            assert v.dtype == np.float32


@pytest.mark.parametrize("case", CASES, ids=[_ids(c) for c in CASES])
def test_fortran_ordered_parameters_follow_the_rule_in_place(case):
    """The update writes into the parameter's own array whatever its memory layout."""
    cls, ref, kw = case
    start = np.asfortranarray(np.random.default_rng(2).normal(size=(3, 4)))
    w = tg.from_numpy(start.copy(order="F")).requires_grad_()
    buffer = w._data
    opt = cls([w], **kw)
    ref_w, state = start.copy(), {}
    for _ in range(3):
        opt.zero_grad()
        (w * w * w).sum().backward()
        opt.step()
        ref_w = ref(ref_w, 3 * ref_w**2, state, **kw)
    assert w._data is buffer and w._data.flags.f_contiguous and not w._data.flags.c_contiguous
    np.testing.assert_allclose(w._data, ref_w, rtol=1e-10, atol=1e-12)


def test_step_bumps_version_so_a_stale_graph_raises():
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    y = (w * w).sum()  # Mul saved w's array for backward
    (w * 3.0).sum().backward()
    v = w._version
    opt.step()
    assert w._version == v + 1
    with pytest.raises(RuntimeError, match=r"modified by `SGD\.step\(\)` at .*test_optim\.py"):
        y.backward()


def test_step_records_nothing_and_skips_params_without_grad():
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    unused = tg.tensor([5.0], requires_grad=True)
    opt = optim.Adam([w, unused], lr=0.1)
    (w * w).sum().backward()
    before = len(tg.get_tape())
    opt.step()
    assert len(tg.get_tape()) == before
    assert unused._data.tolist() == [5.0] and unused._version == 0
    assert unused not in opt.state


def test_closure_is_called_with_grad_enabled_and_its_loss_returned():
    w = tg.tensor([2.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with tg.no_grad():
        loss = opt.step(closure)
    assert loss.item() == 4.0
    assert w.item() == 1.0  # 2 - 0.25 * 4


def test_zero_grad_set_to_none_and_zeros():
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    (w * w).sum().backward()
    opt.zero_grad(set_to_none=False)
    assert w.grad is not None and w.grad.tolist() == [0.0, 0.0]
    (w * w).sum().backward()
    assert w.grad.tolist() == [2.0, 4.0]
    opt.zero_grad()
    assert w.grad is None


def test_param_groups_have_their_own_hyperparameters():
    a = tg.tensor([1.0], requires_grad=True)
    b = tg.tensor([1.0], requires_grad=True)
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1, momentum=0.0)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    assert opt.param_groups[1]["momentum"] == 0.0
    (a * 1.0 + b * 1.0).sum().backward()
    opt.step()
    assert a.item() == pytest.approx(0.9) and b.item() == pytest.approx(0.5)
    c = tg.tensor([1.0], requires_grad=True)
    opt.add_param_group({"params": c, "lr": 2.0})
    assert len(opt.param_groups) == 3 and opt.param_groups[2]["params"] == [c]


def test_bad_parameter_lists_raise_clear_errors():
    w = tg.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match="SGD: got an empty parameter list"):
        optim.SGD([], lr=0.1)
    params = iter([w])
    list(params)  # a consumed generator is the usual way to get an empty list
    with pytest.raises(ValueError, match="Adam: got an empty parameter list"):
        optim.Adam(params)
    with pytest.raises(TypeError, match="wrap it in a list"):
        optim.SGD(w, lr=0.1)
    with pytest.raises(TypeError, match="parameter 1 is a ndarray"):
        optim.SGD([w, np.zeros(3)], lr=0.1)
    with pytest.raises(TypeError, match="parameter 0 is a float"):
        optim.Adam([1.0])
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([w * 2.0], lr=0.1)
    with pytest.raises(TypeError, match="dtype int64"):
        optim.SGD([tg.tensor([1, 2])], lr=0.1)
    with pytest.raises(ValueError, match="appears twice"):
        optim.SGD([w, w], lr=0.1)
    opt = optim.SGD([w], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [w]})

    class NotAModule:
        def parameters(self):
            return [w]

    with pytest.raises(TypeError, match=r"pass model.parameters\(\), not the model"):
        optim.SGD(NotAModule(), lr=0.1)


def test_bad_hyperparameters_raise():
    w = tg.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match="required 'lr'"):
        optim.SGD([w])
    with pytest.raises(ValueError, match="lr=-1"):
        optim.SGD([w], lr=-1)
    with pytest.raises(ValueError, match="Nesterov momentum requires momentum > 0"):
        optim.SGD([w], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="betas"):
        optim.Adam([w], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="RMSprop: invalid momentum"):
        optim.RMSprop([w], momentum=-0.1)


@pytest.mark.parametrize(
    "cls, kw",
    [
        (optim.SGD, {"lr": 0.1, "momentum": 0.9}),
        (optim.Adam, {"lr": 0.1, "amsgrad": True}),
        (optim.RMSprop, {"momentum": 0.5, "centered": True}),
    ],
)
def test_state_dict_round_trip_continues_identically(cls, kw):
    def make():
        return [tg.tensor([[1.0, -2.0]], requires_grad=True), tg.tensor([0.5], requires_grad=True)]

    def train(params, opt, steps):
        for _ in range(steps):
            opt.zero_grad()
            (params[0] ** 2).sum().backward()  # params[1] gets no grad: no state for it
            opt.step()

    p1 = make()
    opt1 = cls(p1, **kw)
    train(p1, opt1, 3)
    sd = opt1.state_dict()
    assert sorted(sd) == ["param_groups", "state"]
    assert sd["param_groups"][0]["params"] == [0, 1] and list(sd["state"]) == [0]
    snapshot = {k: v._data.copy() for k, v in sd["state"][0].items() if isinstance(v, tg.Tensor)}

    p2 = make()
    p2[0]._data[...] = p1[0]._data
    opt2 = cls(p2, lr=123.0)
    opt2.load_state_dict(sd)
    assert opt2.param_groups[0]["lr"] == kw.get("lr", opt1.defaults["lr"])
    train(p1, opt1, 2)
    train(p2, opt2, 2)
    np.testing.assert_array_equal(p1[0]._data, p2[0]._data)
    for k, v in snapshot.items():  # the saved dict is a snapshot, not a live view
        np.testing.assert_array_equal(sd["state"][0][k]._data, v)


def test_load_state_dict_rejects_a_different_layout():
    w = tg.tensor([1.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    other = optim.SGD(
        [tg.tensor([1.0], requires_grad=True), tg.tensor([2.0], requires_grad=True)], lr=0.1
    )
    with pytest.raises(
        ValueError, match=r"hold \[2\] parameters, this optimizer's groups hold \[1\]"
    ):
        opt.load_state_dict(other.state_dict())


def test_sgd_minimises_a_quadratic():
    w = tg.tensor([3.0, -4.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1, momentum=0.9, nesterov=True)
    for _ in range(200):
        opt.zero_grad()
        ((w - tg.tensor([1.0, 2.0])) ** 2).sum().backward()
        opt.step()
    np.testing.assert_allclose(w._data, [1.0, 2.0], atol=1e-4)


# -- schedulers against closed forms -------------------------------------------------------------


def _lr_sequence(make_sched, n, lrs=(1.0, 0.3)):
    params = [tg.tensor([0.0], requires_grad=True) for _ in lrs]
    opt = optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(params, lrs)], lr=0.1)
    sched = make_sched(opt)
    seq = []
    for _ in range(n):
        seq.append(sched.get_last_lr())
        assert sched.get_last_lr() == [g["lr"] for g in opt.param_groups]
        opt.step()
        sched.step()
    return np.array(seq)


SCHEDULES = [
    (
        "StepLR",
        lambda o: lr_scheduler.StepLR(o, step_size=3, gamma=0.5),
        lambda base, t: base * 0.5 ** (t // 3),
    ),
    (
        "MultiStepLR",
        lambda o: lr_scheduler.MultiStepLR(o, milestones=[2, 5, 5, 9], gamma=0.1),
        lambda base, t: base * 0.1 ** sum(m <= t for m in [2, 5, 5, 9]),
    ),
    (
        "ExponentialLR",
        lambda o: lr_scheduler.ExponentialLR(o, gamma=0.9),
        lambda base, t: base * 0.9**t,
    ),
    (
        "CosineAnnealingLR",
        lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=7, eta_min=0.01),
        lambda base, t: 0.01 + (base - 0.01) * (1 + math.cos(math.pi * t / 7)) / 2,
    ),
    (
        "CosineAnnealingLR-eta0",
        lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=4),
        lambda base, t: base * (1 + math.cos(math.pi * t / 4)) / 2,
    ),
]


@pytest.mark.parametrize("name, make, closed", SCHEDULES, ids=[s[0] for s in SCHEDULES])
def test_scheduler_follows_closed_form(name, make, closed):
    n = 22  # several periods of the cosine, past every milestone
    seq = _lr_sequence(make, n)
    expected = np.array([[closed(b, t) for b in (1.0, 0.3)] for t in range(n)])
    np.testing.assert_allclose(seq, expected, rtol=1e-9, atol=1e-12)


def test_chained_schedulers_multiply():
    def both(opt):
        s1 = lr_scheduler.ExponentialLR(opt, gamma=0.9)
        s2 = lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)

        class Both:
            def get_last_lr(self):
                return s2.get_last_lr()

            def step(self):
                s1.step()
                s2.step()

        return Both()

    seq = _lr_sequence(both, 6, lrs=(1.0,))
    np.testing.assert_allclose(seq[:, 0], [0.9**t * 0.5 ** (t // 2) for t in range(6)])


def test_scheduler_state_dict_resumes():
    opt = optim.SGD([tg.tensor([0.0], requires_grad=True)], lr=1.0)
    sched = lr_scheduler.CosineAnnealingLR(opt, T_max=10)
    for _ in range(3):
        sched.step()
    saved_opt, saved = opt.state_dict(), sched.state_dict()
    opt2 = optim.SGD([tg.tensor([0.0], requires_grad=True)], lr=1.0)
    opt2.load_state_dict(saved_opt)
    sched2 = lr_scheduler.CosineAnnealingLR(opt2, T_max=10)
    sched2.load_state_dict(saved)
    sched.step()
    sched2.step()
    assert sched2.get_last_lr() == pytest.approx(sched.get_last_lr())
    assert sched.get_last_lr()[0] == pytest.approx((1 + math.cos(math.pi * 4 / 10)) / 2)


def test_scheduler_argument_errors():
    opt = optim.SGD([tg.tensor([0.0], requires_grad=True)], lr=1.0)
    with pytest.raises(ValueError, match="StepLR: step_size must be a positive integer, got 0"):
        lr_scheduler.StepLR(opt, step_size=0)
    with pytest.raises(ValueError, match="increasing"):
        lr_scheduler.MultiStepLR(opt, milestones=[5, 2])
    with pytest.raises(TypeError, match="expected an Optimizer"):
        lr_scheduler.ExponentialLR([opt], gamma=0.5)
