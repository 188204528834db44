"""Random numbers as in PyTorch: ``tg.Generator`` and the default generator that factories,
init, dropout and data shuffling draw from unless given ``generator=``.

A ``Generator`` is a NumPy ``Generator`` (PCG64) plus the seed it started from. The default
generator, ``tg.default_generator``, is one object with one stream per thread: a NumPy
generator is not meant to be shared between threads, and a seeded run must draw the same
numbers whether or not other threads draw too. A thread's stream starts from the last
``tg.manual_seed`` (in any thread), or from fresh OS entropy before the first one.
"""

from __future__ import annotations

import operator
import threading
import types

import numpy as np

_NEW_GENERATOR_SEED = 67280421310721  # what a new torch.Generator() starts from, too
_STATE_FIELDS = (("seed", 8), ("state", 16), ("inc", 16), ("has_uint32", 1), ("uinteger", 4))
_STATE_BYTES = sum(n for _, n in _STATE_FIELDS)
_last_seed: int | None = None  # the default stream of threads that have not drawn yet


def _entropy_seed() -> int:
    return int(np.random.SeedSequence().generate_state(1, np.uint64)[0])


def _check_seed(seed) -> int:
    if isinstance(seed, (bool, np.bool_)) or not hasattr(type(seed), "__index__"):
        raise TypeError(f"manual_seed: expected an int seed, got {type(seed).__name__} {seed!r}")
    s = operator.index(seed)
    if not -(2**63) <= s < 2**64:
        raise ValueError(f"manual_seed: seed {s} is out of range [-2**63, 2**64)")
    return s % 2**64


class Generator:
    """A seedable stream of random numbers, like ``torch.Generator``: pass it as
    ``generator=`` to a factory, ``nn.init`` function, ``DataLoader`` or ``random_split`` to
    draw from it instead of the default generator.

    >>> import tinygrad_edu as tg
    >>> g = tg.Generator().manual_seed(0)
    >>> a = tg.rand(3, generator=g)
    >>> b = tg.rand(3, generator=g.manual_seed(0))
    >>> bool((a == b).all()), g.initial_seed()
    (True, 0)
    """

    def __init__(self, device="cpu") -> None:
        if str(device) != "cpu":
            raise ValueError(
                f"Generator: this engine runs on NumPy (CPU only), got device {device!r}"
            )
        self._s = types.SimpleNamespace()
        self.manual_seed(_NEW_GENERATOR_SEED)

    @property
    def device(self) -> str:
        return "cpu"

    def manual_seed(self, seed: int) -> "Generator":
        """Restart the stream from ``seed`` (an int in [-2**63, 2**64); negative ones wrap)."""
        self._s.seed = _check_seed(seed)
        self._s.rng = np.random.default_rng(self._s.seed)
        return self

    def seed(self) -> int:
        """Restart from a seed taken from OS entropy, and return that seed."""
        s = _entropy_seed()
        self.manual_seed(s)
        return s

    def initial_seed(self) -> int:
        return self._s.seed

    def get_state(self):
        """The seed and the position in the stream, as a uint8 tensor for ``set_state``."""
        from .tensor import Tensor  # late: the tensor module itself draws from this one

        bits = self._s.rng.bit_generator.state
        values = {"seed": self._s.seed, **bits["state"], "has_uint32": bits["has_uint32"],
                  "uinteger": bits["uinteger"]}
        raw = b"".join(int(values[k]).to_bytes(n, "little") for k, n in _STATE_FIELDS)
        return Tensor._wrap(np.frombuffer(raw, np.uint8).copy())

    def set_state(self, state) -> "Generator":
        """Continue from a state that ``get_state`` returned (of this or another generator)."""
        arr = np.asarray(state)
        if arr.dtype != np.uint8 or arr.shape != (_STATE_BYTES,):
            raise ValueError(
                f"set_state: expected a state from get_state() (a uint8 tensor of {_STATE_BYTES} "
                f"bytes), got dtype {arr.dtype} and shape {arr.shape}"
            )
        raw, values, at = arr.tobytes(), {}, 0
        for k, n in _STATE_FIELDS:
            values[k], at = int.from_bytes(raw[at : at + n], "little"), at + n
        rng = np.random.default_rng()
        rng.bit_generator.state = {
            "bit_generator": "PCG64",
            "state": {"state": values["state"], "inc": values["inc"]},
            "has_uint32": values["has_uint32"],
            "uinteger": values["uinteger"],
        }
        self._s.seed, self._s.rng = values["seed"], rng
        return self


