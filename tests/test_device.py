"""Devices and tensor constructors as PyTorch spells them: ``device=`` on every factory and
layer, ``.to(device)``, ``tg.cuda`` / ``tg.accelerator`` / ``tg.backends``, ``tg.Tensor(2, 3)``,
``tg.FloatTensor`` and friends. The CPU is the only device; others raise and say why.
"""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import nn

x0 = tg.tensor([[1.0, 2.0], [3.0, 4.0]])

# name -> a call taking device=...
FACTORIES = {
    "tensor": lambda d: tg.tensor([1.0, 2.0], device=d),
    "as_tensor": lambda d: tg.as_tensor([1.0, 2.0], device=d),
    "zeros": lambda d: tg.zeros(2, 3, device=d),
    "ones": lambda d: tg.ones(2, device=d),
    "empty": lambda d: tg.empty(2, device=d),
    "full": lambda d: tg.full((2,), 7.0, device=d),
    "zeros_like": lambda d: tg.zeros_like(x0, device=d),
    "ones_like": lambda d: tg.ones_like(x0, device=d),
    "empty_like": lambda d: tg.empty_like(x0, device=d),
    "full_like": lambda d: tg.full_like(x0, 2.0, device=d),
    "arange": lambda d: tg.arange(5, device=d),
    "linspace": lambda d: tg.linspace(0, 1, 5, device=d),
    "eye": lambda d: tg.eye(3, device=d),
    "rand": lambda d: tg.rand(2, device=d),
    "randn": lambda d: tg.randn(2, device=d),
    "randint": lambda d: tg.randint(0, 5, (3,), device=d),
    "randperm": lambda d: tg.randperm(4, device=d),
    "rand_like": lambda d: tg.rand_like(x0, device=d),
    "randn_like": lambda d: tg.randn_like(x0, device=d),
    "randint_like": lambda d: tg.randint_like(x0, 0, 5, device=d),
    "Tensor": lambda d: tg.Tensor(2, 3, device=d),
    "FloatTensor": lambda d: tg.FloatTensor([1, 2], device=d),
}
LAYERS = {
    "Linear": lambda d: nn.Linear(3, 2, device=d),
    "Conv2d": lambda d: nn.Conv2d(1, 2, 3, device=d),
    "BatchNorm1d": lambda d: nn.BatchNorm1d(3, device=d),
    "BatchNorm2d": lambda d: nn.BatchNorm2d(3, device=d),
    "Embedding": lambda d: nn.Embedding(5, 2, device=d),
}
CPU_SPELLINGS = [None, "cpu", "cpu:0", tg.device("cpu"), tg.device("cpu", 0)]


@pytest.mark.parametrize("name", list(FACTORIES) + list(LAYERS))
def test_every_factory_and_layer_takes_the_cpu_and_refuses_cuda(name) -> None:
    make = FACTORIES.get(name) or LAYERS[name]
    for d in CPU_SPELLINGS:
        made = make(d)
        if name in FACTORIES:
            assert made.device == tg.device("cpu")
    for d in ["cuda", "cuda:1", tg.device("cuda"), 0, "mps"]:
        with pytest.raises(RuntimeError, match=rf"{name}: device '.*' is not available.*NumPy"):
            make(d)


def test_device_objects_print_and_compare_as_pytorchs() -> None:
    d = tg.device("cpu")
    assert repr(d) == "device(type='cpu')" and str(d) == "cpu" and d.type == "cpu"
    assert d.index is None and repr(tg.device("cpu:0")) == "device(type='cpu', index=0)"
    assert d == tg.device(d) and d != tg.device("cpu:0") and d != "cpu"  # as in PyTorch
    assert str(tg.device("cuda", 1)) == "cuda:1" and tg.device(0) == tg.device("cuda:0")
    assert x0.device == d and str(x0.device) == "cpu" and not x0.is_cuda and x0.get_device() == -1
    with pytest.raises(RuntimeError, match="expected one of cpu, cuda"):
        tg.device("gpu")


def test_to_moves_nowhere_and_converts_dtypes() -> None:
    assert x0.to("cpu") is x0 and x0.to(tg.device("cpu")) is x0 and x0.cpu() is x0
    assert x0.to("cpu", copy=True) is not x0 and x0.to("cpu", copy=True).equal(x0)
    assert x0.to(tg.float64).dtype == tg.float64 and x0.to("cpu", tg.float64).dtype == tg.float64
    assert x0.to(device="cpu", dtype=tg.int64).dtype == tg.int64
    assert x0.to(tg.zeros(1, dtype=tg.float16)).dtype == tg.float16
    assert x0.to(tg.float64, True).dtype == tg.float64  # (dtype, non_blocking)
    with pytest.raises(RuntimeError, match="to: device 'cuda' is not available"):
        x0.to("cuda")
    with pytest.raises(RuntimeError, match="cuda: device 'cuda' is not available"):
        x0.cuda()
    with pytest.raises(TypeError, match="unexpected keyword"):
        x0.to(dtpye=tg.float64)


