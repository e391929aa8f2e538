"""detect_anomaly(): the first op producing a NaN/inf, forward or backward, is named with the
user's line; off by default, thread-local, a context manager and a decorator."""

from __future__ import annotations

import threading
import warnings

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite.engine import is_anomaly_enabled

HERE = __file__.rsplit("/", 1)[-1]


@pytest.fixture(autouse=True)
def _quiet_numpy():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)   # NumPy's own "invalid value" notes
        yield


def test_forward_nan_names_the_op_the_inputs_and_the_user_line():
    x = al.Tensor([1.0, -1.0, 2.0], requires_grad=True)
    with al.detect_anomaly(), pytest.raises(al.AnomalyError) as info:
        x.log()   # log of a negative
    msg = str(info.value)
    assert "log returned NaN" in msg and "(3,) float64" in msg
    assert f"{HERE}:" in msg and "x.log()" in msg
    assert isinstance(info.value, FloatingPointError)


def test_forward_zero_over_zero_and_inf_are_caught():
    z = al.Tensor([0.0, 1.0], requires_grad=True)
    with al.detect_anomaly():
        with pytest.raises(al.AnomalyError, match=r"div returned NaN .*z / z"):
            z / z
        with pytest.raises(al.AnomalyError, match="exp returned an infinity"):
            (z * 1000.0).exp()


def test_forward_already_non_finite_inputs_are_not_blamed():
    x = al.Tensor([np.nan, 1.0], requires_grad=True)
    with al.detect_anomaly():
        y = (x * 2).sum()          # NaN came in with the data: no op introduced it
    assert np.isnan(y.item())


def test_backward_inf_gradient_of_sqrt_at_zero_names_the_creating_line():
    x = al.Tensor([0.0, 4.0], requires_grad=True)
    with al.detect_anomaly():
        y = (x.sqrt() * 3.0).sum()      # finite forward; sqrt'(0) = inf
        with pytest.raises(al.AnomalyError) as info:
            y.backward()
    msg = str(info.value)
    assert "sqrt's VJP" in msg and "input 0" in msg and "(2,) float64" in msg
    assert f"{HERE}:" in msg and "x.sqrt()" in msg
    assert x.grad is None              # raised before anything was stored


def test_backward_times_inf_is_caught_at_the_mul():
    x = al.Tensor([1.0, 2.0], requires_grad=True)
    with al.detect_anomaly():
        y = (x * np.inf).sum()
        with pytest.raises(al.AnomalyError, match=r"mul's VJP sends to its input 0"):
            y.backward()


def test_without_the_mode_nans_pass_silently_and_nodes_record_nothing():
    assert not is_anomaly_enabled()
    x = al.Tensor([0.0, -1.0], requires_grad=True)
    y = x.log().sum()
    y.backward()
    assert not np.isfinite(x.grad.data).all()
    assert "_trace" not in y.__dict__


def test_graph_built_outside_the_mode_says_the_line_is_unknown():
    x = al.Tensor([0.0], requires_grad=True)
    y = x.sqrt().sum()
    with al.detect_anomaly(), pytest.raises(al.AnomalyError, match="outside detect_anomaly"):
        y.backward()


def test_decorator_form_nesting_and_disabling():
    @al.detect_anomaly()
    def f(t):
        assert is_anomaly_enabled()
        return t.log()

    with pytest.raises(al.AnomalyError):
        f(al.Tensor([-1.0]))
    assert not is_anomaly_enabled()
    with al.detect_anomaly():
        with al.detect_anomaly(False):
            assert not is_anomaly_enabled()
            al.Tensor([-1.0]).log()          # off inside: no error
        with al.detect_anomaly():
            assert is_anomaly_enabled()
        assert is_anomaly_enabled()
    assert not is_anomaly_enabled()


def test_mode_is_thread_local():
    seen = {}
    ready, done = threading.Event(), threading.Event()

    def other():
        ready.wait()
        seen["enabled"] = is_anomaly_enabled()
        seen["value"] = al.Tensor([-1.0]).log().data   # no error in this thread
        done.set()

    t = threading.Thread(target=other)
    t.start()
    with al.detect_anomaly():
        ready.set()
        done.wait(10)
    t.join()
    assert seen["enabled"] is False and np.isnan(seen["value"][0])


def test_create_graph_and_finite_graphs_work_unchanged_in_the_mode():
    x = al.Tensor([0.5, 2.0], requires_grad=True)
    with al.detect_anomaly():
        (gx,) = al.engine.cotangents((x ** 3).sum(), [x], create_graph=True)
        gx.sum().backward()
    np.testing.assert_allclose(x.grad.data, 6 * x.data)


def test_scalar_backward_is_checked_too():
    a = al.Scalar(1.0, name="a")
    with al.detect_anomaly():
        b = (a * 1e308) * 1e308            # inf, silently (Python floats)
        with pytest.raises(al.AnomalyError, match=r"mul's VJP .*Scalar\("):
            b.backward()
