"""Random numbers as in PyTorch: tg.Generator (seeding, state, independence), generator= on
every random function (one table), the default generator, and the distributions checked
against their closed forms (chi-square for multinomial, moments for the others)."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from scipy import stats

import tinygrad_edu as tg
import tinygrad_edu.nn.functional as F
from tinygrad_edu import datasets, nn
from tinygrad_edu.utils import data


def _ds(n=12):
    return data.TensorDataset(tg.arange(n))


def _fill(method, *args, dtype=tg.float32):
    return lambda g: getattr(tg.zeros(4, 5, dtype=dtype), method)(*args, generator=g)


def _init(fn, *args, **kw):
    return lambda g: fn(tg.empty(6, 4), *args, generator=g, **kw)


# name -> a draw from generator g (g=None: the default generator)
CASES = {
    "rand": lambda g: tg.rand(3, 4, generator=g),
    "randn": lambda g: tg.randn((3, 4), generator=g),
    "randint": lambda g: tg.randint(0, 1000, (20,), generator=g),
    "randperm": lambda g: tg.randperm(20, generator=g),
    "normal": lambda g: tg.normal(0.0, 2.0, (10,), generator=g),
    "normal(tensor mean)": lambda g: tg.normal(tg.arange(10.0), 1.0, generator=g),
    "normal(tensor std)": lambda g: tg.normal(1.0, tg.ones(10), generator=g),
    "bernoulli": lambda g: tg.bernoulli(tg.full((40,), 0.5), generator=g),
    "multinomial": lambda g: tg.multinomial(tg.ones(2, 30), 10, generator=g),
    "multinomial(replacement)": lambda g: tg.multinomial(tg.ones(30), 10, True, generator=g),
    "rand_like": lambda g: tg.rand_like(tg.zeros(3, 4), generator=g),
    "randn_like": lambda g: tg.randn_like(tg.zeros(3, 4), generator=g),
    "randint_like": lambda g: tg.randint_like(tg.zeros(20), 0, 1000, generator=g),
    "Tensor.normal_": _fill("normal_", 0.0, 0.02),
    "Tensor.uniform_": _fill("uniform_", -1.0, 1.0),
    "Tensor.bernoulli_": _fill("bernoulli_", 0.5),
    "Tensor.random_": _fill("random_", 0, 1000, dtype=tg.int64),
    "Tensor.exponential_": _fill("exponential_", 2.0),
    "nn.init.uniform_": _init(nn.init.uniform_),
    "nn.init.normal_": _init(nn.init.normal_),
    "nn.init.xavier_uniform_": _init(nn.init.xavier_uniform_),
    "nn.init.xavier_normal_": _init(nn.init.xavier_normal_),
    "nn.init.kaiming_uniform_": _init(nn.init.kaiming_uniform_, a=5**0.5),
    "nn.init.kaiming_normal_": _init(nn.init.kaiming_normal_),
    "DataLoader": lambda g: [y for (y,) in data.DataLoader(_ds(), 4, shuffle=True, generator=g)],
    "random_split": lambda g: [s.indices for s in data.random_split(_ds(), [0.5, 0.5], generator=g)],
    "train_val_test_split": lambda g: [
        s.indices for s in data.train_val_test_split(_ds(20), 0.25, 0.25, generator=g)
    ],
    "datasets.make_moons": lambda g: datasets.make_moons(20, noise=0.1, generator=g)[0],
    "datasets.make_circles": lambda g: datasets.make_circles(20, noise=0.1, generator=g)[0],
}


def _arrays(out) -> list[np.ndarray]:
    items = out if isinstance(out, list) else [out]
    return [np.asarray(x) for x in items]


def _same(a, b) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(_arrays(a), _arrays(b)))


@pytest.mark.parametrize("name", CASES)
def test_generator_seeds_the_draw_and_leaves_the_default_stream_alone(name):
    draw = CASES[name]
    tg.manual_seed(0)
    untouched = tg.rand(5).numpy()
    tg.manual_seed(0)
    first = draw(tg.Generator().manual_seed(7))
    assert np.array_equal(tg.rand(5).numpy(), untouched), "drawing from g moved the default stream"
    assert _same(draw(tg.Generator().manual_seed(7)), first)
    assert not _same(draw(tg.Generator().manual_seed(8)), first)


@pytest.mark.parametrize("name", CASES)
def test_default_generator_draws_when_generator_is_none(name):
    draw = CASES[name]
    tg.manual_seed(3)
    first = draw(None)
    tg.manual_seed(3)
    assert _same(draw(None), first)
    assert _same(draw(tg.Generator().manual_seed(11)), draw(tg.Generator().manual_seed(11)))


def _public_callables():
    """Every public function and method that takes generator=, by the name the table uses."""
    found = {}
    spaces = [("", tg), ("nn.init.", nn.init), ("", data), ("datasets.", datasets)]
    for prefix, space in spaces:
        for name in dir(space):
            obj = getattr(space, name)
            own = getattr(obj, "__module__", "").startswith(space.__name__)  # not imported
            if own and not name.startswith("_") and (inspect.isfunction(obj) or inspect.isclass(obj)):
                found[prefix + name] = obj
    for name in dir(tg.Tensor):
        if not name.startswith("_") and inspect.isfunction(getattr(tg.Tensor, name)):
            found["Tensor." + name] = getattr(tg.Tensor, name)
    return {
        n: f for n, f in found.items()
        if "generator" in _parameters(f) and not (inspect.isclass(f) and n == "Generator")
    }


def _parameters(f) -> set[str]:
    try:
        return set(inspect.signature(f).parameters)
    except (TypeError, ValueError):
        return set()


def test_every_function_that_takes_a_generator_has_a_case():
    missing = sorted(set(_public_callables()) - set(CASES))
    assert not missing, f"add a case to CASES for {missing}"
    assert "rand" in _public_callables() and "Tensor.normal_" in _public_callables()


# -- tg.Generator ----------------------------------------------------------------------------
def test_manual_seed_returns_the_generator_and_sets_initial_seed():
    g = tg.Generator()
    assert g.manual_seed(42) is g and g.initial_seed() == 42
    assert tg.Generator().manual_seed(-1).initial_seed() == 2**64 - 1  # wraps, as in torch
    assert g.device == "cpu"
    a, b = tg.Generator(), tg.Generator()  # a new generator starts from one fixed seed
    assert a.initial_seed() == b.initial_seed()
    assert tg.rand(4, generator=a).equal(tg.rand(4, generator=b))


@pytest.mark.parametrize("bad, error", [(1.5, TypeError), (True, TypeError), ("3", TypeError),
                                        (2**64, ValueError), (-(2**63) - 1, ValueError)])
def test_manual_seed_rejects_what_is_not_a_64_bit_int(bad, error):
    with pytest.raises(error, match="manual_seed"):
        tg.Generator().manual_seed(bad)


def test_seed_picks_a_fresh_seed_that_replays():
    g = tg.Generator()
    s = g.seed()
    assert g.initial_seed() == s and s != tg.Generator().seed()  # equal with prob. 2**-64
    a = tg.rand(5, generator=g)
    assert tg.rand(5, generator=g.manual_seed(s)).equal(a)


def test_state_round_trips_and_moves_between_generators():
    g = tg.Generator().manual_seed(5)
    tg.randn(7, generator=g)
    state = g.get_state()
    assert isinstance(state, tg.Tensor) and state.dtype == tg.uint8
    a = [tg.randn(3, generator=g), tg.randint(0, 10**9, (3,), generator=g)]
    g.manual_seed(99)
    assert g.set_state(state) is g and g.initial_seed() == 5
    b = [tg.randn(3, generator=g), tg.randint(0, 10**9, (3,), generator=g)]
    other = tg.Generator().set_state(state)
    c = [tg.randn(3, generator=other), tg.randint(0, 10**9, (3,), generator=other)]
    for x, y, z in zip(a, b, c):
        assert x.equal(y) and x.equal(z)


def test_state_survives_a_pending_32_bit_half():
    """NumPy caches half of a 64-bit draw for 32-bit draws; the state must carry it."""
    g = tg.Generator().manual_seed(1)
    g_np = tg._random.numpy_generator(g)
    g_np.integers(0, 10, dtype=np.int32)  # leaves a cached 32-bit half
    state = g.get_state()
    a = g_np.integers(0, 10**9, 4, dtype=np.int32)
    g.set_state(state)
    assert np.array_equal(tg._random.numpy_generator(g).integers(0, 10**9, 4, dtype=np.int32), a)


@pytest.mark.parametrize("bad", [tg.zeros(3, dtype=tg.uint8), tg.zeros(45), [1, 2]])
def test_set_state_rejects_what_get_state_did_not_make(bad):
    with pytest.raises(ValueError, match="set_state: expected a state from get_state"):
        tg.Generator().set_state(bad)


def test_two_generators_are_independent():
    g1, g2 = tg.Generator().manual_seed(1), tg.Generator().manual_seed(1)
    interleaved = []
    for _ in range(3):
        tg.randn(100, generator=g1)  # g1 draws a lot in between
        interleaved.append(tg.rand(4, generator=g2))
    ref = tg.Generator().manual_seed(1)
    assert all(x.equal(tg.rand(4, generator=ref)) for x in interleaved)
    assert not tg.rand(4, generator=tg.Generator().manual_seed(2)).equal(interleaved[0])


def test_generator_rejects_other_devices_and_objects():
    with pytest.raises(ValueError, match="CPU only"):
        tg.Generator("cuda")
    with pytest.raises(TypeError, match="rand: generator= expects a tg.Generator"):
        tg.rand(2, generator=0)
    with pytest.raises(TypeError, match="DataLoader: generator= expects"):
        data.DataLoader(_ds(), shuffle=True, generator="seed")


# -- the default generator --------------------------------------------------------------------
def test_module_functions_drive_the_default_generator():
    assert tg.manual_seed(3) is tg.default_generator and tg.initial_seed() == 3
    a = tg.rand(4)
    tg.default_generator.manual_seed(3)
    assert tg.rand(4).equal(a)
    state = tg.get_rng_state()
    b = tg.randn(5)
    tg.set_rng_state(state)
    assert tg.randn(5).equal(b)
    s = tg.seed()
    assert tg.initial_seed() == s


def test_dropout_draws_from_the_default_generator():
    x = tg.ones(200)
    tg.manual_seed(4)
    a = F.dropout(x, 0.5)
    tg.manual_seed(4)
    assert F.dropout(x, 0.5).equal(a)
    assert nn.Dropout(0.5)(x).numpy().tolist() != a.numpy().tolist()


# -- multinomial ------------------------------------------------------------------------------
def _chi_square_p(counts, probs) -> float:
    counts = np.asarray(counts, dtype=np.float64).ravel()
    expected = np.asarray(probs, dtype=np.float64).ravel() * counts.sum()
    keep = expected > 0
    assert counts[~keep].sum() == 0, "a zero-probability outcome was drawn"
    return stats.chisquare(counts[keep], expected[keep]).pvalue


def test_multinomial_with_replacement_matches_the_weights():
    w = np.array([[1.0, 2.0, 0.0, 5.0], [3.0, 3.0, 3.0, 1.0]])
    g = tg.Generator().manual_seed(0)
    draws = tg.multinomial(tg.tensor(w), 20000, replacement=True, generator=g).numpy()
    assert draws.shape == (2, 20000) and draws.dtype == np.int64
    for row, weights in zip(draws, w):
        assert _chi_square_p(np.bincount(row, minlength=4), weights / weights.sum()) > 1e-4


def test_multinomial_without_replacement_draws_successively():
    """P(first = i, second = j) = p_i p_j / (1 - p_i): draw i, then j from what is left."""
    p = np.array([0.1, 0.2, 0.3, 0.4])
    rows = 20000
    g = tg.Generator().manual_seed(1)
    draws = tg.multinomial(tg.tensor(np.tile(p, (rows, 1))), 2, generator=g).numpy()
    assert (draws[:, 0] != draws[:, 1]).all()
    joint = np.zeros((4, 4))
    np.add.at(joint, (draws[:, 0], draws[:, 1]), 1)
    expected = p[:, None] * p[None, :] / (1 - p[:, None])
    np.fill_diagonal(expected, 0)
    assert _chi_square_p(joint, expected) > 1e-4


def test_multinomial_without_replacement_gives_distinct_indices():
    g = tg.Generator().manual_seed(2)
    w = tg.tensor([[1.0, 0.0, 2.0, 3.0, 0.5], [1.0, 1.0, 1.0, 1.0, 1.0]])
    four = tg.multinomial(w, 4, generator=g).numpy()
    assert all(len(set(r)) == 4 for r in four) and 1 not in four[0]
    every = tg.multinomial(w[1], 5, generator=g).numpy()
    assert sorted(every) == [0, 1, 2, 3, 4] and every.shape == (5,)


@pytest.mark.parametrize("w, n, replacement, error, match", [
    ([0.0, 1.0, 2.0], 3, False, ValueError, "only 2 non-zero weights"),
    ([[1.0, 1.0], [0.0, 1.0]], 2, False, ValueError, "only 1 non-zero"),
    ([1.0, 2.0], 3, False, ValueError, "without replacement"),
    ([1.0, -1.0], 1, True, ValueError, "element < 0"),
    ([1.0, np.nan], 1, True, ValueError, "nan"),
    ([0.0, 0.0], 1, True, ValueError, "sums to 0"),
    (np.ones((2, 2, 2)), 1, True, ValueError, r"1-D or 2-D.*\(2, 2, 2\)"),
    ([1.0, 2.0], 0, True, ValueError, "num_samples=0"),
    (np.array([1, 2]), 1, True, TypeError, "floating point"),
])
def test_multinomial_errors(w, n, replacement, error, match):
    with pytest.raises(error, match="multinomial: .*" + match):
        tg.multinomial(tg.tensor(w), n, replacement)


# -- the other distributions, against their closed forms ---------------------------------------
def _mean_within(x, mean, var, sigmas=6.0):
    x = np.asarray(x, dtype=np.float64).ravel()
    assert abs(x.mean() - mean) < sigmas * np.sqrt(var / x.size), (x.mean(), mean)


@pytest.mark.parametrize("n", [0, 1, 2, 17, 1000])
def test_randperm_is_a_permutation(n):
    p = tg.randperm(n, generator=tg.Generator().manual_seed(n))
    assert p.dtype == tg.int64 and sorted(p.tolist()) == list(range(n))


def test_randint_forms_and_range():
    g = tg.Generator().manual_seed(0)
    for x, low, high in [(tg.randint(3, 7, (5000,), generator=g), 3, 7),
                         (tg.randint(7, (5000,), generator=g), 0, 7),
                         (tg.randint(7, size=(5000,), generator=g), 0, 7)]:
        assert x.shape == (5000,) and x.dtype == tg.int64
        assert set(x.tolist()) == set(range(low, high))
    with pytest.raises(ValueError, match="randint: expects low < high"):
        tg.randint(5, 5, (2,))


def test_normal_forms_shapes_dtypes_and_moments():
    g = tg.Generator().manual_seed(0)
    x = tg.normal(2.0, 3.0, (20000,), generator=g)
    assert x.dtype == tg.float32
    _mean_within(x, 2.0, 9.0)
    assert abs(x.numpy().std() - 3.0) < 0.1
    mean = tg.tensor(np.array([[0.0], [100.0]]))  # float64
    y = tg.normal(mean, tg.ones(3), generator=g)
    assert y.shape == (2, 3) and y.dtype == tg.float64 and (y.numpy()[1] > 50).all()
    assert tg.normal(tg.zeros(4)).shape == (4,)
    with pytest.raises(TypeError, match="normal: .*size="):
        tg.normal(0.0, 1.0)
    with pytest.raises(ValueError, match="std >= 0"):
        tg.normal(0.0, -1.0, (2,))


def test_bernoulli_and_fills_have_the_right_moments():
    g = tg.Generator().manual_seed(0)
    probs = tg.tensor([0.0, 0.25, 1.0]).expand(20000, 3)
    b = tg.bernoulli(probs, generator=g).numpy()
    assert b.dtype == np.float32 and set(np.unique(b)) <= {0.0, 1.0}
    assert (b[:, 0] == 0).all() and (b[:, 2] == 1).all()
    _mean_within(b[:, 1], 0.25, 0.25 * 0.75)
    _mean_within(tg.bernoulli(tg.zeros(20000), 0.7, generator=g), 0.7, 0.21)
    with pytest.raises(ValueError, match=r"bernoulli: .*\[0, 1\]"):
        tg.bernoulli(tg.tensor([1.5]))
    x = tg.empty(20000, dtype=tg.float64)
    _mean_within(x.normal_(1.0, 2.0, generator=g), 1.0, 4.0)
    u = x.uniform_(-1.0, 3.0, generator=g).numpy()
    assert u.min() >= -1.0 and u.max() < 3.0
    _mean_within(u, 1.0, 16 / 12)
    _mean_within(x.exponential_(4.0, generator=g), 0.25, 1 / 16)
    _mean_within(x.bernoulli_(0.3, generator=g), 0.3, 0.21)
    assert set(x.random_(5, generator=g).numpy().tolist()) == {0.0, 1.0, 2.0, 3.0, 4.0}
    assert set(x.random_(-2, 1, generator=g).numpy().tolist()) == {-2.0, -1.0, 0.0}
    top = x.random_(generator=g).numpy()
    assert top.min() >= 0 and top.max() <= 2**53 and top.max() > 2**50


def test_random_fills_follow_the_in_place_rules():
    w = tg.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="normal_: a leaf tensor that requires grad"):
        w.normal_()
    with tg.no_grad():
        assert w.normal_() is w and w._version == 1
    with pytest.raises(TypeError, match="uniform_: fills floating-point tensors only"):
        tg.zeros(3, dtype=tg.int64).uniform_()
    with pytest.raises(ValueError, match="random_: expects from < to"):
        tg.zeros(3).random_(3, 3)
