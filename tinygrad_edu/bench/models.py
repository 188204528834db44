"""The benchmark models in every framework, all loaded from the same NumPy parameters.

Each ``make_*`` returns an ``Impl``: zero-argument callables for one training ``step``
(forward, backward, SGD update), a recording ``forward`` (the loss, graph kept), ``fwd_bwd``
(forward + backward, no update), ``infer`` (logits without recording), and ``grads()`` (the
parameter gradients as NumPy arrays in PyTorch layout, for checking against the hand-written
reference). The batch is fixed when the Impl is made.

Frameworks: the engine (``tinygrad_edu``: ``nn``/``optim`` when present, else core ops), the
hand-written NumPy reference, and optional PyTorch, HIPS autograd and MyGrad columns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import reference_numpy as R

LR = 0.01
MLP_SIZES = (784, 512, 256, 10)


@dataclass
class Impl:
    name: str
    step: Callable[[], object]
    forward: Callable[[], object]
    fwd_bwd: Callable[[], object]
    infer: Callable[[], object]
    grads: Callable[[], list]
    params: Callable[[], list] | None = None  # current parameters as arrays (memory checks)


# -- hand-written NumPy ---------------------------------------------------------------------------


def hand_mlp(params, x, y, name: str = "hand NumPy") -> Impl:
    p = [a.copy() for a in params]
    return Impl(
        name,
        step=lambda: R.mlp_step(p, x, y, LR),
        forward=lambda: R.mlp_loss(p, x, y),
        fwd_bwd=lambda: R.mlp_loss_grads(p, x, y),
        infer=lambda: R.mlp_forward(p, x),
        grads=lambda: R.mlp_loss_grads(p, x, y)[1],
        params=lambda: p,
    )


def hand_cnn(params, x, y, name: str = "hand NumPy") -> Impl:
    p = [a.copy() for a in params]
    return Impl(
        name,
        step=lambda: R.cnn_step(p, x, y, LR),
        forward=lambda: R.cnn_loss(p, x, y),
        fwd_bwd=lambda: R.cnn_loss_grads(p, x, y),
        infer=lambda: R.cnn_forward(p, x),
        grads=lambda: R.cnn_loss_grads(p, x, y)[1],
        params=lambda: p,
    )


def hand_cnn_nchw(params, x, y) -> Impl:
    p = [a.copy() for a in params]
    return Impl(
        "hand NumPy NCHW im2col",
        step=lambda: R.cnn_nchw_step(p, x, y, LR),
        forward=lambda: None,
        fwd_bwd=lambda: R.cnn_nchw_loss_grads(p, x, y),
        infer=lambda: None,
        grads=lambda: R.cnn_nchw_loss_grads(p, x, y)[1],
    )


# -- the engine ---------------------------------------------------------------------------------


def engine_has_nn() -> bool:
    """True when the engine's nn / optim layers needed here have landed."""
    try:
        from tinygrad_edu import nn, optim

        nn.Linear, nn.Conv2d, nn.MaxPool2d, nn.ReLU, nn.Sequential, nn.Flatten  # noqa: B018
        nn.functional.cross_entropy, optim.SGD  # noqa: B018
    except (ImportError, AttributeError):
        return False
    return True


def _engine_training(name, model_fn, params_t, x, y, make_opt, zero_grad, loss_fn) -> Impl:
    import tinygrad_edu as tg

    xt, yt = tg.tensor(x), tg.tensor(y)
    opt = make_opt()

    def forward():
        return loss_fn(model_fn(xt), yt)

    def fwd_bwd():
        zero_grad()
        loss = forward()
        loss.backward()
        return loss

    def step():
        loss = fwd_bwd()
        opt()
        return loss

    def infer():
        with tg.no_grad():
            return model_fn(xt)

    def grads():
        fwd_bwd()
        return [p.grad._data.copy() for p in params_t()]

    return Impl(
        name, step, forward, fwd_bwd, infer, grads, params=lambda: [p._data for p in params_t()]
    )


