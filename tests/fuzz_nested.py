"""Nested function transforms with closures, mirrored in PyTorch (helpers for the tests).

``TorchT`` has the same seven transforms as ``autograd_lite.transforms`` written with
``torch.autograd.grad(..., create_graph=True)``. Every transform makes a fresh node for its own
differentiated argument (a ``clone`` of an enclosing transform's tensor, else a new leaf), so an
inner derivative treats closed-over tensors as constants: the semantics of JAX and HIPS autograd.

``nested(rng, depth)`` draws a random program: ``fn_depth(x, env)`` where level ``d`` applies a
random transform to ``lambda y: fn_{d-1}(y, env + [x])`` (so the inner function closes over every
outer variable) at a point that depends on ``x`` or not, and reduces the result to a scalar with
random weights. The same program runs on either library (``L`` is ``al`` or ``TorchT``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

import autograd_lite as al

TRANSFORMS = ("grad", "value_and_grad", "vjp", "jvp", "jacobian", "hessian", "hvp")


class TorchT:
    """The transforms of autograd_lite, in PyTorch (float64, always create_graph)."""

    def __init__(self) -> None:
        import torch
        self.torch = torch
        self.tanh, self.sin = torch.tanh, torch.sin

    def const(self, a: Any) -> Any:
        return self.torch.as_tensor(np.asarray(a, dtype=np.float64))

    def _leaf(self, x: Any) -> Any:
        t = self.torch
        if isinstance(x, t.Tensor) and x.requires_grad:
            return x.clone()
        return t.as_tensor(np.asarray(x, dtype=np.float64)).detach().clone().requires_grad_()

    def _grads(self, y: Any, xs: list, u: Any = None) -> list:
        gs = self.torch.autograd.grad(y, xs, u, create_graph=True, allow_unused=True)
        return [self.torch.zeros_like(x) if g is None else g for g, x in zip(gs, xs)]

    def value_and_grad(self, f: Any, argnums: int = 0) -> Any:
        def w(*args: Any) -> Any:
            args = list(args)
            args[argnums] = x = self._leaf(args[argnums])
            y = f(*args)
            return y, self._grads(y, [x])[0]
        return w

    def grad(self, f: Any, argnums: int = 0) -> Any:
        return lambda *a: self.value_and_grad(f, argnums)(*a)[1]

    def vjp(self, f: Any, *primals: Any) -> Any:
        xs = [self._leaf(p) for p in primals]
        y = f(*xs)
        return y, lambda u: tuple(self._grads(y, xs, self.torch.as_tensor(u)))

    def jvp(self, f: Any, primals: Any, tangents: Any) -> Any:
        xs = [self._leaf(p) for p in primals]
        y = f(*xs)
        u = self.torch.zeros_like(y, requires_grad=True)
        gs = self._grads(y, xs, u)
        inner = sum((g * self.torch.as_tensor(v)).sum() for g, v in zip(gs, tangents))
        return y, self._grads(inner, [u])[0]

    def jacobian(self, f: Any, argnums: int = 0) -> Any:
        def w(*args: Any) -> Any:
            args = list(args)
            args[argnums] = x = self._leaf(args[argnums])
            y = f(*args)
            rows = []
            for k in range(y.numel()):
                e = self.torch.zeros(y.numel(), dtype=y.dtype)
                e[k] = 1
                rows.append(self._grads(y, [x], e.reshape(y.shape))[0])
            return self.torch.stack(rows).reshape(tuple(y.shape) + tuple(x.shape))
        return w

    def hessian(self, f: Any, argnums: int = 0) -> Any:
        return self.jacobian(self.grad(f, argnums), argnums)

    def hvp(self, f: Any, x: Any, v: Any) -> Any:
        return self.vjp(self.grad(f), x)[1](v)[0]


class ALT:
    """autograd_lite's transforms and the few functions the programs use."""

    tanh, sin = staticmethod(al.tanh), None
    grad, value_and_grad, vjp, jvp = (staticmethod(al.grad), staticmethod(al.value_and_grad),
                                      staticmethod(al.vjp), staticmethod(al.jvp))
    jacobian, hessian = staticmethod(al.jacobian), staticmethod(al.hessian)
    hvp = staticmethod(al.hvp)

    @staticmethod
    def const(a: Any) -> Any:
        return al.Tensor(np.asarray(a, dtype=np.float64))


def nested(rng: np.random.Generator, depth: int, n: int) -> tuple[Any, str]:
    """A random program ``prog(L, x)`` (a scalar) with ``depth`` nested transforms over
    vectors of length ``n``, and its description."""
    plan = []
    for _ in range(depth):
        plan.append(dict(t=str(rng.choice(TRANSFORMS)), moving=bool(rng.random() < 0.6),
                         w=rng.normal(size=(n, n)), v=rng.normal(size=n),
                         p=rng.normal(size=n) * 0.5, a=float(rng.normal()),
                         u=float(rng.normal())))
    coef = rng.normal(size=depth + 2) * 0.7

    def base(L: Any, x: Any, env: list) -> Any:
        s = x * coef[0]
        for i, e in enumerate(env):
            s = s + L.tanh(e * coef[i + 1] + 0.3) * x
        return L.tanh(s).sum() + (x * x).sum() * 0.25

    def level(L: Any, d: int, x: Any, env: list) -> Any:
        if d == 0:
            return base(L, x, env)
        st = plan[d - 1]
        inner = lambda y: level(L, d - 1, y, env + [x])  # noqa: E731 - closes over x and env
        point = x * 0.8 + L.const(st["p"]) if st["moving"] else L.const(st["p"])
        w, v = L.const(st["w"]), L.const(st["v"])
        t = st["t"]
        if t == "grad":
            r = (L.grad(inner)(point) * v).sum()
        elif t == "value_and_grad":
            val, g = L.value_and_grad(inner)(point)
            r = val + (g * v).sum()
        elif t == "vjp":
            val, fn = L.vjp(inner, point)
            r = (fn(np.float64(st["u"]))[0] * v).sum() + val
        elif t == "jvp":
            val, jv = L.jvp(inner, (point,), (st["v"],))
            r = val * 0.5 + jv
        elif t == "jacobian":
            r = (L.jacobian(inner)(point) * v).sum()
        elif t == "hessian":
            r = (L.hessian(inner)(point) * w).sum()
        else:
            r = (L.hvp(inner, point, st["v"]) * v).sum()
        return r * st["a"] + base(L, x, env)

    desc = " ∘ ".join(f"{s['t']}({'x-dependent' if s['moving'] else 'fixed'} point)"
                      for s in reversed(plan))
    return (lambda L, x: level(L, depth, x, [])), desc