def test_modules_move_nowhere_and_refuse_cuda() -> None:
    m = nn.Linear(2, 2)
    assert m.to("cpu") is m and m.to(tg.device("cpu")) is m and m.cpu() is m
    assert m.to("cpu", tg.float64).weight.dtype == tg.float64
    with pytest.raises(RuntimeError, match="Module.to: device 'cuda' is not available"):
        m.to("cuda")
    with pytest.raises(RuntimeError, match="Module.cuda: device 'cuda' is not available"):
        m.cuda()


def test_the_portable_device_idiom_picks_the_cpu() -> None:
    device = tg.device("cuda" if tg.cuda.is_available() else "cpu")
    assert device.type == "cpu"
    assert not tg.cuda.is_available() and tg.cuda.device_count() == 0
    assert not tg.accelerator.is_available() and tg.accelerator.current_accelerator() is None
    assert not tg.backends.mps.is_available() and not tg.backends.cudnn.is_available()
    tg.backends.cudnn.deterministic = True  # scripts set these; they are accepted
    tg.backends.cudnn.deterministic = False
    tg.cuda.synchronize()


@pytest.mark.parametrize("seed_call", [tg.cuda.manual_seed_all, tg.cuda.manual_seed])
def test_cuda_seeding_seeds_like_manual_seed(seed_call) -> None:
    tg.manual_seed(123)
    want = tg.rand(5).numpy()
    seed_call(123)
    np.testing.assert_array_equal(tg.rand(5).numpy(), want)
    tg.manual_seed(124)
    assert not np.array_equal(tg.rand(5).numpy(), want)


# -- tg.Tensor and the legacy typed constructors --------------------------------------------------
CONSTRUCTORS = [
    # (call, shape, dtype, values or None for uninitialised)
    (lambda: tg.Tensor(2, 3), (2, 3), tg.float32, None),
    (lambda: tg.Tensor(tg.Size([4])), (4,), tg.float32, None),
    (lambda: tg.Tensor(3), (3,), tg.float32, None),
    (lambda: tg.Tensor(), (0,), tg.float32, []),
    (lambda: tg.Tensor([1, 2]), (2,), tg.float32, [1.0, 2.0]),
    (lambda: tg.Tensor((2, 3)), (2,), tg.float32, [2.0, 3.0]),
    (lambda: tg.Tensor(np.array([1.5, 2.5])), (2,), tg.float32, [1.5, 2.5]),
    (lambda: tg.Tensor([[True, False]]), (1, 2), tg.float32, [[1.0, 0.0]]),
    (lambda: tg.Tensor(tg.tensor([1, 2])), (2,), tg.float32, [1.0, 2.0]),
    (lambda: tg.FloatTensor([1, 2]), (2,), tg.float32, [1.0, 2.0]),
    (lambda: tg.FloatTensor(2, 2), (2, 2), tg.float32, None),
    (lambda: tg.DoubleTensor([1, 2]), (2,), tg.float64, [1.0, 2.0]),
    (lambda: tg.HalfTensor([1, 2]), (2,), tg.float16, [1.0, 2.0]),
    (lambda: tg.LongTensor([1.7, 2]), (2,), tg.int64, [1, 2]),
    (lambda: tg.LongTensor(3), (3,), tg.int64, None),
    (lambda: tg.BoolTensor([1, 0]), (2,), tg.bool, [True, False]),
    (lambda: tg.ByteTensor([1, 255]), (2,), tg.uint8, [1, 255]),
]


@pytest.mark.parametrize("case", range(len(CONSTRUCTORS)))
def test_tensor_constructors(case) -> None:
    make, shape, dtype, values = CONSTRUCTORS[case]
    t = make()
    assert type(t) is tg.Tensor and t.shape == shape and t.dtype == dtype
    assert not t.requires_grad and t.is_leaf
    if values is not None:
        assert t.tolist() == values


@pytest.mark.parametrize("args", [(2.5,), ([1, 2], tg.float64), (2, "3")])
def test_tensor_refuses_what_is_neither_data_nor_sizes(args) -> None:
    with pytest.raises(TypeError, match="Tensor: expects data .* or sizes"):
        tg.Tensor(*args)


def test_tensor_data_is_copied() -> None:
    a = np.array([1.0, 2.0], dtype=np.float32)
    t = tg.Tensor(a)
    a[0] = 9
    assert t.tolist() == [1.0, 2.0]


def test_isinstance_and_type_names_follow_the_legacy_types() -> None:
    f, i = tg.zeros(2), tg.zeros(2, dtype=tg.int64)
    assert isinstance(f, tg.FloatTensor) and not isinstance(i, tg.FloatTensor)
    assert isinstance(i, tg.LongTensor) and isinstance(f, tg.Tensor)
    assert not isinstance(3, tg.FloatTensor)
    assert f.type() == "tg.FloatTensor" and i.type() == "tg.LongTensor"
    assert tg.zeros(2, dtype=tg.bool).type() == "tg.BoolTensor"
    assert f.type(tg.LongTensor).dtype == tg.int64
    assert f.type("torch.DoubleTensor").dtype == tg.float64
    assert f.type(tg.float16).dtype == tg.float16