def engine_mlp(params, x, y, name: str = "tinygrad_edu") -> Impl:
    import tinygrad_edu as tg

    if engine_has_nn():
        from tinygrad_edu import nn, optim

        layers = []
        for i in range(len(params) // 2):
            n_out, n_in = params[2 * i].shape
            layers += [nn.Linear(n_in, n_out), nn.ReLU()]
        model = nn.Sequential(*layers[:-1])
        _load(model.parameters(), params)
        sgd = optim.SGD(model.parameters(), lr=LR)
        return _engine_training(
            name,
            model,
            lambda: list(model.parameters()),
            x,
            y,
            lambda: sgd.step,
            sgd.zero_grad,
            nn.functional.cross_entropy,
        )
    ps = [tg.tensor(a, requires_grad=True) for a in params]

    def model(h):
        for i in range(0, len(ps), 2):
            h = h @ ps[i].T + ps[i + 1]
            if i + 2 < len(ps):
                h = h.relu()
        return h

    return _engine_training(
        name + " (core ops)",
        model,
        lambda: ps,
        x,
        y,
        lambda: lambda: _sgd_core(ps),
        lambda: _zero_core(ps),
        _xent_core,
    )


def engine_cnn(params, x, y, name: str = "tinygrad_edu") -> Impl:
    import tinygrad_edu as tg

    if engine_has_nn():
        from tinygrad_edu import nn, optim

        model = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(32 * 7 * 7, 10),
        )
        _load(model.parameters(), params)
        sgd = optim.SGD(model.parameters(), lr=LR)
        return _engine_training(
            name,
            model,
            lambda: list(model.parameters()),
            x,
            y,
            lambda: sgd.step,
            sgd.zero_grad,
            nn.functional.cross_entropy,
        )
    ps = [tg.tensor(a, requires_grad=True) for a in params]

    def model(h):
        h = _conv3x3_core(h, ps[0], ps[1]).relu()
        h = _pool2_core(h)
        h = _conv3x3_core(h, ps[2], ps[3]).relu()
        h = _pool2_core(h)
        return h.reshape(h.shape[0], -1) @ ps[4].T + ps[5]

    return _engine_training(
        name + " (core ops)",
        model,
        lambda: ps,
        x,
        y,
        lambda: lambda: _sgd_core(ps),
        lambda: _zero_core(ps),
        _xent_core,
    )


def _load(parameters, arrays) -> None:
    for p, a in zip(list(parameters), arrays, strict=True):
        if p._data.shape != a.shape:
            raise ValueError(f"bench: parameter shape {p._data.shape} != reference {a.shape}")
        p._data = a.copy()  # takes the reference's dtype too (float64 runs)


# the core-ops fallbacks (used only until nn/optim exist)
def _xent_core(z, y):
    return -(z.log_softmax(-1)[np.arange(z.shape[0]), y._data]).mean()


def _sgd_core(ps):
    for p in ps:
        p._data -= LR * p.grad._data


def _zero_core(ps):
    for p in ps:
        p.grad = None


def _conv3x3_core(x, w, b):
    import tinygrad_edu as tg

    n, c, h, wd = x.shape
    xp = tg.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    cols = tg.stack([xp[:, :, i : i + h, j : j + wd] for i in range(3) for j in range(3)], 2)
    cols = cols.permute(0, 3, 4, 1, 2).reshape(n * h * wd, c * 9)  # (C, kh, kw) order
    out = cols @ w.reshape(w.shape[0], -1).T + b
    return out.reshape(n, h, wd, -1).permute(0, 3, 1, 2)


