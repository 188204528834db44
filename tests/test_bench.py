"""The benchmark code runs, and its hand-written NumPy references agree with the engine.

Behaviour only: nothing here looks at a timing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu.bench import harness as H
from tinygrad_edu.bench import models as M
from tinygrad_edu.bench import numdiff, overhead, steps
from tinygrad_edu.bench import reference_numpy as R


def _tiny(tmp_path, **kw) -> H.Config:
    kw = {
        "out": tmp_path,
        "rounds": 1,
        "sleep": 0.0,
        "max_reps": 1,
        "compare": False,
        "plots": False,
        **kw,
    }
    return H.Config.make(quick=True, **kw)


# -- the references against the engine ---------------------------------------------------------


@pytest.mark.parametrize("kind", ["mlp", "cnn"])
def test_hand_numpy_gradients_match_the_engine(kind):
    if kind == "mlp":
        params, (x, y) = R.init_mlp((20, 16, 12, 10), np.float64), R.batch("mlp", 6, np.float64)
        x = x[:, :20].copy()
        engine, hand = M.engine_mlp(params, x, y), M.hand_mlp(params, x, y)
    else:
        params, (x, y) = R.init_cnn(np.float64), R.batch("cnn", 3, np.float64)
        engine, hand = M.engine_cnn(params, x, y), M.hand_cnn(params, x, y)
    want = hand.grads()
    assert [g.shape for g in want] == [p.shape for p in params]
    assert M.max_rel_err(engine.grads(), want) < 1e-10
    np.testing.assert_allclose(engine.infer()._data, hand.infer(), rtol=1e-10, atol=1e-12)


def test_fast_and_plain_nchw_cnn_references_agree():
    params, (x, y) = R.init_cnn(np.float64), R.batch("cnn", 3, np.float64)
    loss_fast, fast = R.cnn_loss_grads(params, x, y)
    loss_plain, plain = R.cnn_nchw_loss_grads(params, x, y)
    assert loss_fast == pytest.approx(loss_plain, rel=1e-12)
    assert M.max_rel_err(fast, plain) < 1e-12


def test_hand_mlp_gradient_matches_central_differences():
    params, (x, y) = R.init_mlp((5, 4, 10), np.float64), R.batch("mlp", 4, np.float64)
    x = x[:, :5].copy()
    _, grads = R.mlp_loss_grads(params, x, y)
    w = params[0]
    eps = 1e-6
    for idx in [(0, 0), (2, 3), (3, 1)]:
        old = w[idx]
        w[idx] = old + eps
        f_plus = R.mlp_loss(params, x, y)
        w[idx] = old - eps
        f_minus = R.mlp_loss(params, x, y)
        w[idx] = old
        assert grads[0][idx] == pytest.approx((f_plus - f_minus) / (2 * eps), rel=1e-6, abs=1e-9)


def test_mlp_gemms_are_the_hand_steps_products():
    """The GEMM floor times the hand step's own GEMMs: from its traced operands they rebuild
    every layer's pre-activation (then bias and ReLU give the next input), every weight
    gradient, and every input gradient (before the ReLU mask)."""
    params, (x, y) = R.init_mlp((6, 5, 4, 10), np.float64), R.batch("mlp", 3, np.float64)
    x = x[:, :6].copy()
    trace = {}
    _, grads = R.mlp_loss_grads(params, x, y, trace)
    acts, gouts = trace["acts"], trace["gouts"]
    assert [a.shape for a in acts] == [(3, 6), (3, 5), (3, 4)]
    assert [g.shape for g in gouts] == [(3, 5), (3, 4), (3, 10)]
    out = R.mlp_gemms(params, acts, gouts)
    assert len(out) == 8
    for i in range(2):  # forward: relu(a @ W.T + b) is the next layer's input
        np.testing.assert_allclose(np.maximum(out[i] + params[2 * i + 1], 0), acts[i + 1])
    # backward, last layer first: dW3, dx3, dW2, dx2, dW1
    dw = [out[3], out[5], out[7]]
    for layer, g in zip((2, 1, 0), dw):
        np.testing.assert_allclose(g, grads[2 * layer], rtol=1e-12)
    for layer, dx in zip((2, 1), (out[4], out[6])):  # the gradient at the layer's input
        np.testing.assert_allclose(dx * (acts[layer] > 0), gouts[layer - 1], rtol=1e-12)
    # the last forward product, plus its bias, gives the step's loss
    loss, _ = R.softmax_xent(out[2] + params[5], y)
    assert loss == pytest.approx(R.mlp_loss(params, x, y), rel=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_feature_major_hand_step_equals_the_plain_one(dtype):
    params, (x, y) = R.init_mlp((7, 6, 5, 10), dtype), R.batch("mlp", 4, dtype)
    x = x[:, :7].copy()
    loss, grads = R.mlp_loss_grads(params, x, y)
    loss_fm, grads_fm = R.mlp_loss_grads_feature_major(params, x, y)
    assert loss_fm == pytest.approx(loss, rel=1e-6 if dtype == np.float32 else 1e-12)
    assert M.max_rel_err(grads_fm, grads) < (1e-5 if dtype == np.float32 else 1e-12)
    assert all(g.shape == p.shape for g, p in zip(grads_fm, params))
    assert all(g.flags.c_contiguous for g in grads_fm[::2])  # dW in W's layout
    p_plain, p_fm = [a.copy() for a in params], [a.copy() for a in params]
    R.mlp_step(p_plain, x, y, 0.1)
    R.mlp_step_feature_major(p_fm, x, y, 0.1)
    assert M.max_rel_err(p_fm, p_plain) < (1e-5 if dtype == np.float32 else 1e-12)


def test_gemm_floors_through_numpy_and_torch_agree():
    """PyTorch's column runs the same products on PyTorch tensors. Without PyTorch (the
    optional extra) a stand-in with its two calls checks the plumbing."""
    import contextlib
    import types

    torch = H.optional("torch") or types.SimpleNamespace(
        from_numpy=lambda a: a.copy(), no_grad=contextlib.nullcontext
    )
    params, (x, y) = R.init_mlp((6, 5, 4, 10), np.float64), R.batch("mlp", 3, np.float64)
    x = x[:, :6].copy()
    floors = M.mlp_gemm_floors(params, x, y, torch)
    got = floors["GEMMs alone, PyTorch"]()
    for a, b in zip(got, floors["GEMMs alone, NumPy"](), strict=True):
        np.testing.assert_allclose(np.asarray(a), b, rtol=1e-12)
    assert list(M.mlp_gemm_floors(params, x, y)) == ["GEMMs alone, NumPy"]


def test_maxpool_backward_routes_ties_to_the_first_maximum():
    a = np.zeros((1, 2, 2, 1))
    out = R._maxpool_nhwc(a)
    g = R._maxpool_nhwc_backward(np.ones_like(out), a, out)
    assert g.sum() == 1 and g[0, 0, 0, 0] == 1


def test_verify_catches_a_wrong_engine_gradient():
    params, (x, y) = R.init_mlp((20, 10), np.float64), R.batch("mlp", 4, np.float64)
    x = x[:, :20].copy()
    engine, hand = M.engine_mlp(params, x, y), M.hand_mlp(params, x, y)
    right = engine.grads

    def wrong():
        g = right()
        g[0][0, 0] *= 1.001  # a 0.1% error in one entry
        return g

    engine.grads = wrong
    with pytest.raises(AssertionError, match="disagree"):
        steps.verify({engine.name: engine, hand.name: hand}, np.float64)
    engine.grads = right
    assert steps.verify({engine.name: engine, hand.name: hand}, np.float64)[engine.name] < 1e-12


def test_chain_gradient_matches_hand_numpy():
    x0 = np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3)
    assert overhead.check_chain(x0) < 1e-5


def test_numerical_gradient_matches_backprop():
    ps, loss, _ = numdiff._mlp((4, 4, 10))
    for p in ps:
        p.grad = None
    loss().backward()
    coords = [(0, 0), (1, 2), (2, 5), (3, 1)]
    num = numdiff.numerical_grad(ps, loss, coords)
    exact = np.array([ps[i].grad._data.reshape(-1)[j] for i, j in coords])
    np.testing.assert_allclose(num, exact, rtol=1e-5, atol=1e-8)
    assert len(tg.get_tape()) == 0  # the finite differences ran under no_grad


def test_numerical_gradient_matches_backprop_through_a_deep_network():
    ps, loss, _ = numdiff._mlp((4, 4, 4, 4, 4, 10))  # four tanh layers
    for p in ps:
        p.grad = None
    loss().backward()
    coords = [(0, 0), (1, 3), (4, 7), (8, 2), (9, 9)]  # first layer to the output's bias
    num = numdiff.numerical_grad(ps, loss, coords)
    exact = np.array([ps[i].grad._data.reshape(-1)[j] for i, j in coords])
    np.testing.assert_allclose(num, exact, rtol=1e-5, atol=1e-9)


def test_scaling_families_span_the_issue_range():
    """Both families run from ~1e2 to ~1e5 parameters: depth at width 8, and width."""
    cfg = H.Config.make()
    for family in ("deep", "wide"):
        sizes = numdiff._sizes(family, cfg)
        counts = [sum(a * b + b for a, b in zip(s[:-1], s[1:])) for s in sizes]
        assert counts == sorted(counts) and counts[0] < 200 and 9e4 < counts[-1] < 2e5
    assert {len(s) for s in numdiff._sizes("deep", cfg)} == {3, 7, 20, 67, 248, 732, 1472}


def test_scaling_fits_recover_known_powers():
    """Times made as c·N² and c·N give slopes 2, 1 and 1 (the ratio), over all sizes and over
    the large-N range alone."""
    n = np.array([150, 1500, 15000, 60000, 150000], float)
    rows = [{"N": k, "numerical_s": 3e-9 * k**2, "backprop_s": 2e-6 * k, "speedup": 1.5e-3 * k}
            for k in n]
    fits = numdiff._fits(rows)
    for key, power in (("numerical_s", 2), ("backprop_s", 1), ("speedup", 1)):
        assert fits[key]["all"] == pytest.approx(power)
        assert numdiff.slope(fits, key) == pytest.approx(power)
    assert "large N" not in numdiff._fits(rows[:3])["numerical_s"]  # one size above 1e4


# -- the harness and the runner ---------------------------------------------------------------


def test_compare_alternates_blocks_and_pools_samples(tmp_path):
    calls = []
    cfg = _tiny(tmp_path, rounds=3)
    timings = H.compare(
        {"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}, cfg, reps=2, warmup=1
    )
    # round 0: a then b; round 1: b then a; round 2: a then b (1 warm-up + 2 timed each)
    assert "".join(calls) == "aaabbb" + "bbbaaa" + "aaabbb"
    assert [len(t.samples) for t in timings.values()] == [6, 6]
    table = H.timing_table(timings, "a")
    assert "1.00x" in table and "faults" in table and "min" in table


def test_bench_package_imports_no_optional_dependency():
    code = (
        "import sys, tinygrad_edu.bench, tinygrad_edu.bench.steps, "
        "tinygrad_edu.bench.numdiff, tinygrad_edu.bench.overhead, tinygrad_edu.bench.memory; "
        "print([m for m in ('torch', 'matplotlib', 'threadpoolctl', 'autograd', 'mygrad') "
        "if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_cli_runs_every_benchmark_in_a_tiny_configuration(tmp_path, capsys):
    from tinygrad_edu import bench

    pytest.importorskip("matplotlib")
    rc = bench.cli(
        [
            "--quick",
            "--no-compare",
            "--rounds",
            "1",
            "--reps",
            "1",
            "--sleep",
            "0",
            "--out",
            str(tmp_path),
        ]
    )
    assert rc == 0
    text = capsys.readouterr().out
    for title in (
        "numerical differentiation vs backprop",
        "MLP step",
        "CNN step",
        "per-op overhead",
        "peak memory",
        "inference",
        "alternating step pairs",
        "detect_anomaly",
        "targets",
    ):
        assert title in text
    for name in (
        "numdiff_vs_backprop",
        "mlp_step",
        "cnn_step",
        "per_op_overhead",
        "peak_memory",
        "inference",
        "pairs",
        "anomaly_mode",
        "summary",
    ):
        data = json.loads((tmp_path / f"{name}.json").read_text())
        assert data["environment"]["numpy"] == np.__version__
    assert (tmp_path / "numdiff_vs_backprop.png").stat().st_size > 0
    assert (tmp_path / "README_performance.md").read_text().startswith("## Performance")
    scaling = json.loads((tmp_path / "numdiff_vs_backprop.json").read_text())["scaling"]
    for family in ("deep", "wide"):
        rows = scaling[family]["rows"]
        assert all(r["grad_max_rel_err"] < 1e-4 for r in rows)
        assert any(r["extrapolated"] for r in rows) and not rows[0]["extrapolated"]


def test_cli_rejects_an_unknown_benchmark():
    from tinygrad_edu import bench

    with pytest.raises(SystemExit):
        bench.parse_args(["--only", "nope"])


def _instructions_script():
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "instructions.py"
    spec = importlib.util.spec_from_file_location("bench_instructions", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("impl", ["engine", "hand"])
def test_instruction_counter_child_steps_each_implementation(impl):
    """The child the callgrind benchmark runs: builds the model and steps it (no valgrind)."""
    import gc

    mod = _instructions_script()
    try:
        assert mod.main(["--child", "tiny", impl, "2"]) == 0
    finally:
        gc.enable()  # the child disables it for the count


def test_instruction_counter_says_when_valgrind_is_missing(monkeypatch, capsys, tmp_path):
    mod = _instructions_script()
    monkeypatch.setattr(mod.shutil, "which", lambda name: None)
    assert mod.main(["--out", str(tmp_path)]) == 2
    assert "valgrind is not installed" in capsys.readouterr().err
    assert not (tmp_path / "instructions.json").exists()


def test_pairs_benchmark_writes_a_ratio_per_model_and_restores_threads(tmp_path, capsys):
    """The step-by-step comparison (one BLAS thread): runs both implementations in pairs, each
    case in a fresh process, writes one ratio per model and mode, judges the hand-relative
    targets on it, and leaves this process's BLAS threads alone (speed is never asserted)."""
    from tinygrad_edu import bench
    from tinygrad_edu.bench import pairs

    before = H.numpy_blas_threads()
    assert bench.cli(["--only", "pairs", "--quick", "--no-compare", "--no-plots",
                      "--out", str(tmp_path)]) == 0
    assert H.numpy_blas_threads() == before
    rows = json.loads((tmp_path / "pairs.json").read_text())["results"]
    assert [(r["model"], r["what"]) for r in rows] == [
        ("mlp", "step"), ("cnn", "step"), ("mlp", "infer"), ("cnn", "infer"),
        ("mlp", "cheap"), ("cnn", "cheap"), ("mlp", "gemms"), ("mlp", "layout"),
    ]  # (no PyTorch cases with --no-compare)
    for r in rows:
        assert r["pairs"] == 2 and r["ratio_p25"] <= r["ratio_median"] <= r["ratio_p75"]
        assert r["processes"] == 1 and len(r["process_medians"]) == 1 and "ratios" not in r
    pids = {pid for r in rows for pid in r["pids"]}  # each case in a fresh process of its own
    assert len(pids) == len(rows) and os.getpid() not in pids
    cheap = pairs.ratio({"results": rows}, "mlp", "cheap")["ratio_median"]
    assert np.isfinite(cheap) and cheap > 0  # (a ratio of times: never judged in a test)
    summary = json.loads((tmp_path / "summary.json").read_text())["targets"]
    assert [t["measure"] for t in summary] == ["pairs"] * 5
    out = capsys.readouterr().out
    assert "engine / hand NumPy = " in out and "engine fwd+bwd / engine fwd = " in out