class _ThreadStream(threading.local):
    """The default generator's seed and NumPy generator, one pair per thread."""

    def __init__(self) -> None:  # runs in each thread on its first draw
        self.seed = _entropy_seed() if _last_seed is None else _last_seed
        self.rng = np.random.default_rng(self.seed)


class _DefaultGenerator(Generator):
    """``tg.default_generator``: seeding it also sets where new threads' streams start."""

    def __init__(self) -> None:
        self._s = _ThreadStream()

    def manual_seed(self, seed: int) -> "Generator":
        global _last_seed
        super().manual_seed(seed)
        _last_seed = self._s.seed
        return self


default_generator = _DefaultGenerator()


def numpy_generator(generator=None, op: str = "random") -> np.random.Generator:
    """The NumPy generator to draw from: ``generator``'s, or the default one's for None.
    A ``numpy.random.Generator`` is accepted as it is."""
    if generator is None:
        return default_generator._s.rng
    if isinstance(generator, Generator):
        return generator._s.rng
    if isinstance(generator, np.random.Generator):
        return generator
    raise TypeError(
        f"{op}: generator= expects a tg.Generator (or a numpy.random.Generator), got "
        f"{type(generator).__name__}"
    )


class RandomFills:
    """Tensor's in-place random fills, as in PyTorch (mixed into ``Tensor``): each draws from
    ``generator=`` or the default generator, and counts as an in-place change of the tensor.

    >>> import tinygrad_edu as tg
    >>> w = tg.empty(2, 3).normal_(0, 0.02, generator=tg.Generator().manual_seed(0))
    >>> w.shape
    (2, 3)
    """

    __slots__ = ()

    def normal_(self, mean=0.0, std=1.0, *, generator=None):
        return self._fill_random("normal_", generator, lambda g, n: g.normal(mean, std, n))

    def uniform_(self, from_=0.0, to=1.0, *, generator=None):
        return self._fill_random("uniform_", generator, lambda g, n: g.uniform(from_, to, n))

    def exponential_(self, lambd=1.0, *, generator=None):
        draw = lambda g, n: g.exponential(1 / lambd, n)  # noqa: E731
        return self._fill_random("exponential_", generator, draw)

    def bernoulli_(self, p=0.5, *, generator=None):
        """1 with probability ``p`` (a number, or a tensor that broadcasts), else 0."""
        p = np.asarray(getattr(p, "data", p))
        return self._fill_random("bernoulli_", generator, lambda g, n: g.random(n) < p, False)

    def random_(self, from_=None, to=None, *, generator=None):
        """Integers in [from_, to); ``random_(to)`` draws from [0, to), and ``random_()`` from
        [0, the largest integer the dtype holds exactly]."""
        low, high = (0, from_) if to is None else (from_ or 0, to)
        dt = self.dtype
        top = high - 1 if high is not None else (
            2 ** (np.finfo(dt).nmant + 1) if dt.kind == "f" else 1 if dt.kind == "b"
            else np.iinfo(dt).max
        )
        if low > top:
            raise ValueError(f"random_: expects from < to, got from={low}, to={high}")
        draw = lambda g, n: g.integers(low, top, n, endpoint=True)  # noqa: E731
        return self._fill_random("random_", generator, draw, False)

    def _fill_random(self, op: str, generator, draw, floats_only: bool = True):
        if floats_only and self.dtype.kind != "f":
            raise TypeError(f"{op}: fills floating-point tensors only, got dtype {self.dtype}")
        return self._assign(..., draw(numpy_generator(generator, op), self.shape), op)


def manual_seed(seed: int) -> Generator:
    """Seed the default generator (this thread's stream, and the start of threads that have
    not drawn yet) and return it, like ``torch.manual_seed``.

    >>> import tinygrad_edu as tg
    >>> _ = tg.manual_seed(0); a = tg.rand(2)
    >>> _ = tg.manual_seed(0); b = tg.rand(2)
    >>> bool((a == b).all())
    True
    """
    return default_generator.manual_seed(seed)


def seed() -> int:
    """Seed the default generator from OS entropy and return the seed, like ``torch.seed()``."""
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state():
    """The default generator's state (this thread's stream), for ``set_rng_state``."""
    return default_generator.get_state()


def set_rng_state(state) -> None:
    default_generator.set_state(state)
