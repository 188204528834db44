"""Every optimizer under every combination of its options, step by step in float64, against
the update rule as PyTorch's documentation writes it (the pseudocode of ``torch.optim.SGD``,
``Adam``, ``AdamW`` and ``RMSprop``), re-typed here in NumPy without looking at the code under
test. The reference keeps its state under PyTorch's names, so each step also checks
``state_dict()['state']``: the values (a momentum buffer of the wrong sign fails) and the keys.
Then ``state_dict`` round trips in the middle of training, and the layout of the whole dict."""

from __future__ import annotations

import itertools
import pickle

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import optim

# -- the documented rules, one step for one parameter ------------------------------------------
# theta: the parameter, grad: ∇f(theta), state: this parameter's dict, updated in place.
# Each returns the new theta. A parameter without a gradient is skipped by the caller: it takes
# no step and its state does not move (PyTorch's documented behaviour of a ``None`` grad).


def sgd_rule(
    theta, grad, state, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False,
    maximize=False,
):
    g = -grad if maximize else grad
    if weight_decay != 0:
        g = g + weight_decay * theta
    if momentum != 0:
        if "momentum_buffer" in state:  # t > 1
            b = momentum * state["momentum_buffer"] + (1 - dampening) * g
        else:
            b = g
        state["momentum_buffer"] = b
        g = g + momentum * b if nesterov else b
    return theta - lr * g


def adam_rule(
    theta, grad, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
    maximize=False, decoupled=False,
):
    beta1, beta2 = betas
    if not state:  # m_0 = v_0 = v_0^max = 0
        state.update(step=0, exp_avg=np.zeros_like(theta), exp_avg_sq=np.zeros_like(theta))
        if amsgrad:
            state["max_exp_avg_sq"] = np.zeros_like(theta)
    t = state["step"] = state["step"] + 1
    g = -grad if maximize else grad
    if decoupled:  # AdamW: theta_t = theta_{t-1} - lr * lambda * theta_{t-1}
        theta = theta - lr * weight_decay * theta
    elif weight_decay != 0:
        g = g + weight_decay * theta
    m = state["exp_avg"] = beta1 * state["exp_avg"] + (1 - beta1) * g
    v = state["exp_avg_sq"] = beta2 * state["exp_avg_sq"] + (1 - beta2) * g**2
    m_hat = m / (1 - beta1**t)
    if amsgrad:
        v_max = state["max_exp_avg_sq"] = np.maximum(state["max_exp_avg_sq"], v)
        v_hat = v_max / (1 - beta2**t)
    else:
        v_hat = v / (1 - beta2**t)
    return theta - lr * m_hat / (np.sqrt(v_hat) + eps)


def adamw_rule(theta, grad, state, lr=1e-3, weight_decay=1e-2, **kw):
    return adam_rule(theta, grad, state, lr=lr, weight_decay=weight_decay, decoupled=True, **kw)


def rmsprop_rule(
    theta, grad, state, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
    centered=False, maximize=False,
):
    if not state:  # v_0 = b_0 = g^ave_0 = 0
        state.update(step=0, square_avg=np.zeros_like(theta))
        if momentum > 0:
            state["momentum_buffer"] = np.zeros_like(theta)
        if centered:
            state["grad_avg"] = np.zeros_like(theta)
    state["step"] += 1
    # RMSprop's pseudocode leaves maximize out; its argument maximizes the objective, which
    # the other documented rules do by negating the gradient first.
    g = -grad if maximize else grad
    if weight_decay != 0:
        g = g + weight_decay * theta
    v = state["square_avg"] = alpha * state["square_avg"] + (1 - alpha) * g**2
    v_tilde = v
    if centered:
        g_ave = state["grad_avg"] = state["grad_avg"] * alpha + (1 - alpha) * g
        v_tilde = v_tilde - g_ave**2
    if momentum > 0:
        b = state["momentum_buffer"] = momentum * state["momentum_buffer"] + g / (
            np.sqrt(v_tilde) + eps
        )
        return theta - lr * b
    return theta - lr * g / (np.sqrt(v_tilde) + eps)


# -- the two repros: maximize negates the gradient only --------------------------------------
def test_sgd_maximize_with_weight_decay_still_shrinks_the_weight():
    """L = w at w = 1: g = -1 + 0.2 * 1 = -0.8, w = 1 - 0.05 * g = 1.04 (not 1 + 0.05 * 1.2)."""
    w = tg.tensor([1.0], dtype=tg.float64, requires_grad=True)
    opt = optim.SGD([w], lr=0.05, weight_decay=0.2, maximize=True)
    w.sum().backward()
    opt.step()
    assert w.item() == pytest.approx(1.04, abs=1e-15)


