"""The timing harness shared by every benchmark: environment report, malloc pinning, and
side-by-side blocks with warm-up, sleeps, alternating order, gc.freeze and page-fault counts.

Timing pitfalls this module handles (seen on a 2-core machine, see issue 5):

- OpenBLAS worker threads spin for ~0.1 s after a BLAS call and steal a core from the next
  framework's threads: each implementation is timed in its own *block* (sleep, warm-up,
  then the timed calls), never interleaved call by call, and the block order alternates
  across rounds.
- glibc returns large temporaries to the kernel and page-faults them back on every step:
  ``pin_malloc()`` fixes the mmap/trim thresholds (mallopt via ctypes) and every block
  reports its minor page faults per call.
- With several frameworks imported the garbage collector tracks ~1e5 objects:
  ``gc.collect(); gc.freeze()`` before each block.
- ``OPENBLAS_CORETYPE`` can pick a slow (or crashing) kernel: it is left alone but reported,
  together with the kernel threadpoolctl sees.

Optional dependencies (threadpoolctl, matplotlib, torch, ...) are imported inside functions.
"""

from __future__ import annotations

import ctypes
import gc
import json
import os
import platform
import resource
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

# -- configuration -------------------------------------------------------------------------


@dataclass
class Config:
    """How hard to measure. ``quick`` is the smoke-run profile (well under a minute in all)."""

    quick: bool = False
    out: Path = Path("benchmarks/results")
    compare: bool = True  # add torch / autograd / MyGrad columns when installed
    plots: bool = True
    rounds: int = 12  # blocks per implementation (order alternates between rounds)
    sleep: float = 0.3  # seconds before each block: lets spinning BLAS threads park
    seed: int = 0
    max_reps: int | None = None  # cap on timed calls per block (smoke tests: 1)
    warmup: int = 2  # untimed calls at the start of a block (1 after the first two rounds)

    @classmethod
    def make(cls, quick: bool = False, **kw) -> Config:
        if quick:
            kw.setdefault("rounds", 2)
            kw.setdefault("sleep", 0.1)
            kw.setdefault("warmup", 1)
        return cls(quick=quick, **kw)

    def reps(self, full: int, quick: int) -> int:
        """Timed calls per block."""
        n = quick if self.quick else full
        return n if self.max_reps is None else max(1, min(n, self.max_reps))


# -- environment ---------------------------------------------------------------------------
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_MALLOC_STATE = {"pinned": False, "detail": "not attempted"}


def pin_malloc(mmap_threshold: int = 32 * 1024 * 1024, trim_threshold: int = 1 << 30) -> bool:
    """Keep freed temporaries in the heap (glibc only): large arrays are then not unmapped
    and page-faulted back on every step. Returns True when both thresholds were set."""
    if _MALLOC_STATE["pinned"]:
        return True
    try:
        libc = ctypes.CDLL("libc.so.6")
        ok_mmap = libc.mallopt(_M_MMAP_THRESHOLD, mmap_threshold) == 1
        ok_trim = libc.mallopt(_M_TRIM_THRESHOLD, trim_threshold) == 1
    except (OSError, AttributeError) as e:  # not glibc (macOS, musl): nothing to pin
        _MALLOC_STATE["detail"] = f"not pinned ({e.__class__.__name__}: not glibc?)"
        return False
    pinned = ok_mmap and ok_trim
    _MALLOC_STATE["pinned"] = pinned
    _MALLOC_STATE["detail"] = (
        f"pinned: mallopt M_MMAP_THRESHOLD={mmap_threshold >> 20} MiB, "
        f"M_TRIM_THRESHOLD={trim_threshold >> 20} MiB"
        if pinned
        else f"mallopt refused (mmap ok={ok_mmap}, trim ok={ok_trim})"
    )
    return pinned


def malloc_state() -> str:
    return _MALLOC_STATE["detail"]


