"""Singular values, the SVD and the matrix norms built on them (``ord=2``, ``-2``, ``'nuc'``):
second derivatives, PyTorch parity over rectangular, batched and float32 inputs, and the
conventions at special points (exactly-zero singular values, repeated ones, full matrices)."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_lite as al

from .spec import SPECS, make_inputs

SHAPES = [(4, 3), (3, 5), (2, 3, 3), (2, 1, 4, 2)]


@pytest.mark.parametrize("name", ["svdvals", "svd"])
def test_second_derivatives(name, rng):
    spec = SPECS[name]
    for shapes, params in spec.cases[:6]:
        xs = make_inputs(spec, shapes, rng)
        assert al.gradgradcheck(lambda *ts: spec.fn(*ts, **params), xs)


NORMS = [((4, 3), None), ((3, 5), None), ((2, 3, 4), (1, 2)), ((2, 3, 4), (2, 0)),
         ((3, 4, 2), (-3, -2)), ((2, 2, 3, 3), (-1, -2))]


@pytest.mark.parametrize("order", [2, -2, "nuc"])
@pytest.mark.parametrize(("shape", "axis"), NORMS)
def test_matrix_norms_match_numpy_and_pytorch(order, shape, axis, rng):
    torch = pytest.importorskip("torch")
    x = rng.normal(size=shape)
    for keepdims in (False, True):
        t = al.Tensor(x, requires_grad=True)
        out = al.norm(t, order, axis, keepdims)
        ref = np.linalg.norm(x, order, axis, keepdims)
        assert out.shape == ref.shape
        np.testing.assert_allclose(out.data, ref, rtol=1e-12)
        u = rng.normal(size=ref.shape)
        out.backward(u)
        tx = torch.tensor(x, requires_grad=True)
        torch.linalg.norm(tx, order, (-2, -1) if axis is None else axis, keepdims).backward(
            torch.tensor(u))
        np.testing.assert_allclose(t.grad.data, tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    assert al.gradcheck(lambda v: al.norm(v, order, axis), [x])
    assert al.gradgradcheck(lambda v: al.norm(v, order, axis), [x])


@pytest.mark.parametrize("order", [2, -2, "nuc"])
def test_matrix_norms_in_float32(order, rng):
    torch = pytest.importorskip("torch")
    x = rng.normal(size=(2, 5, 3)).astype(np.float32)
    t = al.Tensor(x, requires_grad=True)
    out = al.norm(t, order, (-2, -1))
    assert out.dtype == np.float32
    out.sum().backward()
    assert t.grad.dtype == np.float32
    tx = torch.tensor(x, requires_grad=True)
    torch.linalg.matrix_norm(tx, order).sum().backward()
    np.testing.assert_allclose(out.data, np.linalg.norm(x, order, (-2, -1)), rtol=1e-5)
    np.testing.assert_allclose(t.grad.data, tx.grad.numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("shape", SHAPES)
def test_svd_reconstructs_and_matches_numpy(shape, rng):
    x = rng.normal(size=shape)
    for full in (False, True):
        u, s, vh = al.svd(x, full_matrices=full)
        nu, ns, nvh = np.linalg.svd(x, full_matrices=full)
        assert (u.shape, s.shape, vh.shape) == (nu.shape, ns.shape, nvh.shape)
        k = s.shape[-1]
        np.testing.assert_allclose((u.data[..., :k] * s.data[..., None, :]) @ vh.data[..., :k, :],
                                   x, atol=1e-12)
        np.testing.assert_allclose(s.data, ns, rtol=1e-12)
    np.testing.assert_array_equal(al.svd(x, compute_uv=False).data, al.svdvals(x).data)


def test_svd_full_matrices_extra_columns_get_no_gradient(rng):
    """Columns of U beyond min(m, n) are an arbitrary basis: no gradient, as PyTorch."""
    t = al.Tensor(rng.normal(size=(5, 2)), requires_grad=True)
    u, _, _ = al.svd(t, full_matrices=True)
    u[:, 2:].sum().backward()
    np.testing.assert_array_equal(t.grad.data, np.zeros((5, 2)))
    w = al.Tensor(rng.normal(size=(2, 5)), requires_grad=True)
    al.svd(w, full_matrices=True)[2][2:].sum().backward()
    np.testing.assert_array_equal(w.grad.data, np.zeros((2, 5)))


def test_zero_singular_values_pass_no_gradient():
    """As |a| at 0 (the SVD of a 1 × 1 matrix): the subgradient 0, so every norm of the zero
    matrix has gradient 0, like the vector norms (PyTorch passes u vᵀ there instead)."""
    g = al.grad(lambda a: al.svdvals(a).sum())
    np.testing.assert_array_equal(g(np.zeros((1, 1))), [[0.0]])
    np.testing.assert_array_equal(g(np.array([[-2.0]])), [[-1.0]])
    for order in (2, -2, "nuc", "fro", 1):
        np.testing.assert_array_equal(al.grad(lambda a: al.norm(a, order))(np.zeros((3, 2))),
                                      np.zeros((3, 2)))
    # a rank-deficient matrix: the exactly-zero singular value is skipped, the other is not
    a = np.array([[3.0, 0.0], [0.0, 0.0]])
    np.testing.assert_array_equal(al.grad(lambda m: al.norm(m, -2))(a), np.zeros((2, 2)))
    np.testing.assert_array_equal(al.grad(lambda m: al.norm(m, "nuc"))(a), [[1.0, 0.0],
                                                                           [0.0, 0.0]])


def test_repeated_singular_values(rng):
    """S alone stays differentiable at repeated singular values (the identity's gradient of
    the nuclear norm is the identity, as PyTorch); U and V are not unique there, so a function
    of them gets a non-finite (or huge) gradient (PyTorch's documented behaviour)."""
    torch = pytest.importorskip("torch")
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    x = q @ np.diag([2.0, 2.0, 1.0]) @ q.T
    g = al.grad(lambda a: (al.svdvals(a) * np.array([1.0, 2.0, 3.0])).sum())(x)
    tx = torch.tensor(x, requires_grad=True)
    (torch.linalg.svdvals(tx) * torch.tensor([1.0, 2.0, 3.0], dtype=tx.dtype)).sum().backward()
    np.testing.assert_allclose(g, tx.grad.numpy(), atol=1e-12)
    with np.errstate(all="ignore"):
        gu = al.grad(lambda a: (al.svd(a)[0] ** 2 * np.arange(9.0).reshape(3, 3)).sum())(x)
    assert not np.all(np.abs(gu) < 1e6)     # inf/nan (or huge, if rounding split the pair)
    np.testing.assert_allclose(al.grad(lambda a: al.norm(a, "nuc"))(np.eye(3)), np.eye(3),
                               atol=1e-12)


def test_readme_example_runs():
    from pathlib import Path
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("**Singular values and matrix norms.**", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    exec(compile(code, "README.md", "exec"), {"np": np, "al": al})


def test_linalg_namespace_matches_torch_linalg(rng):
    torch = pytest.importorskip("torch")
    for name in ("norm", "det", "inv", "solve", "cholesky", "slogdet", "svd", "svdvals"):
        assert getattr(al.linalg, name) is getattr(al, name)
    x = rng.normal(size=(2, 3, 4))
    tx = torch.tensor(x)
    for order in ("fro", "nuc", 2, -2, 1, -1, np.inf, -np.inf):
        for axis in ((-2, -1), (0, 2), (2, 0)):
            out = al.linalg.matrix_norm(x, order, dim=axis, keepdim=True)
            ref = torch.linalg.matrix_norm(tx, order, dim=axis, keepdim=True).numpy()
            assert out.shape == ref.shape
            np.testing.assert_allclose(out.data, ref, rtol=1e-12)
    for order in (2, 1, 3.5, np.inf, -np.inf, 0):
        for axis in (None, 1, (0, 2), (-1,)):
            for keepdims in (False, True):
                out = al.linalg.vector_norm(x, order, axis, keepdims)
                ref = torch.linalg.vector_norm(tx, order, axis, keepdims).numpy()
                assert out.shape == ref.shape
                np.testing.assert_allclose(out.data, ref, rtol=1e-12)
    assert al.gradgradcheck(lambda a: al.linalg.vector_norm(a, 3, (0, 2)), [x])
    t = al.Tensor(x, requires_grad=True)
    assert np.linalg.matrix_norm(t, ord="nuc").requires_grad      # NumPy 2's names, recorded
    assert np.linalg.vector_norm(t, axis=(0, 1)).shape == (4,)
    with pytest.raises(ValueError, match=r"matrix_norm: expected matrices \(\.\.\., m, n\), got "
                       r"shape \(3,\)"):
        al.linalg.matrix_norm(np.ones(3))
    with pytest.raises(TypeError, match="matrix_norm: axis must be a pair of ints"):
        al.linalg.matrix_norm(x, axis=0)