def test_pairs_of_several_processes_are_pooled():
    """A case measured in several fresh processes: quantiles of all their pair ratios together
    (NumPy's on the concatenation), each process's own median listed beside them."""
    from tinygrad_edu.bench import pairs

    rng = np.random.default_rng(0)
    runs = [rng.normal(m, 0.03, 40) for m in (1.02, 1.05, 1.09)]
    rows = [{"model": "mlp", "what": "step", "pairs": 40, "ratio_median": float(np.median(r)),
             "ratios": r.tolist(), "pid": 100 + i} for i, r in enumerate(runs)]
    row = pairs.combine(rows)
    pooled = np.concatenate(runs)
    assert row["ratio_median"] == pytest.approx(np.median(pooled))
    assert (row["ratio_p25"], row["ratio_p75"]) == pytest.approx(
        (np.percentile(pooled, 25), np.percentile(pooled, 75)))
    assert row["process_medians"] == [np.median(r) for r in runs] and row["pids"] == [100, 101, 102]
    assert (row["processes"], row["pairs"]) == (3, 40) and "ratios" not in row


def test_a_failing_pairs_process_raises_with_its_error():
    from tinygrad_edu.bench import pairs

    with pytest.raises(RuntimeError, match=r"(?s)measuring mlp bogus failed .*AttributeError"):
        pairs.measure_fresh("mlp", "bogus", 2)


