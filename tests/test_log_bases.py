"""log10 and log2: values against NumPy, gradients against the closed form 1 / (x ln b)."""

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu.gradcheck import gradcheck, gradgradcheck


@pytest.mark.parametrize("name, base", [("log10", 10.0), ("log2", 2.0)])
def test_log_in_a_base(name, base):
    a = np.array([0.5, 1.0, 3.0, 100.0])
    x = tg.tensor(a, requires_grad=True)
    y = getattr(x, name)()
    np.testing.assert_allclose(y.detach().numpy(), getattr(np, name)(a), rtol=1e-12)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 1.0 / (a * np.log(base)), rtol=1e-12)
    assert gradcheck(getattr(tg, name), (x,)) and gradgradcheck(getattr(tg, name), (x,))