def _pool2_core(x):
    n, c, h, w = x.shape
    return x.reshape(n, c, h // 2, 2, w // 2, 2).amax((3, 5))


# -- PyTorch ------------------------------------------------------------------------------------


def torch_mlp(params, x, y, torch) -> Impl:
    ps = [torch.tensor(a, requires_grad=True) for a in params]

    def model(h):
        for i in range(0, len(ps), 2):
            h = torch.nn.functional.linear(h, ps[i], ps[i + 1])
            if i + 2 < len(ps):
                h = torch.relu(h)
        return h

    return _torch_training("PyTorch", model, ps, x, y, torch)


def torch_cnn(params, x, y, torch) -> Impl:
    ps = [torch.tensor(a, requires_grad=True) for a in params]
    F = torch.nn.functional

    def model(h):
        h = F.max_pool2d(F.relu(F.conv2d(h, ps[0], ps[1], padding=1)), 2)
        h = F.max_pool2d(F.relu(F.conv2d(h, ps[2], ps[3], padding=1)), 2)
        return F.linear(h.flatten(1), ps[4], ps[5])

    return _torch_training("PyTorch", model, ps, x, y, torch)


def _torch_training(name, model, ps, x, y, torch) -> Impl:
    xt, yt = torch.from_numpy(x.copy()), torch.from_numpy(y.copy())
    opt = torch.optim.SGD(ps, lr=LR)
    xent = torch.nn.functional.cross_entropy

    def forward():
        return xent(model(xt), yt)

    def fwd_bwd():
        opt.zero_grad()
        loss = forward()
        loss.backward()
        return loss

    def step():
        loss = fwd_bwd()
        opt.step()
        return loss

    def infer():
        with torch.no_grad():
            return model(xt)

    def grads():
        fwd_bwd()
        return [p.grad.numpy().copy() for p in ps]

    return Impl(name, step, forward, fwd_bwd, infer, grads)


def hand_mlp_feature_major(params, x, y) -> Callable[[], object]:
    """The hand-written step with (features, batch) activations (``R.mlp_step_feature_major``),
    on its own copy of the parameters: one training step per call."""
    p = [a.copy() for a in params]
    return lambda: R.mlp_step_feature_major(p, x, y, LR)


def mlp_gemm_floors(params, x, y, torch=None) -> dict[str, Callable[[], object]]:
    """The MLP step's eight GEMMs alone (``R.mlp_gemms``: the hand-written step's shapes,
    transposes and order, on its own operands) through NumPy, and through PyTorch when given
    (``torch.matmul`` on the same arrays, no autograd): what each library's BLAS needs for
    the step before anything else runs. PyTorch's GEMMs are its BLAS (MKL in the CPU wheel),
    not NumPy's OpenBLAS, which is how its whole step can take less than the hand-written one."""
    trace: dict = {}
    R.mlp_loss_grads(params, x, y, trace)  # (params unchanged: no update)
    acts, gouts = trace["acts"], trace["gouts"]
    out = {"GEMMs alone, NumPy": lambda: R.mlp_gemms(params, acts, gouts)}
    if torch is not None:
        tp, ta, tg = ([torch.from_numpy(a) for a in arrs] for arrs in (params, acts, gouts))

        def torch_gemms():
            with torch.no_grad():
                return R.mlp_gemms(tp, ta, tg)  # the same expressions on torch tensors

        out["GEMMs alone, PyTorch"] = torch_gemms
    return out


# -- HIPS autograd ------------------------------------------------------------------------------


def autograd_mlp(params, x, y, autograd) -> Impl:
    anp = autograd.numpy

    def logits(ps, h):
        for i in range(0, len(ps), 2):
            h = anp.dot(h, ps[i].T) + ps[i + 1]
            if i + 2 < len(ps):
                h = anp.maximum(h, 0.0)
        return h

    return _autograd_training(params, x, y, logits, autograd)


def autograd_cnn(params, x, y, autograd) -> Impl:
    anp = autograd.numpy

    def conv(h, w, b):  # im2col from 9 stacked slices, (C, kh, kw) column order
        n, c, hh, ww = h.shape
        hp = anp.pad(h, ((0, 0), (0, 0), (1, 1), (1, 1)), "constant")
        cols = anp.stack([hp[:, :, i : i + hh, j : j + ww] for i in range(3) for j in range(3)], 2)
        cols = anp.reshape(anp.transpose(cols, (0, 3, 4, 1, 2)), (n * hh * ww, c * 9))
        out = anp.dot(cols, anp.reshape(w, (w.shape[0], -1)).T) + b
        return anp.transpose(anp.reshape(out, (n, hh, ww, -1)), (0, 3, 1, 2))

    def pool(h):
        n, c, hh, ww = h.shape
        return anp.max(anp.max(anp.reshape(h, (n, c, hh // 2, 2, ww // 2, 2)), axis=5), axis=3)

    def logits(ps, h):
        h = pool(anp.maximum(conv(h, ps[0], ps[1]), 0.0))
        h = pool(anp.maximum(conv(h, ps[2], ps[3]), 0.0))
        return anp.dot(anp.reshape(h, (h.shape[0], -1)), ps[4].T) + ps[5]

    return _autograd_training(params, x, y, logits, autograd)


def _autograd_training(params, x, y, logits, autograd) -> Impl:
    anp = autograd.numpy
    from autograd.scipy.special import logsumexp

    ps = [a.copy() for a in params]
    rows = np.arange(x.shape[0])

    def loss(ps):
        z = logits(ps, x)
        return anp.mean(logsumexp(z, axis=1) - z[rows, y])

    grad_fn = autograd.grad(loss)

    def step():
        for p, g in zip(ps, grad_fn(ps)):
            p -= LR * g

    return Impl(
        "HIPS autograd",
        step,
        lambda: loss(ps),
        lambda: grad_fn(ps),
        lambda: logits(ps, x),
        lambda: [np.asarray(g) for g in grad_fn(ps)],
    )


# -- MyGrad -------------------------------------------------------------------------------------


def mygrad_mlp(params, x, y, mg) -> Impl:
    from mygrad.nnet.activations import relu

    def logits(ps, h):
        for i in range(0, len(ps), 2):
            h = mg.matmul(h, ps[i].T) + ps[i + 1]
            if i + 2 < len(ps):
                h = relu(h)
        return h

    return _mygrad_training(params, x, y, logits, mg)


def mygrad_cnn(params, x, y, mg) -> Impl:
    from mygrad.nnet.activations import relu
    from mygrad.nnet.layers import conv_nd, max_pool

    def logits(ps, h):
        h = max_pool(
            relu(conv_nd(h, ps[0], stride=1, padding=1) + ps[1].reshape(1, -1, 1, 1)), (2, 2), 2
        )
        h = max_pool(
            relu(conv_nd(h, ps[2], stride=1, padding=1) + ps[3].reshape(1, -1, 1, 1)), (2, 2), 2
        )
        return mg.matmul(h.reshape(h.shape[0], -1), ps[4].T) + ps[5]

    return _mygrad_training(params, x, y, logits, mg)


def _mygrad_training(params, x, y, logits, mg) -> Impl:
    from mygrad.nnet.losses import softmax_crossentropy

    ps = [mg.tensor(a.copy()) for a in params]

    def forward():
        return softmax_crossentropy(logits(ps, x), y)

    def fwd_bwd():
        loss = forward()
        loss.backward()
        return loss

    def step():
        fwd_bwd()
        for p in ps:
            p._data -= LR * p.grad

    def infer():
        with mg.no_autodiff:
            return logits(ps, x)

    def grads():
        fwd_bwd()
        return [np.array(p.grad) for p in ps]

    return Impl("MyGrad", step, forward, fwd_bwd, infer, grads)


# -- everything at once ---------------------------------------------------------------------------

_MAKERS = {
    "mlp": (hand_mlp, engine_mlp, torch_mlp, autograd_mlp, mygrad_mlp),
    "cnn": (hand_cnn, engine_cnn, torch_cnn, autograd_cnn, mygrad_cnn),
}


def implementations(
    kind: str, params, x, y, compare: bool = True, skip: tuple[str, ...] = ()
) -> dict[str, Impl]:
    """The engine and the hand reference, then every installed comparison framework."""
    from .harness import optional

    hand, engine, f_torch, f_autograd, f_mygrad = _MAKERS[kind]
    out = {}
    for impl in (engine(params, x, y), hand(params, x, y)):
        out[impl.name] = impl
    if not compare:
        return out
    for mod_name, maker in (("torch", f_torch), ("autograd", f_autograd), ("mygrad", f_mygrad)):
        if mod_name in skip:
            continue
        mod = optional(mod_name)
        if mod is not None:
            impl = maker(params, x, y, mod)
            out[impl.name] = impl
    return out


def max_rel_err(a: list, b: list) -> float:
    """Largest |a - b| / max|b| over corresponding arrays (gradient agreement)."""
    worst = 0.0
    for u, v in zip(a, b, strict=True):
        u, v = np.asarray(u, np.float64), np.asarray(v, np.float64)
        if u.shape != v.shape:
            return float("inf")
        worst = max(worst, float(np.abs(u - v).max() / max(np.abs(v).max(), 1e-30)))
    return worst
