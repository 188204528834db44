"""The grad-mode API as PyTorch's: ``set_grad_enabled`` as a plain call, a context manager and a
decorator; ``inference_mode``; ``no_grad`` / ``enable_grad`` as bare decorators.

Each case runs a block and reports (is_grad_enabled, is_inference_mode_enabled, whether an op
on a tensor that requires grad was recorded) inside it and after it; the expected values are
PyTorch's documented behaviour.
"""

from __future__ import annotations

import threading

import pytest

import tinygrad_edu as tg


def _state() -> tuple:
    x = tg.tensor([1.0], requires_grad=True)
    return tg.is_grad_enabled(), tg.is_inference_mode_enabled(), (x * 2).requires_grad


ON, OFF, INFERENCE = (True, False, True), (False, False, False), (False, True, False)


def _plain_call_off():
    tg.set_grad_enabled(False)
    inside = _state()
    tg.set_grad_enabled(True)
    return inside


def _with(manager):
    def run():
        with manager():
            return _state()

    return run


def _decorated(decorator):
    def run():
        return decorator(_state)()

    return run


def _nested(outer, inner):
    def run():
        with outer(), inner():
            return _state()

    return run


def _with_decorated(outer, decorator):
    def run():
        with outer():
            return decorator(_state)()

    return run


def _decorator_defined_then_called():
    @tg.set_grad_enabled(False)
    def f():
        return _state()

    between = _state()  # defining the function must not switch the mode
    assert between == ON, between
    return f()


CASES = {
    "set_grad_enabled(False) called": (_plain_call_off, OFF),
    "with set_grad_enabled(False)": (_with(lambda: tg.set_grad_enabled(False)), OFF),
    "with set_grad_enabled(True) in no_grad": (
        _nested(tg.no_grad, lambda: tg.set_grad_enabled(True)), ON),
    "@set_grad_enabled(False)": (_decorator_defined_then_called, OFF),
    "with inference_mode()": (_with(tg.inference_mode), INFERENCE),
    "@inference_mode()": (_decorated(tg.inference_mode()), INFERENCE),
    "@inference_mode": (_decorated(tg.inference_mode), INFERENCE),
    "inference_mode(False) in inference_mode": (
        _nested(tg.inference_mode, lambda: tg.inference_mode(False)), ON),
    "inference_mode(False) in no_grad": (
        _nested(tg.no_grad, lambda: tg.inference_mode(False)), ON),
    "@no_grad": (_decorated(tg.no_grad), OFF),
    "@no_grad()": (_decorated(tg.no_grad()), OFF),
    "with enable_grad() in no_grad": (_nested(tg.no_grad, tg.enable_grad), ON),
    "@enable_grad in no_grad": (_with_decorated(tg.no_grad, tg.enable_grad), ON),
    "@enable_grad() in no_grad": (_with_decorated(tg.no_grad, tg.enable_grad()), ON),
}


@pytest.mark.parametrize("name", CASES)
def test_grad_mode_inside_and_after(name) -> None:
    run, inside = CASES[name]
    assert run() == inside
    assert _state() == ON  # everything is restored afterwards


def test_set_grad_enabled_called_plainly_stays_switched() -> None:
    tg.set_grad_enabled(False)
    try:
        assert _state() == OFF
        assert _state() == OFF  # no `with`, no end: it lasts until switched back
    finally:
        tg.set_grad_enabled(True)
    assert _state() == ON


@pytest.mark.parametrize(
    "manager", [tg.no_grad, tg.inference_mode, lambda: tg.set_grad_enabled(False)]
)
def test_modes_come_back_after_an_exception(manager) -> None:
    with pytest.raises(ZeroDivisionError):
        with manager():
            1 / 0
    assert _state() == ON


def test_set_grad_enabled_in_one_thread_leaves_the_others_recording() -> None:
    switched, release, seen = threading.Event(), threading.Event(), []

    def worker():
        tg.set_grad_enabled(False)
        seen.append(_state())
        switched.set()
        release.wait(5)

    t = threading.Thread(target=worker)
    t.start()
    switched.wait(5)
    try:
        assert seen == [OFF] and _state() == ON
    finally:
        release.set()
        t.join()


def test_decorated_functions_keep_their_names() -> None:
    @tg.inference_mode
    def predict():
        """Docs."""

    assert predict.__name__ == "predict" and predict.__doc__ == "Docs."
