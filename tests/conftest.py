"""Hypothesis profiles and the hygiene fixture every test runs under.

Profiles: ``dev`` (quick, for the edit-test loop) and ``ci`` (thorough). Pick one with
``HYPOTHESIS_PROFILE=dev|ci``; by default ``ci`` when ``CI=true`` (as .ci/run sets), else ``dev``.

Hygiene: a test that leaves records on the thread's tape, or leaves grad mode or anomaly
mode switched, fails — and the state is reset so the next test starts clean.
"""

from __future__ import annotations

import gc
import os

import pytest
from hypothesis import HealthCheck, settings

import tinygrad_edu as tg
from tinygrad_edu.grad_mode import _modes

# No deadlines anywhere: tests assert behaviour, never speed (a loaded CI box is slow).
settings.register_profile(
    "dev",
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "ci",
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
_default = "ci" if os.environ.get("CI", "").lower() == "true" else "dev"
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", _default))


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Remember each phase's outcome on the test item (the hygiene fixture reads it)."""
    report = yield
    setattr(item, f"_report_{report.when}", report)
    return report


@pytest.fixture(autouse=True)
def tape_hygiene(request):
    """Fail a test that leaves records on the tape or changes grad/anomaly mode."""
    yield
    call = getattr(request.node, "_report_call", None)
    failed = call is not None and call.failed
    if failed:  # its traceback keeps the failing frames' tensors alive: just reset
        request.node._report_call = None
    problems = []
    left = len(tg.get_tape())
    if left:  # records kept only by reference cycles go with a collection (slow: only if needed)
        gc.collect()
        left = len(tg.get_tape())
    if left:
        listing = tg.get_tape().listing()
        problems.append(
            f"the test left {left} record(s) on the tape (a tensor with a graph is still "
            f"alive, e.g. in a global or a fixture):\n{listing}"
        )
        tg.get_tape().clear()
    if not tg.is_grad_enabled() or tg.is_inference_mode_enabled():
        problems.append("the test left grad mode off (a no_grad() that was never exited)")
        _modes.grad_enabled, _modes.inference = True, False
    if tg.is_anomaly_enabled():
        problems.append("the test left anomaly detection on")
        _modes.anomaly = False
    if problems and not failed:
        pytest.fail("hygiene: " + "; ".join(problems), pytrace=False)