def test_sgd_maximize_keeps_the_momentum_buffer_of_the_negated_gradient():
    """L = 3w: b_1 = g_1 = -3, b_2 = 0.9 * b_1 + g_2 = -5.7; w = 1 + 0.1 * 3 + 0.1 * 5.7."""
    w = tg.tensor([1.0], dtype=tg.float64, requires_grad=True)
    opt = optim.SGD([w], lr=0.1, momentum=0.9, maximize=True)
    for b in (-3.0, -5.7):
        opt.zero_grad()
        (3.0 * w).sum().backward()
        opt.step()
        assert opt.state_dict()["state"][0]["momentum_buffer"].item() == pytest.approx(b)
    assert w.item() == pytest.approx(1.87)


# -- every combination of the options ----------------------------------------------------------
def _product(**choices):
    keys = list(choices)
    for values in itertools.product(*choices.values()):
        yield dict(zip(keys, values))


def _sgd_options():
    for kw in _product(
        momentum=[0.0, 0.9], dampening=[0.0, 0.3], nesterov=[False, True],
        weight_decay=[0.0, 0.1], maximize=[False, True],
    ):
        if kw["nesterov"] and (kw["momentum"] == 0 or kw["dampening"] != 0):
            continue  # refused by the constructor (tested in test_optim.py)
        yield {"lr": 0.05, **kw}


def _adam_options(weight_decays):
    for kw in _product(
        weight_decay=weight_decays, amsgrad=[False, True], maximize=[False, True],
        betas=[(0.9, 0.999), (0.5, 0.8)],
    ):
        yield {"lr": 0.05, "eps": 1e-3 if kw["betas"] == (0.5, 0.8) else 1e-8, **kw}


def _rmsprop_options():
    for kw in _product(
        momentum=[0.0, 0.5], centered=[False, True], weight_decay=[0.0, 0.1],
        maximize=[False, True],
    ):
        yield {"lr": 0.01, "alpha": 0.9, **kw}


CASES = (
    [(optim.SGD, sgd_rule, kw) for kw in _sgd_options()]
    + [(optim.Adam, adam_rule, kw) for kw in _adam_options([0.0, 0.1])]
    + [(optim.AdamW, adamw_rule, kw) for kw in _adam_options([0.0, 0.3])]
    + [(optim.RMSprop, rmsprop_rule, kw) for kw in _rmsprop_options()]
)


def _id(case):
    cls, _, kw = case
    shown = {k: v for k, v in kw.items() if v not in (0.0, False) and k not in ("lr", "eps")}
    return cls.__name__ + "-" + ",".join(f"{k}={v}" for k, v in shown.items())


IDS = [_id(c) for c in CASES]

# -- a loss whose gradient depends on the parameter, so the order of the terms matters ---------
_RNG = np.random.default_rng(0)
C = _RNG.uniform(0.5, 2.0, (3, 4))
D = _RNG.normal(size=(3, 4))
W0 = _RNG.normal(size=(3, 4))
B0 = np.array([0.5, -2.0])
SKIP_BIAS = {2}  # steps at which the bias gets no gradient: it must be skipped, state and all


def grads(w, b, step):
    """dL/dw and dL/db of L = sum(C * w**3 / 3 + D * w) + sum(b**2) (b left out at SKIP_BIAS)."""
    return C * w**2 + D, None if step in SKIP_BIAS else 2 * b


def _train(params, opt, steps, first=0):
    w, b = params
    for step in range(first, first + steps):
        opt.zero_grad()
        loss = (tg.tensor(C) * w * w * w / 3.0).sum() + (tg.tensor(D) * w).sum()
        if step not in SKIP_BIAS:
            loss = loss + (b * b).sum()
        loss.backward()
        opt.step()


def _params():
    return [tg.tensor(W0, requires_grad=True), tg.tensor(B0, requires_grad=True)]