def blas_info() -> list[dict]:
    """threadpoolctl's view of the loaded BLAS / OpenMP pools (kernel = 'architecture')."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return [{"error": "threadpoolctl not installed: pip install 'tinygrad_edu[bench]'"}]
    return threadpool_info()


_LIMITS: list = []  # the threadpoolctl limiter of --threads, kept alive for the whole run


def limit_threads(n: int) -> None:
    """Run every BLAS / OpenMP pool (NumPy's, SciPy's, torch's) on ``n`` threads."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        raise SystemExit(
            "--threads needs threadpoolctl: pip install 'tinygrad_edu[bench]'"
        ) from None
    _LIMITS.append(threadpool_limits(limits=n))


def numpy_blas_threads() -> int:
    """Threads of the BLAS NumPy uses (threadpoolctl), or the CPU count if unknown."""
    for pool in blas_info():
        if pool.get("user_api") == "blas" and "numpy" in str(pool.get("filepath", "")):
            return int(pool["num_threads"])
    for pool in blas_info():
        if pool.get("user_api") == "blas":
            return int(pool["num_threads"])
    return os.cpu_count() or 1


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _dist_version(name: str) -> str:
    """The installed distribution's version of ``name`` ("?" when it has no metadata)."""
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "?"


def environment() -> dict:
    """Everything a reader needs to trust (or distrust) a table."""
    blas = [
        {
            k: p.get(k)
            for k in (
                "user_api",
                "internal_api",
                "version",
                "architecture",
                "num_threads",
                "threading_layer",
                "filepath",
            )
            if k in p
        }
        for p in blas_info()
    ]
    env = {
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "loadavg_1m": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
        "blas": blas,
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", "(unset)"),
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "(unset)"),
        "malloc": malloc_state(),
        "gc": "gc.collect() + gc.freeze() before each block",
    }
    for name in ("torch", "autograd", "mygrad", "scipy"):
        mod = sys.modules.get(name)
        if mod is not None:  # (HIPS autograd has no __version__: its distribution's metadata)
            env[name] = getattr(mod, "__version__", None) or _dist_version(name)
    if "torch" in sys.modules:
        env["torch_threads"] = sys.modules["torch"].get_num_threads()
    return env


def format_environment(env: dict) -> str:
    lines = [
        f"python {env['python']}  numpy {env['numpy']}  on {env['platform']}",
        f"cpu: {env['cpu']} x{env['cpu_count']}   load average (1 min): {env['loadavg_1m']}",
    ]
    for p in env["blas"]:
        if "error" in p:
            lines.append(f"BLAS: {p['error']}")
            continue
        lines.append(
            f"{p.get('user_api')}: {p.get('internal_api')} {p.get('version') or ''} "
            f"kernel={p.get('architecture', '-')} threads={p.get('num_threads')} "
            f"({Path(str(p.get('filepath'))).name})"
        )
    lines.append(
        f"OPENBLAS_CORETYPE={env['OPENBLAS_CORETYPE']}  OMP_NUM_THREADS={env['OMP_NUM_THREADS']}"
    )
    lines.append(f"malloc: {env['malloc']};  {env['gc']}")
    extra = [f"{k} {env[k]}" for k in ("torch", "autograd", "mygrad") if k in env]
    if extra:
        lines.append(
            "compared: "
            + ", ".join(extra)
            + (f" (torch threads {env['torch_threads']})" if "torch_threads" in env else "")
        )
    return "\n".join(lines)


# -- optional dependencies -----------------------------------------------------------------
def optional(name: str):
    """Import an optional comparison framework, or None when it is not installed."""
    try:
        if name == "autograd":
            import autograd
            import autograd.numpy  # noqa: F401

            return sys.modules["autograd"]
        mod = __import__(name)
    except Exception:  # noqa: BLE001 - ImportError or a broken install: leave the column out
        return None
    if name == "torch":
        mod.set_num_threads(numpy_blas_threads())  # same thread count as NumPy's BLAS
    return mod


