"""Benchmarks 2 and 3: one training step (forward, backward, SGD) of the MLP and the CNN, side by
side with the hand-written NumPy reference (and PyTorch, HIPS autograd, MyGrad when installed);
plus inference under ``no_grad`` against the hand-written NumPy forward.

MLP: 784-512-256-10 ReLU, softmax cross-entropy, batch 128, SGD, float32 and float64.
CNN: conv3x3(1->16) ReLU maxpool2 conv3x3(16->32) ReLU maxpool2 linear(1568->10), padding 1,
batch 64, 1x28x28 inputs, float32.
"""

from __future__ import annotations

import gc

import numpy as np

from . import harness as H
from . import models as M
from . import reference_numpy as R

ENGINE = "tinygrad_edu"
HAND = "hand NumPy"
FEATURE_MAJOR = "hand NumPy, (features, batch)"
# gradients must agree with the hand-written reference to this relative error
TOL = {np.dtype(np.float32): 2e-4, np.dtype(np.float64): 1e-10}


def _setup(kind: str, dtype, cfg: H.Config, skip=()):
    gc.collect()  # what earlier measurements left in reference cycles goes first
    if kind == "mlp":
        params, (x, y) = R.init_mlp(M.MLP_SIZES, dtype, cfg.seed), R.batch("mlp", 128, dtype)
    else:
        params, (x, y) = R.init_cnn(dtype, cfg.seed), R.batch("cnn", 64, dtype)
    impls = M.implementations(kind, params, x, y, cfg.compare, skip)
    return params, x, y, impls


def verify(impls: dict[str, M.Impl], dtype) -> dict[str, float]:
    """Each implementation's gradients against the hand-written reference (max relative error).
    Raises when the engine or the reference disagree beyond tolerance."""
    ref = impls[_hand(impls)].grads()
    errs = {n: M.max_rel_err(im.grads(), ref) for n, im in impls.items()}
    tol = TOL[np.dtype(dtype)]
    bad = {n: e for n, e in errs.items() if not e <= tol}
    if any(n.startswith(ENGINE) for n in bad):
        raise AssertionError(f"bench: gradients disagree with the hand-written NumPy ones: {bad}")
    return errs


def _hand(impls) -> str:
    return next(n for n in impls if n.startswith(HAND))


def engine_name(impls) -> str:
    return next(n for n in impls if n.startswith(ENGINE))


def _time_steps(impls, cfg, reps, what="step"):
    timings = H.compare({n: getattr(im, what) for n, im in impls.items()}, cfg, reps)
    print(H.timing_table(timings, _hand(impls)))
    return timings


def _result(timings, errs, impls) -> dict:
    hand, eng = _hand(impls), engine_name(impls)
    res = {
        "timings": {n: t.summary() for n, t in timings.items()},
        "grad_max_rel_err": errs,
        "engine_over_hand": timings[eng].median / timings[hand].median,
        "engine_over_hand_min": min(timings[eng].samples) / min(timings[hand].samples),
        "engine_over_hand_paired": H.paired_ratio(timings[eng], timings[hand]),
    }
    if "PyTorch" in timings:
        res["engine_over_torch"] = timings[eng].median / timings["PyTorch"].median
        res["engine_over_torch_paired"] = H.paired_ratio(timings[eng], timings["PyTorch"])
    return res


def run_mlp(cfg: H.Config) -> dict:
    out = {}
    for dtype in (np.float32, np.float64):
        dname = np.dtype(dtype).name
        params, x, y, impls = _setup("mlp", dtype, cfg)
        errs = verify(impls, dtype)
        title = f"MLP step 784-512-256-10, batch 128, SGD, {dname}"
        print(H.banner(title))
        print(
            "gradient max rel. error vs hand NumPy: "
            + ", ".join(f"{n} {e:.1e}" for n, e in errs.items())
        )
        # the step's GEMMs alone, timed in the same rounds: the BLAS floor of each library
        floors = M.mlp_gemm_floors(
            params, x, y, H.optional("torch") if "PyTorch" in impls else None
        )
        # the same hand-written step with (features, batch) activations: the GEMMs' operands
        # swapped (another kernel shape in BLAS), everything else equal
        fm_err = M.max_rel_err(R.mlp_loss_grads_feature_major(params, x, y)[1],
                               R.mlp_loss_grads(params, x, y)[1])
        if not fm_err <= TOL[np.dtype(dtype)]:
            raise AssertionError(f"bench: the feature-major hand step disagrees: {fm_err:.1e}")
        calls = {n: im.step for n, im in impls.items()} | floors
        calls[FEATURE_MAJOR] = M.hand_mlp_feature_major(params, x, y)
        timings = H.compare(calls, cfg, cfg.reps(10, 5))
        print(H.timing_table(timings, _hand(impls)))
        floor = _floors(timings, _hand(impls))
        out[dname] = _result(timings, errs, impls) | floor
        if floor:
            print(floor_text(floor))
        H.bar_plot(cfg, f"mlp_step_{dname}", title, timings, _hand(impls))
    H.write_json(cfg, "mlp_step", out)
    return out


