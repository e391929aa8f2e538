"""Comparing one recipe's results (helpers for ``tests/test_fuzz.py``, on the recipes of
``fuzz_graphs.py``): running it on either library, tolerances by dtype, and for float16 and
float32 the float64 arbitration of a disagreement; first order against PyTorch."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

import autograd_lite as al

if TYPE_CHECKING:
    from .fuzz_graphs import Recipe


def run(recipe: Recipe, xs: list, lib: str, round_to: Any = None) -> Any:
    """The recipe's scalar output, on autograd_lite Tensors (``lib="al"``) or torch tensors;
    ``round_to`` (autograd_lite): each step's value rounded to that dtype, its graph kept."""
    if lib == "torch":
        import torch
    vals = list(xs)
    with np.errstate(all="ignore"):
        for form, args, p in recipe.steps:
            a = [vals[i] for i in args]
            v = form.al(a, p) if lib == "al" else form.torch(a, p, torch)
            if round_to is not None and v.dtype.kind == "f":
                v = v + al.Tensor(v.data.astype(round_to).astype(v.dtype) - v.data)
            vals.append(v)
        total = None
        for k, w in zip(recipe.sinks, recipe.weights):
            w = al.Tensor(w) if lib == "al" else torch.from_numpy(w)
            term = (vals[k] * w).sum()
            total = term if total is None else total + term
    return total


def _np(t: Any) -> np.ndarray:
    """A torch tensor as an ndarray (PyTorch's ZeroTensors, which its double backward returns
    for zero second derivatives, crash ``.numpy(force=True)``)."""
    t = t.detach()
    return np.zeros(tuple(t.shape)) if t._is_zerotensor() else t.numpy(force=True)


TOL = {np.dtype(np.float64): 1e-9, np.dtype(np.float32): 2e-5, np.dtype(np.float16): 5e-3}


def _sum_scale(recipe: Recipe) -> float:
    """1 + Σ|terms| of the output's final weighted sum: the scale of its rounding error (NumPy
    accumulates float16 sums in float16, PyTorch in float32)."""
    vals = [al.Tensor(x) for x in recipe.inputs]
    with np.errstate(all="ignore"):
        for form, args, p in recipe.steps:
            vals.append(form.al([vals[a] for a in args], p))
    total = sum(float(np.nansum(np.abs(vals[k].data.astype(np.float64) * w)))
                for k, w in zip(recipe.sinks, recipe.weights))
    return 1.0 + total


# PyTorch kernels less precise than float64 (found by this fuzzer; autograd_lite is exact):
TORCH_IMPRECISE = {"hardsigmoid": (1e-7, "PyTorch's CPU backward of hardsigmoid multiplies by "
                                         "the float32 constant 1/6 (relative error 3e-8)")}


def _tol(recipe: Recipe) -> Any:
    """The comparison dtype key: float64 recipes that use a TORCH_IMPRECISE op compare at that
    op's tolerance."""
    if np.dtype(recipe.dtype) == np.float64 and any(f.op in TORCH_IMPRECISE
                                                    for f, _, _ in recipe.steps):
        return "float64-imprecise"
    return recipe.dtype


def rounding_band(recipe: Recipe) -> list[tuple[Any, Any]] | None:
    """How far rounding each intermediate value to the recipe's dtype moves the output and the
    input gradients, computed in float64: ``(|rounded − exact|, reference)`` for the output,
    then for each input's gradient (the graph's conditioning at this point, from two runs of
    autograd_lite, so a wrong rule is wrong the same way in both; and PyTorch's float64
    result, an independent reference; ``None`` when either cannot be computed). Correct
    low-precision implementations differ by a small multiple of it: each rounds once per
    primitive, and a step built from several (the composed cross-entropy, log_softmax, ...) can
    be off by a few units in the last place. So a disagreement within ``BAND`` times it is not
    a defect, and one beyond it is."""
    results = []
    for round_to in (None, recipe.dtype):
        xs = [al.Tensor(x.astype(np.float64), requires_grad=True) for x in recipe.inputs]
        try:
            total = run(recipe, xs, "al", round_to)
            if total.requires_grad:
                with np.errstate(all="ignore"):
                    total.backward()
        except Exception:   # noqa: BLE001 - no band, no excuse
            return None
        results.append((total.data, [np.zeros(x.shape) if x.grad is None else x.grad.data
                                     for x in xs]))
    (v0, g0), (v1, g1) = results
    with np.errstate(all="ignore"):
        band = [np.abs(np.asarray(a, np.float64) - b) for a, b in zip([v1, *g1], [v0, *g0])]
    band = [np.where(np.isfinite(b), b, 0.0) for b in band]   # (not finite: no excuse)
    import torch
    ts = [torch.tensor(x.astype(np.float64), requires_grad=True) for x in recipe.inputs]
    try:
        out = run(recipe, ts, "torch")
        if out.requires_grad:
            out.backward()
    except Exception:   # noqa: BLE001 - no reference, no excuse
        return None
    ref = [_np(out)] + [np.zeros(t.shape) if t.grad is None else _np(t.grad) for t in ts]
    return list(zip(band, ref))


