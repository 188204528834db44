"""Hand-written NumPy forward and backward passes: the limit a NumPy engine can reach.

Independent of the engine (no Tensor, no tape): the same BLAS calls an engine makes, with no
bookkeeping. Parameters use PyTorch's layouts so every framework can load the same arrays:
``Linear.weight: (out, in)``, ``Conv2d.weight: (C_out, C_in, kh, kw)``.

The CNN is written the fast way (measured 2.4x faster than a plain NCHW im2col step):

- activations are channels-last, ``(N, H, W, C)``, so a convolution's output *is* the matmul
  result (no transpose copy) and the next layer's columns are gathered with contiguous C;
- columns are gathered in ``(kh, kw, C)`` order from the padded input by one copy of its
  window view (nine slice copies when C = 1): ``cols: (N·H·W, kh·kw·C_in)``;
- max-pool 2x2 is the max of four strided slices; its backward routes the gradient to the
  first maximum (as PyTorch does);
- col2im is one product with a cached 0/1 scatter matrix (scipy.sparse), 5x faster than
  nine slice-adds into the padded input gradient.

Reductions call the ufuncs directly (``np.add.reduce``, ``np.maximum.reduce``): the
``ndarray.sum`` / ``np.max`` / ``np.mean`` Python wrappers cost ~10 us each in a training step,
where Python runs with caches the GEMMs have just flushed (measured: the three bias sums of the
MLP took 76 us through ``g.sum(axis=0)`` and 57 us through ``np.add.reduce``). The engine does
the same, so the reference does too.

``cnn_nchw_loss_grads`` is the plain NCHW im2col version, kept for comparison.
"""

from __future__ import annotations

import functools
import itertools

import numpy as np

# -- parameters ------------------------------------------------------------------------------


def init_mlp(sizes: tuple[int, ...], dtype=np.float32, seed: int = 0) -> list[np.ndarray]:
    """[W1, b1, W2, b2, ...] with PyTorch's default init U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    rng = np.random.default_rng(seed)
    params = []
    for n_in, n_out in itertools.pairwise(sizes):
        bound = 1.0 / np.sqrt(n_in)
        params.append(rng.uniform(-bound, bound, (n_out, n_in)).astype(dtype))
        params.append(rng.uniform(-bound, bound, (n_out,)).astype(dtype))
    return params


CNN_WEIGHTS = [(16, 1, 3, 3), (32, 16, 3, 3), (10, 32 * 7 * 7)]  # each followed by its bias


def init_cnn(dtype=np.float32, seed: int = 0) -> list[np.ndarray]:
    """[conv1.weight, conv1.bias, conv2.weight, conv2.bias, fc.weight, fc.bias] (PyTorch init)."""
    rng = np.random.default_rng(seed)
    params = []
    for shape in CNN_WEIGHTS:
        bound = 1.0 / np.sqrt(np.prod(shape[1:]))
        params.append(rng.uniform(-bound, bound, shape).astype(dtype))
        params.append(rng.uniform(-bound, bound, shape[:1]).astype(dtype))
    return params


def batch(kind: str, n: int, dtype=np.float32, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """A random batch: ``kind='mlp'`` -> x (n, 784); ``'cnn'`` -> x (n, 1, 28, 28); labels (n,)."""
    rng = np.random.default_rng(seed)
    shape = (n, 784) if kind == "mlp" else (n, 1, 28, 28)
    return rng.standard_normal(shape).astype(dtype), rng.integers(0, 10, n)


def sgd_(params: list[np.ndarray], grads: list[np.ndarray], lr: float) -> None:
    """``p -= lr * g`` for each pair, scaling the gradient buffers in place (they are the
    reference step's own; the engine's optimizer may not change ``p.grad``, so it makes one
    temporary ``lr * g`` per parameter)."""
    for p, g in zip(params, grads):
        g *= lr  # the gradient buffers are ours: scale in place, no temporary
        p -= g


# -- loss ------------------------------------------------------------------------------------


def softmax_xent(z: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean softmax cross-entropy of logits ``z: (N, K)`` and labels ``y: (N,)``; and dz."""
    n = z.shape[0]
    rows = np.arange(n)
    e = z - np.maximum.reduce(z, axis=1, keepdims=True)
    shifted_true = e[rows, y]  # z_y - max (a copy: fancy indexing)
    np.exp(e, out=e)
    s = np.add.reduce(e, axis=1, keepdims=True)
    loss = float(np.add.reduce(np.log(s[:, 0]) - shifted_true) / n)
    e /= s
    e[rows, y] -= 1.0
    e *= 1.0 / n
    return loss, e


