"""nn modules: registration, Linear/MLP/activations/Dropout, state_dict, checkpoints."""

from __future__ import annotations

import os

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite import nn
from autograd_lite.nn import MLP, Dropout, Linear, Module, Parameter, Sequential


class Affine(Module):
    def __init__(self):
        super().__init__()
        self.scale = Parameter(np.ones(3))
        self.inner = Linear(3, 2, dtype=np.float64, rng=0)
        self.shift = Parameter(np.zeros(2))
        self.note = "not a parameter"

    def forward(self, x):
        return self.inner(x * self.scale) + self.shift


# -- registration ----------------------------------------------------------------------------


def test_parameters_are_registered_in_assignment_order_with_paths():
    m = Affine()
    names = [n for n, _ in m.named_parameters()]
    assert names == ["scale", "shift", "inner.weight", "inner.bias"]
    assert m.parameters()[0] is m.scale
    assert m.num_parameters() == 3 + 2 + 6 + 2


def test_reassigning_an_attribute_unregisters_it():
    m = Affine()
    m.shift = None
    m.inner = "gone"
    assert [n for n, _ in m.named_parameters()] == ["scale"]
    del m.scale
    assert m.parameters() == []


def test_shared_parameters_are_listed_once():
    a = Linear(2, 2, rng=0)
    model = Sequential(a, nn.ReLU(), a)
    assert len(model.parameters()) == 2
    assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias"]


def test_subclass_without_super_init_still_registers():
    class Lazy(Module):
        def __init__(self):
            self.w = Parameter(np.ones(2))

    assert Lazy().parameters()[0].shape == (2,)


def test_parameter_requires_grad_and_must_be_float():
    p = Parameter(np.zeros(3, dtype=np.float32))
    assert p.requires_grad and p.is_leaf and p.dtype == np.float32
    with pytest.raises(TypeError, match="floating-point"):
        Parameter(np.zeros(3, dtype=np.int64))


def test_zero_grad_and_train_eval_recurse():
    model = MLP([3, 4, 2], rng=0)
    model(np.ones((2, 3), dtype=np.float32)).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    model.eval()
    assert not any(m.training for _, m in model.named_modules())
    model.train()
    assert all(m.training for _, m in model.named_modules())


def test_repr_shows_structure_and_parameter_counts():
    text = repr(MLP([64, 128, 10], activation="tanh", rng=0))
    assert text.splitlines() == [
        "MLP([64, 128, 10])  # 9,610 parameters",
        "  (layers): Sequential()  # 9,610 parameters",
        "    (0): Linear(64 → 128, bias=True)  # 8,320 parameters",
        "    (1): Tanh()",
        "    (2): Linear(128 → 10, bias=True)  # 1,290 parameters",
    ]


# -- Linear ------------------------------------------------------------------------------------


def test_linear_layout_init_and_forward(rng):
    layer = Linear(50, 7, rng=0)
    assert layer.weight.shape == (50, 7) and layer.bias.shape == (7,)
    assert layer.weight.dtype == np.float32
    bound = 1 / np.sqrt(50)
    w = layer.weight.data
    assert np.abs(w).max() <= bound and np.abs(layer.bias.data).max() <= bound
    assert np.abs(w).max() > 0.95 * bound            # spread over the whole interval
    assert abs(w.mean()) < 0.1 * bound and abs(w.std() - bound / np.sqrt(3)) < 0.1 * bound
    x = rng.standard_normal((4, 50)).astype(np.float32)
    np.testing.assert_allclose(layer(x).data, x @ w + layer.bias.data, rtol=1e-6)


def test_linear_without_bias_and_seeding():
    layer = Linear(3, 2, bias=False, rng=1)
    assert layer.bias is None and [n for n, _ in layer.named_parameters()] == ["weight"]
    np.testing.assert_array_equal(Linear(3, 2, rng=5).weight.data, Linear(3, 2, rng=5).weight.data)
    with pytest.raises(ValueError, match="Linear: in_features"):
        Linear(0, 2)