def _pair(model, what, median):
    return {"model": model, "what": what, "pairs": 400, "ratio_median": median,
            "ratio_p25": median - 0.03, "ratio_p75": median + 0.03}


def test_readme_section_names_numpys_blas_and_scipys_beside(monkeypatch):
    """SciPy's own OpenBLAS (the optimizers' axpy) may be listed first: the README must still
    say which BLAS NumPy runs, and name SciPy's beside it."""
    from tinygrad_edu import bench

    env = H.environment()
    env["blas"] = [
        {"user_api": "blas", "internal_api": "openblas", "version": "0.3.30",
         "filepath": "/x/scipy.libs/libscipy_openblas.so", "num_threads": 1},
        {"user_api": "blas", "internal_api": "openblas", "version": "0.3.31",
         "filepath": "/x/numpy.libs/libscipy_openblas64_.so", "num_threads": 1,
         "architecture": "SkylakeX"},
    ]
    monkeypatch.setattr(H, "environment", lambda: env)
    results = {
        "mlp": {"float32": {"timings": {}}}, "cnn": {"timings": {}},
        "overhead": {"chain": {"1": {"us_per_op": {}}}},
        "numdiff": {"scaling": {family: {"fits": {
            "numerical_s": {"all": 2.0}, "backprop_s": {"all": 1.0}, "speedup": {"all": 1.0}
        }} for family in ("deep", "wide")}},
    }
    text = bench.readme_section([], results, "python -m tinygrad_edu bench")
    assert "with openblas 0.3.31 (kernel SkylakeX, 1 thread(s)), SciPy's openblas 0.3.30" in text


