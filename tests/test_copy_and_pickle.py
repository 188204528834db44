"""copy.deepcopy and pickle of tensors and models follow PyTorch's rules: pickle keeps the
data and requires_grad (a non-leaf comes back as a leaf, ``.grad`` is not saved); deepcopy
copies a leaf with its ``.grad`` and refuses a non-leaf, whose graph a copy could not keep."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import nn, optim


def _pickled(obj):
    return pickle.loads(pickle.dumps(obj))


def test_pickle_of_a_non_leaf_gives_a_leaf_with_its_values():
    a = tg.tensor([1.0, 2.0], requires_grad=True)
    y = a * 3.0
    z = _pickled(y)
    assert z.is_leaf and z.requires_grad and z.grad is None
    assert z.tolist() == [3.0, 6.0] and z.dtype == np.float32
    (z * z).sum().backward()  # a leaf of its own: the gradient stops at z
    assert z.grad.tolist() == [6.0, 12.0] and a.grad is None


def test_pickle_drops_grad_and_keeps_requires_grad_and_type():
    w = nn.Parameter(tg.tensor([[1.0, 2.0], [3.0, 4.0]]).t())  # non-contiguous data
    (w * w).sum().backward()
    frozen = nn.Parameter(tg.zeros(2), requires_grad=False)
    w2, frozen2, plain = _pickled((w, frozen, tg.tensor([1, 2])))
    assert type(w2) is nn.Parameter and w2.requires_grad and w2.grad is None
    assert w2.tolist() == [[1.0, 3.0], [2.0, 4.0]]
    assert type(frozen2) is nn.Parameter and not frozen2.requires_grad
    assert type(plain) is tg.Tensor and plain.dtype == np.int64 and plain.tolist() == [1, 2]


def test_deepcopy_of_a_leaf_copies_data_and_grad():
    w = tg.tensor([1.0, -2.0], requires_grad=True)
    (w * w).sum().backward()
    c = copy.deepcopy(w)
    assert c.is_leaf and c.requires_grad and c.tolist() == [1.0, -2.0]
    assert c.grad.tolist() == [2.0, -4.0]
    c._data[0] = 9.0
    c.grad._data[0] = 9.0
    assert w.tolist() == [1.0, -2.0] and w.grad.tolist() == [2.0, -4.0]  # nothing shared


def test_deepcopy_of_a_non_leaf_raises_and_names_the_fix():
    y = tg.tensor([1.0, 2.0], requires_grad=True) * 2.0
    with pytest.raises(RuntimeError, match=r"deepcopy: only leaf tensors .* made by Mul; .*detach"):
        copy.deepcopy(y)
    assert copy.deepcopy(y.detach()).tolist() == [2.0, 4.0]


def test_a_model_holding_a_non_leaf_pickles_and_refuses_deepcopy():
    tg.manual_seed(0)
    model = nn.Linear(2, 1)
    model.last_output = model(tg.ones(1, 2))  # a non-leaf kept on the model
    with pytest.raises(RuntimeError, match="only leaf tensors can be deep-copied"):
        copy.deepcopy(model)
    clone = _pickled(model)
    assert clone.last_output.is_leaf
    np.testing.assert_array_equal(clone.last_output._data, model.last_output._data)
    np.testing.assert_array_equal(clone(tg.ones(1, 2))._data, model(tg.ones(1, 2))._data)


@pytest.mark.parametrize("how", [copy.deepcopy, _pickled], ids=["deepcopy", "pickle"])
def test_copied_model_is_independent_keeps_shared_parameters_and_trains(how):
    tg.manual_seed(0)
    shared = nn.Linear(2, 2)
    model = nn.Sequential(shared, nn.BatchNorm1d(2), shared)  # one layer used twice
    clone = how(model)
    assert clone[0] is clone[2] and clone[0] is not shared
    assert [type(p) for p in clone.parameters()] == [nn.Parameter] * 4
    for (k, a), (_, b) in zip(model.state_dict().items(), clone.state_dict().items()):
        np.testing.assert_array_equal(a._data, b._data, err_msg=k)
    x = tg.randn(4, 2)
    opt = optim.SGD(clone.parameters(), lr=0.1)
    clone(x).sum().backward()
    opt.step()
    assert not np.array_equal(clone[0].weight._data, shared.weight._data)
    assert clone[1].num_batches_tracked.item() == 1 and model[1].num_batches_tracked.item() == 0


def test_optimizer_state_dict_deepcopies_and_pickles():
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.Adam([w], lr=0.1)
    (w * w).sum().backward()
    opt.step()
    for sd in (copy.deepcopy(opt.state_dict()), _pickled(opt.state_dict())):
        assert sd["state"][0]["step"] == 1
        np.testing.assert_array_equal(sd["state"][0]["exp_avg"]._data, opt.state[w]["exp_avg"]._data)
