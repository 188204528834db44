"""What a plain ``pip install -e .`` promises: the package imports with numpy and scipy alone.

Each check runs in a fresh interpreter in which the optional packages cannot be found (a
``sys.meta_path`` finder refuses them, as if they were not installed), so an import of one of
them at package import time fails here.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import tinygrad_edu

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(tinygrad_edu.__file__)))
OPTIONAL = ("matplotlib", "tqdm", "sklearn", "hypothesis", "graphviz", "threadpoolctl", "torch",
            "pytest", "IPython")

_BLOCK = f"""
import sys

class _NotInstalled:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in {OPTIONAL!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None

sys.meta_path.insert(0, _NotInstalled())
"""


def _run(code: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=ROOT)
    return subprocess.run(
        [sys.executable, "-c", _BLOCK + textwrap.dedent(code)],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=120,
    )


def test_the_finder_really_hides_the_optional_packages():
    r = _run("import hypothesis")
    assert r.returncode != 0 and "No module named 'hypothesis'" in r.stderr


def test_the_package_imports_with_numpy_and_scipy_only():
    r = _run(
        """
        import tinygrad_edu as tg
        import tinygrad_edu.nn, tinygrad_edu.optim, tinygrad_edu.utils.data, tinygrad_edu.datasets
        import tinygrad_edu.gradcheck, tinygrad_edu.autograd, tinygrad_edu.viz, tinygrad_edu.train
        import tinygrad_edu.utils.history, tinygrad_edu.utils.plot, tinygrad_edu.utils.receptive
        x = tg.tensor([1.0, 2.0], requires_grad=True)
        (x * x).sum().backward()
        print(x.grad.tolist())
        """
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["[2.0,", "4.0]"]


def test_testing_without_hypothesis_names_the_test_extra():
    r = _run("import tinygrad_edu.testing")
    assert r.returncode != 0
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: tinygrad_edu.testing needs hypothesis"), r.stderr
    assert '".[test]"' in last and "tinygrad_edu[test]" in last


def test_testing_imports_when_hypothesis_is_there():
    r = subprocess.run([sys.executable, "-c", "import tinygrad_edu.testing"], capture_output=True,
                       text=True, env=dict(os.environ, PYTHONPATH=ROOT), cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stderr