def test_linear_matches_torch(rng):
    torch = pytest.importorskip("torch")
    layer = Linear(5, 3, dtype=np.float64, rng=0)
    ref = torch.nn.Linear(5, 3, dtype=torch.float64)
    with torch.no_grad():
        ref.weight.copy_(torch.from_numpy(layer.weight.data.T.copy()))
        ref.bias.copy_(torch.from_numpy(layer.bias.data))
    x = rng.standard_normal((4, 5))
    g = rng.standard_normal((4, 3))
    layer(x).backward(g)
    ref(torch.from_numpy(x)).backward(torch.from_numpy(g))
    np.testing.assert_allclose(layer.weight.grad.data, ref.weight.grad.numpy().T, rtol=1e-12)
    np.testing.assert_allclose(layer.bias.grad.data, ref.bias.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_mlp_gradients_match_finite_differences(activation, rng):
    model = MLP([3, 5, 4, 2], activation=activation, dtype=np.float64, rng=0)
    slots = [(m, k) for m in model.layers if isinstance(m, Linear) for k in ("weight", "bias")]

    def f(x, *weights):     # the model as a function of its weights (put in place of them)
        for (m, k), w in zip(slots, weights):
            object.__setattr__(m, k, w)
        return model(x)

    x = rng.standard_normal((6, 3)) + 0.1        # away from relu's kink
    assert al.gradcheck(f, [x, *[getattr(m, k).data for m, k in slots]])


def test_mlp_structure_and_errors():
    model = MLP([2, 8, 8, 3], activation=nn.Sigmoid, rng=0)
    kinds = [type(m).__name__ for m in model.layers]
    assert kinds == ["Linear", "Sigmoid", "Linear", "Sigmoid", "Linear"]
    assert model(np.zeros((4, 2), dtype=np.float32)).shape == (4, 3)
    with pytest.raises(ValueError, match="unknown activation 'gelu'"):
        MLP([2, 3], activation="gelu")
    with pytest.raises(ValueError, match="at least an input and an output"):
        MLP([2])
    with pytest.raises(TypeError, match="argument 1 is a str"):
        Sequential(Linear(2, 2), "relu")


def test_activation_modules_are_the_tensor_functions(rng):
    x = rng.standard_normal((3, 4))
    np.testing.assert_array_equal(nn.ReLU()(x).data, np.maximum(x, 0))
    np.testing.assert_array_equal(nn.Tanh()(x).data, np.tanh(x))
    np.testing.assert_allclose(nn.Sigmoid()(x).data, 1 / (1 + np.exp(-x)))


def test_dropout_train_and_eval():
    drop = Dropout(0.25, rng=0)
    x = al.Tensor(np.ones((200, 50)), requires_grad=True)
    y = drop(x)
    kept = y.data != 0
    assert abs(kept.mean() - 0.75) < 0.02
    np.testing.assert_allclose(y.data[kept], 1 / 0.75)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, kept / 0.75)   # g ⊙ mask / (1 − p)
    drop.eval()
    assert drop(x) is x
    with pytest.raises(ValueError, match="Dropout: p must be in"):
        Dropout(1.0)


# -- state_dict --------------------------------------------------------------------------------


def test_state_dict_is_a_snapshot_and_round_trips():
    a, b = MLP([4, 6, 3], rng=0), MLP([4, 6, 3], rng=1)
    state = a.state_dict()
    assert list(state) == ["layers.0.weight", "layers.0.bias", "layers.2.weight", "layers.2.bias"]
    a.parameters()[0].data += 1            # later changes do not reach the snapshot
    assert not np.array_equal(state["layers.0.weight"], a.parameters()[0].data)
    b.load_state_dict(state)
    for (k, v), p in zip(state.items(), b.parameters()):
        np.testing.assert_array_equal(p.data, v)
        assert p.data is not v                # copied in, not aliased


@pytest.mark.parametrize("edit, error, match", [
    (lambda s: s.pop("layers.2.bias"), KeyError, r"missing keys \['layers.2.bias'\]"),
    (lambda s: s.update(extra=np.zeros(1)), KeyError, r"unexpected keys \['extra'\]"),
    (lambda s: s.update({"layers.0.weight": np.zeros((6, 4), np.float32)}), ValueError,
     r"key 'layers.0.weight' has shape \(6, 4\), the parameter has shape \(4, 6\)"),
    (lambda s: s.update({"layers.0.bias": np.zeros(6)}), ValueError,
     r"key 'layers.0.bias' has dtype float64, the parameter has dtype float32"),
])
def test_load_state_dict_errors_name_the_key_and_change_nothing(edit, error, match):
    model = MLP([4, 6, 3], rng=0)
    before = model.state_dict()
    state = MLP([4, 6, 3], rng=1).state_dict()
    edit(state)
    with pytest.raises(error, match=match):
        model.load_state_dict(state)
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v, before[k])