def _xent_loss_only(z: np.ndarray, y: np.ndarray) -> float:
    m = z.max(axis=1, keepdims=True)
    lse = np.log(np.exp(z - m).sum(axis=1)) + m[:, 0]
    return float(np.mean(lse - z[np.arange(z.shape[0]), y]))


# -- MLP ---------------------------------------------------------------------------------------


def mlp_forward(params: list[np.ndarray], x: np.ndarray) -> np.ndarray:
    """Logits of the ReLU MLP (inference: nothing kept)."""
    h = x
    last = len(params) // 2 - 1
    for i in range(0, len(params), 2):
        h = h @ params[i].T
        h += params[i + 1]
        if i // 2 < last:
            np.maximum(h, 0, out=h)
    return h


def mlp_loss(params: list[np.ndarray], x: np.ndarray, y: np.ndarray) -> float:
    return _xent_loss_only(mlp_forward(params, x), y)


def mlp_loss_grads(params: list[np.ndarray], x: np.ndarray, y: np.ndarray, trace=None):
    """(loss, [dW1, db1, ...]) by a hand-written forward and backward.

    ``trace``, a dict, receives the GEMMs' operands: ``acts`` (each layer's input) and
    ``gouts`` (the gradient at each layer's output), for ``mlp_gemms``."""
    acts = [x]  # the input of each layer (post-ReLU activations)
    h = x
    n_layers = len(params) // 2
    for layer in range(n_layers):
        h = h @ params[2 * layer].T
        h += params[2 * layer + 1]
        if layer < n_layers - 1:
            np.maximum(h, 0, out=h)
            acts.append(h)
    loss, g = softmax_xent(h, y)
    grads: list = [None] * len(params)
    for layer in reversed(range(n_layers)):
        a = acts[layer]
        grads[2 * layer] = g.T @ a
        grads[2 * layer + 1] = np.add.reduce(g, axis=0)
        if trace is not None:
            trace.setdefault("gouts", [None] * n_layers)[layer] = g
        if layer > 0:
            g = g @ params[2 * layer]
            g *= a > 0  # ReLU': a = relu(z) > 0 exactly where z > 0
    if trace is not None:
        trace["acts"] = acts
    return loss, grads


def mlp_loss_grads_feature_major(params: list[np.ndarray], x: np.ndarray, y: np.ndarray):
    """``mlp_loss_grads`` with the activations and their gradients kept as (features, batch)
    arrays: hᵀ = W xᵀ + b, dW = gᵀ a, (dx)ᵀ = Wᵀ gᵀ. The same arithmetic, every GEMM with its
    operands swapped (and so a different BLAS kernel shape); the weight gradients come out
    in W's layout. A layout experiment for the benchmark table, not the reference."""
    h_t = x.T
    acts = [h_t]
    n_layers = len(params) // 2
    for layer in range(n_layers):
        h_t = params[2 * layer] @ h_t
        h_t += params[2 * layer + 1][:, None]
        if layer < n_layers - 1:
            np.maximum(h_t, 0, out=h_t)
            acts.append(h_t)
    loss, g = softmax_xent(h_t.T, y)
    g_t = g.T
    grads: list = [None] * len(params)
    for layer in reversed(range(n_layers)):
        a_t = acts[layer]
        grads[2 * layer] = g_t @ a_t.T
        grads[2 * layer + 1] = np.add.reduce(g_t, axis=1)
        if layer > 0:
            g_t = params[2 * layer].T @ g_t
            g_t *= a_t > 0
    return loss, grads


def mlp_step_feature_major(params: list[np.ndarray], x: np.ndarray, y: np.ndarray, lr: float):
    loss, grads = mlp_loss_grads_feature_major(params, x, y)
    sgd_(params, grads, lr)
    return loss


