"""Basic layers: Linear, Identity, Flatten, Dropout, Embedding and the activations, plus the
lecture's MLP and Perceptron. Default initialisation is PyTorch's for every layer."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np

from .. import functional
from ..dtypes import get_default_dtype
from ..tensor import Tensor
from . import functional as F
from . import init
from .containers import Sequential
from .module import Module
from .parameter import Parameter


def _empty(*shape: int, dtype=None) -> np.ndarray:
    return np.empty(shape, dtype=get_default_dtype() if dtype is None else np.dtype(dtype))


class Identity(Module):
    """Returns its input unchanged (a placeholder layer)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:
        return input


class Linear(Module):
    """y = x Wᵀ + b.  x: (..., in_features) -> (..., out_features).

    weight: (out_features, in_features) and bias: (out_features,), both initialised from
    U(-1/sqrt(in_features), 1/sqrt(in_features)) as in PyTorch.

    >>> import tinygrad_edu as tg
    >>> from tinygrad_edu import nn
    >>> nn.Linear(4, 3)(tg.ones(2, 4)).shape
    (2, 3)
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, dtype=None) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(_empty(out_features, in_features, dtype=dtype))
        if bias:
            self.bias = Parameter(_empty(out_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor) -> Tensor:
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Flatten(Module):
    """Flatten dims start_dim..end_dim into one: (N, C, H, W) -> (N, C·H·W) by default."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input: Tensor) -> Tensor:
        return functional.flatten(input, self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Dropout(Module):
    """In training, zero each element with probability p and scale the rest by 1/(1-p);
    in eval mode, the identity."""

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: probability has to be between 0 and 1, but got {p}")
        self.p = p

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout(input, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace=False"


class Embedding(Module):
    """A lookup table: integer indices (*) -> rows of weight (num_embeddings, embedding_dim),
    giving (*, embedding_dim). Initialised from N(0, 1); the padding_idx row is zero."""

    def __init__(
        self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None, dtype=None
    ) -> None:
        super().__init__()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        if padding_idx is not None and padding_idx < 0:
            padding_idx += num_embeddings
        self.padding_idx = padding_idx
        self.weight = Parameter(_empty(num_embeddings, embedding_dim, dtype=dtype))
        init.normal_(self.weight)
        if padding_idx is not None:
            self.weight._data[padding_idx] = 0

    def forward(self, input: Tensor) -> Tensor:
        return F.embedding(input, self.weight, self.padding_idx)

    def extra_repr(self) -> str:
        pad = f", padding_idx={self.padding_idx}" if self.padding_idx is not None else ""
        return f"{self.num_embeddings}, {self.embedding_dim}{pad}"


# -- activations ---------------------------------------------------------------------------
class ReLU(Module):
    """max(x, 0); with ``inplace=True`` the input is overwritten and returned (``relu_``)."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.relu(input, self.inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    """x if x > 0 else negative_slope · x."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, input: Tensor) -> Tensor:
        return F.leaky_relu(input, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Tanh(Module):
    def forward(self, input: Tensor) -> Tensor:
        return F.tanh(input)


class Sigmoid(Module):
    def forward(self, input: Tensor) -> Tensor:
        return F.sigmoid(input)


class GELU(Module):
    """x · Φ(x) (exact), or the tanh approximation with ``approximate='tanh'``."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        self.approximate = approximate

    def forward(self, input: Tensor) -> Tensor:
        return F.gelu(input, self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Softmax(Module):
    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return F.softmax(input, -1 if self.dim is None else self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    def forward(self, input: Tensor) -> Tensor:
        return F.log_softmax(input, -1 if self.dim is None else self.dim)


# -- the lecture's models -------------------------------------------------------------------
class MLP(Sequential):
    """The lecture's multilayer perceptron f = f_N ∘ … ∘ f_0 with f_i(x) = σ(W_i x + b_i):
    Linear layers of the given sizes, ``activation()`` between them and none after the last
    (the output is logits).  x: (N, sizes[0]) -> (N, sizes[-1]).

    >>> from tinygrad_edu import nn
    >>> nn.MLP([784, 128, 10])
    MLP(
      (0): Linear(in_features=784, out_features=128, bias=True)
      (1): ReLU()
      (2): Linear(in_features=128, out_features=10, bias=True)
    )
    """

    def __init__(self, sizes: Sequence[int], activation: type[Module] = ReLU) -> None:
        if len(sizes) < 2:
            raise ValueError(
                f"MLP: needs at least an input and an output size, got sizes={list(sizes)}"
            )
        layers: list[Module] = []
        for i, (a, b) in enumerate(itertools.pairwise(sizes)):
            if i:
                layers.append(activation())
            layers.append(Linear(a, b))
        super().__init__(*layers)


class Perceptron(Module):
    """Rosenblatt's perceptron f(x) = sign(w·x + b), trained by his learning rule (PLA).

    It is *not* trained by gradients: sign has derivative 0 almost everywhere, so backprop
    would never move w. Instead ``fit`` visits the points in order and, for each mistake
    (y (w·x + b) <= 0), adds y·x to w and y to b. On linearly separable data this stops after
    finitely many updates (Novikoff's theorem).

    >>> import numpy as np
    >>> from tinygrad_edu import nn
    >>> X = np.array([[2.0, 1.0], [1.0, 3.0], [-1.0, -2.0], [-2.0, -1.0]])
    >>> p = nn.Perceptron(2)
    >>> epochs = p.fit(X, np.array([1, 1, -1, -1]))
    >>> p.predict(X).tolist()
    [1, 1, -1, -1]
    """

    def __init__(self, in_features: int) -> None:
        super().__init__()
        self.in_features = in_features
        self.weight = Parameter(
            np.zeros(in_features, dtype=get_default_dtype()), requires_grad=False
        )
        self.bias = Parameter(np.zeros((), dtype=get_default_dtype()), requires_grad=False)

    def forward(self, input: Tensor) -> Tensor:
        """w·x + b, the signed score (its sign is the prediction)."""
        return F.linear(
            input, functional.reshape(self.weight, (1, -1)), functional.reshape(self.bias, (1,))
        ).squeeze(-1)

    def predict(self, X) -> np.ndarray:
        """Labels in {-1, +1}: +1 where w·x + b > 0 (a zero score is a mistake for both labels)."""
        return np.where(self._scores(_raw(X)) > 0, 1, -1)

    def _scores(self, X: np.ndarray) -> np.ndarray:
        return X @ self.weight._data + self.bias._data

    def fit(self, X, y, max_epochs: int = 1000) -> int:
        """Run PLA epochs until one passes with no mistake; return the number of epochs run.

        X: (N, in_features); y: (N,) labels in {-1, +1}. Raises if ``max_epochs`` pass with
        mistakes left (the data may not be linearly separable)."""
        X = _raw(X).astype(self.weight._data.dtype, copy=False)
        y = _raw(y)
        if X.ndim != 2 or X.shape[1] != self.in_features or y.shape != (X.shape[0],):
            raise ValueError(
                f"Perceptron.fit: expected X of shape (N, {self.in_features}) and y of shape (N,), "
                f"got {X.shape} and {y.shape}"
            )
        if not np.isin(y, (-1, 1)).all():
            raise ValueError("Perceptron.fit: labels must be -1 or +1")
        w, b = self.weight._data, self.bias._data
        for epoch in range(1, max_epochs + 1):
            mistakes = 0
            for xi, yi in zip(X, y):
                if yi * (xi @ w + b) <= 0:
                    w += yi * xi
                    b += yi
                    mistakes += 1
            if mistakes == 0:
                self.weight._bump_version()
                self.bias._bump_version()
                return epoch
        raise RuntimeError(
            f"Perceptron.fit: still misclassifying points after {max_epochs} epochs; the data may "
            "not be linearly separable (raise max_epochs or use a model trained by gradients)"
        )

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}"


def _raw(x) -> np.ndarray:
    return x._data if isinstance(x, Tensor) else np.asarray(x)
