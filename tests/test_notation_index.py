"""``explain(..., notation="index" | "both")``: index notation beside the matrix form, one letter
per axis throughout, convolutions written as the matrices they are."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite.examples import mlp_example


def _line(text: str, start: str) -> str:
    found = [ln.strip() for ln in text.splitlines() if ln.strip().startswith(start)]
    assert found, f"no line starting with {start!r} in:\n{text}"
    return found[0]


def test_matmul_lines_show_index_and_matrix_forms():
    text = str(al.explain(mlp_example(batch=4, sizes=(3, 5, 2)), notation="both"))
    line = _line(text, "dW1[i,j]")
    assert "Σ_n A0[n,i]·dt2[n,j]   ⇔   dW1 = A0ᵀ @ dt2" in line
    assert line.endswith("(3, 5) = (3, 4) @ (4, 5)")
    assert "Σ_k dt7[n,k]·W2[j,k]   ⇔   dA1 = dt7 @ W2ᵀ" in _line(text, "dA1[n,j]")
    # the hidden axis is j everywhere: W1's columns, A1's columns, W2's rows
    assert "dW2[j,k]" in text


def test_index_notation_alone_and_matrix_default_unchanged():
    loss = mlp_example(batch=4, sizes=(3, 5, 2))
    index = str(al.explain(loss, notation="index"))
    assert "dW1[i,j] =  Σ_n A0[n,i]·dt2[n,j]" in index and "⇔" not in index
    assert str(al.explain(loss)) == str(al.explain(loss, notation="matrix"))
    assert "dW1 =  A0ᵀ @ dt2" in str(al.explain(loss))


def test_letters_follow_axes_not_sizes():
    """Two axes of the same size keep different letters (W is square here)."""
    A = al.Tensor(np.ones((2, 3)), name="A")
    W = al.Tensor(np.ones((3, 3)), requires_grad=True, name="W")
    text = str(al.explain((A @ W).sum(), notation="index"))
    assert "dW[i,j] =  Σ_n A[n,i]·dt" in text


def test_einsum_lines_name_their_subscripts():
    rng = np.random.default_rng(0)
    A = al.Tensor(rng.normal(size=(4, 3)), requires_grad=True, name="A")
    W = al.Tensor(rng.normal(size=(3, 2)), requires_grad=True, name="W")
    Z = al.einsum("ni,ij->nj", A, W)
    Z.name = "Z"
    text = str(al.explain(Z.sum(), notation="both"))
    assert "Z = einsum('ni,ij->nj', A, W)" in text
    assert "dA[n,i] =  Σ_j dZ[n,j]·W[i,j]   ⇔   dA = einsum('nj,ij->ni', dZ, W)" in text
    assert "dW[i,j] =  Σ_n dZ[n,j]·A[n,i]   ⇔   dW = einsum('nj,ni->ij', dZ, A)" in text


def test_conv_nodes_are_written_as_matrices_and_sums():
    rng = np.random.default_rng(0)
    X = al.Tensor(rng.normal(size=(2, 3, 6, 6)), requires_grad=True, name="X")
    W = al.Tensor(rng.normal(size=(4, 3, 3, 3)), requires_grad=True, name="W")
    Y = al.conv2d(X, W, stride=2, padding=1)
    Y.name = "Y"
    text = str(al.explain(Y.sum(), notation="both"))
    assert "Xcol = unfold(X)  (2·3·3, 3·3·3) = (18, 27)" in text
    dw = _line(text, "dW[")
    assert dw.startswith("dW[l,i,m,p] =  Σ_{n,q,r} X[n,i,q·2+m−1,r·2+p−1]·dY[n,l,q,r]")
    assert "dW = Xcolᵀ @ dYmat" in dw and "(27, 4) = (27, 18) @ (18, 4)" in dw
    dx = _line(text, "dX[")
    assert "fold(dYmat @ Wmatᵀ)" in dx and "(18, 27) = (18, 4) @ (4, 27)" in dx


def test_bad_notation_is_rejected():
    with pytest.raises(ValueError, match="explain: notation must be one of"):
        al.explain(mlp_example(batch=2, sizes=(2, 3, 2)), notation="tensor")