def require(name: str, extra: str = "bench"):
    try:
        return __import__(name)
    except ImportError:
        raise SystemExit(
            f"the benchmarks need {name}: pip install 'tinygrad_edu[{extra}]' (or pip install {name})"
        ) from None


# -- timing ----------------------------------------------------------------------------------
@dataclass
class Timing:
    """The timed calls of one implementation, pooled over all its blocks."""

    name: str
    samples: list[float] = field(default_factory=list)  # seconds per call
    faults: int = 0  # minor page faults during the timed calls
    calls: int = 0
    blocks: list[float] = field(default_factory=list)  # each block's median, in round order

    @property
    def median(self) -> float:
        return float(np.median(self.samples))

    def quantile(self, q: float) -> float:
        return float(np.quantile(self.samples, q))

    def summary(self) -> dict:
        return {
            "median_s": self.median,
            "p25_s": self.quantile(0.25),
            "p75_s": self.quantile(0.75),
            "min_s": float(min(self.samples)),
            "block_medians_s": list(self.blocks),
            "n": len(self.samples),
            "faults_per_call": self.faults / max(self.calls, 1),
        }


def _block(fn: Callable[[], object], reps: int, warmup: int, sleep: float, t: Timing) -> None:
    time.sleep(sleep)
    gc.collect()
    gc.freeze()  # this block's gc passes do not walk the other frameworks' objects
    try:
        for _ in range(warmup):
            fn()
        ru0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        clock = time.perf_counter
        block = []
        for _ in range(reps):
            t0 = clock()
            fn()
            block.append(clock() - t0)
        t.faults += resource.getrusage(resource.RUSAGE_SELF).ru_minflt - ru0
        t.samples += block
        t.blocks.append(float(np.median(block)))
        t.calls += reps
    finally:
        gc.unfreeze()


def compare(
    impls: dict[str, Callable[[], object]],
    cfg: Config,
    reps: int,
    warmup: int | None = None,
) -> dict[str, Timing]:
    """Time each implementation in its own blocks, ``cfg.rounds`` rounds, order alternating.

    Returns name -> Timing with every timed call (seconds); medians and quartiles come from
    the pooled samples so a single slow block shows up in the spread, not in the median.
    """
    names = list(impls)
    timings = {n: Timing(n) for n in names}
    warmup = cfg.warmup if warmup is None else warmup
    for r in range(cfg.rounds):
        order = names if r % 2 == 0 else names[::-1]
        for n in order:
            _block(impls[n], reps, warmup if r < 2 else 1, cfg.sleep, timings[n])
    return timings


def paired_ratio(a: Timing, b: Timing) -> tuple[float, float, float]:
    """(median, p25, p75) over rounds of a's block median / b's block median in the same round.

    The machine's speed drifts over seconds to minutes (a shared VM: 30% and more); blocks of
    one round run within seconds of each other, so each round's ratio cancels most of the
    drift that pooled medians of a whole run keep. The verdicts use this statistic."""
    r = np.array(a.blocks) / np.array(b.blocks)
    return float(np.median(r)), float(np.quantile(r, 0.25)), float(np.quantile(r, 0.75))


# -- tables, JSON, plots -------------------------------------------------------------------
def fmt_time(s: float) -> str:
    if s < 1e-3:
        return f"{s * 1e6:.1f} us"
    if s < 1:
        return f"{s * 1e3:.2f} ms"
    return f"{s:.2f} s"


