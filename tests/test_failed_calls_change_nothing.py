"""A call that raises leaves every tensor, buffer and optimizer state as it was: a failed
``Optimizer.step``, ``Optimizer.load_state_dict``, ``Module.load_state_dict`` and a stateful
layer (BatchNorm) given bad input. Each test takes a snapshot, makes the call fail on a late
item (after earlier ones would already have been written), and compares."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import optim

# -- Optimizer.step --------------------------------------------------------------------------
OPTIMIZERS = [
    (optim.SGD, {"lr": 0.1, "momentum": 0.9}),
    (optim.Adam, {"lr": 0.1, "amsgrad": True}),
    (optim.AdamW, {"lr": 0.1}),
    (optim.RMSprop, {"lr": 0.1, "momentum": 0.5, "centered": True}),
]
OPT_IDS = [cls.__name__ for cls, _ in OPTIMIZERS]


def _trained(cls, kw, steps=2):
    params = [
        tg.tensor([1.0, -2.0], requires_grad=True),
        tg.tensor([[0.5, 3.0]], requires_grad=True),
    ]
    opt = cls(params, **kw)
    for _ in range(steps):
        _backward(params)
        opt.step()
    _backward(params)  # gradients ready for the next step
    return params, opt


def _backward(params):
    for p in params:
        p.grad = None
    sum((p * p * p).sum() for p in params).backward()


def _snapshot(opt, tensors):
    """Everything a step or a load could change, as plain values."""
    state = {
        i: {k: v.data.copy() if isinstance(v, tg.Tensor) else v for k, v in s.items()}
        for i, s in opt.state_dict()["state"].items()
    }
    groups = [dict(g) for g in opt.param_groups]
    return state, groups, [(t.data.copy(), t._version) for t in tensors]


def _assert_same(before, after):
    (state0, groups0, tensors0), (state1, groups1, tensors1) = before, after
    assert groups1 == groups0
    assert sorted(state1) == sorted(state0)
    for i in state0:
        assert sorted(state1[i]) == sorted(state0[i])
        for k in state0[i]:
            np.testing.assert_array_equal(state1[i][k], state0[i][k])
    for (a0, v0), (a1, v1) in zip(tensors0, tensors1):
        np.testing.assert_array_equal(a1, a0)
        assert v1 == v0


def _grad_of_wrong_shape(params):
    params[1].grad.data = np.ones((1, 3), dtype=params[1].dtype)  # bypasses the grad setter


def _complex_grad(params):
    params[1].grad = tg.tensor([[1j, 2j]])


def _param_reshaped(params):
    params[1].data = np.zeros(2, dtype=np.float32)  # the state is still (1, 2)
    params[1].grad = np.ones(2, dtype=np.float32)


BREAKS = {
    "grad-of-wrong-shape": (_grad_of_wrong_shape, r"gradient of shape \(1, 3\)"),
    "complex-grad": (_complex_grad, "gradient of dtype complex128, which cannot update it"),
    "param-reshaped": (_param_reshaped, r"state '\w+' of shape \(1, 2\)"),
}


@pytest.mark.parametrize("broken", list(BREAKS))
@pytest.mark.parametrize("cls, kw", OPTIMIZERS, ids=OPT_IDS)
def test_a_step_that_raises_updates_nothing(cls, kw, broken):
    params, opt = _trained(cls, kw)
    breaks, message = BREAKS[broken]
    breaks(params)
    before = _snapshot(opt, params)
    with pytest.raises(RuntimeError, match=rf"{cls.__name__}\.step: parameter 1 .*{message}"):
        opt.step()
    _assert_same(before, _snapshot(opt, params))


def test_a_step_that_raises_updates_nothing_in_any_group():
    """The check runs over every group before the first update, not group by group."""
    a, b = tg.tensor([1.0], requires_grad=True), tg.tensor([2.0], requires_grad=True)
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1, momentum=0.9)
    (a * b).sum().backward()
    b.grad.data = np.ones(3, dtype=np.float32)
    with pytest.raises(RuntimeError, match=r"SGD\.step: parameter 1 \(shape \(1,\), float32\)"):
        opt.step()
    assert a.item() == 1.0 and a._version == 0 and not opt.state


# -- Optimizer.load_state_dict ----------------------------------------------------------------
def _state_with(sd, index, key, value):
    state = {i: dict(s) for i, s in sd["state"].items()}
    state[index][key] = value
    return {"state": state, "param_groups": [{**g, "lr": 7.0} for g in sd["param_groups"]]}


LOAD_FAILURES = {
    # each changes the lr of every group AND spoils the state of the last parameter
    "wrong-shape": (
        lambda sd, key: _state_with(sd, 1, key, np.zeros((2, 2))),
        ValueError,
        r"state '\w+' has shape \(2, 2\) but its parameter has shape \(1, 2\)",
    ),
    "complex": (
        lambda sd, key: _state_with(sd, 1, key, np.zeros((1, 2), dtype=complex)),
        TypeError,
        r"state '\w+' has dtype complex128; expected real numbers",
    ),
    "unknown-index": (
        lambda sd, key: {**_state_with(sd, 1, key, sd["state"][1][key]),
                         "state": {**sd["state"], 5: sd["state"][1]}},
        ValueError,
        "state for unknown parameter index 5",
    ),
}


@pytest.mark.parametrize("failure", list(LOAD_FAILURES))
@pytest.mark.parametrize("cls, kw", OPTIMIZERS, ids=OPT_IDS)
def test_a_load_that_raises_changes_nothing(cls, kw, failure):
    params, opt = _trained(cls, kw)
    _, source = _trained(cls, kw, steps=3)
    sd = source.state_dict()
    key = [k for k in sd["state"][1] if k != "step"][-1]
    spoil, error, message = LOAD_FAILURES[failure]
    before = _snapshot(opt, params)
    with pytest.raises(error, match=rf"{cls.__name__}\.load_state_dict: {message}"):
        opt.load_state_dict(spoil(sd, key))
    _assert_same(before, _snapshot(opt, params))
    opt.load_state_dict(sd)  # the unspoilt dict still loads, whole
    _assert_same((_snapshot(source, [])[0], [], []), (_snapshot(opt, [])[0], [], []))


@pytest.mark.parametrize("bad", [[1, 2], {"state": {}}, {"param_groups": []}])
def test_load_state_dict_names_what_it_expected(bad):
    opt = optim.SGD([tg.tensor([1.0], requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match="keys 'state' and 'param_groups'"):
        opt.load_state_dict(bad)
