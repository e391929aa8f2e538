"""Forms for the differential fuzzer (``tests/test_fuzz.py``): one public way to call one op.

A *form* is ``exp`` as ``al.exp(x)``, ``x.exp()``, ``np.exp(x)`` or ``ops.exp(x)``; ``add`` as
``x + y``, ``2.5 + y``, ``ndarray + y``, ``np.add(x, y)``, ``al.add(x, y)``... each with its
PyTorch twin. Elementwise forms are *derived from the op table* here: every op in
``autograd_lite.ops.OPS`` that maps one array (or two same-shaped arrays) to the same shape with
no parameters is probed for its domain, its kinks, and which function / method / operator /
NumPy-ufunc spellings reach it; its PyTorch twin is ``torch.<name>``. So an elementwise op added
later joins the fuzzer without an edit; any other new op fails ``test_fuzz.py``'s coverage test
until it is given forms in ``fuzz_structural.py``.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import autograd_lite as al
from autograd_lite import ops

KINK = 1e-4          # finite differences are skipped within this distance of a kink
LIMIT = 100.0        # steps whose values leave [-LIMIT, LIMIT] are dropped
DTYPES = (np.float64, np.float64, np.float64, np.float32, np.float32, np.float16)


# ---------------------------------------------------------------------------------------------
# Forms


@dataclass
class Form:
    """One way to call one op, in both libraries."""

    name: str                      # "exp:method", "add:reflected-float", ...
    op: str                        # the op-table entry (or public function) it exercises
    arity: int                     # graph values it consumes
    make: Callable                 # make(rng, shapes, dtype) -> params dict, or None if n/a
    al: Callable                   # al(xs, p) -> Tensor
    torch: Callable                # torch(ts, p, torch) -> torch.Tensor
    kink: Callable = field(default=lambda xs, p: False)   # near a kink (for finite differences)
    fd_ok: bool = True             # False: finite differences meaningless (e.g. a float32 cast)


def _nd(x: Any) -> np.ndarray:
    return np.asarray(x._data if isinstance(x, al.Tensor) else x)


def _near(v: np.ndarray) -> bool:
    """Whether some value is within KINK of 0 (exact 0 included)."""
    return bool(np.any(np.abs(v) < KINK))


_NP_ALIASES = {"sub": "subtract", "mul": "multiply", "div": "true_divide", "neg": "negative",
               "abs": "absolute", "pow": "power"}
_OPERATORS = {"add": operator.add, "sub": operator.sub, "mul": operator.mul,
              "div": operator.truediv, "pow": operator.pow, "matmul": operator.matmul}
_UNARY_OPERATORS = {"neg": operator.neg, "abs": abs}


def _probe_shape(name: str, *xs: Any) -> tuple | None:
    try:
        with np.errstate(all="ignore"):
            out = ops.OPS[name](*[al.Tensor(x) for x in xs])
    except Exception:   # noqa: BLE001 - a probe: anything that fails is "not this kind"
        return None
    return out.shape if isinstance(out, al.Tensor) else None


def _spellings(name: str, arity: int) -> dict[str, Callable]:
    """Every public spelling that reaches op ``name`` (checked by calling it)."""
    x = al.Tensor(np.array([0.5, 1.5]), requires_grad=True)
    args = (x,) * arity
    cands: dict[str, Callable] = {"ops": ops.OPS[name]}
    if callable(getattr(al, name, None)):
        cands["function"] = getattr(al, name)
    alias = _NP_ALIASES.get(name)
    if alias and callable(getattr(al, alias, None)):       # al.negative for neg
        cands[f"function-{alias}"] = getattr(al, alias)
    if callable(getattr(al.Tensor, name, None)):            # x.exp(), x.pow(y)
        cands["method"] = lambda t, *rest, _n=name: getattr(t, _n)(*rest)
    if arity == 1 and name in _UNARY_OPERATORS:
        cands["operator"] = _UNARY_OPERATORS[name]
    if arity == 2 and name in _OPERATORS:
        cands["operator"] = _OPERATORS[name]
    uf = getattr(np, _NP_ALIASES.get(name, name), None)
    if isinstance(uf, np.ufunc):
        cands["ufunc"] = uf
    good = {}
    for k, f in cands.items():
        try:
            with np.errstate(all="ignore"):
                out = f(*args)
        except Exception:   # noqa: BLE001
            continue
        if isinstance(out, al.Tensor) and getattr(out.op, "name", None) == name:
            good[k] = f
    return good


def _torch_fn(name: str) -> Callable:
    """The PyTorch twin of op ``name``: ``torch.NAME``, else ``torch.nn.functional.NAME``, else
    ``torch.special.NAME``."""
    import torch
    for mod in (torch, torch.nn.functional, torch.special):
        if callable(getattr(mod, name, None)):
            return getattr(mod, name)
    raise AttributeError(f"no PyTorch twin for op {name!r}")


def _domain_unary(name: str) -> str:
    v = np.array([-1.5, -0.5, 0.5, 1.5])
    with np.errstate(all="ignore"):
        out = ops.OPS[name](v)
    return "any" if np.all(np.isfinite(out)) else "pos"


_KINK_CANDIDATES = np.array([0.0, -1.0, 1.0, -3.0, 3.0, 6.0, -0.5, 0.5, 1.5, -1.5, 2.0, -2.0])


def _kinks_unary(name: str) -> tuple[np.ndarray, bool]:
    """Where the derivative jumps (relu at 0, relu6 at 0 and 6, hardswish at ±3...), probed at
    candidate points with the op's own VJP; and whether the forward itself jumps (floor, round,
    sign: then finite differences are never used)."""
    c = _KINK_CANDIDATES
    with np.errstate(all="ignore"):
        gs = []
        for d in (-1e-3, 1e-3):
            t = al.Tensor(c + d, requires_grad=True)
            ops.OPS[name](t).sum().backward()
            gs.append(t.grad.data)
        f = [np.asarray(ops.OPS[name](c + d)) for d in (-1e-7, 1e-7)]
    jumps = np.abs(gs[0] - gs[1]) > 1e-2
    jumps_f = np.abs(f[0] - f[1]) > 1e-4
    return c[jumps & np.isfinite(gs[0]) & np.isfinite(gs[1])], bool(np.any(jumps_f))


def _at_edge(name: str, x: np.ndarray) -> bool:
    """Whether the unary op is infinite or undefined within a few roundings of ``x`` (arcsin
    and arctanh at ±1, reciprocal at 0): a singular point, where central differences cannot
    judge and, in low precision, rounding decides on which side a value falls."""
    d = np.maximum(KINK, 4 * np.finfo(x.dtype).eps * np.abs(x)).astype(np.float64)
    with np.errstate(all="ignore"):
        return not all(np.all(np.isfinite(np.asarray(ops.OPS[name](x.astype(np.float64) + s * d))))
                       for s in (-1, 1))


def _domain_binary(name: str) -> str:
    a = np.array([-1.5, -0.5, 0.5, 1.5, 0.7, -0.7])
    x, y = np.meshgrid(a, np.append(a, [0.0]))
    with np.errstate(all="ignore"):
        out = ops.OPS[name](x, y)
    bad = ~np.isfinite(out)
    if not bad.any():
        return "any"
    if np.all(y[bad] == 0):
        return "nonzero-y"
    return "pos-x"


def _kink_binary(name: str) -> bool:
    """Whether the derivative jumps where x == y (maximum, minimum)."""
    gs = []
    for d in (-1e-3, 1e-3):
        t = al.Tensor(np.array([0.7 + d]), requires_grad=True)
        ops.OPS[name](t, al.Tensor(np.array([0.7]))).sum().backward()
        gs.append(float(t.grad.data[0]))
    return abs(gs[0] - gs[1]) > 1e-2


def _singular_origin(name: str) -> bool:
    """Whether (0, 0) is a singular point: the gradient there is not finite (hypot: |(x, y)| has
    a cone point) or the function is not even continuous there (arctan2, whose gradient there
    is 0 by convention, as PyTorch's, and whose second derivatives PyTorch gives as NaN)."""
    x, y = (al.Tensor(np.array([0.0]), requires_grad=True) for _ in range(2))
    with np.errstate(all="ignore"):
        ops.OPS[name](x, y).sum().backward()
        near = [np.asarray(ops.OPS[name](np.array([a]), np.array([b])))
                for a, b in ((1e-7, 1e-7), (-1e-7, -1e-7))]
    finite = np.all(np.isfinite(x.grad.data)) and np.all(np.isfinite(y.grad.data))
    return not finite or bool(np.abs(near[0] - near[1]) > 1e-4)


def _jumps_binary(name: str) -> bool:
    """Whether the forward jumps somewhere on a grid, in either argument (remainder, fmod, and
    arctan2 across its branch cut): never finite-differenced."""
    a = np.array([-1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0, 3.0])
    x, y = np.meshgrid(a, a)
    with np.errstate(all="ignore"):
        fx = [np.asarray(ops.OPS[name](x + d, y)) for d in (-1e-7, 1e-7)]
        fy = [np.asarray(ops.OPS[name](x, y + d)) for d in (-1e-7, 1e-7)]
    jump = (np.abs(fx[0] - fx[1]) > 1e-4) | (np.abs(fy[0] - fy[1]) > 1e-4)
    return bool(np.any(jump & np.isfinite(fx[0]) & np.isfinite(fy[0])))


def _pos(L: Any, x: Any, p: dict) -> Any:
    """Map into the positive domain: x² + 0.1, or x² (exact zeros possible) in 10% of steps."""
    return x * x + p["shift"] if p["shift"] else x * x


def _shift(rng: np.random.Generator) -> float:
    return 0.0 if rng.random() < 0.1 else 0.1


def unary_forms(name: str) -> list[Form]:
    domain = _domain_unary(name)
    kinks, jumps = _kinks_unary(name)
    forms = []
    for how, f in _spellings(name, 1).items():
        def make(rng, shapes, dtype):
            return {"shift": _shift(rng)} if domain == "pos" else {}

        def run_al(xs, p, _f=f):
            x = _pos(al, xs[0], p) if domain == "pos" else xs[0]
            return _f(x)

        def run_torch(ts, p, torch, _n=name):
            x = _pos(torch, ts[0], p) if domain == "pos" else ts[0]
            return _torch_fn(_n)(x)

        def kink(xs, p, _n=name):
            x = _nd(xs[0])
            if domain == "pos":
                x = x * x + p["shift"]
                if not p["shift"] and _near(x):
                    return True
            return _at_edge(_n, x) or any(_near(x - k) for k in kinks)
        forms.append(Form(f"{name}:{how}", name, 1, make, run_al, run_torch, kink,
                          fd_ok=not jumps))
    return forms


_PY_CONSTS = (2.0, -0.5, 1.5, 3.0, 0.0)
_POW_EXPONENTS = (0.0, 1.0, 2.0, 3.0, 0.5, -1.0, 2.5)


def binary_forms(name: str) -> list[Form]:
    domain, kinky = _domain_binary(name), _kink_binary(name)
    jumps, origin = _jumps_binary(name), _singular_origin(name)
    spell = _spellings(name, 2)

    def prep(L, a, b, p):
        if domain == "pos-x" and a is not None:
            a = a * a + p["shift"] if p["shift"] else a * a
        if domain == "nonzero-y" and b is not None:
            b = b * b + 0.25
        return a, b

    def kink(xs, p):
        a = _nd(xs[0]) if p["side"] != "right" else None
        b = _nd(xs[-1]) if p["side"] != "left" else None
        if a is not None and domain == "pos-x":
            a = a * a + p["shift"]
            if not p["shift"] and _near(a):
                return True
        zero_base = p["side"] == "right" and np.any(np.asarray(p["c"]) == 0)
        if zero_base and domain == "pos-x" and _near(b):
            return True                              # 0 ** y at y = 0: one-sided
        if origin and a is not None and b is not None and _near(np.abs(a) + np.abs(b)):
            return True                              # hypot at (0, 0)
        if kinky:
            a = p["c"] if a is None else a
            b = p["c"] if b is None else b
            return _near(np.asarray(a) - np.asarray(b))
        return False

    def const(rng, dtype, side):
        if name == "pow" and side == "right":
            return float(rng.choice(_POW_EXPONENTS))
        c = float(rng.choice(_PY_CONSTS))
        if domain == "pos-x" and side == "left":
            c = abs(c) if rng.random() < 0.9 else 0.0      # 0 ** y: PyTorch's convention
        if domain == "nonzero-y" and side == "right" and c == 0:
            c = 2.0
        return c

    forms = []
    for how, f in spell.items():        # both operands graph values (x ∘ x possible)
        def make(rng, shapes, dtype):
            return {"shift": _shift(rng), "side": "both", "c": None}

        def run_al(xs, p, _f=f):
            a, b = prep(al, xs[0], xs[1], p)
            return _f(a, b)

        def run_torch(ts, p, torch, _n=name):
            a, b = prep(torch, ts[0], ts[1], p)
            return _torch_fn(_n)(a, b)
        forms.append(Form(f"{name}:{how}", name, 2, make, run_al, run_torch, kink,
                          fd_ok=not jumps))
    if "operator" in spell:               # Python-number and ndarray operands, both sides
        op = _OPERATORS[name]
        for side, kind in (("left", "float"), ("right", "float"), ("right", "array"),
                           ("left", "array")):
            def make(rng, shapes, dtype, _side=side, _kind=kind):
                c = const(rng, dtype, "right" if _side == "left" else "left")
                if _kind == "array":
                    c = np.full(shapes[0][-1:] if shapes[0] else (), c, dtype=dtype)
                return {"shift": _shift(rng), "side": _side, "c": c}

            def run_al(xs, p, _op=op):
                if p["side"] == "left":       # x ∘ c
                    a, _ = prep(al, xs[0], None, p)
                    return _op(a, p["c"])
                _, b = prep(al, None, xs[0], p)
                return _op(p["c"], b)         # c ∘ x: reflected (float) or ufunc (ndarray)

            def run_torch(ts, p, torch, _op=op):
                c = torch.from_numpy(p["c"]) if isinstance(p["c"], np.ndarray) else p["c"]
                if p["side"] == "left":
                    a, _ = prep(torch, ts[0], None, p)
                    return _op(a, c)
                _, b = prep(torch, None, ts[0], p)
                return _op(c, b)
            forms.append(Form(f"{name}:{'rhs' if side == 'left' else 'reflected'}-{kind}", name,
                              1, make, run_al, run_torch,
                              lambda xs, p: kink([xs[0]], p), fd_ok=not jumps))
    return forms


def elementwise_ops() -> tuple[list[str], list[str]]:
    """The op-table entries that are elementwise unary / binary with no parameters (probed)."""
    unary, binary = [], []
    a = np.array([[0.5, 1.5, 0.7]])
    for name, op in ops.OPS.items():
        n_inputs = None if op.variadic else len(op.vjps)
        if n_inputs == 1 and _probe_shape(name, a) == a.shape:
            unary.append(name)
        elif n_inputs == 2 and _probe_shape(name, a, a) == a.shape and _probe_shape(
                name, a, a.T) == (3, 3):
            binary.append(name)
    return unary, binary
