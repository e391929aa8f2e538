"""In-place safety: writing into an array a recorded op needs makes backward refuse, loudly."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite import nn, optim


def _graph():
    x = al.Tensor([1.0, 2.0, 3.0], requires_grad=True, name="x")
    w = al.Tensor([0.5, -1.0, 2.0], requires_grad=True, name="w")
    return x, w, (x * w).sum()


def _no_grad(write):
    def run(t):
        with al.no_grad():
            write(t)
    return run


# Every tracked write path (PyTorch's semantics: in-place methods, item and augmented assignment,
# replacing .data); writes *through* .data are the documented untracked escape hatch.
@pytest.mark.parametrize("write", [
    _no_grad(lambda t: t.__setitem__(0, 7.0)),        # t[0] = 7
    _no_grad(lambda t: t.__isub__(1.0)),              # t -= 1
    _no_grad(lambda t: t.sub_(1.0)),
    _no_grad(lambda t: t.add_(1.0, alpha=2.0)),
    _no_grad(lambda t: t.mul_(2.0)),
    _no_grad(lambda t: t.div_(2.0)),
    _no_grad(lambda t: t.copy_(np.zeros(3))),
    _no_grad(lambda t: t.fill_(0.0)),
    _no_grad(lambda t: t.zero_()),
    lambda t: setattr(t, "data", np.zeros(3)),        # replacing the array
], ids=["setitem", "isub", "sub_", "add_", "mul_", "div_", "copy_", "fill_", "zero_", "assign"])
def test_modified_saved_input_makes_backward_raise(write):
    x, w, loss = _graph()
    write(w)
    with pytest.raises(RuntimeError, match=r"input 1 of mul \('w', shape \(3,\), float64\) was "
                                           r"modified in place"):
        loss.backward()
    assert x.grad is None


def test_data_is_a_plain_ndarray_and_the_documented_escape_hatch():
    x = al.Tensor([1.0, 2.0])
    assert type(x.data) is np.ndarray and type(x.numpy()) is np.ndarray
    assert "Tensor([1., 2.]" in repr(x) and "_Tracked" not in repr(x.data)


def test_in_place_change_of_a_tensor_that_requires_grad_needs_no_grad():
    w = al.Tensor([1.0, 2.0], requires_grad=True)
    for change in (lambda: w.sub_(1.0), lambda: w.__setitem__(0, 3.0), lambda: w.zero_()):
        with pytest.raises(RuntimeError, match="requires grad"):
            change()
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        w -= 1.0
    with al.no_grad():
        w -= 1.0
    np.testing.assert_array_equal(w.data, [0.0, 1.0])
    assert w.is_leaf and w.requires_grad


def test_augmented_assignment_inside_a_graph_records_out_of_place():
    x = al.Tensor([1.0, 2.0], requires_grad=True)
    h = x * 2.0
    before = h
    h += x                        # h = h + x: a new node, the old one untouched
    assert h is not before and h.op.name == "add"
    h.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 3.0])


def test_in_place_write_to_a_read_only_array_is_a_clear_error():
    t = al.Tensor(np.broadcast_to(np.ones(1), (3,)))
    with pytest.raises(ValueError, match="fill_: this tensor's array is read-only"):
        t.fill_(0.0)


def test_modified_output_whose_vjp_reads_it_raises():
    x = al.Tensor([0.1, 0.2], requires_grad=True)
    y = x.exp()                 # exp's VJP reads its output
    z = y.sum()                 # sum reads no values: the check reaches exp
    with al.no_grad():
        y[0] = 100.0
    with pytest.raises(RuntimeError, match=r"the output of exp .* was modified in place"):
        z.backward()


def test_ops_whose_vjp_reads_no_values_allow_writes():
    x = al.Tensor([1.0, 2.0], requires_grad=True)
    y = (x + 1.0).sum()         # add's VJP needs no values
    x.data[0] = 5.0
    y.backward()
    np.testing.assert_array_equal(x.grad.data, [1.0, 1.0])


def test_writes_before_recording_and_to_unrelated_tensors_are_fine():
    x, w, _ = _graph()
    w.data[0] = 3.0             # before the graph below is recorded
    loss = (x * w).sum()
    other = al.Tensor([1.0])
    other.data[0] = 2.0         # unrelated write after recording
    loss.backward()
    np.testing.assert_array_equal(x.grad.data, w.data)


def test_reading_data_is_not_a_write():
    x, w, loss = _graph()
    _ = w.data.sum() + w.data[0] + np.asarray(w).mean()
    repr(w)
    loss.backward()
    np.testing.assert_array_equal(w.grad.data, x.data)


def test_optimizer_steps_between_iterations_are_legal_but_stale_graphs_refuse():
    rng = np.random.default_rng(0)
    model = nn.Linear(3, 2)
    opt = optim.SGD(model.parameters(), lr=0.1)
    x = rng.normal(size=(4, 3))
    for _ in range(3):          # the usual loop: forward, backward, step
        opt.zero_grad()
        loss = (model(x) ** 2).mean()
        loss.backward()
        opt.step()
    with pytest.raises(RuntimeError, match="modified in place"):
        loss.backward()         # the last graph saw the weights before opt.step()


def test_the_data_view_holds_no_reference_cycle():
    t = al.Tensor([1.0, 2.0])
    t.data[0] = 3.0
    ref = weakref.ref(t)
    gc.disable()
    try:
        del t
        assert ref() is None
    finally:
        gc.enable()


def test_data_is_a_stable_view_of_the_values():
    t = al.Tensor(np.array([1.0, 2.0]))
    assert t.data is t.data and t.numpy() is t.data
    assert isinstance(t.data, np.ndarray)
    assert type(t.data * 2) is np.ndarray            # results are plain arrays
    t.data = np.array([5.0])
    np.testing.assert_array_equal(t.data, [5.0])
