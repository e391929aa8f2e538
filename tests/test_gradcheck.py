"""gradcheck itself: it passes correct VJPs and catches a VJP that is 0.1% off."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite import ops
from autograd_lite.gradcheck import GradcheckError


def _slightly_wrong_tanh():
    return ops.Op("tanh_off_by_0.1%", np.tanh,
                  (lambda g, out, x: g * (1 - out * out) * 1.001,), rules=("wrong",))


def test_gradcheck_catches_a_vjp_off_by_a_tenth_of_a_percent(rng):
    bad = _slightly_wrong_tanh()
    try:
        x = rng.normal(size=(3, 4))
        with pytest.raises(GradcheckError, match=r"input 0 \(shape \(3, 4\)\).*worst at index"):
            al.gradcheck(lambda t: bad(t), [x])
        assert al.gradcheck(lambda t: bad(t), [x], raise_exception=False) is False
    finally:
        ops.OPS.pop(bad.name)


def test_gradcheck_catches_a_vjp_that_ignores_the_upstream_gradient(rng):
    bad = ops.Op("exp_ignores_g", np.exp, (lambda g, out, x: out,), rules=("wrong",))
    try:
        with pytest.raises(GradcheckError):
            al.gradcheck(lambda t: bad(t), [rng.normal(size=5)])
    finally:
        ops.OPS.pop(bad.name)


def test_gradcheck_passes_integer_inputs_through(rng):
    idx = np.array([2, 0, 1])
    assert al.gradcheck(lambda x, i: x[np.arange(3), i.data], [rng.normal(size=(3, 4)),
                                                               al.Tensor(idx)])


def test_gradcheck_report_names_the_input_and_values(rng):
    bad = ops.Op("double_wrong", lambda x, y: x * y,
                 (lambda g, out, x, y: g * y, lambda g, out, x, y: 2 * g * x), rules=("", ""))
    try:
        with pytest.raises(GradcheckError, match=r"input 1 .* analytic .* numeric"):
            al.gradcheck(lambda a, b: bad(a, b), [rng.normal(size=2), rng.normal(size=2)])
    finally:
        ops.OPS.pop(bad.name)