def test_targets_judge_hand_ratios_on_pairs_and_show_the_blocks_beside():
    """With both measurements the step pairs decide and the block value is kept beside them;
    without pairs the blocks decide; ratios to PyTorch too (blocks when PyTorch was not
    paired)."""
    from tinygrad_edu.bench import targets

    mlp = {"float32": {"engine_over_hand": 1.18, "engine_over_hand_paired": [1.19, 1.04, 1.27],
                       "engine_over_hand_min": 1.07, "engine_over_torch": 1.02,
                       "engine_over_torch_paired": [1.03, 0.9, 1.1]}}
    pairs = {"results": [_pair("mlp", "step", 1.04), _pair("cnn", "step", 1.2)]}
    rows = {r["target"]: r for r in targets({"mlp": mlp, "pairs": pairs})}
    hand = rows["MLP step / hand NumPy"]
    assert (hand["value"], hand["measure"], hand["value_of_blocks"]) == (1.04, "pairs", 1.19)
    assert hand["holds"] and hand["paired_p25_p75"] == (1.04 - 0.03, 1.04 + 0.03)
    torch = rows["MLP step / PyTorch"]
    assert (torch["value"], torch["measure"], torch["holds"]) == (1.03, "blocks", False)
    cnn = rows["CNN step / hand NumPy (fast im2col)"]  # pairs only: no block value
    assert cnn["value"] == 1.2 and cnn["value_of_blocks"] is None and not cnn["holds"]
    assert round(cnn["miss_pct"]) == 4
    blocks_only = {r["target"]: r for r in targets({"mlp": mlp})}["MLP step / hand NumPy"]
    assert (blocks_only["value"], blocks_only["measure"]) == (1.19, "blocks")
    assert not blocks_only["holds"] and round(blocks_only["miss_pct"]) == 13
    pairs["results"].append(_pair("mlp", "torch", 0.98))
    torch = {r["target"]: r for r in targets({"mlp": mlp, "pairs": pairs})}["MLP step / PyTorch"]
    assert (torch["value"], torch["measure"], torch["value_of_blocks"]) == (0.98, "pairs", 1.03)
    assert torch["holds"]


