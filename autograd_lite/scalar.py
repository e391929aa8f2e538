"""``Scalar``: one Python float per graph node (index notation), on the same engine as ``Tensor``.

Backpropagation is usually derived element by element, ``∂E/∂w_ij = Σ_k ∂E/∂z_k ∂z_k/∂w_ij``,
and then rewritten with matrices. A ``Scalar`` graph has one node per number, so it *is* the index
notation; a ``Tensor`` graph has one node per array op. Both are ``engine.Node`` subclasses and go
through the same topological sort, ``backward`` driver, grad modes, hooks and ``retain_grads``.

This module owns the Scalar op table (:class:`ScalarOp`, like the Tensor ops in ``ops/``: a ``math``
forward, one VJP per input and its derivative as text), the ``Scalar`` class, and a bridge to
NumPy object arrays: :func:`scalars` turns an array into Scalars named ``W[i,j]``, and
:func:`values` / :func:`grads` read them back, so ``X @ W + b`` on object arrays builds the
index-notation graph of a layer.

A VJP is ``vjp(g, out, *inputs)`` returning the cotangent of one input. In an ordinary backward
it runs on floats; under ``create_graph=True`` the same rule runs on Scalars and records (second
derivatives). Nodes hold no closures, so graphs have no reference cycles and are freed by
reference counting alone (Python's cyclic garbage collector has nothing to do).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .engine import _CHANGED, _TICK, Node, _mode
from .ops import OPS

__all__ = ["SCALAR_OPS", "Scalar", "ScalarOp", "grads", "scalars", "values"]

SCALAR_OPS: dict[str, ScalarOp] = {}

_new = object.__new__


class ScalarOp:
    """One Scalar primitive: a float ``forward``, one VJP per input, and its derivative as text.

    Parameters
    ----------
    name : the op's name (shown in graphs and errors).
    forward : ``forward(*floats) -> float``.
    vjps : one ``vjp(g, out, *inputs)`` per input.
    rules : the derivative of each input as text; by default the Tensor op's of the same name
        (``"g ⊙ y"`` written ``"g · y"``: one rule, two glyphs).
    """

    __slots__ = ("name", "forward", "vjps", "rules", "doc")

    def __init__(self, name: str, forward: Callable, vjps: Sequence[Callable], *,
                 rules: Sequence[str] | None = None) -> None:
        self.name = name
        self.forward = forward
        self.vjps = tuple(vjps)
        if rules is None:
            rules = [r.replace("⊙", "·") for r in OPS[name].rules]
        self.rules = tuple(rules)
        self.doc = f"{name}: " + "; ".join(self.rules)
        SCALAR_OPS[name] = self

    def __repr__(self) -> str:
        return f"<scalar op {self.name}>"

    def __call__(self, *args: Any) -> Scalar:
        xs = []
        for a in args:
            s = _lift(a)
            if s is NotImplemented:
                raise TypeError(f"{self.name}: expected Scalars or real numbers, got "
                                f"{type(a).__name__}")
            xs.append(s)
        return _apply(self, tuple(xs))


def _apply(op: ScalarOp, xs: tuple) -> Scalar:
    """Run ``op`` on Scalars ``xs``; record a node when grad mode is on and an input needs it."""
    try:
        value = op.forward(xs[0].value) if len(xs) == 1 else op.forward(*[x.value for x in xs])
    except (ArithmeticError, ValueError) as e:
        raise _forward_error(op, xs, e) from None
    needs = False
    for x in xs:
        if x.requires_grad:
            needs = True
            break
    return _node(value, op, xs, needs)


def _binary(op: ScalarOp, x: Any, y: Any) -> Any:
    """``op(x, y)`` for an operator: one side is a Scalar, the other may be a number.

    The hot path of every Scalar graph (written for speed: no ``map``, no ``*args``)."""
    if type(x) is not Scalar:
        x = _lift(x)
        if x is NotImplemented:
            return NotImplemented
    if type(y) is not Scalar:
        y = _lift(y)
        if y is NotImplemented:
            return NotImplemented
    try:
        value = op.forward(x.value, y.value)
    except (ArithmeticError, ValueError) as e:
        raise _forward_error(op, (x, y), e) from None
    return _node(value, op, (x, y), x.requires_grad or y.requires_grad)


def _node(value: float, op: ScalarOp, xs: tuple, needs: bool) -> Scalar:
    """A new Scalar holding ``value``: a recorded node when an input ``needs`` grad and grad
    mode is on, else a constant."""
    out = _new(Scalar)
    out.value = value
    if needs and (not _CHANGED or _mode.enabled):   # (see engine._CHANGED)
        out._parents = xs
        out._op = op
        out.requires_grad = True
        out._seq = next(_TICK)
    else:
        out._parents = ()
        out._op = None
        out.requires_grad = False
    return out


def _forward_error(op: ScalarOp, xs: tuple, e: Exception) -> ValueError:
    return ValueError(f"{op.name}({', '.join(repr(x.value) for x in xs)}): {e}")


def _lift(a: Any) -> Any:
    """``a`` as a Scalar: a Python/NumPy real number becomes a constant; else NotImplemented."""
    cls = type(a)
    if cls is float or cls is int:   # the common case first (a bool is not exactly an int)
        value = float(a)
    elif isinstance(a, Scalar):
        return a
    elif isinstance(a, (int, float, np.integer, np.floating)) and not isinstance(a, bool):
        value = float(a)
    else:
        return NotImplemented
    c = _new(Scalar)
    c.value = value
    c._parents = ()
    c._op = None
    c.requires_grad = False
    return c


# ---------------------------------------------------------------------------------------------
# The op table. Each VJP uses only Scalar operators and methods (or the helpers below), so the
# same rule runs on floats in an ordinary backward and on Scalars under create_graph=True.


def _value(x: Any) -> float:
    return x.value if isinstance(x, Scalar) else x


def _ieee_pow(x: float, y: float) -> float:
    """``x ** y`` with IEEE results where Python raises: ``0 ** −½ = inf``, ``(−8) ** ⅓ = nan``,
    overflow ``= ±inf`` (as NumPy and the Tensor table give)."""
    try:
        return math.pow(x, y)
    except (ArithmeticError, ValueError):
        with np.errstate(all="ignore"):
            return float(np.power(np.float64(x), np.float64(y)))


def _ieee_log(x: float) -> float:
    """``ln x`` with IEEE results: ``ln 0 = −inf``, ``ln(x < 0) = nan``."""
    return math.log(x) if x > 0 else -math.inf if x == 0 else math.nan


def _rule_pow(x: Any, y: Any) -> Any:
    """``x ** y`` inside a VJP: IEEE on floats, recorded (with an IEEE forward) on Scalars, so
    a derivative at a singular point is inf or nan, as for Tensor, never a Python exception."""
    if not isinstance(x, Scalar) and not isinstance(y, Scalar):
        return _ieee_pow(x, y)
    x, y = _lift(x), _lift(y)
    return _node(_ieee_pow(x.value, y.value), pow_, (x, y), x.requires_grad or y.requires_grad)


def _rule_log(x: Any) -> Any:
    """``ln x`` inside a VJP (as :func:`_rule_pow`)."""
    if not isinstance(x, Scalar):
        return _ieee_log(x)
    return _node(_ieee_log(x.value), log, (x,), x.requires_grad)


def _pow_dx(g: Any, out: Any, x: Any, y: Any) -> Any:
    """``g·y·x^(y−1)``; 0 at ``x = y = 0`` (PyTorch's convention: x⁰ is constant, also at 0,
    where the formula would give 0·inf). Masked only where ``x = 0``, so that elsewhere its own
    derivative in ``y`` (``x^(y−1)`` at ``y = 0``) stays right."""
    if _value(y) == 0 and _value(x) == 0:
        return g * 0.0
    return g * y * _rule_pow(x, y - 1)


def _pow_dy(g: Any, out: Any, x: Any, y: Any) -> Any:
    """``g·x^y·ln x``; 0 where ``x = 0`` and ``y ≥ 0`` (PyTorch's convention: 0^y is 0 for y > 0,
    and its one-sided derivative in y is 0)."""
    if _value(x) == 0 and _value(y) >= 0:
        return g * 0.0
    return g * out * _rule_log(x)


def _step(x: Any) -> float:
    """``[x > 0]`` as a float (a constant: it carries no gradient)."""
    return 1.0 if (x.value if isinstance(x, Scalar) else x) > 0 else 0.0


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


add = ScalarOp("add", operator.add,
               (lambda g, out, x, y: g,
                lambda g, out, x, y: g))
mul = ScalarOp("mul", operator.mul,
               (lambda g, out, x, y: g * y,
                lambda g, out, x, y: g * x))
pow_ = ScalarOp("pow", math.pow, (_pow_dx, _pow_dy))
neg = ScalarOp("neg", operator.neg, (lambda g, out, x: -g,))
exp = ScalarOp("exp", math.exp, (lambda g, out, x: g * out,))
log = ScalarOp("log", math.log, (lambda g, out, x: g / x,))
tanh = ScalarOp("tanh", math.tanh, (lambda g, out, x: g * (1 - out * out),))
sigmoid = ScalarOp("sigmoid", _sigmoid, (lambda g, out, x: g * out * (1 - out),))
relu = ScalarOp("relu", lambda x: x if x > 0 else 0.0, (lambda g, out, x: g * _step(x),))


# ---------------------------------------------------------------------------------------------
# Scalar


def _operator(op: ScalarOp) -> tuple[Callable[[Any, Any], Any], Callable[[Any, Any], Any]]:
    """The methods ``x op y`` and its reflected form ``y op x`` (for ``number op Scalar``)."""
    def method(self: Any, other: Any) -> Any:
        return _binary(op, self, other)

    def reflected(self: Any, other: Any) -> Any:
        return _binary(op, other, self)
    return method, reflected


class Scalar(Node):
    """A Python float in the graph: micrograd's ``Value`` on the shared engine.

    Parameters
    ----------
    value : a real number (stored as a Python ``float``).
    name : a label for drawings (``scalars`` names elements ``W[i,j]``).
    requires_grad : whether ``backward`` computes this leaf's gradient (default ``True``; Python
        numbers mixed into expressions become constants that do not).

    ``.grad`` is ``None`` until a backward reaches the node, then a float (a ``Scalar`` under
    ``create_graph=True``). Leaf gradients accumulate across ``backward`` calls.

    Example
    -------
    >>> x = Scalar(2.0, name="x")
    >>> y = (x * 2) * 3
    >>> y.backward()
    >>> x.grad
    6.0
    """

    # The attributes every node has live in slots (one allocation, fast access); the rare ones
    # (name, grad, hooks) fall back to Node's class defaults and the instance __dict__.
    __slots__ = ("value", "_parents", "_op", "requires_grad")

    def __init__(self, value: float, name: str | None = None, *,
                 requires_grad: bool = True) -> None:
        if isinstance(value, Scalar):
            value = value.value
        try:
            self.value = float(value)
        except (TypeError, ValueError):
            raise TypeError(f"Scalar: expected a real number, got {type(value).__name__} "
                            f"{value!r}") from None
        self._parents = ()
        self._op = None
        self.requires_grad = bool(requires_grad)
        if name is not None:
            self.name = name

    def __repr__(self) -> str:
        extra = "" if self.name is None else f", name={self.name!r}"
        if self.grad is not None:
            extra += f", grad={self.grad!r}"
        return f"Scalar({self.value!r}{extra})"

    @property
    def op(self) -> ScalarOp | None:
        """The primitive that produced this node (``None`` for a leaf)."""
        return self._op

    def detach(self) -> Scalar:
        """The same value as a new constant (no graph, no gradient)."""
        return Scalar(self.value, requires_grad=False)

    def zero_grad(self) -> None:
        """Forget the accumulated gradient (``.grad = None``)."""
        self.grad = None

    # -- engine protocol -------------------------------------------------------------------
    def _vjp(self, g: Any, create_graph: bool) -> tuple:
        parents = self._parents
        vjps = self._op.vjps
        if create_graph:   # the rules run on Scalars and record
            return tuple(f(g, self, *parents) if p.requires_grad else None
                         for f, p in zip(vjps, parents))
        if len(parents) == 1:   # fast paths for floats (one or two inputs)
            return (vjps[0](g, self.value, parents[0].value),)
        a, b = parents
        x = a.value
        y = b.value
        return (vjps[0](g, self.value, x, y) if a.requires_grad else None,
                vjps[1](g, self.value, x, y) if b.requires_grad else None)

    def _store_grad(self, g: Any, create_graph: bool) -> None:
        prev = self.grad
        self.grad = g if prev is None else prev + g

    def _seed(self, grad: Any, create_graph: bool) -> Any:
        if grad is None:
            g = 1.0
        else:
            s = _lift(grad)
            if s is NotImplemented:
                raise TypeError(f"backward: grad of a Scalar must be a real number, got "
                                f"{type(grad).__name__}")
            g = s.value
        return Scalar(g, requires_grad=False) if create_graph else g

    def _is_finite(self, g: Any) -> bool:
        return math.isfinite(g.value if isinstance(g, Scalar) else g)

    def _describe_inputs(self) -> str:
        return ", ".join(f"Scalar({p.value!r})" for p in self._parents)

    def _unwrap_grad(self, g: Any, create_graph: bool, hook: Any = None) -> Any:
        s = _lift(g)
        if s is NotImplemented:
            raise TypeError(f"hook returned {type(g).__name__}, expected a real number or Scalar")
        return s if create_graph else s.value

    # -- operators: - and / are compositions of +, * and ** --------------------------------
    __add__, __radd__ = _operator(add)
    __mul__, __rmul__ = _operator(mul)
    __pow__, __rpow__ = _operator(pow_)

    def __neg__(self) -> Scalar:
        return _apply(neg, (self,))

    def __pos__(self) -> Scalar:
        return self

    def __sub__(self, other: Any) -> Scalar:
        return self + (-other)

    def __rsub__(self, other: Any) -> Scalar:
        return other + (-self)

    def __truediv__(self, other: Any) -> Scalar:
        other = _lift(other)
        if other is NotImplemented:
            return NotImplemented
        return self * _reciprocal(self, other)

    def __rtruediv__(self, other: Any) -> Scalar:
        return other * _reciprocal(other, self)

    def __bool__(self) -> bool:
        """Truthiness follows the value (as for a one-element Tensor): ``Scalar(0.0)`` is false."""
        return bool(self.value)

    def __reduce__(self) -> tuple:
        """Pickling and copying keep the value, the name, ``requires_grad`` and ``.grad``, never
        the graph: the copy is a leaf (nothing walks the history, however long)."""
        grad = self.grad
        return (_restore, (self.value, self.name, self.requires_grad,
                           grad if grad is None or isinstance(grad, float) else grad.detach()))

    # -- methods (NumPy ufuncs on object arrays call these: np.exp(a) calls a[i].exp()) -----
    def exp(self) -> Scalar:
        """``e**x``."""
        return _apply(exp, (self,))

    def log(self) -> Scalar:
        """Natural logarithm."""
        return _apply(log, (self,))

    def tanh(self) -> Scalar:
        """Hyperbolic tangent."""
        return _apply(tanh, (self,))

    def sigmoid(self) -> Scalar:
        """``1 / (1 + e**−x)``, stable for large ``|x|``."""
        return _apply(sigmoid, (self,))

    def relu(self) -> Scalar:
        """``max(x, 0)``; its gradient at 0 is 0."""
        return _apply(relu, (self,))

    def sqrt(self) -> Scalar:
        """``x ** 0.5`` (a composition)."""
        return self ** 0.5


def _reciprocal(num: Any, den: Scalar) -> Scalar:
    """``den ** −1`` for ``num / den``; a division by zero says so (as Python floats do)."""
    if den.value == 0:
        raise ZeroDivisionError(f"div: {_value(num)!r} / {den.value!r}: division by zero")
    return den ** -1


def _restore(value: float, name: str | None, requires_grad: bool, grad: Any) -> Scalar:
    s = Scalar(value, name, requires_grad=requires_grad)
    if grad is not None:
        s.grad = grad
    return s


# ---------------------------------------------------------------------------------------------
# The bridge to NumPy object arrays


def scalars(array: Any, name: str | None = None, *, requires_grad: bool = True) -> np.ndarray:
    """An object ndarray of Scalars with ``array``'s values, element ``(i, j)`` named ``W[i,j]``.

    Indices are 0-based, as in NumPy. NumPy code such as ``X @ W + b`` then runs elementwise on
    the Scalars and builds the index-notation graph.

    Example
    -------
    >>> W = scalars([[1.0, 2.0], [3.0, 4.0]], name="W")
    >>> W[0, 1]
    Scalar(2.0, name='W[0,1]')
    """
    a = np.asarray(array)
    if a.dtype.kind not in "biuf" or a.dtype.kind == "b":
        raise TypeError(f"scalars: expected an array of real numbers, got dtype {a.dtype}")
    out = np.empty(a.shape, dtype=object)
    for idx, v in np.ndenumerate(a):
        label = None if name is None else name + (f"[{','.join(map(str, idx))}]" if idx else "")
        out[idx] = Scalar(v, label, requires_grad=requires_grad)
    return out


def _read(array: Any, fn: Callable[[Any], float]) -> np.ndarray:
    a = np.asarray(array, dtype=object)
    return np.fromiter(map(fn, a.flat), dtype=np.float64, count=a.size).reshape(a.shape)


def _value(s: Any) -> float:
    if isinstance(s, Scalar):
        return s.value
    if isinstance(s, (int, float, np.integer, np.floating)):
        return float(s)
    raise TypeError(f"values: expected Scalars or real numbers, got {type(s).__name__}")


def _grad(s: Any) -> float:
    if not isinstance(s, Scalar):
        raise TypeError(f"grads: expected Scalars, got {type(s).__name__}")
    g = s.grad
    return 0.0 if g is None else g.value if isinstance(g, Scalar) else g


def values(array: Any) -> np.ndarray:
    """The values of an object array of Scalars (plain numbers allowed) as a float64 ndarray.

    Example
    -------
    >>> values(scalars([1.0, 2.0]) * 3)
    array([3., 6.])
    """
    return _read(array, _value)


def grads(array: Any) -> np.ndarray:
    """The ``.grad`` of each Scalar of an object array as a float64 ndarray (``None`` → 0).

    Example
    -------
    >>> w = scalars([1.0, 2.0], name="w")
    >>> (w * w).sum().backward()
    >>> grads(w)
    array([2., 4.])
    """
    return _read(array, _grad)
