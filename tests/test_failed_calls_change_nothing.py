"""A call that raises leaves every tensor, buffer and optimizer state as it was: a failed
``Optimizer.step``, ``Optimizer.load_state_dict``, ``Module.load_state_dict`` and a stateful
layer (BatchNorm) given bad input. Each test takes a snapshot, makes the call fail on a late
item (after earlier ones would already have been written), and compares."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import nn, optim
from tinygrad_edu.nn import functional as F

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
        i: {k: v._data.copy() if isinstance(v, tg.Tensor) else v for k, v in s.items()}
        for i, s in opt.state_dict()["state"].items()
    }
    groups = [dict(g) for g in opt.param_groups]
    return state, groups, [(t._data.copy(), t._version) for t in tensors]


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
    params[1].grad._data = np.ones((1, 3), dtype=params[1].dtype)  # bypasses the grad setter


def _complex_grad(params):
    params[1].grad = tg.tensor([[1j, 2j]])


def _param_reshaped(params):
    params[1]._data = np.zeros(2, dtype=np.float32)  # the state is still (1, 2)
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
    b.grad._data = np.ones(3, dtype=np.float32)
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


# -- Module.load_state_dict -----------------------------------------------------------------
def _net():
    return nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3), nn.Linear(3, 1))


def _module_snapshot(net):
    return [(k, v._data.copy(), v._version) for k, v in net.state_dict(keep_vars=True).items()]


def _assert_module_same(before, after):
    assert [k for k, _, _ in after] == [k for k, _, _ in before]
    for (k, a0, v0), (_, a1, v1) in zip(before, after):
        np.testing.assert_array_equal(a1, a0, err_msg=k)
        assert a1.dtype == a0.dtype and v1 == v0, k


def _without(sd, key):
    return {k: v for k, v in sd.items() if k != key}


# each spoils the LAST entries: every earlier one would already have been copied
MODULE_LOAD_FAILURES = {
    "missing-key": (
        lambda sd: _without(sd, "2.bias"), {}, r"Missing key\(s\) in state_dict: '2.bias'"
    ),
    "unexpected-key": (
        lambda sd: {**sd, "3.weight": np.zeros(1)}, {}, r"Unexpected key\(s\) in state_dict: '3.w"
    ),
    "wrong-shape": (
        lambda sd: {**sd, "2.bias": np.zeros(2)}, {}, r"size mismatch for 2.bias: .*shape tg.Size\(\[2\]\)"
    ),
    "wrong-shape-not-strict": (
        lambda sd: {**sd, "2.bias": np.zeros(2)}, {"strict": False}, "size mismatch for 2.bias"
    ),
    "string": (
        lambda sd: {**sd, "1.num_batches_tracked": np.array("3")}, {},
        "dtype mismatch for 1.num_batches_tracked: .* dtype <U1",
    ),
    "none": (
        lambda sd: {**sd, "1.num_batches_tracked": None}, {},
        "dtype mismatch for 1.num_batches_tracked: .* dtype object",
    ),
    "complex": (
        lambda sd: {**sd, "2.bias": np.ones(1, dtype=complex)}, {},
        "dtype mismatch for 2.bias: .* dtype complex128",
    ),
}


@pytest.mark.parametrize("failure", list(MODULE_LOAD_FAILURES))
def test_a_module_load_that_raises_changes_nothing(failure):
    tg.manual_seed(0)
    net, source = _net(), _net()
    source(tg.randn(4, 2))  # moves the running statistics too
    sd = {k: v.numpy().copy() for k, v in source.state_dict().items()}
    spoil, kw, message = MODULE_LOAD_FAILURES[failure]
    before = _module_snapshot(net)
    with pytest.raises(RuntimeError, match=message):
        net.load_state_dict(spoil(sd), **kw)
    _assert_module_same(before, _module_snapshot(net))
    net.load_state_dict(sd)  # the unspoilt dict loads, every entry
    for k, v in net.state_dict().items():
        np.testing.assert_array_equal(v._data, sd[k])


def test_module_load_state_dict_wants_a_mapping():
    with pytest.raises(TypeError, match="expected a dict of name -> tensor .* got list"):
        nn.Linear(2, 1).load_state_dict([np.zeros((1, 2)), np.zeros(1)])


# -- BatchNorm: a call that raises is as if it never happened ---------------------------------
def _bad_calls(spatial):
    """Calls that must raise without touching the running statistics (3 channels)."""
    return [
        (tg.zeros((1, 3) + (1,) * len(spatial)), "expected more than 1 value per channel"),
        (tg.zeros((5, 4) + spatial), "with 3 channels in dim 1"),
        (tg.zeros((5, 3) + spatial, dtype=tg.int64), "needs a floating-point input"),
    ]


@pytest.mark.parametrize("momentum", [0.1, None])
@pytest.mark.parametrize("cls, spatial", [(nn.BatchNorm1d, ()), (nn.BatchNorm2d, (2, 2))])
def test_batchnorm_call_that_raises_changes_no_statistic(cls, spatial, momentum):
    tg.manual_seed(1)
    batches = [tg.randn((5, 3) + spatial, dtype=tg.float64) for _ in range(3)]
    clean, failing = cls(3, momentum=momentum).double(), cls(3, momentum=momentum).double()
    for x in batches:
        clean(x)
        for bad, message in _bad_calls(spatial):
            before = _module_snapshot(failing)
            with pytest.raises((ValueError, TypeError), match=message):
                failing(bad)
            _assert_module_same(before, _module_snapshot(failing))
        failing(x)
    _assert_module_same(_module_snapshot(clean), _module_snapshot(failing))
    assert failing.num_batches_tracked.item() == 3


def test_functional_batch_norm_checks_every_running_buffer_before_updating_any():
    x = tg.randn(4, 3)
    mean, var = tg.zeros(3), tg.ones(2)  # var for the wrong number of channels
    with pytest.raises(ValueError, match=r"running_var has shape \(2,\) .* 3 channels"):
        F.batch_norm(x, mean, var, training=True)
    assert mean.tolist() == [0.0, 0.0, 0.0] and mean._version == 0
    with pytest.raises(ValueError, match=r"weight has shape \(4,\)"):
        F.batch_norm(x, mean, tg.ones(3), weight=tg.ones(4), training=True)
    assert mean.tolist() == [0.0, 0.0, 0.0]


def test_perceptron_that_gives_up_still_invalidates_graphs_on_its_weights():
    X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.0, 0.0]])
    p = nn.Perceptron(2)
    p.weight._data[...] = [0.5, -0.5]
    x = tg.tensor(X, dtype=tg.float32, requires_grad=True)
    score = p(x).sum()  # saves the weights for x's gradient
    with pytest.raises(RuntimeError, match="not be linearly separable"):
        p.fit(X, np.array([1, 1, -1, -1]), max_epochs=3)  # XOR: no line separates it
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        score.backward()


def test_the_step_check_lets_scalar_state_tensors_through():
    """A rule may keep a per-parameter scalar as a 0-d tensor (PyTorch keeps 'step' so)."""

    class CountingSGD(optim.SGD):
        def _update(self, p, group):
            state = self.state[p]
            state["step"] = state.get("step", tg.tensor(0.0)) + 1.0
            super()._update(p, group)

    w = tg.tensor([[1.0, 2.0]], requires_grad=True)
    opt = CountingSGD([w], lr=0.5)
    for _ in range(2):
        _backward([w])
        opt.step()
    assert opt.state[w]["step"].item() == 2.0
