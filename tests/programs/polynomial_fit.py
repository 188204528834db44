"""Fit sin(x) with a cubic three ways, as PyTorch's "Learning PyTorch with Examples" does:
tensors and autograd with a hand-written update under ``no_grad``; ``nn.Sequential`` with a
loss module and an optimizer; and a custom ``torch.autograd.Function`` (the Legendre
polynomial P3) with its own backward.

It is a PyTorch program: only the import block below differs from the one that runs on
PyTorch. Each fit is checked against the same gradient descent written in NumPy with the
closed-form gradient.
"""

import math

import numpy as np

import tinygrad_edu as torch

dtype = torch.float64
x = torch.linspace(-math.pi, math.pi, 2000, dtype=dtype)
y = torch.sin(x)
xs, ys = x.numpy(), y.numpy()

# ---- 1. tensors and autograd, updated by hand ---------------------------------------------------
torch.manual_seed(0)
a = torch.randn((), dtype=dtype, requires_grad=True)
b = torch.randn((), dtype=dtype, requires_grad=True)
c = torch.randn((), dtype=dtype, requires_grad=True)
d = torch.randn((), dtype=dtype, requires_grad=True)
start = np.array([a.item(), b.item(), c.item(), d.item()])

learning_rate = 1e-6
for t in range(2000):
    y_pred = a + b * x + c * x**2 + d * x**3
    loss = (y_pred - y).pow(2).sum()
    if t % 500 == 499:
        print(t, loss.item())
    loss.backward()
    with torch.no_grad():
        a -= learning_rate * a.grad
        b -= learning_rate * b.grad
        c -= learning_rate * c.grad
        d -= learning_rate * d.grad
        a.grad = None
        b.grad = None
        c.grad = None
        d.grad = None
print(f"Result: y = {a.item()} + {b.item()} x + {c.item()} x^2 + {d.item()} x^3")

# the same descent in NumPy: d/dw sum((Xw - y)^2) = 2 X^T (Xw - y)
X = np.stack([np.ones_like(xs), xs, xs**2, xs**3], axis=1)
w = start.copy()
for t in range(2000):
    w -= learning_rate * 2 * X.T @ (X @ w - ys)
fitted = np.array([a.item(), b.item(), c.item(), d.item()])
assert np.allclose(fitted, w, rtol=1e-9, atol=1e-12), (fitted, w)

# ---- 2. nn.Sequential, a loss module and an optimizer -------------------------------------------
p = torch.tensor([1, 2, 3])
xx = x.unsqueeze(-1).pow(p)
model = torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Flatten(0, 1)).to(dtype)
loss_fn = torch.nn.MSELoss(reduction="sum")
optimizer = torch.optim.RMSprop(model.parameters(), lr=1e-3)
for t in range(2000):
    y_pred = model(xx)
    loss = loss_fn(y_pred, y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
linear_layer = model[0]
print(f"Result: y = {linear_layer.bias.item()} + {linear_layer.weight[:, 0].item()} x + "
      f"{linear_layer.weight[:, 1].item()} x^2 + {linear_layer.weight[:, 2].item()} x^3")
assert loss.item() < 20.0, loss.item()  # the least-squares cubic leaves about 8.8


# ---- 3. a custom autograd Function ------------------------------------------------------------
class LegendrePolynomial3(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return 0.5 * (5 * input**3 - 3 * input)

    @staticmethod
    def backward(ctx, grad_output):
        (input,) = ctx.saved_tensors
        return grad_output * 1.5 * (5 * input**2 - 1)


a = torch.full((), 0.0, dtype=dtype, requires_grad=True)
b = torch.full((), -1.0, dtype=dtype, requires_grad=True)
c = torch.full((), 0.0, dtype=dtype, requires_grad=True)
d = torch.full((), 0.3, dtype=dtype, requires_grad=True)
learning_rate = 5e-6
for t in range(2000):
    P3 = LegendrePolynomial3.apply
    y_pred = a + b * P3(c + d * x)
    loss = (y_pred - y).pow(2).sum()
    loss.backward()
    with torch.no_grad():
        for param in (a, b, c, d):
            param -= learning_rate * param.grad
            param.grad = None
print(f"Result: y = {a.item()} + {b.item()} * P3({c.item()} + {d.item()} x)")

# the same descent in NumPy, with the chain rule written out
w = np.array([0.0, -1.0, 0.0, 0.3])
for t in range(2000):
    u = w[2] + w[3] * xs
    p3, dp3 = 0.5 * (5 * u**3 - 3 * u), 1.5 * (5 * u**2 - 1)
    r = 2 * (w[0] + w[1] * p3 - ys)
    w -= learning_rate * np.array([r.sum(), (r * p3).sum(), (r * w[1] * dp3).sum(),
                                   (r * w[1] * dp3 * xs).sum()])
fitted = np.array([a.item(), b.item(), c.item(), d.item()])
assert np.allclose(fitted, w, rtol=1e-9, atol=1e-12), (fitted, w)