def judge_low_precision(a: Any, b: Any, dtype: Any, band: Any, exact: Any,
                        scale: float | None = None, singular: bool = False) -> str | None:
    """:func:`close` for a float16/float32 graph, knowing its float64 result ``exact`` and
    rounding ``band``: an element passes if autograd_lite is within the band of PyTorch, or at
    least as close to the float64 result as PyTorch is (PyTorch's own float16 rounding or
    overflow, e.g. a reciprocal that overflows to inf and gives 0·inf = NaN where the float64
    value is finite). Where the float64 result is not finite, special values must match, but
    at a ``singular`` point (a recipe's step at the edge of its domain, arctanh(1)), where
    rounding decides whether the singularity is hit."""
    a64, b64, e = (np.asarray(v, np.float64) for v in (a, b, exact))
    if a64.shape != b64.shape or e.shape != b64.shape:
        return close(a, b, dtype, scale, band=band)
    with np.errstate(all="ignore"):
        err_a = np.where(np.isnan(a64 - e), np.inf, np.abs(a64 - e))
        err_b = np.where(np.isnan(b64 - e), np.inf, np.abs(b64 - e))
    tol = TOL[np.dtype(dtype)]
    no_worse = np.isfinite(e) & (err_a <= err_b + tol * (1 + np.abs(e)) + BAND * band)
    if singular:
        no_worse |= ~np.isfinite(e)
    return close(a, np.where(no_worse, a64, b64), dtype, scale, band=band)


BAND = 8   # a few units in the last place per step, on both sides (see rounding_band)


def close(a: Any, b: Any, dtype: Any, scale: float | None = None,
          band: Any = 0.0) -> str | None:
    """None when ``a`` (autograd_lite) matches ``b`` (reference) within the dtype's tolerance,
    relative to the reference's scale, plus ``BAND·band`` (see :func:`rounding_band`); NaN
    matches NaN and inf matches inf (special points); else a short description of the worst
    mismatch."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return f"shape {a.shape} != {b.shape}"
    tol = max(v[0] for v in TORCH_IMPRECISE.values()) if dtype == "float64-imprecise" else (
        TOL[np.dtype(dtype)])
    finite = np.isfinite(b)
    if scale is None:
        scale = 1.0 + (np.abs(b[finite]).max() if finite.any() else 0.0)
    same_special = (np.isnan(a) & np.isnan(b)) | (np.isinf(a) & (a == b))
    err = np.where(same_special, 0.0, np.abs(a - b))
    err = np.where(np.isnan(err), np.inf, err)
    bad = err > tol * scale + tol * np.abs(np.where(finite, b, 0)) + BAND * band
    if not bad.any():
        return None
    i = np.unravel_index(int(np.argmax(np.where(bad, err, -1))), bad.shape) if bad.ndim else ()
    return f"at {tuple(int(j) for j in i)}: {a[i]!r} vs {b[i]!r} (tol {tol:g}×{scale:.3g})"


def first_order(recipe: Recipe) -> list[str]:
    """autograd_lite's value and gradients against PyTorch's; a list of disagreements."""
    import torch
    xs = [al.Tensor(x, requires_grad=True) for x in recipe.inputs]
    out = run(recipe, xs, "al")
    ts = [torch.tensor(x, requires_grad=True) for x in recipe.inputs]
    tout = run(recipe, ts, "torch")
    problems = [f"raised: {e}" for e in recipe.errors]
    if out.dtype != recipe.dtype:
        problems.append(f"output dtype {out.dtype}, expected {np.dtype(recipe.dtype).name}")
    msg = close(out.data, _np(tout), _tol(recipe), scale=_sum_scale(recipe))
    band = None   # float64 arbitration, computed only for a low-precision disagreement
    if msg and np.dtype(recipe.dtype) != np.float64:
        band = rounding_band(recipe)
        msg = band and judge_low_precision(out.data, _np(tout), recipe.dtype, *band[0],
                                           scale=_sum_scale(recipe), singular=recipe.kinky)
    if msg:
        problems.append(f"value: {msg}")
    if out.requires_grad:
        with np.errstate(all="ignore"):
            out.backward()
    if tout.requires_grad:
        tout.backward()
    for k, (x, t) in enumerate(zip(xs, ts)):
        a = np.zeros(x.shape) if x.grad is None else x.grad.data
        b = np.zeros(t.shape) if t.grad is None else _np(t.grad)
        if x.grad is not None and x.grad.dtype != recipe.dtype:
            problems.append(f"grad {k} dtype {x.grad.dtype}")
        msg = close(a, b, _tol(recipe))
        if msg and np.dtype(recipe.dtype) != np.float64:
            band = band or rounding_band(recipe)
            msg = band and judge_low_precision(a, b, recipe.dtype, *band[1 + k],
                                               singular=recipe.kinky)
        if msg:
            problems.append(f"grad of input {k} {x.shape}: {msg}")
    return problems
