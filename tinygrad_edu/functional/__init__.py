"""The functions behind Tensor's operators and methods and ``tg.*``: each checks its
arguments, applies PyTorch's dtype rules, and calls the primitives in ``ops`` (or composes
them, as softmax and var do). Nothing here has a derivative of its own."""

from .inplace import (  # noqa: F401
    add_, clamp_, div_, masked_fill, masked_fill_, mul_, relu_, setitem_, sub_,
)
from .math import (  # noqa: F401
    abs, add, cast, ceil, clamp, clip, clone, cos, div, erf, exp, floor, floor_divide, log, log10, log2,
    log_softmax, logsumexp, matmul, max, maximum, mean, min, minimum, mul, neg, pow, relu,
    remainder, round, sigmoid, sign, sin, softmax, sqrt, std, sub, sum, sum_to, tanh,
    transpose, trunc, var, where, _binary, _promote,
)
from .compare import (  # noqa: F401
    bitwise_and, bitwise_not, bitwise_or, bitwise_xor, eq, ge, gt, le, logical_and,
    logical_not, logical_or, logical_xor, lt, ne,
)
from .shape import (  # noqa: F401
    broadcast_to, cat, chunk, contiguous, expand, flatten, flip, getitem, index_arrays, pad,
    permute, repeat, reshape, split, squeeze, stack, swapaxes, unflatten, unsqueeze, view,
)
