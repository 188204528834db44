"""The one seedable random generator behind factories, init, dropout and data shuffling.

``manual_seed(n)`` replaces it, so a seeded run draws the same numbers every time. NumPy's
``Generator`` is not safe to share between threads, so each thread lazily gets its own,
seeded from the global seed and the thread's creation order is not involved: a thread that
calls ``manual_seed`` itself gets exactly that stream.
"""

from __future__ import annotations

import threading

import numpy as np

_local = threading.local()
_default_seed: int | None = None


def manual_seed(seed: int) -> np.random.Generator:
    """Seed the generator of the calling thread (and the default for threads started later).

    >>> import tinygrad_edu as tg
    >>> _ = tg.manual_seed(0); a = tg.rand(2)
    >>> _ = tg.manual_seed(0); b = tg.rand(2)
    >>> bool((a == b).all())
    True
    """
    global _default_seed
    seed = int(seed)
    _default_seed = seed
    _local.generator = np.random.default_rng(seed)
    return _local.generator


def default_generator() -> np.random.Generator:
    """The calling thread's generator (created on first use from the last ``manual_seed``)."""
    gen = getattr(_local, "generator", None)
    if gen is None:
        gen = _local.generator = np.random.default_rng(_default_seed)
    return gen


def seed() -> int:
    """Seed from fresh OS entropy and return the seed used, like ``torch.seed()``."""
    s = int(np.random.SeedSequence().generate_state(1)[0])
    manual_seed(s)
    return s
