"""The functions behind Tensor's operators and methods and ``tg.*``: each checks its
arguments, applies PyTorch's dtype rules, and calls the primitives in ``ops`` (or composes
them, as softmax and var do). Nothing here has a derivative of its own."""

from .inplace import (  # noqa: F401
    add_, clamp_, div_, masked_fill, masked_fill_, mul_, relu_, setitem_, sub_,
)
from .math import (  # noqa: F401
    abs, add, cast, clamp, clip, clone, cos, div, erf, exp, log, log_softmax, logsumexp,
    matmul, max, maximum, mean, min, minimum, mul, neg, pow, relu, sigmoid, sin,
    softmax, sqrt, std, sub, sum, sum_to, tanh, transpose, var, where, _binary, _promote,
)
from .shape import (  # noqa: F401
    broadcast_to, cat, chunk, contiguous, expand, flatten, flip, getitem, index_arrays, pad,
    permute, repeat, reshape, split, squeeze, stack, swapaxes, unflatten, unsqueeze, view,
)