def _floors(timings: dict, hand: str) -> dict:
    """The GEMM floors against the steps (paired block ratios, see ``harness.paired_ratio``).

    ``torch_over_gemms_numpy`` below 1 + (the engine's non-GEMM share) is what puts PyTorch
    out of a NumPy engine's reach: at 1.0 PyTorch's whole step takes as long as the GEMMs
    alone take through NumPy's BLAS."""
    np_floor = timings.get("GEMMs alone, NumPy")
    if np_floor is None:
        return {}
    out = {"gemms_numpy_over_hand": H.paired_ratio(np_floor, timings[hand])}
    if FEATURE_MAJOR in timings:
        out["feature_major_over_hand"] = H.paired_ratio(timings[FEATURE_MAJOR], timings[hand])
    if "GEMMs alone, PyTorch" in timings and "PyTorch" in timings:
        out["gemms_torch_over_gemms_numpy"] = H.paired_ratio(
            timings["GEMMs alone, PyTorch"], np_floor
        )
        out["torch_over_gemms_numpy"] = H.paired_ratio(timings["PyTorch"], np_floor)
        out["torch_over_hand"] = H.paired_ratio(timings["PyTorch"], timings[hand])
    return out


def floor_text(floor: dict) -> str:
    """One sentence on the GEMM floors (paired block ratios)."""
    text = (
        f"GEMMs alone (the step's eight, through NumPy): {floor['gemms_numpy_over_hand'][0]:.2f}x "
        "the hand-written step"
    )
    if "torch_over_gemms_numpy" in floor:
        text += (
            f"; PyTorch's GEMMs {floor['gemms_torch_over_gemms_numpy'][0]:.2f}x NumPy's, and "
            f"PyTorch's whole step {floor['torch_over_gemms_numpy'][0]:.2f}x NumPy's GEMMs alone "
            f"({floor['torch_over_hand'][0]:.2f}x the hand-written step)"
        )
    text += "."
    if "feature_major_over_hand" in floor:
        text += (
            " The hand-written step with (features, batch) activations: "
            f"{floor['feature_major_over_hand'][0]:.2f}x the plain one."
        )
    return text


def run_cnn(cfg: H.Config) -> dict:
    dtype = np.float32
    # autograd and MyGrad take 0.2-0.4 s per CNN step: left out of the quick run
    skip = ("autograd", "mygrad") if cfg.quick else ()
    params, x, y, impls = _setup("cnn", dtype, cfg, skip)
    if not cfg.quick:
        impls["hand NumPy NCHW im2col"] = M.hand_cnn_nchw(params, x, y)
    errs = verify(impls, dtype)
    title = "CNN step conv16-pool-conv32-pool-fc, batch 64, 1x28x28, SGD, float32"
    print(H.banner(title))
    if skip:
        print("(quick run: HIPS autograd and MyGrad left out of the CNN: ~0.2-0.4 s per step)")
    print(
        "gradient max rel. error vs hand NumPy: "
        + ", ".join(f"{n} {e:.1e}" for n, e in errs.items())
    )
    timings = _time_steps(impls, cfg, cfg.reps(5, 3))
    out = _result(timings, errs, impls)
    H.bar_plot(cfg, "cnn_step", title, timings, _hand(impls))
    H.write_json(cfg, "cnn_step", out)
    return out


def run_inference(cfg: H.Config) -> dict:
    """The tape costs nothing under no_grad: the engine's forward against the hand forward."""
    out = {}
    for kind in ("mlp", "cnn"):
        dtype = np.float32
        _, x, _, impls = _setup(kind, dtype, cfg, ("autograd", "mygrad"))
        eng, hand = engine_name(impls), _hand(impls)
        got = impls[eng].infer()._data
        want = impls[hand].infer()
        err = float(np.abs(got - want).max() / np.abs(want).max())
        if not err <= TOL[np.dtype(dtype)]:
            raise AssertionError(f"bench: {kind} inference differs from hand NumPy: {err:.2e}")
        title = f"{kind.upper()} inference (no_grad forward), float32, batch {x.shape[0]}"
        print(H.banner(title))
        timings = _time_steps(impls, cfg, cfg.reps(15 if kind == "mlp" else 5, 5), "infer")
        out[kind] = {
            "timings": {n: t.summary() for n, t in timings.items()},
            "engine_over_hand": timings[eng].median / timings[hand].median,
            "engine_over_hand_min": min(timings[eng].samples) / min(timings[hand].samples),
            "engine_over_hand_paired": H.paired_ratio(timings[eng], timings[hand]),
            "logits_max_rel_err": err,
        }
    H.write_json(cfg, "inference", out)
    return out