def mlp_gemms(params: list[np.ndarray], acts: list, gouts: list) -> list[np.ndarray]:
    """Only the GEMMs of ``mlp_loss_grads``, with its shapes, transposes and order (from the
    operands its ``trace`` kept): per layer ``a @ Wᵀ`` forward, then ``gᵀ @ a`` and (but for
    the first layer) ``g @ W`` backward. The BLAS floor of the step: what any NumPy engine's
    step costs before the bias, ReLU, softmax, masks and update that surround the GEMMs."""
    out = [acts[i] @ params[2 * i].T for i in range(len(acts))]
    for layer in reversed(range(len(acts))):
        g = gouts[layer]
        out.append(g.T @ acts[layer])
        if layer > 0:
            out.append(g @ params[2 * layer])
    return out


def mlp_step(params: list[np.ndarray], x: np.ndarray, y: np.ndarray, lr: float) -> float:
    loss, grads = mlp_loss_grads(params, x, y)
    sgd_(params, grads, lr)
    return loss


# -- CNN, fast: channels-last, (kh, kw, C) columns ------------------------------------------------


def _wmat(w: np.ndarray) -> np.ndarray:
    """(C_out, C_in, 3, 3) -> (3·3·C_in, C_out), rows in (kh, kw, C) order."""
    c_out = w.shape[0]
    return w.transpose(2, 3, 1, 0).reshape(-1, c_out)


def _cols_nhwc(x: np.ndarray) -> np.ndarray:
    """x: (N, H, W, C) -> cols: (N·H·W, 9·C), padding 1, in (kh, kw, C) order.

    With C > 1, one copy from the (N, H, W, 3, 3, C) window view: a window row's kw·C values
    are contiguous in the padded image, so NumPy's inner loop runs over 3·C values (2.8x
    faster than nine per-offset slice copies at C = 16). With C = 1 the nine slice copies win
    (their loops run along W)."""
    n, h, w, c = x.shape
    xp = np.zeros((n, h + 2, w + 2, c), x.dtype)
    xp[:, 1:-1, 1:-1, :] = x
    cols = np.empty((n, h, w, 3, 3, c), x.dtype)
    if c == 1:
        for i in range(3):
            for j in range(3):
                cols[:, :, :, i, j, :] = xp[:, i : i + h, j : j + w, :]
    else:
        s_n, s_h, s_w, s_c = xp.strides
        win = np.lib.stride_tricks.as_strided(
            xp, cols.shape, (s_n, s_h, s_w, s_h, s_w, s_c), writeable=False
        )
        np.copyto(cols, win)
    return cols.reshape(n * h * w, 9 * c)


@functools.lru_cache(maxsize=4)
def _scatter(n: int, h: int, w: int):
    """0/1 CSR matrix summing the (n, y, x, i, j) column rows into padded pixel (n, y+i, x+j)."""
    import scipy.sparse

    a = np.arange
    rows = (
        (a(n)[:, None, None, None, None] * (h + 2) + a(h)[None, :, None, None, None]
         + a(3)[None, None, None, :, None]) * (w + 2)
        + a(w)[None, None, :, None, None] + a(3)[None, None, None, None, :]
    ).ravel()
    k = rows.size
    m = scipy.sparse.csc_matrix((np.ones(k, np.float32), rows, np.arange(k + 1)),
                                shape=(n * (h + 2) * (w + 2), k))
    return m.tocsr()


def _col2im_nhwc(gcols: np.ndarray, shape: tuple) -> np.ndarray:
    """The adjoint of ``_cols_nhwc``: one product with a cached 0/1 scatter matrix (each
    padded pixel gathers its nine C-runs; 5x faster than nine strided slice-adds)."""
    n, h, w, c = shape
    gxp = (_scatter(n, h, w) @ gcols.reshape(-1, c)).astype(gcols.dtype, copy=False)
    return gxp.reshape(n, h + 2, w + 2, c)[:, 1:-1, 1:-1, :]


_POOL = ((0, 0), (0, 1), (1, 0), (1, 1))


def _maxpool_nhwc(a: np.ndarray) -> np.ndarray:
    p = [a[:, i::2, j::2, :] for i, j in _POOL]
    return np.maximum(np.maximum(p[0], p[1]), np.maximum(p[2], p[3]))