def test_readme_floor_sentence_prefers_pairs_then_blocks():
    from tinygrad_edu.bench import _floor_sentence

    mlp = {"float32": {"gemms_numpy_over_hand": [0.8, 0.7, 0.9],
                       "feature_major_over_hand": [0.93, 0.9, 0.95]}}
    pairs = {"results": [_pair("mlp", "gemms", 0.86), _pair("mlp", "torch-gemms", 0.82)]}
    text = _floor_sentence({"mlp": mlp, "pairs": pairs})
    assert "eight GEMMs alone take 0.860x (pairs) the hand-written step" in text
    assert "PyTorch's GEMMs take 0.820x (pairs) NumPy's" in text
    assert "(features, batch) activations: 0.93x (blocks)" in text  # no layout pair: blocks
    text = _floor_sentence({"mlp": mlp})
    assert "0.80x (blocks)" in text and "PyTorch" not in text
    assert _floor_sentence({"mlp": {"float32": {}}}) == ""


def test_pytorch_pairs_run_on_one_thread_each_in_a_fresh_process():
    """With PyTorch installed the pairs also time the engine against it, step by step (both on
    one thread, so no pool spins), and PyTorch's GEMMs against NumPy's."""
    pytest.importorskip("torch")
    from tinygrad_edu.bench import pairs

    for kind, what in pairs.TORCH_CASES:
        row = pairs.measure_fresh(kind, what, 2)
        assert (row["model"], row["what"], row["pairs"]) == (kind, what, 2)
        assert np.isfinite(row["ratio_median"]) and row["ratio_median"] > 0


