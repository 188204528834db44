"""The Optimizer base contract (parameter lists, groups, steps, errors) and schedulers against
closed-form lr sequences. The update rules themselves are tested in test_optim_rules.py."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import optim
from tinygrad_edu.optim import lr_scheduler


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
    with pytest.raises(TypeError, match="dtype tg.int64"):
        optim.SGD([tg.tensor([1, 2])], lr=0.1)
    with pytest.raises(TypeError, match="dtype tg.complex128; only real floating-point"):
        optim.Adam([tg.tensor([1j, 2.0], requires_grad=True)])
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