def _maxpool_nhwc_backward(g: np.ndarray, a: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Route ``g`` to the first maximum of each 2x2 window (PyTorch's tie rule)."""
    ga = np.zeros_like(a)
    free = np.ones(out.shape, bool)  # windows whose maximum is not yet taken
    hit = np.empty(out.shape, bool)
    for i, j in _POOL:
        np.equal(a[:, i::2, j::2, :], out, out=hit)
        hit &= free
        free ^= hit
        np.multiply(g, hit, out=ga[:, i::2, j::2, :])
    return ga


def _fc_weight_hwc(w: np.ndarray, c: int, h: int, wd: int) -> np.ndarray:
    """fc.weight with columns in PyTorch's (C, H, W) flatten order -> our (H, W, C) order."""
    return w.reshape(w.shape[0], c, h, wd).transpose(0, 2, 3, 1).reshape(w.shape[0], -1)


def cnn_forward(params: list[np.ndarray], x: np.ndarray, *, keep: bool = False):
    """Logits of the CNN for x: (N, 1, 28, 28); with ``keep`` also what backward needs."""
    w1, b1, w2, b2, w3, b3 = params
    n = x.shape[0]
    x = np.ascontiguousarray(x.transpose(0, 2, 3, 1))  # (N, 28, 28, 1): free for C_in = 1
    cols1 = _cols_nhwc(x)  # (N·784, 9)
    a1 = cols1 @ _wmat(w1)  # (N·784, 16): already channels-last
    a1 += b1
    np.maximum(a1, 0, out=a1)
    a1 = a1.reshape(n, 28, 28, 16)
    p1 = _maxpool_nhwc(a1)  # (N, 14, 14, 16)
    cols2 = _cols_nhwc(p1)  # (N·196, 144)
    a2 = cols2 @ _wmat(w2)  # (N·196, 32)
    a2 += b2
    np.maximum(a2, 0, out=a2)
    a2 = a2.reshape(n, 14, 14, 32)
    p2 = _maxpool_nhwc(a2)  # (N, 7, 7, 32)
    flat = p2.reshape(n, -1)  # (N, 1568) in (H, W, C) order
    w3_hwc = _fc_weight_hwc(w3, 32, 7, 7)
    z = flat @ w3_hwc.T
    z += b3
    if not keep:
        return z
    return z, (cols1, a1, p1, cols2, a2, p2, flat, w3_hwc)


def cnn_loss_grads(params: list[np.ndarray], x: np.ndarray, y: np.ndarray):
    """(loss, grads) of the CNN by hand: channels-last, (kh, kw, C) columns, sparse col2im."""
    w2 = params[2]
    z, (cols1, a1, p1, cols2, a2, p2, flat, w3_hwc) = cnn_forward(params, x, keep=True)
    loss, gz = softmax_xent(z, y)
    # fc
    g_w3 = gz.T @ flat  # (10, 1568) in (H, W, C) order
    g_w3 = g_w3.reshape(10, 7, 7, 32).transpose(0, 3, 1, 2).reshape(10, -1)
    g_b3 = np.add.reduce(gz, axis=0)
    g_p2 = (gz @ w3_hwc).reshape(p2.shape)
    # pool2, relu2, conv2
    g_a2 = _maxpool_nhwc_backward(g_p2, a2, p2)
    g_a2 *= a2 > 0
    g2 = g_a2.reshape(-1, 32)
    g_w2 = (cols2.T @ g2).reshape(3, 3, 16, 32).transpose(3, 2, 0, 1)
    g_b2 = np.add.reduce(g2, axis=0)
    g_p1 = _col2im_nhwc(g2 @ _wmat(w2).T, p1.shape)
    # pool1, relu1, conv1 (no gradient for the input)
    g_a1 = _maxpool_nhwc_backward(g_p1, a1, p1)
    g_a1 *= a1 > 0
    g1 = g_a1.reshape(-1, 16)
    g_w1 = (cols1.T @ g1).reshape(3, 3, 1, 16).transpose(3, 2, 0, 1)
    g_b1 = np.add.reduce(g1, axis=0)
    grads = [g_w1, g_b1, g_w2, g_b2, g_w3, g_b3]
    return loss, [np.ascontiguousarray(g) for g in grads]


def cnn_loss(params, x, y) -> float:
    return _xent_loss_only(cnn_forward(params, x), y)


def cnn_step(params: list[np.ndarray], x: np.ndarray, y: np.ndarray, lr: float) -> float:
    loss, grads = cnn_loss_grads(params, x, y)
    sgd_(params, grads, lr)
    return loss


# -- CNN, plain NCHW im2col (the textbook version, for comparison) ------------------------------


def _im2col_nchw(x: np.ndarray) -> np.ndarray:
    """x: (N, C, H, W) -> cols: (N·H·W, C·9) in (C, kh, kw) order, via sliding_window_view."""
    n, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    win = np.lib.stride_tricks.sliding_window_view(xp, (3, 3), axis=(2, 3))  # (N,C,H,W,3,3)
    return win.transpose(0, 2, 3, 1, 4, 5).reshape(n * h * w, c * 9)


def _col2im_nchw(gcols: np.ndarray, shape: tuple) -> np.ndarray:
    n, c, h, w = shape
    g = gcols.reshape(n, h, w, c, 3, 3)
    gxp = np.zeros((n, c, h + 2, w + 2), gcols.dtype)
    for i in range(3):
        for j in range(3):
            gxp[:, :, i : i + h, j : j + w] += g[:, :, :, :, i, j].transpose(0, 3, 1, 2)
    return gxp[:, :, 1:-1, 1:-1]


def _pool_nchw(a):
    n, c, h, w = a.shape
    win = a.reshape(n, c, h // 2, 2, w // 2, 2)
    out = win.max(axis=(3, 5))
    return out, win


def _pool_nchw_backward(g, win, out):
    mask = win == out[:, :, :, None, :, None]
    mask = mask / mask.sum(axis=(3, 5), keepdims=True)
    n, c, h2, _, w2, _ = win.shape
    return (mask * g[:, :, :, None, :, None]).reshape(n, c, 2 * h2, 2 * w2)


def cnn_nchw_loss_grads(params: list[np.ndarray], x: np.ndarray, y: np.ndarray):
    """The same CNN by plain NCHW im2col (transposes after every conv; reshape-max pooling)."""
    w1, b1, w2, b2, w3, b3 = params
    n = x.shape[0]
    cols1 = _im2col_nchw(x)
    h1 = (cols1 @ w1.reshape(16, -1).T + b1).reshape(n, 28, 28, 16).transpose(0, 3, 1, 2)
    a1 = np.maximum(h1, 0)
    p1, win1 = _pool_nchw(a1)
    cols2 = _im2col_nchw(p1)
    h2 = (cols2 @ w2.reshape(32, -1).T + b2).reshape(n, 14, 14, 32).transpose(0, 3, 1, 2)
    a2 = np.maximum(h2, 0)
    p2, win2 = _pool_nchw(a2)
    flat = p2.reshape(n, -1)
    z = flat @ w3.T + b3
    loss, gz = softmax_xent(z, y)
    g_w3, g_b3 = gz.T @ flat, gz.sum(0)
    g_a2 = _pool_nchw_backward((gz @ w3).reshape(p2.shape), win2, p2) * (a2 > 0)
    g2 = g_a2.transpose(0, 2, 3, 1).reshape(-1, 32)
    g_w2, g_b2 = (g2.T @ cols2).reshape(w2.shape), g2.sum(0)
    g_p1 = _col2im_nchw(g2 @ w2.reshape(32, -1), p1.shape)
    g_a1 = _pool_nchw_backward(g_p1, win1, p1) * (a1 > 0)
    g1 = g_a1.transpose(0, 2, 3, 1).reshape(-1, 16)
    g_w1, g_b1 = (g1.T @ cols1).reshape(w1.shape), g1.sum(0)
    return loss, [g_w1, g_b1, g_w2, g_b2, g_w3, g_b3]


def cnn_nchw_step(params, x, y, lr: float) -> float:
    loss, grads = cnn_nchw_loss_grads(params, x, y)
    sgd_(params, grads, lr)
    return loss


# -- the per-op chain ---------------------------------------------------------------------------


def chain_forward_backward(x0: np.ndarray, n_iter: int = 1000) -> np.ndarray:
    """x = x*1.0001 + 0.0001 (tanh every 10th), then sum; d(sum)/d(x0) by hand."""
    x = x0
    tanh_outs = []
    for i in range(n_iter):
        x = x * 1.0001
        x = x + 0.0001
        if i % 10 == 9:
            x = np.tanh(x)
            tanh_outs.append(x)
    x.sum()
    g = np.ones_like(x)
    for i in reversed(range(n_iter)):
        if i % 10 == 9:
            y = tanh_outs.pop()
            g = g * (1.0 - y * y)
        g = g * 1.0001  # the add's gradient is the identity
    return g
