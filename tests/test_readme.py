"""The README's Python examples run as printed, and say what they compute."""

from __future__ import annotations

import os
import re

import numpy as np
import pytest

import tinygrad_edu as tg

README = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(tg.__file__))), "README.md")


def _blocks() -> list[str]:
    with open(README, encoding="utf-8") as f:
        return re.findall(r"```python\n(.*?)```", f.read(), re.S)


def test_the_readme_has_its_examples():
    assert len(_blocks()) >= 6


def test_every_python_block_runs_in_order(tmp_path, monkeypatch):
    pytest.importorskip("sklearn")  # the training example loads the bundled digits
    monkeypatch.chdir(tmp_path)  # the models example writes model.npz
    ns: dict = {}
    seen = {}
    try:
        for i, block in enumerate(_blocks()):
            exec(compile(block, f"README.md python block {i}", "exec"), ns)
            if "class Cube" in block:  # the custom op: d/dx x**3 at 2 is 12
                seen["cube"] = ns["x"].grad._data.copy()
            if "def test_cube" in block:  # the op-testing kit's example, run as pytest would
                ns["test_cube"]()
                seen["check_op"] = True
            if "get_tape()" in block:
                seen["tape"] = len(tg.get_tape())
    finally:
        ns.clear()
        tg.get_tape().clear()
    np.testing.assert_array_equal(seen["cube"], [12.0])
    assert seen["check_op"] and seen["tape"] == 2  # linear and relu: two records