def _assert_state_equal(state, ref_states):
    expected = {i: s for i, s in enumerate(ref_states) if s}
    assert sorted(state) == sorted(expected)
    for i, ref in expected.items():
        assert sorted(state[i]) == sorted(ref), f"param {i}: state keys"
        for key, value in ref.items():
            got = state[i][key]
            if key == "step":
                assert got == value, f"param {i}: step"
            else:
                np.testing.assert_allclose(got._data, value, rtol=1e-10, atol=1e-13, err_msg=key)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_every_step_follows_the_documented_rule(case):
    cls, rule, kw = case
    w, b = params = _params()
    opt = cls(params, **kw)
    ref_w, ref_b, ref_states = W0.copy(), B0.copy(), [{}, {}]
    for step in range(6):
        _train(params, opt, 1, first=step)
        g_w, g_b = grads(ref_w, ref_b, step)
        ref_w = rule(ref_w, g_w, ref_states[0], **kw)
        if g_b is not None:
            ref_b = rule(ref_b, g_b, ref_states[1], **kw)
        np.testing.assert_allclose(w._data, ref_w, rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(b._data, ref_b, rtol=1e-10, atol=1e-13)
        _assert_state_equal(opt.state_dict()["state"], ref_states)
    assert w.dtype == np.float64 and w.is_leaf and w.requires_grad


def test_every_option_changes_the_reference_trajectory():
    """The cases can fail: for each optimizer and option, some case's trajectory moves when
    that one option is switched, so an optimizer that ignored or misread it would not match.
    (Not every case: AMSGrad, for one, changes nothing until the second moment falls.)"""
    options, moved = set(), set()
    for cls, rule, kw in CASES:
        for key, value in kw.items():
            if key in ("lr", "eps"):
                continue  # the step size and the guard, not options
            options.add((cls.__name__, key))
            flipped = {**kw, key: _flip(value)}
            if flipped.get("nesterov") and (flipped["momentum"] == 0 or flipped["dampening"]):
                continue  # refused by SGD's constructor
            if not np.allclose(_reference_run(rule, kw), _reference_run(rule, flipped), rtol=1e-6):
                moved.add((cls.__name__, key))
    assert moved == options


def _flip(value):
    if isinstance(value, bool):
        return not value
    if isinstance(value, tuple):
        return (0.7, 0.95)
    return 0.2 if value == 0 else value * 0.5


def _reference_run(rule, kw):
    w, b, states = W0.copy(), B0.copy(), [{}, {}]
    for step in range(6):
        g_w, g_b = grads(w, b, step)
        w = rule(w, g_w, states[0], **kw)
        if g_b is not None:
            b = rule(b, g_b, states[1], **kw)
    return np.concatenate([w.ravel(), b])


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_fortran_ordered_parameters_follow_the_rule_in_place(case):
    """The update writes into the parameter's own array whatever its memory layout."""
    cls, rule, kw = case
    start = np.asfortranarray(W0)
    w = tg.from_numpy(start.copy(order="F")).requires_grad_()
    buffer = w._data
    opt = cls([w], **kw)
    ref_w, state = start.copy(), {}
    for _ in range(3):
        opt.zero_grad()
        (w * w * w).sum().backward()
        opt.step()
        ref_w = rule(ref_w, 3 * ref_w**2, state, **kw)
    assert w._data is buffer and w._data.flags.f_contiguous and not w._data.flags.c_contiguous
    np.testing.assert_allclose(w._data, ref_w, rtol=1e-10, atol=1e-13)


# -- state_dict: round trips in the middle of training, and PyTorch's layout -------------------
def _as_numpy(sd):
    """The dict as it looks after ``{k: v.numpy()}``-style conversion (e.g. from PyTorch)."""
    state = {
        i: {k: v.numpy() if isinstance(v, tg.Tensor) else v for k, v in s.items()}
        for i, s in sd["state"].items()
    }
    return {"state": state, "param_groups": sd["param_groups"]}


ROUND_TRIPS = {
    "same-dict": lambda sd: sd,
    "pickled": lambda sd: pickle.loads(pickle.dumps(sd)),
    "numpy-arrays": _as_numpy,
}


@pytest.mark.parametrize("how", list(ROUND_TRIPS))
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_state_dict_round_trip_mid_training_continues_identically(case, how):
    cls, _, kw = case
    k, more = 3, 3  # save after k steps (one of them skipped the bias), then continue
    params = _params()
    opt = cls(params, **kw)
    _train(params, opt, k)
    sd = ROUND_TRIPS[how](opt.state_dict())

    resumed = [tg.tensor(p._data.copy(), requires_grad=True) for p in params]
    other = {"lr": 0.5, "weight_decay": 0.0} if cls is not optim.SGD else {"lr": 0.5}
    opt2 = cls(resumed, **other)  # hyperparameters come from the saved dict
    opt2.load_state_dict(sd)
    assert opt2.param_groups[0] == {**opt.param_groups[0], "params": resumed}

    _train(params, opt, more, first=k)
    _train(resumed, opt2, more, first=k)
    for p, q in zip(params, resumed):
        np.testing.assert_array_equal(p._data, q._data)
    _assert_state_equal(opt2.state_dict()["state"], _plain(opt.state_dict()["state"]))


def _plain(state):
    return [
        {k: v._data if isinstance(v, tg.Tensor) else v for k, v in state.get(i, {}).items()}
        for i in range(2)
    ]


def test_state_dict_is_a_snapshot():
    w = tg.tensor([1.0, -2.0], requires_grad=True)
    opt = optim.Adam([w], lr=0.1)
    _quadratic_steps(opt, w, 2)
    sd = opt.state_dict()
    saved = sd["state"][0]["exp_avg"]._data.copy()
    _quadratic_steps(opt, w, 2)
    np.testing.assert_array_equal(sd["state"][0]["exp_avg"]._data, saved)
    assert sd["state"][0]["step"] == 2 and opt.state_dict()["state"][0]["step"] == 4


def _quadratic_steps(opt, w, n):
    for _ in range(n):
        opt.zero_grad()
        (w * w).sum().backward()
        opt.step()


# PyTorch's layout for two groups, written out by hand: parameters numbered in order across
# the groups, every hyperparameter in each group, state only for parameters that took a step.
LAYOUTS = [
    (
        optim.SGD,
        {"lr": 0.1, "momentum": 0.9},
        {"lr": 0.1, "momentum": 0.9, "dampening": 0.0, "weight_decay": 0.0, "nesterov": False,
         "maximize": False},
        {"momentum_buffer"},
    ),
    (
        optim.SGD,
        {"lr": 0.1},
        {"lr": 0.1, "momentum": 0.0, "dampening": 0.0, "weight_decay": 0.0, "nesterov": False,
         "maximize": False},
        set(),  # plain SGD keeps no state
    ),
    (
        optim.Adam,
        {},
        {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0, "amsgrad": False,
         "maximize": False},
        {"step", "exp_avg", "exp_avg_sq"},
    ),
    (
        optim.Adam,
        {"amsgrad": True},
        {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0, "amsgrad": True,
         "maximize": False},
        {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"},
    ),
    (
        optim.AdamW,
        {},
        {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 1e-2, "amsgrad": False,
         "maximize": False},
        {"step", "exp_avg", "exp_avg_sq"},
    ),
    (
        optim.RMSprop,
        {},
        {"lr": 1e-2, "alpha": 0.99, "eps": 1e-8, "weight_decay": 0.0, "momentum": 0.0,
         "centered": False, "maximize": False},
        {"step", "square_avg"},
    ),
    (
        optim.RMSprop,
        {"momentum": 0.5, "centered": True},
        {"lr": 1e-2, "alpha": 0.99, "eps": 1e-8, "weight_decay": 0.0, "momentum": 0.5,
         "centered": True, "maximize": False},
        {"step", "square_avg", "momentum_buffer", "grad_avg"},
    ),
]


@pytest.mark.parametrize(
    "cls, kw, hyper, keys", LAYOUTS, ids=[f"{c.__name__}-{sorted(k)}" for c, k, _, _ in LAYOUTS]
)
def test_state_dict_has_pytorchs_layout(cls, kw, hyper, keys):
    a = tg.tensor([1.0, 2.0], requires_grad=True)
    unused = tg.tensor([1.0], requires_grad=True)  # never gets a gradient: no state
    c = tg.tensor([[3.0, 4.0, 5.0]], requires_grad=True)
    opt = cls([{"params": [a, unused]}, {"params": [c], "lr": 0.5}], **kw)
    for _ in range(2):
        opt.zero_grad()
        ((a * a).sum() + (c * c).sum()).backward()
        opt.step()
    sd = opt.state_dict()
    assert list(sd) == ["state", "param_groups"]
    assert sd["param_groups"] == [{**hyper, "params": [0, 1]}, {**hyper, "lr": 0.5, "params": [2]}]
    expected_state = {0: (2,), 2: (1, 3)} if keys else {}
    assert sorted(sd["state"]) == sorted(expected_state)
    for i, shape in expected_state.items():
        assert set(sd["state"][i]) == keys
        for key, value in sd["state"][i].items():
            if key == "step":
                assert value == 2
            else:
                assert isinstance(value, tg.Tensor) and value.shape == shape
                assert value.dtype == np.float32  # the parameter's dtype
