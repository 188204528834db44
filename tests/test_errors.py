"""Bad input: every error below is raised at the call site and its message names
the operation, the shapes involved and the fix."""

from __future__ import annotations

import re

import numpy as np
import pytest

import tinygrad_edu as tg


def z(*shape, requires_grad=False):
    return tg.zeros(*shape, dtype=tg.float64, requires_grad=requires_grad)


def raises(exc, *fragments):
    """pytest.raises that also checks each fragment appears (literally) in the message."""
    return pytest.raises(exc, match="(?s)" + "".join(f"(?=.*{re.escape(f)})" for f in fragments))


# -- shapes, dtypes and arguments that do not fit ---------------------------------------------------
def test_matmul_inner_dimension_mismatch() -> None:
    with raises(ValueError, "matmul", "(2, 3) @ (4, 5)", "inner dimensions 3 and 4 differ"):
        z(2, 3) @ z(4, 5)
    with raises(ValueError, "matmul", "(3,) @ (2, 5)", "3 and 2"):
        tg.matmul(z(3), z(2, 5))
    with raises(ValueError, "matmul", "(2, 2, 3) @ (3, 3, 4)", "batch dimensions"):
        z(2, 2, 3) @ z(3, 3, 4)
    with raises(ValueError, "matmul", "at least one dimension"):
        z() @ z(3)


@pytest.mark.parametrize("name, fn", [
    ("add", lambda a, b: a + b), ("sub", lambda a, b: a - b), ("mul", lambda a, b: a * b),
    ("div", lambda a, b: a / b), ("pow", lambda a, b: a**b), ("maximum", tg.maximum),
    ("minimum", tg.minimum), ("where", lambda a, b: tg.where(a > 0, a, b)),
])
def test_non_broadcastable_shapes(name, fn) -> None:
    with raises(ValueError, f"{name}:", "(2, 3)", "(4,)", "cannot be broadcast"):
        fn(z(2, 3), z(4))


def test_broadcast_to_and_expand_that_cannot_grow() -> None:
    with raises(ValueError, "broadcast_to", "(2, 3)", "(4, 3, 2)"):
        z(2, 3).broadcast_to((4, 3, 2))
    with raises(ValueError, "(2, 3)", "(4, 3)"):
        z(2, 3).expand(4, 3)


def test_invalid_reshape() -> None:
    with raises(ValueError, "reshape", "(2, 3)", "6 elements", "(4, 2)"):
        z(2, 3).reshape(4, 2)
    with raises(ValueError, "reshape", "(2, 3)", "(5,)"):
        z(2, 3).view(5)
    with raises(ValueError, "reshape", "at most one -1"):
        z(2, 3).reshape(-1, -1)


def test_backward_on_non_scalar_without_gradient() -> None:
    y = z(2, 3, requires_grad=True) * 2
    with raises(RuntimeError, "backward", "(2, 3)", "gradient", "loss.sum().backward()"):
        y.backward()


def test_gradient_of_the_wrong_shape() -> None:
    y = z(2, 3, requires_grad=True) * 2
    with raises(RuntimeError, "backward", "gradient has shape (3, 2)", "output has shape (2, 3)"):
        y.backward(tg.ones(3, 2, dtype=tg.float64))
    x = z(2, requires_grad=True)
    with raises(RuntimeError, "grad", "(3,)", "(2,)"):
        tg.grad(x * 2, x, grad_outputs=tg.ones(3, dtype=tg.float64))


def test_backward_on_a_tensor_that_does_not_require_grad() -> None:
    with raises(RuntimeError, "backward", "does not require grad", "requires_grad=True"):
        z(2).sum().backward()
    with raises(RuntimeError, "grad", "does not require grad"):
        x = z(2, requires_grad=True)
        tg.grad(z(2).sum(), x)


@pytest.mark.parametrize("make", [
    lambda: tg.tensor([1, 2], requires_grad=True),
    lambda: tg.tensor([True], requires_grad=True),
    lambda: tg.tensor([1, 2]).requires_grad_(),
    lambda: tg.arange(3, requires_grad=True),
    lambda: tg.tensor(np.array([1, 2], dtype=np.int32), requires_grad=True),
    lambda: tg.LongTensor([1, 2]).requires_grad_(),
])
def test_requires_grad_on_an_integer_tensor(make) -> None:
    with raises(TypeError, "only floating-point tensors can require gradients", "int", "float"):
        make()


def test_second_backward_through_freed_records() -> None:
    x = z(3, requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward()
    with raises(RuntimeError, "backward", "second time", "freed", "retain_graph=True"):
        y.backward()
    x.grad = None
    h = x * 2  # an intermediate shared by two losses: the second backward reaches h's freed record
    a, b = h.sum(), (h * h).sum()
    a.backward()
    with raises(RuntimeError, "backward", "freed", "Mul", "retain_graph=True"):
        b.backward()


# -- more bad input, same standard -------------------------------------------------------------------
def test_cat_and_stack_shape_mismatch() -> None:
    with raises(ValueError, "cat", "(2, 3)", "(3, 3)", "except dim 1"):
        tg.cat([z(2, 3), z(3, 3)], dim=1)
    with raises(ValueError, "stack", "(2, 3)", "(3, 3)"):
        tg.stack([z(2, 3), z(3, 3)])


def test_dimension_out_of_range_names_the_op() -> None:
    for name, call in [("sum", lambda x: x.sum(2)), ("mean", lambda x: x.mean(dim=-3)),
                       ("transpose", lambda x: x.transpose(0, 2)),
                       ("squeeze", lambda x: x.squeeze(5)), ("softmax", lambda x: x.softmax(2)),
                       ("log_softmax", lambda x: x.log_softmax(-3))]:
        with pytest.raises(IndexError, match=rf"{name}.*out of range.*2 dimension"):
            call(z(2, 3))


def test_getitem_and_permute_errors() -> None:
    with raises(IndexError, "getitem", "(2, 3)", "out of bounds"):
        z(2, 3)[5]
    with raises(ValueError, "permute", "(0, 0)", "(2, 3)"):
        z(2, 3).permute(0, 0)
    with raises(ValueError, "pad", "(2, 3)"):
        tg.pad(z(2, 3), ((1, 1), (1, 1), (1, 1)))


def test_grad_assignment_and_item_errors() -> None:
    p = z(2, requires_grad=True)
    with raises(ValueError, "grad", "(3,)", "(2,)"):
        p.grad = z(3)
    with raises(ValueError, "item", "(2,)"):
        p.item()
    with raises(RuntimeError, "numpy", "detach()"):
        p.numpy()


def test_max_of_an_empty_tensor() -> None:
    with raises(ValueError, "max", "(0,)", "empty"):
        z(0).max()


def test_errors_leave_nothing_recorded() -> None:
    x = z(2, 3, requires_grad=True)
    for bad in (lambda: x @ z(4, 5), lambda: x + z(4), lambda: x.reshape(4, 2)):
        with pytest.raises(ValueError):
            bad()
    assert len(tg.get_tape()) == 0
