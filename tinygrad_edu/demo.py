"""``python -m tinygrad_edu demo``: the lecture's graph out = 3 * (a + b * c), its tape, its
backward node by node, and every gradient checked against central differences."""

from __future__ import annotations

import numpy as np

import tinygrad_edu as tg


def main(argv: list[str] | None = None) -> int:
    a = tg.tensor(1.5, dtype=tg.float64, requires_grad=True)
    b = tg.tensor(-2.0, dtype=tg.float64, requires_grad=True)
    c = tg.tensor(4.0, dtype=tg.float64, requires_grad=True)
    out = 3 * (a + b * c)
    print("out = 3 * (a + b * c) with a=1.5, b=-2, c=4  ->", out.item())
    print("\nthe tape (one record per op, in the order they ran):")
    print(tg.get_tape())
    print("\nbackward, one node at a time (reverse tape order):")
    for step in tg.backward_steps(out):
        print(" ", step)

    from tinygrad_edu.gradcheck import numerical_grad

    def f(a, b, c):
        return 3 * (a + b * c)

    numeric = numerical_grad(f, (a.detach(), b.detach(), c.detach()), eps=1e-6)
    expected = {"a": 3.0, "b": 3 * c.item(), "c": 3 * b.item()}
    print(f"\n{'':>4} {'backprop':>10} {'numerical':>10} {'closed form':>12}")
    ok = True
    for name, t, num in zip("abc", (a, b, c), numeric):
        g = t.grad.item()
        ok &= bool(np.isclose(g, float(num), rtol=1e-6)) and np.isclose(g, expected[name])
        print(f"d/d{name} {g:>10.6f} {float(num):>10.6f} {expected[name]:>12.6f}")
    print("\nall gradients agree:", ok)
    return 0 if ok else 1