def timing_table(
    timings: dict[str, Timing], ref: str, per: float = 1.0, unit: str | None = None
) -> str:
    """A table: median, quartiles, ratio of medians to ``ref``, the same ratio of minima, the
    paired ratio (median over rounds of same-round block ratios: the steadiest on a busy
    machine, and the one the verdicts use), page faults per call.

    ``per`` divides every time (e.g. the number of ops, for microseconds per op); ``unit``
    then names the scaled unit ('us')."""
    head = (
        f"{'implementation':<30}{'median':>11}{'p25..p75':>22}{'min':>10}"
        f"{'x ' + ref[:10]:>14}{'(min)':>7}{'(paired)':>10}{'faults':>8}"
    )
    lines = [head, "-" * len(head)]
    base = timings.get(ref)

    def show(s: float) -> str:
        return f"{s / per * 1e6:.2f}" if unit else fmt_time(s)

    for n, t in timings.items():
        med = show(t.median) + (f" {unit}" if unit else "")
        spread = f"{show(t.quantile(0.25))}..{show(t.quantile(0.75))}"
        lo = min(t.samples)
        ratio = f"{t.median / base.median:.2f}x" if base else "-"
        ratio_min = f"{lo / min(base.samples):.2f}x" if base else "-"
        paired = f"{paired_ratio(t, base)[0]:.2f}x" if base else "-"
        lines.append(
            f"{n[:29]:<30}{med:>11}{spread:>22}{show(lo):>10}{ratio:>14}{ratio_min:>7}"
            f"{paired:>10}{t.faults / max(t.calls, 1):>8.1f}"
        )
    return "\n".join(lines)


def write_json(cfg: Config, name: str, payload: dict) -> Path:
    cfg.out.mkdir(parents=True, exist_ok=True)
    path = cfg.out / f"{name}.json"
    payload = {"benchmark": name, "quick": cfg.quick, "environment": environment(), **payload}
    path.write_text(json.dumps(payload, indent=2, default=_json_default) + "\n")
    return path


def _json_default(o):
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    if isinstance(o, Path):
        return str(o)
    if isinstance(o, Timing):
        return o.summary()
    raise TypeError(type(o).__name__)


def pyplot():
    """matplotlib.pyplot on the Agg backend (files only), or a clear error if missing."""
    try:
        import matplotlib
    except ImportError:
        raise SystemExit(
            "the benchmark plots need matplotlib: pip install 'tinygrad_edu[bench]' "
            "(or run with --no-plots)"
        ) from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def bar_plot(
    cfg: Config,
    name: str,
    title: str,
    timings: dict[str, Timing],
    ref: str,
    scale: float = 1e3,
    unit: str = "ms",
) -> Path | None:
    """Medians as bars, the p25..p75 spread as error bars, ratios to ``ref`` on top."""
    if not cfg.plots:
        return None
    plt = pyplot()
    names = list(timings)
    med = np.array([timings[n].median for n in names]) * scale
    lo = med - np.array([timings[n].quantile(0.25) for n in names]) * scale
    hi = np.array([timings[n].quantile(0.75) for n in names]) * scale - med
    fig, ax = plt.subplots(figsize=(1.6 + 1.3 * len(names), 3.6))
    colors = [
        "tab:blue"
        if n.startswith("tinygrad_edu")
        else "tab:gray"
        if n.startswith("hand")
        else "tab:orange"
        for n in names
    ]
    ax.bar(
        range(len(names)), med, yerr=[np.maximum(lo, 0), np.maximum(hi, 0)], color=colors, capsize=3
    )
    base = timings[ref].median * scale if ref in timings else None
    for i, m in enumerate(med):
        if base:
            ax.text(i, m + max(hi[i], 0), f"{m / base:.2f}x", ha="center", va="bottom", fontsize=8)
    ax.set_xticks(range(len(names)), [n.replace(" ", "\n", 1) for n in names], fontsize=8)
    ax.set_ylabel(f"median {unit} (p25..p75)")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return save_fig(cfg, fig, name)


def save_fig(cfg: Config, fig, name: str) -> Path:
    cfg.out.mkdir(parents=True, exist_ok=True)
    path = cfg.out / f"{name}.png"
    fig.savefig(path, dpi=110)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return path


def banner(text: str) -> str:
    return f"\n=== {text} " + "=" * max(0, 76 - len(text))