def test_load_state_dict_non_strict_ignores_extra_keys():
    model = MLP([2, 3], rng=0)
    state = {**MLP([2, 3], rng=1).state_dict(), "extra": np.zeros(1)}
    model.load_state_dict(state, strict=False)
    np.testing.assert_array_equal(model.parameters()[0].data, state["layers.0.weight"])


# -- checkpoints -------------------------------------------------------------------------------


def test_save_load_round_trip_is_bit_exact(tmp_path, rng):
    model = MLP([5, 7, 3], dtype=np.float64, rng=0)
    model.parameters()[1].data[:] = [np.nan, -0.0, np.inf, -np.inf, 5e-324, 1.0, -1e308]
    path = nn.save(model, tmp_path / "ckpt.npz")
    assert path == tmp_path / "ckpt.npz" and sorted(os.listdir(tmp_path)) == ["ckpt.npz"]
    state = nn.load(path)
    for k, v in model.state_dict().items():
        assert state[k].dtype == v.dtype and state[k].tobytes() == v.tobytes()
    fresh = MLP([5, 7, 3], dtype=np.float64, rng=9)
    nn.load(path, module=fresh)
    x = rng.standard_normal((2, 5))
    assert fresh(x).data.tobytes() == model(x).data.tobytes()


def test_save_accepts_a_dict_of_arrays_and_rejects_objects(tmp_path):
    state = {"a": np.arange(3, dtype=np.int32), "b": al.Tensor([1.5])}
    out = nn.load(nn.save(state, tmp_path / "s.npz"))
    assert out["a"].dtype == np.int32 and out["b"].tolist() == [1.5]
    with pytest.raises(TypeError, match="key 'bad' holds dtype object"):
        nn.save({"bad": np.array([{}, None], dtype=object)}, tmp_path / "x.npz")
    assert not (tmp_path / "x.npz").exists()


def test_checkpoint_missing_key_and_wrong_shape(tmp_path):
    nn.save({"layers.0.weight": np.zeros((2, 3), np.float32)}, tmp_path / "partial.npz")
    with pytest.raises(KeyError, match=r"missing keys \['layers.0.bias'\]"):
        nn.load(tmp_path / "partial.npz", module=MLP([2, 3], rng=0))
    state = MLP([2, 3], rng=0).state_dict()
    state["layers.0.weight"] = np.zeros((3, 2), np.float32)
    nn.save(state, tmp_path / "wrong.npz")
    with pytest.raises(ValueError, match="key 'layers.0.weight' has shape"):
        nn.load(tmp_path / "wrong.npz", module=MLP([2, 3], rng=0))


def test_checkpoint_with_a_pickled_object_array_is_refused(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, ok=np.zeros(2), payload=np.array([{"x": 1}], dtype=object))
    with pytest.raises(ValueError, match="key 'payload' .* pickled object array"):
        nn.load(path)


def test_load_of_a_non_checkpoint_file_is_a_clear_error(tmp_path):
    (tmp_path / "junk.npz").write_bytes(b"not a zip file")
    with pytest.raises(ValueError, match="is not a checkpoint .npz file"):
        nn.load(tmp_path / "junk.npz")


def test_interrupted_save_leaves_the_old_checkpoint_intact(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    old = MLP([3, 4, 2], rng=0)
    nn.save(old, path)
    original = path.read_bytes()

    def write_then_crash(f, *args, **kwargs):
        f.write(b"\x93NUMPY half an array")
        raise OSError("disk full")

    monkeypatch.setattr(np.lib.format, "write_array", write_then_crash)
    with pytest.raises(OSError, match="disk full"):
        nn.save(MLP([3, 4, 2], rng=1), path)
    assert path.read_bytes() == original
    assert os.listdir(tmp_path) == ["model.npz"]       # the temporary file is removed
    monkeypatch.undo()
    for k, v in nn.load(path).items():
        np.testing.assert_array_equal(v, old.state_dict()[k])


def test_saved_checkpoint_has_a_normal_file_mode(tmp_path):
    umask = os.umask(0)
    os.umask(umask)
    path = nn.save(MLP([2, 2], rng=0), tmp_path / "m.npz")
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~umask


def test_sequential_nested_500_deep_does_not_overflow():
    m = al.nn.Linear(2, 3, rng=0)
    for _ in range(500):
        m = al.nn.Sequential(m)
    x = np.ones((4, 2))
    m(x).sum().backward()
    assert len(m.parameters()) == 2 and m.parameters()[0].grad is not None
    text = repr(m)
    assert text.count("Sequential") == 500 and "Linear(2 → 3" in text
    assert len(m.state_dict()) == 2
