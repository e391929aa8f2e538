"""Random differential graphs (helpers for ``tests/test_fuzz.py``).

A *recipe* is a few input shapes (0-d to 4-d, broadcast-compatible), a dtype (float16/32/64), a
seed, and a list of steps ``(form, argument indices, params)`` (forms: ``fuzz_forms.py`` and
``fuzz_structural.py``). Steps are drawn op first, then one of the op's spellings, so rare ops
are not rare; an argument may be used twice (``x ∘ x``) and values fan out. The same recipe runs
on autograd_lite and on PyTorch (``run``). Values are kept in [-100, 100] by rejecting steps (so
float16 is meaningful); 10% of input elements are rounded to integers to force exact ties and
zeros (kinks and singular points), where the conventions are compared against PyTorch's; finite
differences are used only away from kinks (``Recipe.kinky``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

import autograd_lite as al
from autograd_lite import ops

from .fuzz_compare import _np, _tol, close, run
from .fuzz_forms import DTYPES, LIMIT, Form, _nd

# ---------------------------------------------------------------------------------------------
# Recipes


@dataclass
class Recipe:
    seed: int
    dtype: Any
    inputs: list[np.ndarray]
    steps: list[tuple[Form, tuple[int, ...], dict]]
    weights: list[np.ndarray]           # for the sinks (non-uniform upstream gradients)
    sinks: list[int]
    kinky: bool                          # some step sits at or near a kink / singular point
    fd_ok: bool
    errors: list[str]                    # drawn calls (all valid) that raised

    def describe(self) -> str:
        n = len(self.inputs)
        lines = [f"seed {self.seed}, {np.dtype(self.dtype).name}, inputs "
                 f"{[x.shape for x in self.inputs]}"]
        for k, (form, args, p) in enumerate(self.steps):
            shown = {q: v for q, v in p.items() if q not in ("target", "weight", "cond", "c")}
            lines.append(f"  v{n + k} = {form.name}({', '.join(f'v{a}' for a in args)}) {shown}")
        return "\n".join(lines)


def _input_shapes(rng: np.random.Generator) -> list[tuple]:
    """1-3 broadcast-compatible shapes, 0-d to 4-d (dims 1-3)."""
    nd = int(rng.choice([0, 1, 1, 2, 2, 2, 3, 3, 4]))
    base = tuple(int(rng.integers(1, 4)) for _ in range(nd))
    shapes = []
    for _ in range(int(rng.integers(1, 4))):
        k = int(rng.integers(0, nd + 1)) if rng.random() < 0.4 else 0
        s = tuple(1 if rng.random() < 0.2 else n for n in base[k:])
        shapes.append(s)
    return shapes


def _values(rng: np.random.Generator, shape: tuple, dtype: Any) -> np.ndarray:
    x = rng.uniform(-1.5, 1.5, shape)
    rounded = rng.random(shape) < 0.1          # exact ties and zeros
    x = np.where(rounded, np.round(x), x)
    return np.asarray(x, dtype=dtype)


# ops drawn on empty arrays too (a boolean mask may select nothing)
EMPTY_OK = {"add", "sub", "mul", "div", "pow", "neg", "exp", "log", "sqrt", "abs", "tanh",
            "sigmoid", "relu", "maximum", "minimum", "sum", "transpose", "astype", "clip", "where"}


def _at_jump(form: Form, xs: list, p: dict, out: Any) -> bool:
    """Whether a forward that jumps (floor, round, remainder...) is within 1e-6 of a jump."""
    if form.op not in ops.OPS or form.op == "astype":
        return False
    moved = []
    with np.errstate(all="ignore"):
        for s in (1, -1):
            ys = [al.Tensor(_nd(x) + s * 1e-6 * (1 + np.abs(_nd(x)))) for x in xs]
            moved.append(np.asarray(form.al(ys, p)._data, dtype=np.float64))
    base = np.asarray(out._data, dtype=np.float64)
    return bool(np.any(np.abs(moved[0] - base) > 1e-3) or np.any(np.abs(moved[1] - base) > 1e-3))


def make_recipe(seed: int, forms: list[Form], max_steps: int = 8, dtype: Any = None) -> Recipe:
    rng = np.random.default_rng(seed)
    drawn = DTYPES[int(rng.integers(0, len(DTYPES)))]
    dtype = drawn if dtype is None else dtype
    inputs = [_values(rng, s, dtype) for s in _input_shapes(rng)]
    vals = [al.Tensor(x) for x in inputs]          # float64-safe forward used for checks
    steps: list = []
    kinky, fd_ok = False, dtype == np.float64
    used: set[int] = set()
    errors: list[str] = []         # a valid call that raised (a bug)
    terminal: set[int] = set()     # NaN losses: sinks only (NaN conventions are not compared)
    by_op: dict[str, list[Form]] = {}
    for f in forms:
        by_op.setdefault(f.op, []).append(f)
    names = sorted(by_op)
    for _ in range(int(rng.integers(2, max_steps + 1))):
        for _attempt in range(8):
            family = by_op[names[int(rng.integers(0, len(names)))]]   # op first, then spelling
            form = family[int(rng.integers(0, len(family)))]
            k = len(vals)
            recent = lambda: int(k - 1 - min(int(rng.geometric(0.4)) - 1, k - 1))  # noqa: E731
            args = tuple(recent() for _ in range(form.arity))
            if form.arity >= 2 and rng.random() < 0.25:
                args = (args[0],) * form.arity              # x ∘ x
            if terminal.intersection(args):
                continue
            shapes = [vals[a].shape for a in args]
            if form.op not in EMPTY_OK and any(0 in s for s in shapes):
                continue      # reductions over nothing, reshapes of nothing: not drawn
            if form.arity >= 2:
                try:
                    np.broadcast_shapes(*shapes)
                except ValueError:
                    if form.op not in ("matmul",):
                        continue
            p = form.make(rng, shapes, dtype)
            if p is None:
                continue
            try:
                with np.errstate(all="ignore"):
                    out = form.al([vals[a] for a in args], p)
            except Exception as e:     # noqa: BLE001 - every drawn call is valid: report it
                shown = {q: v for q, v in p.items() if q not in ("target", "weight", "cond")}
                errors.append(f"{form.name}{tuple(shapes)} {shown}: {type(e).__name__}: {e}")
                continue
            data = np.asarray(out._data, dtype=np.float64)
            nan_mean = form.op == "cross_entropy" and p.get("kind") == "index" and bool(
                np.all(p["target"] == -100))      # an all-padding mean: NaN, zero gradient
            finite = data[np.isfinite(data)]
            if not isinstance(out, al.Tensor) or (not nan_mean and finite.size < data.size) or (
                    finite.size and np.abs(finite).max() > LIMIT):
                continue
            if not form.fd_ok and _at_jump(form, [vals[a] for a in args], p, out):
                continue       # floor/remainder at a jump: 1 ulp upstream flips the value
            kinky = kinky or bool(form.kink([vals[a] for a in args], p))
            fd_ok = fd_ok and form.fd_ok
            if nan_mean:
                terminal.add(len(vals))
            steps.append((form, args, p))
            used.update(args)
            vals.append(out)
            break
    sinks = [k for k in range(len(vals)) if k not in used]
    weights = [rng.uniform(0.5, 1.5, vals[k].shape).astype(dtype) for k in sinks]
    return Recipe(seed, dtype, inputs, steps, weights, sinks, kinky, fd_ok, errors)


def finite_differences(recipe: Recipe, n_dirs: int = 2, eps: float = 1e-6) -> list[str]:
    """Directional derivatives ⟨∇f, v⟩ against central differences, float64, away from kinks
    (and not judged where the function is undefined or infinite within ``eps``: an input at
    the edge of arcsin's domain, where the derivative is infinite and a difference NaN)."""
    xs = [al.Tensor(x, requires_grad=True) for x in recipe.inputs]
    out = run(recipe, xs, "al")
    if not out.requires_grad or not np.isfinite(out.item()):
        return []
    out.backward()
    rng = np.random.default_rng(recipe.seed + 7)
    problems = []
    for _ in range(n_dirs):
        vs = [rng.normal(size=x.shape) for x in recipe.inputs]
        dot = sum(float(np.sum((np.zeros(x.shape) if x.grad is None else x.grad.data) * v))
                  for x, v in zip(xs, vs))
        f = [run(recipe, [al.Tensor(x + s * eps * v) for x, v in zip(recipe.inputs, vs)],
                 "al").item() for s in (1, -1, 0.5, -0.5)]
        # Richardson's extrapolation of the steps eps and eps/2 cancels the eps² term, which
        # near a singular point (arcsin close to 1) exceeds the tolerance
        fd = (4 * (f[2] - f[3]) / eps - (f[0] - f[1]) / (2 * eps)) / 3
        if np.isfinite(fd) and not abs(fd - dot) <= 1e-5 * (1 + abs(fd)):
            problems.append(f"directional derivative {dot!r} vs central difference {fd!r}")
    return problems


def _pow_at_zero(recipe: Recipe) -> bool:
    """A pow step with an exact 0 in its exponent or its base (see second_order)."""
    vals = [al.Tensor(x) for x in recipe.inputs]
    hit = False
    with np.errstate(all="ignore"):
        for form, args, p in recipe.steps:
            xs = [vals[a] for a in args]
            if form.op == "pow":
                if p["side"] == "both":
                    hit = hit or bool(np.any(_nd(xs[1]) == 0))
                elif p["side"] == "left":
                    hit = hit or bool(np.any(np.asarray(p["c"]) == 0))
                hit = hit or _zero_base(form, xs, p)
            vals.append(form.al(xs, p))
    return hit


def hvp_by_differences(recipe: Recipe, vs: list, eps: float = 1e-6) -> list[np.ndarray]:
    """``H v`` by central differences of autograd_lite's gradient (float64)."""
    gs = []
    for s in (1, -1):
        xs = [al.Tensor(x + s * eps * v, requires_grad=True) for x, v in zip(recipe.inputs, vs)]
        with np.errstate(all="ignore"):
            run(recipe, xs, "al").backward()
        gs.append([np.zeros(x.shape) if x.grad is None else x.grad.data for x in xs])
    return [(a - b) / (2 * eps) for a, b in zip(*gs)]


def second_order(recipe: Recipe) -> tuple[list[str], list[str]]:
    """Hessian-vector products: create_graph=True, al.hvp and (small inputs) al.hessian, against
    PyTorch's double backward. Returns (disagreements, explained disagreements).

    Explained: PyTorch masks pow's ∂/∂x to 0 wherever the exponent is exactly 0 (so that
    d(x⁰)/dx = 0 at x = 0) and ∂/∂y where the base is 0; the masks are constants, so PyTorch's
    second derivatives there are 0 (∂²(xʸ)/∂x∂y, which is x⁻¹) or NaN (at base 0). Where such
    a step is present, a disagreement is accepted only if central differences of autograd_lite's
    gradient confirm autograd_lite's H v."""
    try:
        problems, explained = _second_order(recipe)
        if problems and recipe.kinky:       # a second derivative where the first one jumps
            return [], [f"second derivative at a kink (a convention, e.g. selu'' at 0: "
                        f"PyTorch 0, autograd_lite the branch of its first derivative): "
                        f"{problems[0]}"]
    except RuntimeError as e:       # PyTorch has no double backward for some kernels
        if "not implemented" not in str(e):
            raise
        if recipe.kinky:
            return [], [f"no PyTorch double backward ({e}); at a kink: not checked"]
        return _hv_against_differences(recipe), [
            f"no PyTorch double backward ({str(e).splitlines()[0]}); H v checked against "
            f"central differences of the gradient instead"]
    if problems and _pow_at_zero(recipe):
        rng = np.random.default_rng(recipe.seed + 11)
        vs = [rng.normal(size=x.shape).astype(recipe.dtype) for x in recipe.inputs]
        xs = [al.Tensor(x, requires_grad=True) for x in recipe.inputs]
        with np.errstate(all="ignore"):
            gs = al.engine.cotangents(run(recipe, xs, "al"), xs, create_graph=True)
            inner = sum((g * al.Tensor(v)).sum() for g, v in zip(gs, vs)
                        if isinstance(g, al.Tensor) and g.requires_grad)
            hv = al.engine.cotangents(inner, xs) if isinstance(inner, al.Tensor) else []
        fd = hvp_by_differences(recipe, vs)
        if hv and all(np.allclose(np.zeros(x.shape) if h is None else h.data, d, rtol=1e-4,
                                  atol=1e-5) for x, h, d in zip(recipe.inputs, hv, fd)):
            return [], [f"PyTorch's double backward of pow at an exact 0 (its masks are "
                        f"constants); finite differences agree with autograd_lite: "
                        f"{problems[0]}"]
    return problems, explained


def _hv_against_differences(recipe: Recipe) -> list[str]:
    """``H v`` against central differences of the gradient, where those can judge: finite, and
    with a step and tolerance that a cast through float32 or float16 (``astype``) leaves
    meaningful (1e-6 would difference the gradient's rounding)."""
    coarse = max((np.finfo(p["via"]).eps for _, _, p in recipe.steps if "via" in p),
                 default=0.0) > 1e-10
    eps, rtol, atol = (1e-3, 1e-2, 1e-3) if coarse else (1e-6, 1e-4, 1e-5)
    rng = np.random.default_rng(recipe.seed + 11)
    vs = [rng.normal(size=x.shape) for x in recipe.inputs]
    xs = [al.Tensor(x, requires_grad=True) for x in recipe.inputs]
    with np.errstate(all="ignore"):
        out = run(recipe, xs, "al")
        if not out.requires_grad:
            return []
        gs = al.engine.cotangents(out, xs, create_graph=True)
        inner = sum((g * al.Tensor(v)).sum() for g, v in zip(gs, vs)
                    if isinstance(g, al.Tensor) and g.requires_grad)
        hv = al.engine.cotangents(inner, xs) if isinstance(inner, al.Tensor) else []
    problems = []
    for k, (x, h, d) in enumerate(zip(recipe.inputs, hv, hvp_by_differences(recipe, vs, eps))):
        a, d = np.asarray(np.zeros(x.shape) if h is None else h.data), np.asarray(d)
        ok = np.isfinite(d)
        if not np.allclose(a[ok], d[ok], rtol=rtol, atol=atol):
            problems.append(f"H v of input {k} vs central differences: differ")
    return problems


def _second_order(recipe: Recipe) -> tuple[list[str], list[str]]:
    import torch
    rng = np.random.default_rng(recipe.seed + 11)
    vs = [rng.normal(size=x.shape).astype(recipe.dtype) for x in recipe.inputs]
    problems = []
    # 1. create_graph=True through engine.cotangents
    xs = [al.Tensor(x, requires_grad=True) for x in recipe.inputs]
    out = run(recipe, xs, "al")
    ts = [torch.tensor(x, requires_grad=True) for x in recipe.inputs]
    tout = run(recipe, ts, "torch")
    if not out.requires_grad or not tout.requires_grad:
        return problems, []
    with np.errstate(all="ignore"):
        gs = al.engine.cotangents(out, xs, create_graph=True)
        inner = None
        for g, v in zip(gs, vs):
            if g is not None and isinstance(g, al.Tensor) and g.requires_grad:
                term = (g * al.Tensor(v)).sum()
                inner = term if inner is None else inner + term
        hv = (al.engine.cotangents(inner, xs) if inner is not None else [None] * len(xs))
    tgs = torch.autograd.grad(tout, ts, create_graph=True, allow_unused=True)
    tinner = sum((g * torch.from_numpy(v)).sum() for g, v in zip(tgs, vs)
                 if g is not None and g.requires_grad)
    thv = (torch.autograd.grad(tinner, ts, allow_unused=True) if isinstance(tinner, torch.Tensor)
           and tinner.requires_grad else [None] * len(ts))
    for k, (x, a, b) in enumerate(zip(recipe.inputs, hv, thv)):
        a = np.zeros(x.shape) if a is None else np.asarray(a.data if hasattr(a, "data") else a)
        b = np.zeros(x.shape) if b is None else _np(b)
        msg = close(a, b, _tol(recipe))
        if msg:
            problems.append(f"create_graph Hv, input {k}: {msg}")
    # 2. al.hvp / al.hessian of f in its first input (the others closed over as constants)
    x0 = recipe.inputs[0]
    rest = [al.Tensor(x) for x in recipe.inputs[1:]]
    f = lambda t: run(recipe, [t, *rest], "al")  # noqa: E731
    t0 = torch.tensor(x0, requires_grad=True)
    trest = [torch.tensor(x) for x in recipe.inputs[1:]]
    tout0 = run(recipe, [t0, *trest], "torch")
    if not tout0.requires_grad:
        return problems, []
    (tg,) = torch.autograd.grad(tout0, t0, create_graph=True, allow_unused=True)
    if tg is None or not tg.requires_grad:
        return problems, []
    (thv0,) = torch.autograd.grad((tg * torch.from_numpy(vs[0])).sum(), t0, allow_unused=True,
                                  retain_graph=True)
    thv0 = np.zeros(x0.shape) if thv0 is None else _np(thv0)
    with np.errstate(all="ignore"):
        msg = close(al.hvp(f, x0, vs[0]), thv0, _tol(recipe))
    if msg:
        problems.append(f"al.hvp: {msg}")
    if x0.size <= 6:
        rows = []
        for i in range(x0.size):
            e = np.zeros(x0.size)
            e[i] = 1
            (r,) = torch.autograd.grad(tg.reshape(-1), t0, torch.from_numpy(e.astype(x0.dtype)),
                                       retain_graph=True, allow_unused=True)
            rows.append(np.zeros(x0.size) if r is None else _np(r).reshape(-1))
        with np.errstate(all="ignore"):
            h = al.hessian(f)(x0)
        msg = close(np.asarray(h).reshape(x0.size, x0.size), np.array(rows), _tol(recipe))
        if msg:
            problems.append(f"al.hessian: {msg}")
    return problems, []


# ---------------------------------------------------------------------------------------------
# Known defects in the Tensor/op-table core (issue 14, fixed separately): a recipe that hits one
# is reported as an expected failure naming the item, never silently passed.


def _zero_base(form: Form, xs: list, p: dict) -> bool:
    if form.op != "pow":
        return False
    if p["side"] == "right":
        return bool(np.any(np.asarray(p["c"]) == 0))
    base = _nd(xs[0])
    base = base * base + p["shift"]
    return bool(np.any(base == 0))


_MASK_OPS = ("hardswish", "remainder", "fmod")   # (relu, where, clip... select since the fix)


def core_reason(recipe: Recipe, problems: list[str] = ()) -> str | None:
    """The core item a recipe exercises, if any (see the module docstring of test_fuzz.py)."""
    vals = [al.Tensor(x) for x in recipe.inputs]
    reasons = []
    nan_only = bool(problems) and all(
        ("np.float64(nan) vs" in q and "vs np.float64(nan)" not in q)
        or (q.startswith("directional derivative nan vs") and not q.endswith("nan"))
        for q in problems)
    if nan_only and any(f.op in _MASK_OPS for f, _, _ in recipe.steps):
        reasons.append("a VJP multiplies the upstream gradient by 0 at these points (as "
                       "PyTorch's own rule for this op does), so an infinite upstream gradient "
                       "gives NaN")
    with np.errstate(all="ignore"):
        for form, args, p in recipe.steps:
            xs = [vals[a] for a in args]
            if _zero_base(form, xs, p):
                reasons.append("core: item 3 (pow at base 0)")
            if form.op == "pow" and p["side"] != "right" and np.any(
                    (_nd(xs[-1]) if p["side"] == "both" else np.asarray(p["c"])) == 0):
                reasons.append("core: item 3 (pow at exponent 0: the mixed second derivative "
                               "∂²(xʸ)/∂x∂y must be 1/x; PyTorch gives 0)")
            vals.append(form.al(xs, p))
    return "; ".join(dict.fromkeys(reasons)) or None