def test_instruction_counter_keeps_the_rows_of_models_it_did_not_run(monkeypatch, tmp_path):
    """--models cnn (the slow one) updates its row and keeps tiny/mlp from an earlier run."""
    import json

    mod = _instructions_script()
    monkeypatch.setattr(mod.shutil, "which", lambda name: "/usr/bin/valgrind")
    counts = {"engine": 110.0, "hand": 100.0}
    monkeypatch.setattr(mod, "per_step", lambda model, impl, steps: counts[impl])
    assert mod.main(["--models", "tiny,mlp", "--out", str(tmp_path)]) == 0
    counts["engine"] = 120.0
    assert mod.main(["--models", "cnn", "--out", str(tmp_path)]) == 0
    rows = json.loads((tmp_path / "instructions.json").read_text())["per_step_instructions"]
    assert sorted(rows) == ["cnn", "mlp", "tiny"]
    assert rows["tiny"]["engine"] == 110.0 and rows["cnn"]["engine"] == 120.0


def test_per_op_target_is_also_judged_as_a_ratio_to_pytorch():
    """The per-op chain's microseconds, and beside them its ratio to PyTorch (the issue's
    10 us / 13.8 us): from the chain pairs when PyTorch was paired, else from the blocks."""
    from tinygrad_edu.bench import PER_OP_OVER_TORCH, targets

    overhead = {"n_ops": 2100, "chain": {"1": {
        "us_per_op": {"tinygrad_edu": 11.0, "PyTorch": 15.0},
        "timings": {"tinygrad_edu": {"min_s": 2100 * 7e-6}},
    }}}
    rows = {r["target"]: r for r in targets({"overhead": overhead})}
    us = rows["per-op fwd+bwd, 1 element"]
    assert (us["value"], us["holds"], round(us["value_of_minima"], 6)) == (11.0, False, 7.0)
    ratio = rows["per-op / PyTorch (10 us / 13.8 us)"]
    assert ratio["measure"] == "blocks" and abs(ratio["value"] - 11 / 15) < 1e-12
    assert ratio["limit"] == PER_OP_OVER_TORCH and not ratio["holds"]  # 0.733 > 0.725
    pairs = {"results": [_pair("chain", "torch", 0.66)]}
    ratio = {r["target"]: r for r in targets({"overhead": overhead, "pairs": pairs})}[
        "per-op / PyTorch (10 us / 13.8 us)"]
    assert (ratio["value"], ratio["measure"], ratio["holds"]) == (0.66, "pairs", True)
    assert abs(ratio["value_of_blocks"] - 11 / 15) < 1e-12
    no_torch = overhead["chain"]["1"]["us_per_op"].pop("PyTorch")
    assert no_torch and not any("PyTorch" in r["target"] for r in targets({"overhead": overhead}))


def test_environment_names_the_version_of_a_module_without_dunder_version(monkeypatch):
    """HIPS autograd has no __version__: the environment line reads its distribution's
    version (a stand-in module and metadata here), and '?' only when there is none."""
    import types
    from importlib import metadata

    stand_in = types.ModuleType("autograd")
    monkeypatch.setitem(sys.modules, "autograd", stand_in)
    monkeypatch.setattr(metadata, "version", lambda name: {"autograd": "1.9.1"}[name])
    assert H.environment()["autograd"] == "1.9.1"

    def missing(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", missing)
    assert H.environment()["autograd"] == "?"
