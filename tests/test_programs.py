"""Whole PyTorch programs, changed only in their import block, run start to finish.

Each file in ``tests/programs/`` is a program in the style real users write (a course's
language model, a manual-backprop exercise, a convolutional classifier, PyTorch's
polynomial-fitting tutorial). Each checks its own result against an independent reference
(NumPy, a closed form, autograd against hand-derived gradients) with ``assert`` statements;
this test runs each in a fresh interpreter and requires a clean exit.
"""

from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys

import pytest

PROGRAMS = sorted((pathlib.Path(__file__).parent / "programs").glob("*.py"))
ROOT = pathlib.Path(__file__).resolve().parent.parent
TORCH_IMPORT = re.compile(r"^\s*(import torch|from torch)\b", re.MULTILINE)


def test_there_are_programs():
    assert len(PROGRAMS) >= 4


@pytest.mark.parametrize("path", PROGRAMS, ids=[p.stem for p in PROGRAMS])
def test_program_runs(path, tmp_path):
    source = path.read_text()
    assert not TORCH_IMPORT.search(source), "a program imports tinygrad_edu, never torch"
    env = dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg")
    done = subprocess.run(
        [sys.executable, str(path)], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=600,
    )
    assert done.returncode == 0, f"{path.name} failed:\n{done.stdout[-3000:]}\n{done.stderr[-5000:]}"
