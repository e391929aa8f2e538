"""The bad-input table: every public function, the bad inputs tried, and what each must do.

Each row is a :class:`Case`: a label, a zero-argument call, and either the exception it must
raise (its type and a fragment of its message — the fragment names the function and what was
wrong) or, for inputs that are legitimate, a check of the result. ``tests/test_bad_inputs.py``
runs every row.

What is rejected and what is accepted (decided per function, as NumPy and PyTorch do):

* **Rejected** (``TypeError``): strings, ``None``, dicts, object/complex/datetime arrays as data;
  non-numeric dtypes; non-callables where a function is expected; wrongly typed options (axis,
  lr, sizes, ...). (``ValueError``): shapes that do not fit (broadcasting, matmul, reshape, a
  layer's input features), out-of-range axes and options, empty axes under ``max``/``min``/
  ``logsumexp``. (``IndexError``): bad indices and class indices. (``MemoryError``): shapes too
  large to allocate, naming the factory. NaN/inf are rejected where they make the result
  meaningless: cross-entropy probability targets and class weights, optimizer hyperparameters,
  ``gradcheck`` inputs.
* **Accepted**, as in NumPy and PyTorch: NaN/inf in data propagate through arithmetic (``log``
  of a negative number is NaN, ``x / 0`` is inf); empty arrays flow through elementwise ops,
  ``sum`` (0) and ``mean`` (NaN, as ``torch.mean`` of an empty tensor); mixed float dtypes
  promote as in NumPy (float32 + float64 is float64); 0-d arrays work everywhere an operation
  makes sense (``softmax`` of a 0-d tensor is 1, as in PyTorch).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

import autograd_lite as al
from autograd_lite import data, nn, optim

T = al.Tensor


@dataclass(frozen=True)
class Case:
    label: str                         # "function: input tried"
    call: Callable[[], Any]
    error: type[BaseException] | None  # None: accepted, and ``check`` holds for the result
    match: str = ""                    # a fragment of the error message (plain text)
    check: Callable[[Any], bool] | None = None

    def __repr__(self) -> str:
        return self.label


def bad(label: str, call: Callable[[], Any], error: type[BaseException], match: str) -> Case:
    return Case(label, call, error, match)


def ok(label: str, call: Callable[[], Any], check: Callable[[Any], bool]) -> Case:
    return Case(label, call, None, check=check)


def x() -> T:
    return T(np.arange(6.0).reshape(2, 3) / 6, requires_grad=True)


def empty() -> T:
    return T(np.zeros((0, 3)), requires_grad=True)


def backward_ok(out: T, *leaves: T) -> bool:
    """The output backpropagates and each leaf gets a gradient of its own shape."""
    out.backward(np.ones(out.shape, dtype=out.dtype))
    return all(leaf.grad is not None and leaf.grad.shape == leaf.shape for leaf in leaves)


def _not_numbers() -> dict[str, Any]:
    """Data that is not numbers, in every form a user might pass it."""
    return {
        "None": None,
        "a string": "abc",
        "a list of strings": ["a", "b"],
        "a dict": {"a": 1},
        "an object array": np.array([1.0, None], dtype=object),
        "a complex array": np.array([1 + 1j]),
        "a datetime array": np.array(["2020-01-01"], dtype="datetime64[D]"),
    }


NOT_NUMBERS = _not_numbers()

# ---------------------------------------------------------------------------------------------
# Generated rows: every function that takes array data, with every kind of non-numeric data.

# Ops taking only arrays come from the op table; those with parameters are listed by hand.
_ARRAY_OPS = [op for op in al.ops.OPS.values() if op.public and op.front is None]
UNARY = {op.public: getattr(al, op.public) for op in _ARRAY_OPS if op.arity == 1} | {
    "sum": al.sum, "mean": al.mean, "transpose": al.transpose, "max": al.max, "min": al.min,
    "astype": lambda v: al.astype(v, np.float32),
    "concatenate": lambda v: al.concatenate([v]), "stack": lambda v: al.stack([v]),
    "clip": lambda v: al.clip(v, 0.0, 1.0), "reshape": lambda v: al.reshape(v, (-1,)),
    "broadcast_to": lambda v: al.broadcast_to(v, (2, 2)),
    "softmax": al.softmax, "log_softmax": al.log_softmax, "logsumexp": al.logsumexp,
    "Tensor": T, "tensor": al.tensor, "zeros_like": al.zeros_like, "ones_like": al.ones_like,
}
BINARY = {op.public: getattr(al, op.public) for op in _ARRAY_OPS if op.arity == 2}

GENERATED = (
    [bad(f"{name}: {what}", (lambda f=f, v=v: f(v)), TypeError, name if name != "tensor"
         else "Tensor")
     for name, f in UNARY.items() for what, v in NOT_NUMBERS.items()]
    + [bad(f"{name}: {what} as the first operand", (lambda f=f, v=v: f(v, x())), TypeError,
           f"{name}: ")
       for name, f in BINARY.items() for what, v in NOT_NUMBERS.items()]
    + [bad(f"{name}: {what} as the second operand", (lambda f=f, v=v: f(x(), v)), TypeError,
           name)
       for name, f in BINARY.items() for what, v in NOT_NUMBERS.items()]
    + [bad(f"where: {what} as y", (lambda v=v: al.where(np.ones(3, bool), x(), v)),
           TypeError, "where")
       for what, v in NOT_NUMBERS.items()]
    + [bad(f"cross_entropy: {what} as logits",
           (lambda v=v: al.cross_entropy(v, np.array([0]))), TypeError, "cross_entropy")
       for what, v in NOT_NUMBERS.items() if what != "a list of strings"]
    + [bad(f"{name}: {what} as the input", (lambda name=name, v=v: getattr(al, name)(
           lambda t: (t * t).sum())(v)), TypeError, where)   # hessian = jacobian(grad(f))
       for name, where in (("grad", "grad: "), ("value_and_grad", "grad: "),
                           ("jacobian", "jacobian: "), ("hessian", "jacobian: "))
       for what, v in NOT_NUMBERS.items() if what != "a dict"
       and (name, what) != ("hessian", "a list of strings")]   # a dict is a container:
    # its leaves are differentiated (a pytree), and a leaf that is not numbers is named
    + [bad("hessian: a list of strings as the input", lambda: al.hessian(
           lambda t: (t * t).sum())(["a", "b"]), TypeError, "hessian: ")]
    + [bad(f"{name}: a dict holding a string", (lambda name=name: getattr(al, name)(
           lambda d: (d["a"] * d["a"]).sum())({"a": "abc"})), TypeError, where)
       for name, where in (("grad", "grad: "), ("value_and_grad", "grad: "),
                           ("jacobian", "jacobian: "))]
    + [ok("grad: a dict of numbers", lambda: al.grad(lambda d: (d["a"] ** 2).sum())({"a": 3.0}),
          lambda g: set(g) == {"a"} and float(g["a"]) == 6.0)]
    # every elementwise function and reduction on an empty (0, 3) array: shapes survive
    + [ok(f"{name}: an empty (0, 3) array", (lambda f=f: f(empty())),
          lambda r: r.shape == (0, 3) and backward_ok(r))
       for name, f in {"exp": al.exp, "tanh": al.tanh, "sigmoid": al.sigmoid, "relu": al.relu,
                       "sqrt": lambda v: al.sqrt(v * v + 1), "log": lambda v: al.log(v + 1),
                       "neg": lambda v: -v, "softmax": al.softmax,
                       "log_softmax": al.log_softmax, "add": lambda v: v + v,
                       "mul": lambda v: v * np.ones(3)}.items()]
    # and on 0-d arrays
    + [ok(f"{name}: a 0-d array", (lambda f=f: f(T(0.5, requires_grad=True))),
          lambda r: r.shape == () and np.isfinite(r.data) and backward_ok(r))
       for name, f in {"exp": al.exp, "log": al.log, "sqrt": al.sqrt, "tanh": al.tanh,
                       "sigmoid": al.sigmoid, "relu": al.relu, "sum": al.sum, "mean": al.mean,
                       "max": lambda v: v.max(), "transpose": al.transpose,
                       "softmax": al.softmax, "logsumexp": al.logsumexp,
                       "log_softmax": al.log_softmax,
                       "add": lambda v: al.add(v, 1.0)}.items()]
)

# ---------------------------------------------------------------------------------------------
# Hand-written rows, grouped by module.

TENSOR = [
    bad("Tensor: ragged lists", lambda: T([[1.0, 2.0], [3.0]]), ValueError,
        "Tensor: data must be rectangular"),
    bad("Tensor: int data with requires_grad", lambda: T(np.array([1, 2]), requires_grad=True),
        TypeError, "only floating-point tensors can require grad"),
    bad("Tensor: bool data with requires_grad", lambda: T(np.array([True]), requires_grad=True),
        TypeError, "only floating-point tensors can require grad"),
    bad("Tensor: an unknown dtype", lambda: T([1.0], dtype="bogus"), TypeError,
        "Tensor: cannot convert list to dtype bogus"),
    bad("Tensor: dtype=object", lambda: T([1.0], dtype=object), TypeError,
        "Tensor: expected numeric data"),
    bad("Tensor: a non-string name", lambda: T([1.0], name=3), TypeError,
        "Tensor: name must be a string"),
    bad("astype: an unknown dtype", lambda: x().astype("bogus"), TypeError, "astype: data type"),
    bad("astype: object", lambda: x().astype(object), TypeError,
        "astype: expected a numeric dtype"),
    bad("item: a (2, 3) tensor", lambda: x().item(), ValueError,
        "item: only one-element tensors"),
    bad("backward: a non-scalar output without grad", lambda: (x() * 2).backward(),
        RuntimeError, "a non-scalar output needs an explicit grad="),
    bad("backward: grad of the wrong shape", lambda: (x() * 2).backward(np.ones(3)),
        ValueError, "backward: grad: got shape (3,), expected (2, 3)"),
    bad("backward: a string grad", lambda: (x() * 2).backward("a"), TypeError,
        "backward: grad: expected real numbers"),
    bad("backward: a constant root", lambda: T(1.0).backward(), RuntimeError,
        "backward: the root does not require grad"),
    ok("backward: a NaN upstream gradient propagates", lambda: _nan_backward(),
       lambda g: bool(np.isnan(g).all())),
    bad("register_hook: a non-callable", lambda: x().register_hook(3), TypeError,
        "register_hook: the hook must be callable"),
    bad("register_hook: on a constant", lambda: T(1.0).register_hook(print), RuntimeError,
        "register_hook: cannot register a hook on a node that does not require grad"),
    bad("retain_grad: on a constant", lambda: T(1.0).retain_grad(), RuntimeError,
        "retain_grad: this node does not require grad"),
    bad("requires_grad_: an int tensor", lambda: T(np.array([1])).requires_grad_(), TypeError,
        "requires_grad_: only floating-point tensors"),
    bad("requires_grad_: a non-leaf", lambda: (x() * 2).requires_grad_(False), RuntimeError,
        "requires_grad_: only leaves"),
    bad("mT: a 1-D tensor", lambda: T([1.0, 2.0]).mT, ValueError, "mT: needs at least 2"),
]


def _nan_backward() -> np.ndarray:
    v = x()
    (v * 2).sum().backward(float("nan"))
    return v.grad.data


FACTORIES = [
    bad("zeros: 10**12 elements", lambda: al.zeros(10**12), MemoryError,
        "zeros: Unable to allocate"),
    bad("ones: (10**6, 10**6)", lambda: al.ones(10**6, 10**6), MemoryError,
        "ones: Unable to allocate"),
    bad("full: 10**12 elements", lambda: al.full((10**12,), 1.0), MemoryError,
        "full: Unable to allocate"),
    bad("randn: 10**12 elements", lambda: al.randn(10**12), MemoryError,
        "randn: Unable to allocate"),
    bad("rand: 10**12 elements", lambda: al.rand(10**12), MemoryError,
        "rand: Unable to allocate"),
    bad("arange: 10**13 elements", lambda: al.arange(10**13), MemoryError,
        "arange: Unable to allocate"),
    bad("eye: 10**7 × 10**7", lambda: al.eye(10**7), MemoryError, "eye: Unable to allocate"),
    bad("zeros: a negative size", lambda: al.zeros(-1), ValueError,
        "zeros: shape must be non-negative integers, got (-1,)"),
    bad("zeros: a float size", lambda: al.zeros(2.5), TypeError,
        "zeros: shape must be non-negative integers"),
    bad("zeros: a string size", lambda: al.zeros("3"), TypeError,
        "zeros: shape must be non-negative integers"),
    bad("zeros: None as the size", lambda: al.zeros(None), TypeError,
        "zeros: shape must be non-negative integers"),
    bad("zeros: an unknown dtype", lambda: al.zeros(3, dtype="bogus"), TypeError,
        "zeros: data type 'bogus' not understood"),
    bad("zeros: dtype=object", lambda: al.zeros(3, dtype=object), TypeError,
        "zeros: expected numeric data"),
    bad("zeros: int dtype with requires_grad",
        lambda: al.zeros(3, dtype=np.int64, requires_grad=True), TypeError,
        "zeros: only floating-point tensors can require grad"),
    bad("ones: a negative size", lambda: al.ones(2, -3), ValueError, "ones: shape must be"),
    bad("rand: a negative size", lambda: al.rand(-2), ValueError, "rand: shape must be"),
    bad("randn: a string size", lambda: al.randn("a"), TypeError, "randn: shape must be"),
    bad("full: a string fill value", lambda: al.full((2,), "a"), ValueError,
        "full: could not convert string to float"),
    bad("arange: a string", lambda: al.arange("a"), TypeError, "arange: "),
    bad("eye: a negative size", lambda: al.eye(-1), ValueError,
        "eye: negative dimensions are not allowed"),
    bad("eye: a string size", lambda: al.eye("a"), TypeError, "eye: "),
    ok("zeros: shape (0, 3)", lambda: al.zeros(0, 3), lambda t: t.shape == (0, 3)),
    ok("zeros: shape () is 0-d", lambda: al.zeros(), lambda t: t.shape == ()),
]

OPS = [
    bad("add: shapes (2, 3) + (4,)", lambda: x() + np.ones(4), ValueError,
        "add: shapes (2, 3) + (4,) cannot be broadcast together"),
    bad("mul: shapes (2, 3) * (2,)", lambda: al.mul(x(), np.ones(2)), ValueError,
        "mul: shapes (2, 3) * (2,) cannot be broadcast together"),
    bad("add: an object-array operand", lambda: x() + np.array([None, 1, 2], dtype=object),
        TypeError, "add: expected numbers"),
    bad("+: a string operand", lambda: x() + "a", TypeError, "add: expected numbers"),
    bad("*: None operand", lambda: x() * None, TypeError, "mul: expected numbers"),
    bad("**: a string exponent", lambda: x() ** "a", TypeError, "pow: expected numbers"),
    bad("matmul: inner dimensions differ", lambda: x() @ np.ones((4, 2)), ValueError,
        "matmul: (2, 3) @ (4, 2): inner dimensions 3 and 4 differ"),
    bad("matmul: a 0-d operand", lambda: x() @ 2.0, ValueError,
        "matmul: (2, 3) @ (): both operands need at least one dimension"),
    bad("matmul: batch dimensions differ", lambda: al.matmul(np.ones((2, 2, 3)),
                                                             np.ones((4, 3, 1))),
        ValueError, "matmul: (2, 2, 3) @ (4, 3, 1): batch dimensions"),
    bad("sum: axis out of range", lambda: x().sum(axis=5), ValueError,
        "sum: axis 5 is out of range for an array with 2 dimensions"),
    bad("sum: a repeated axis", lambda: x().sum(axis=(0, 0)), ValueError,
        "sum: repeated axis"),
    bad("sum: a string axis", lambda: x().sum(axis="a"), TypeError,
        "sum: axis must be None, an int or a tuple of ints"),
    bad("sum: a float axis", lambda: al.sum(x(), axis=1.5), TypeError, "sum: axis must be"),
    bad("mean: axis out of range", lambda: x().mean(axis=-3), ValueError,
        "mean: axis -3 is out of range"),
    bad("max: axis out of range", lambda: x().max(axis=2), ValueError, "max: axis 2"),
    bad("min: a string axis", lambda: x().min(axis="0"), TypeError, "min: axis must be"),
    bad("max: an empty (0, 3) array", lambda: empty().max(), ValueError,
        "max: cannot reduce an empty axis of an array of shape (0, 3)"),
    bad("min: an empty axis", lambda: empty().min(axis=0), ValueError,
        "min: cannot reduce an empty axis"),
    bad("logsumexp: an empty axis", lambda: al.logsumexp(empty(), axis=0), ValueError,
        "logsumexp: cannot reduce an empty axis"),
    ok("max: over a non-empty axis of an empty array", lambda: empty().max(axis=1),
       lambda r: r.shape == (0,)),
    ok("sum: an empty array sums to 0", lambda: empty().sum(),
       lambda r: r.item() == 0 and backward_ok(r)),
    ok("mean: an empty array is NaN (as torch.mean)", lambda: _quiet(lambda: empty().mean()),
       lambda r: bool(np.isnan(r.data))),
    ok("matmul: (0, 3) @ (3, 2)", lambda: empty() @ np.ones((3, 2)),
       lambda r: r.shape == (0, 2)),
    bad("reshape: a size that does not fit", lambda: x().reshape(4, 2), ValueError,
        "reshape: cannot reshape an array of shape (2, 3) (6 elements) into (4, 2)"),
    bad("reshape: a huge size", lambda: x().reshape(10**12), ValueError,
        "reshape: cannot reshape"),
    bad("reshape: a string shape", lambda: x().reshape("a"), TypeError,
        "reshape: expected ints"),
    bad("transpose: not a permutation", lambda: x().transpose(0, 0), ValueError,
        "transpose: axes (0, 0) are not a permutation"),
    bad("broadcast_to: incompatible", lambda: al.broadcast_to(x(), (4, 3)), ValueError,
        "broadcast_to: cannot broadcast shape (2, 3) to (4, 3)"),
    bad("expand: incompatible", lambda: x().expand(4, 3), ValueError, "broadcast_to: cannot"),
    bad("squeeze: an axis of length 2", lambda: x().squeeze(0), ValueError,
        "squeeze: axis 0 of shape (2, 3) has length 2, not 1"),
    bad("unsqueeze: out of range", lambda: x().unsqueeze(5), ValueError,
        "unsqueeze: axis 5 is out of range"),
    bad("getitem: out of bounds", lambda: x()[5], IndexError,
        "getitem: index 5 is invalid for shape (2, 3)"),
    bad("getitem: a string index", lambda: x()["a"], IndexError, "getitem: index 'a'"),
    bad("getitem: a float index", lambda: x()[1.5], IndexError, "getitem: index 1.5"),
    bad("getitem: a float-array index", lambda: x()[T([0.5])], IndexError,
        "getitem: index array([0.5])"),
    bad("getitem: a boolean mask of the wrong length", lambda: x()[np.array([True])],
        IndexError, "getitem: index array([ True])"),
    bad("where: shapes do not broadcast", lambda: al.where(np.ones(4, bool), x(), x()),
        ValueError, "where: condition (4,), x (2, 3) and y (2, 3) cannot be broadcast"),
    bad("where: a string condition", lambda: al.where("a", x(), x()), TypeError,
        "where: the condition must be boolean"),
    bad("where: None as the condition", lambda: al.where(None, x(), x()), TypeError,
        "where: the condition must be boolean"),
    bad("clip: neither bound", lambda: al.clip(x()), ValueError,
        "clip: give at least one of lo and hi"),
    bad("clip: a string bound", lambda: al.clip(x(), "a"), TypeError,
        "clip: lo and hi must be real numbers or None"),
    ok("clip: lo > hi gives hi everywhere (as NumPy and torch.clamp)",
       lambda: al.clip(x(), 2.0, 1.0), lambda r: bool((r.data == 1.0).all())),
    bad("concatenate: shapes disagree", lambda: al.concatenate([x(), np.ones((2, 4))]),
        ValueError, "concatenate: shapes [(2, 3), (2, 4)] do not agree except along axis 0"),
    bad("concatenate: an empty list", lambda: al.concatenate([]), ValueError,
        "concatenate: need at least one tensor"),
    bad("concatenate: a tensor instead of a list", lambda: al.concatenate(x()), TypeError,
        "concatenate: expected a list or tuple of tensors"),
    bad("concatenate: None as the list", lambda: al.concatenate(None), TypeError,
        "concatenate: expected a list or tuple"),
    bad("stack: an empty list", lambda: al.stack([]), ValueError,
        "stack: need at least one tensor"),
    bad("stack: shapes differ", lambda: al.stack([x(), np.ones(3)]), ValueError,
        "stack: all tensors need the same shape"),
    bad("stack: strings inside", lambda: al.stack([x(), "a"]), TypeError, "stack: "),
    ok("log: a negative number is NaN (as NumPy)", lambda: _quiet(lambda: al.log(T([-1.0]))),
       lambda r: bool(np.isnan(r.data).all())),
    ok("div: by zero is inf (as NumPy)", lambda: _quiet(lambda: x() / 0),
       lambda r: bool(np.isinf(r.data[:, 1:]).all())),
    ok("add: NaN data propagates", lambda: T([np.nan, 1.0]) + 1.0,
       lambda r: bool(np.isnan(r.data[0]) and r.data[1] == 2.0)),
    ok("add: float32 + float64 promotes to float64 (NumPy)",
       lambda: T(np.ones(2, np.float32)) + T(np.ones(2)), lambda r: r.dtype == np.float64),
    ok("mul: float32 tensor * Python float stays float32",
       lambda: T(np.ones(2, np.float32)) * 2.0, lambda r: r.dtype == np.float32),
    ok("matmul: int @ float promotes to float", lambda: al.matmul(np.ones((2, 2), int), x()),
       lambda r: r.dtype == np.float64),
    ok("exp: a list of ints becomes float64", lambda: al.exp([1, 2]),
       lambda r: r.dtype == np.float64),
]


def _quiet(f: Callable[[], Any]) -> Any:
    with np.errstate(all="ignore"):
        return f()


z = np.zeros((2, 3))
y2 = np.array([0, 1])

FUNCTIONAL = [
    bad("softmax: int input", lambda: al.softmax(np.array([1, 2])), TypeError,
        "softmax: input must be floating point, got dtype int64"),
    bad("softmax: axis out of range", lambda: al.softmax(x(), axis=3), ValueError,
        "softmax: axis 3 is out of range"),
    bad("log_softmax: axis out of range", lambda: al.log_softmax(x(), axis=-3), ValueError,
        "log_softmax: axis -3 is out of range"),
    bad("logsumexp: a string axis", lambda: al.logsumexp(x(), axis="a"), TypeError,
        "logsumexp: axis must be None, an int or a tuple of ints, got 'a'"),
    ok("softmax: a 0-d tensor is 1 (as PyTorch)", lambda: al.softmax(T(3.0)),
       lambda r: r.item() == 1.0),
    ok("softmax: huge logits stay finite", lambda: al.softmax(T([1000.0, 2000.0, 3000.0])),
       lambda r: bool(np.allclose(r.data, [0, 0, 1]))),
    ok("softmax: NaN logits propagate", lambda: _quiet(lambda: al.softmax(T([np.nan, 1.0]))),
       lambda r: bool(np.isnan(r.data).all())),
    bad("cross_entropy: NaN probability target", lambda: al.cross_entropy(x(), np.full(
        (2, 3), np.nan)), ValueError, "cross_entropy: target probabilities must be finite"),
    bad("cross_entropy: inf probability target", lambda: al.cross_entropy(x(), np.full(
        (2, 3), np.inf)), ValueError, "target[0, 0] = inf"),
    bad("cross_entropy: a class index out of range",
        lambda: al.cross_entropy(x(), np.array([0, 3])), IndexError,
        "cross_entropy: target[1] = 3 is not a class index in [0, 3)"),
    bad("cross_entropy: a negative class index",
        lambda: al.cross_entropy(x(), np.array([-1, 0])), IndexError,
        "cross_entropy: target[0] = -1 is not a class index"),
    bad("cross_entropy: float class indices",
        lambda: al.cross_entropy(x(), np.array([0.0, 1.0])), ValueError,
        "cross_entropy: target of shape (2,) and dtype float64 fits neither form"),
    bad("cross_entropy: a target of the wrong shape",
        lambda: al.cross_entropy(x(), np.array([0, 1, 2])), ValueError, "fits neither form"),
    bad("cross_entropy: a string target", lambda: al.cross_entropy(x(), "a"), ValueError,
        "cross_entropy: target of shape () and dtype <U1 fits neither form"),
    bad("cross_entropy: None target", lambda: al.cross_entropy(x(), None), ValueError,
        "dtype object fits neither form"),
    bad("cross_entropy: int logits", lambda: al.cross_entropy(np.ones((2, 3), int), y2),
        TypeError, "cross_entropy: logits must be floating point, got dtype int64"),
    bad("cross_entropy: 0-d logits", lambda: al.cross_entropy(T(1.0), np.array(0)),
        ValueError, "cross_entropy: logits need a class axis, got a scalar"),
    bad("cross_entropy: an unknown reduction",
        lambda: al.cross_entropy(x(), y2, reduction="avg"), ValueError,
        "cross_entropy: unknown reduction 'avg'"),
    bad("cross_entropy: label_smoothing 2", lambda: al.cross_entropy(x(), y2,
                                                                      label_smoothing=2),
        ValueError, "cross_entropy: label_smoothing must be in [0, 1], got 2"),
    bad("cross_entropy: label_smoothing NaN",
        lambda: al.cross_entropy(x(), y2, label_smoothing=float("nan")), ValueError,
        "label_smoothing must be in [0, 1], got nan"),
    bad("cross_entropy: a string label_smoothing",
        lambda: al.cross_entropy(x(), y2, label_smoothing="a"), TypeError,
        "cross_entropy: label_smoothing must be a real number, got str"),
    bad("cross_entropy: weight of the wrong length",
        lambda: al.cross_entropy(x(), y2, weight=np.ones(2)), ValueError,
        "cross_entropy: weight has shape (2,), expected (3,)"),
    bad("cross_entropy: a NaN weight",
        lambda: al.cross_entropy(x(), y2, weight=np.array([1.0, np.nan, 1.0])), ValueError,
        "cross_entropy: weight must be finite"),
    bad("cross_entropy: an inf weight",
        lambda: al.cross_entropy(x(), y2, weight=np.array([1.0, np.inf, 1.0])), ValueError,
        "cross_entropy: weight must be finite"),
    bad("cross_entropy: a string weight", lambda: al.cross_entropy(x(), y2, weight="abc"),
        TypeError, "cross_entropy: weight must be numbers, got dtype <U3"),
    bad("cross_entropy: axis out of range", lambda: al.cross_entropy(x(), y2, axis=4),
        ValueError, "cross_entropy: axis 4 is out of range"),
    bad("cross_entropy: a float ignore_index",
        lambda: al.cross_entropy(x(), y2, ignore_index=1.5), TypeError,
        "cross_entropy: ignore_index must be an int or None"),
    bad("cross_entropy: ignore_index with probabilities",
        lambda: al.cross_entropy(x(), np.full((2, 3), 1 / 3), ignore_index=0), ValueError,
        "ignore_index=0 applies to class-index targets only"),
    ok("cross_entropy: NaN logits propagate (as torch)",
       lambda: al.cross_entropy(T(np.full((2, 3), np.nan)), y2),
       lambda r: bool(np.isnan(r.data))),
    ok("cross_entropy: an empty batch, mean, is NaN (as torch)",
       lambda: _quiet(lambda: al.cross_entropy(empty(), np.zeros(0, int))),
       lambda r: bool(np.isnan(r.data))),
    ok("cross_entropy: an empty batch, sum, is 0",
       lambda: al.cross_entropy(empty(), np.zeros(0, int), reduction="sum"),
       lambda r: r.item() == 0.0 and backward_ok(r)),
    ok("cross_entropy: composed, an empty batch, sum, is 0",
       lambda: al.cross_entropy(empty(), np.zeros(0, int), reduction="sum", fused=False),
       lambda r: r.item() == 0.0),
    ok("cross_entropy: every target ignored, mean, is NaN (as torch)",
       lambda: _quiet(lambda: al.cross_entropy(x(), np.array([1, 1]), ignore_index=1)),
       lambda r: bool(np.isnan(r.data))),
    ok("cross_entropy: float32 logits, float64 probabilities: float32 loss",
       lambda: al.cross_entropy(T(np.zeros((2, 3), np.float32)), np.full((2, 3), 1 / 3)),
       lambda r: r.dtype == np.float32),
    ok("cross_entropy: huge logits stay finite",
       lambda: al.cross_entropy(T(np.array([[1e4, 0.0, -1e4]])), np.array([2])),
       lambda r: bool(np.isclose(r.item(), 2e4))),
]

TRANSFORMS = [
    bad("grad: a non-callable", lambda: al.grad(3)(np.ones(2)), TypeError,
        "grad: f must be callable, got int"),
    bad("jacobian: a non-callable", lambda: al.jacobian(None)(np.ones(2)), TypeError,
        "jacobian: f must be callable"),
    bad("vjp: a non-callable", lambda: al.vjp("f", np.ones(2)), TypeError,
        "vjp: f must be callable"),
    bad("jvp: a non-callable", lambda: al.jvp(3, (np.ones(2),), (np.ones(2),)), TypeError,
        "jvp: f must be callable"),
    bad("grad: int input", lambda: al.grad(lambda t: t.sum())(np.array([1, 2])), TypeError,
        "grad: can only differentiate with respect to floating-point inputs"),
    bad("grad: a vector output", lambda: al.grad(lambda t: t)(np.ones(2)), TypeError,
        "grad: f must return a scalar"),
    bad("grad: f returns a float", lambda: al.grad(lambda t: 1.0)(np.ones(2)), TypeError,
        "grad: f must return a Tensor"),
    bad("grad: argnums out of range", lambda: al.grad(lambda t: t.sum(), argnums=3)(
        np.ones(2)), ValueError, "grad: argnums 3 is out of range"),
    bad("grad: a string argnums", lambda: al.grad(lambda t: t.sum(), argnums="a")(np.ones(2)),
        TypeError, "grad: argnums must be an int or a tuple of ints"),
    bad("grad: repeated argnums", lambda: al.grad(lambda a, b: (a * b).sum(), argnums=(0, 0))(
        np.ones(2), np.ones(2)), ValueError, "grad: repeated argument in argnums"),
    bad("jvp: primals and tangents differ in number",
        lambda: al.jvp(lambda t: t, (np.ones(2),), ()), ValueError,
        "jvp: got 1 primal(s) but 0 tangent(s)"),
    bad("jvp: a tangent of the wrong shape",
        lambda: al.jvp(lambda t: t, (np.ones(2),), (np.ones(3),)), ValueError,
        "jvp: tangent of shape (3,) for a primal of shape (2,)"),
    bad("vjp: an upstream gradient of the wrong shape",
        lambda: al.vjp(lambda t: t, np.ones(2))[1](np.ones(3)), ValueError,
        "vjp: the upstream gradient has shape (3,), but f's output has shape (2,)"),
    bad("hessian: a vector output", lambda: al.hessian(lambda t: t)(np.ones(2)), TypeError,
        "must return a scalar"),
    bad("hessian: argnums not ints", lambda: al.hessian(lambda t: t.sum(), argnums="0")(
        np.ones(2)), TypeError, "hessian: argnums must be an int or a tuple of ints"),
    bad("hvp: a vector of the wrong shape",
        lambda: al.hvp(lambda t: (t * t).sum(), np.ones(2), np.ones(3)), ValueError,
        "the upstream gradient has shape (3,)"),
    ok("jacobian: an empty input", lambda: al.jacobian(lambda t: t * 2)(np.zeros(0)),
       lambda j: j.shape == (0, 0)),
]

GRADCHECK = [
    bad("gradcheck: a non-callable", lambda: al.gradcheck(3, [np.ones(2)]), TypeError,
        "gradcheck: f must be callable, got int"),
    bad("gradcheck: a string input", lambda: al.gradcheck(lambda t: t, ["a"]), TypeError,
        "gradcheck: input 0 must be numbers, got str"),
    bad("gradcheck: an object-array input",
        lambda: al.gradcheck(lambda t: t, [np.array([None])]), TypeError,
        "gradcheck: input 0 must be numbers"),
    bad("gradcheck: a NaN input", lambda: al.gradcheck(lambda t: t * t, [np.array(
        [np.nan, 1.0])]), ValueError, "gradcheck: input 0 has non-finite values"),
    bad("gradcheck: an inf input", lambda: al.gradcheck(lambda a, b: a * b, [np.ones(2), np.array(
        [np.inf, 1.0])]), ValueError, "gradcheck: input 1 has non-finite values"),
    bad("gradcheck: eps 0", lambda: al.gradcheck(lambda t: t * t, [np.ones(2)], eps=0),
        ValueError, "gradcheck: eps must be positive and finite, got 0"),
    bad("gradcheck: negative eps", lambda: al.gradcheck(lambda t: t * t, [np.ones(2)],
                                                         eps=-1e-6),
        ValueError, "gradcheck: eps must be positive"),
    bad("gradcheck: f returns a float", lambda: al.gradcheck(lambda t: 1.0, [np.ones(2)]),
        TypeError, "gradcheck: f must return a Tensor, got float"),
    bad("gradgradcheck: a non-callable", lambda: al.gradgradcheck(None, [np.ones(2)]),
        TypeError, "gradgradcheck: f must be callable"),
    bad("gradgradcheck: no float input", lambda: al.gradgradcheck(
        lambda t: T(np.ones(2)) * t, [np.array([1, 2])]), ValueError,
        "gradgradcheck: no floating-point input"),
    bad("gradgradcheck: a NaN input", lambda: al.gradgradcheck(lambda t: t * t, [np.array(
        [np.nan])]), ValueError, "gradgradcheck: input 0 has non-finite values"),
]

NN = [
    bad("Linear: an input with 5 features for 3", lambda: nn.Linear(3, 2)(np.ones(
        (4, 5), np.float32)), ValueError,
        "Linear(3 → 2): expected an input whose last axis has 3 features, got shape (4, 5)"),
    bad("Linear: a 0-d input", lambda: nn.Linear(3, 2)(np.float32(1.0)), ValueError,
        "got shape ()"),
    bad("Linear: a string input", lambda: nn.Linear(3, 2)("abc"), TypeError,
        "Linear: expected numeric data"),
    bad("Linear: None input", lambda: nn.Linear(3, 2)(None), TypeError,
        "Linear: expected numeric data"),
    bad("Linear: string sizes", lambda: nn.Linear("a", 2), TypeError,
        "Linear: in_features and out_features must be ints"),
    bad("Linear: a float size", lambda: nn.Linear(2.5, 2), TypeError,
        "Linear: in_features and out_features must be ints"),
    bad("Linear: a zero size", lambda: nn.Linear(0, 2), ValueError,
        "Linear: in_features and out_features must be positive"),
    bad("Linear: a huge layer", lambda: nn.Linear(10**7, 10**7), MemoryError,
        "Linear(10000000 → 10000000): Unable to allocate"),
    bad("MLP: an input with 5 features for 3", lambda: nn.MLP([3, 4, 2], rng=0)(np.ones(
        (4, 5), np.float32)), ValueError, "Linear(3 → 4): expected an input"),
    bad("MLP: a string for sizes", lambda: nn.MLP("abc"), TypeError,
        "MLP: sizes must be a list of ints"),
    bad("MLP: None for sizes", lambda: nn.MLP(None), TypeError,
        "MLP: sizes must be a list of ints"),
    bad("MLP: a negative size", lambda: nn.MLP([3, -1, 2]), ValueError,
        "Linear: in_features and out_features must be positive"),
    bad("MLP: one size", lambda: nn.MLP([3]), ValueError, "MLP: sizes needs at least"),
    bad("MLP: an unknown activation", lambda: nn.MLP([3, 2], activation="gelu"), ValueError,
        "MLP: unknown activation 'gelu'"),
    ok("MLP: a float64 input to float32 weights promotes (NumPy)",
       lambda: nn.MLP([3, 2], rng=0)(np.ones((4, 3))), lambda r: r.dtype == np.float64),
    ok("MLP: an empty batch", lambda: nn.MLP([3, 2], rng=0)(np.ones((0, 3), np.float32)),
       lambda r: r.shape == (0, 2)),
    bad("Dropout: p = 1.5", lambda: nn.Dropout(1.5), ValueError,
        "Dropout: p must be in [0, 1), got 1.5"),
    bad("Dropout: a string p", lambda: nn.Dropout("a"), TypeError,
        "Dropout: p must be a real number"),
    bad("Sequential: a non-Module", lambda: nn.Sequential(nn.ReLU(), 3), TypeError,
        "Sequential: argument 1 is a int, not a Module"),
    bad("load_state_dict: None", lambda: nn.Linear(2, 2).load_state_dict(None), TypeError,
        "load_state_dict: expected a mapping of names to arrays, got NoneType"),
    bad("load_state_dict: a wrong shape", lambda: nn.Linear(2, 2).load_state_dict(
        {"weight": np.ones((3, 3)), "bias": np.ones(2)}), ValueError,
        "load_state_dict: Linear: key 'weight' has shape (3, 3)"),
    bad("load_state_dict: a missing key", lambda: nn.Linear(2, 2).load_state_dict(
        {"weight": np.ones((2, 2))}), KeyError, "missing keys ['bias']"),
    bad("save: None", lambda: nn.save(None, "/tmp/autograd-lite-never-written.npz"),
        TypeError, "save: expected a Module, an optimizer or a mapping of names to arrays, got "
                   "NoneType"),
    bad("save: a string array in the state", lambda: nn.save(
        {"w": np.array(["a"])}, "/tmp/autograd-lite-never-written.npz"), TypeError,
        "save: key 'w' holds dtype <U1"),
    bad("save: into a missing directory", lambda: nn.save(
        nn.Linear(2, 2), "/nonexistent-dir/model.npz"), FileNotFoundError, "nonexistent-dir"),
    bad("load: a missing file", lambda: nn.load("/nonexistent-dir/model.npz"), FileNotFoundError,
        "load: no such file: '/nonexistent-dir/model.npz'"),
    bad("load: None as the path", lambda: nn.load(None), TypeError,
        "expected str, bytes or os.PathLike object, not NoneType"),
]


def _params() -> list:
    return nn.Linear(2, 2, rng=0).parameters()


OPTIM = [
    bad("SGD: lr -1", lambda: optim.SGD(_params(), lr=-1), ValueError,
        "SGD: lr must be >= 0 and finite, got -1"),
    bad("SGD: lr NaN", lambda: optim.SGD(_params(), lr=float("nan")), ValueError,
        "SGD: lr must be >= 0 and finite, got nan"),
    bad("SGD: lr inf", lambda: optim.SGD(_params(), lr=float("inf")), ValueError,
        "SGD: lr must be >= 0 and finite, got inf"),
    bad("SGD: a string lr", lambda: optim.SGD(_params(), lr="a"), TypeError,
        "SGD: lr must be a real number, got str"),
    bad("SGD: None lr", lambda: optim.SGD(_params(), lr=None), TypeError,
        "SGD: lr must be a real number, got NoneType"),
    bad("SGD: negative momentum", lambda: optim.SGD(_params(), lr=0.1, momentum=-1),
        ValueError, "SGD: momentum must be >= 0"),
    bad("SGD: NaN weight_decay", lambda: optim.SGD(_params(), lr=0.1,
                                                    weight_decay=float("nan")),
        ValueError, "SGD: weight_decay must be >= 0 and finite, got nan"),
    bad("SGD: nesterov without momentum", lambda: optim.SGD(_params(), nesterov=True),
        ValueError, "SGD: nesterov=True needs momentum > 0"),
    bad("SGD: a Module instead of its parameters", lambda: optim.SGD(nn.Linear(2, 2), lr=0.1),
        TypeError, "SGD: params must be an iterable of Tensors (e.g. model.parameters())"),
    bad("SGD: None params", lambda: optim.SGD(None, lr=0.1), TypeError,
        "SGD: params must be an iterable of Tensors"),
    bad("SGD: a single Tensor", lambda: optim.SGD(T([1.0], requires_grad=True)), TypeError,
        "SGD: params must be an iterable of Tensors"),
    bad("SGD: an empty list", lambda: optim.SGD([], lr=0.1), ValueError,
        "SGD: got an empty parameter list"),
    bad("SGD: a constant tensor", lambda: optim.SGD([T([1.0])]), TypeError,
        "SGD: parameter 0 must be a floating-point Tensor that requires grad"),
    bad("Adam: lr NaN", lambda: optim.Adam(_params(), lr=float("nan")), ValueError,
        "Adam: lr must be >= 0 and finite"),
    bad("Adam: beta1 = 1.5", lambda: optim.Adam(_params(), betas=(1.5, 0.9)), ValueError,
        "Adam: betas must be in [0, 1), got 1.5"),
    bad("Adam: beta2 = 1", lambda: optim.Adam(_params(), betas=(0.9, 1.0)), ValueError,
        "Adam: betas must be in [0, 1), got 1.0"),
    bad("Adam: a string for betas", lambda: optim.Adam(_params(), betas="ab"), TypeError,
        "Adam: betas must be a pair of numbers"),
    bad("Adam: three betas", lambda: optim.Adam(_params(), betas=(0.9, 0.9, 0.9)), TypeError,
        "Adam: betas must be a pair of numbers"),
    bad("Adam: negative eps", lambda: optim.Adam(_params(), eps=-1), ValueError,
        "Adam: eps must be >= 0 and finite, got -1"),
    bad("AdamW: inf weight_decay", lambda: optim.AdamW(_params(), weight_decay=float("inf")),
        ValueError, "AdamW: weight_decay must be >= 0 and finite"),
]

DATA = [
    bad("DataLoader: X and y differ in length", lambda: data.DataLoader(np.ones((3, 2)),
                                                                        np.ones(4)),
        ValueError, "DataLoader: X has 3 samples but y has 4"),
    bad("DataLoader: batch_size 0", lambda: data.DataLoader(np.ones((3, 2)), batch_size=0),
        ValueError, "DataLoader: batch_size must be >= 1, got 0"),
    bad("DataLoader: a string batch_size", lambda: data.DataLoader(np.ones((3, 2)),
                                                                   batch_size="a"),
        TypeError, "DataLoader: batch_size must be an int, got str"),
    bad("DataLoader: a float batch_size", lambda: data.DataLoader(np.ones((3, 2)),
                                                                  batch_size=2.5),
        TypeError, "DataLoader: batch_size must be an int, got float"),
    bad("DataLoader: None as X", lambda: data.DataLoader(None), TypeError,
        "DataLoader: X must be an array of numbers, got NoneType"),
    bad("DataLoader: a string as X", lambda: data.DataLoader("abc"), TypeError,
        "DataLoader: X must be an array of numbers, got str"),
    bad("DataLoader: an object array as y", lambda: data.DataLoader(
        np.ones((2, 2)), np.array([None, 1], dtype=object)), TypeError,
        "DataLoader: y must be an array of numbers"),
    bad("DataLoader: a 0-d X", lambda: data.DataLoader(np.float32(1.0)), ValueError,
        "DataLoader: X needs a first axis of samples, got a scalar"),
    ok("DataLoader: an empty X gives no batches", lambda: list(data.DataLoader(
        np.ones((0, 3)), batch_size=2)), lambda batches: batches == []),
    bad("make_moons: a negative n", lambda: data.make_moons(-5), ValueError,
        "make_moons: n must be >= 0, got -5"),
    bad("make_moons: a string n", lambda: data.make_moons("a"), TypeError,
        "make_moons: n must be an int"),
    bad("make_spirals: one class", lambda: data.make_spirals(10, k=1), ValueError,
        "make_spirals: need k >= 2 classes, got 1"),
    bad("make_spirals: a float n_per_class", lambda: data.make_spirals(2.5), TypeError,
        "make_spirals: n_per_class must be an int"),
    bad("load: an unknown dataset", lambda: data.load("mnist"), ValueError,
        "data.load: unknown dataset 'mnist'"),
    bad("train_test_split: a fraction of 2", lambda: data.train_test_split(
        np.ones((5, 2)), np.ones(5), test_fraction=2), ValueError,
        "train_test_split: test_fraction must be in [0, 1], got 2"),
    bad("train_test_split: X and y differ in length", lambda: data.train_test_split(
        np.ones((5, 2)), np.ones(4)), ValueError, "train_test_split: X has 5 samples but y"),
]


def _graph() -> T:
    v = x()
    return (v * v).sum()


VIZ = [
    bad("draw_graph: None", lambda: al.draw_graph(None), TypeError,
        "expected a Tensor or Scalar (or a list of them), got None"),
    bad("draw_graph: an ndarray", lambda: al.draw_graph(np.ones(3)), TypeError,
        "expected a Tensor or Scalar (or a list of them)"),
    bad("draw_graph: a string", lambda: al.draw_graph("abc"), TypeError,
        "expected a Tensor or Scalar"),
    bad("draw_graph: an empty list", lambda: al.draw_graph([]), TypeError,
        "expected a Tensor or Scalar"),
    bad("draw_graph: a bad rankdir", lambda: al.draw_graph(_graph(), rankdir="XY"), ValueError,
        "draw_graph: rankdir must be auto, LR, RL, TB or BT, got 'XY'"),
    bad("draw_graph: max_nodes 0", lambda: al.draw_graph(_graph(), max_nodes=0), ValueError,
        "draw_graph: max_nodes must be positive or None"),
    bad("graph_stats: None", lambda: al.graph_stats(None), TypeError,
        "expected a Tensor or Scalar"),
    bad("explain: None", lambda: al.explain(None), TypeError,
        "explain: expected a Tensor or Scalar, got NoneType"),
    bad("explain: a constant", lambda: al.explain(T(1.0)), ValueError,
        "explain: the root does not require grad"),
    bad("save_graph: None", lambda: al.save_graph(None, "/tmp/never-written.svg"), TypeError,
        "save_graph: expected a drawing (graphviz.Digraph, from draw_graph), got NoneType"),
    bad("save_graph: an unknown format", lambda: al.save_graph(
        al.draw_graph(_graph()), "/tmp/never-written.xyz"), ValueError,
        "save_graph: unknown format 'xyz'"),
    bad("draw_side_by_side: None", lambda: al.draw_side_by_side(None), TypeError,
        "draw_side_by_side: expected a dict of caption"),
    bad("draw_side_by_side: an empty dict", lambda: al.draw_side_by_side({}), ValueError,
        "draw_side_by_side: nothing to draw"),
]


def _f(t: T) -> T:
    return (t * t).sum()


COMPARE = [
    bad("compare_gradients: non-callables", lambda: al.compare_gradients(3, 4, np.ones(2)),
        TypeError, "compare_gradients: f must be callable, got int"),
    bad("compare_gradients: a string input", lambda: al.compare_gradients(_f, _f, "abc"),
        TypeError, "compare_gradients: input 0 must be numbers, got str"),
    bad("compare_gradients: None input", lambda: al.compare_gradients(_f, _f, None), TypeError,
        "compare_gradients: input 0 must be numbers, got NoneType"),
    bad("compare_gradients: no inputs", lambda: al.compare_gradients(_f, _f), ValueError,
        "compare_gradients: no floating-point input to differentiate"),
    bad("compare_gradients: outputs of different shapes", lambda: al.compare_gradients(
        _f, lambda t: t * t, np.ones(2)), ValueError,
        "compare_gradients: fused returned shape () but composed returned (2,)"),
    bad("compare_gradients: f returns a float", lambda: al.compare_gradients(
        lambda t: 1.0, _f, np.ones(2)), TypeError, "compare_gradients: fused must return a"),
    bad("compare_gradients: repeat 0", lambda: al.compare_gradients(_f, _f, np.ones(2),
                                                                     repeat=0),
        ValueError, "compare_gradients: repeat must be at least 1"),
    bad("compare_gradients: three names", lambda: al.compare_gradients(
        _f, _f, np.ones(2), names=("a", "b", "c")), ValueError,
        "compare_gradients: names must be two strings"),
]

SCALAR = [
    bad("Scalar: a string", lambda: al.Scalar("a"), TypeError,
        "Scalar: expected a real number, got str"),
    bad("Scalar: None", lambda: al.Scalar(None), TypeError, "Scalar: expected a real number"),
    bad("Scalar: log of a negative number", lambda: al.Scalar(-1.0).log(), ValueError,
        "log(-1.0): math domain error"),
    bad("Scalar: + a string", lambda: al.Scalar(1.0) + "a", TypeError,
        "unsupported operand type(s) for +: 'Scalar' and 'str'"),
    bad("scalars: a string", lambda: al.scalars("abc"), TypeError,
        "scalars: expected an array of real numbers, got dtype <U3"),
    bad("scalars: None", lambda: al.scalars(None), TypeError,
        "scalars: expected an array of real numbers, got dtype object"),
    bad("values: a string", lambda: al.values("abc"), TypeError,
        "values: expected Scalars or real numbers, got str"),
    bad("grads: numbers, not Scalars", lambda: al.grads(np.ones(2)), TypeError,
        "grads: expected Scalars"),
    ok("Scalar: NaN propagates", lambda: al.Scalar(float("nan")) * 2,
       lambda s: s.value != s.value),
]

TABLE: list[Case] = (GENERATED + TENSOR + FACTORIES + OPS + FUNCTIONAL + TRANSFORMS + GRADCHECK
                     + NN + OPTIM + DATA + VIZ + COMPARE + SCALAR)


def _family_rows() -> list[Case]:
    """The ``ROWS`` of every ``tests/bad_inputs_<family>.py`` (one file per op family)."""
    import importlib
    import pathlib

    rows: list[Case] = []
    for path in sorted(pathlib.Path(__file__).parent.glob("bad_inputs_*.py")):
        if path.stem != "bad_inputs_table":
            rows += importlib.import_module(f"tests.{path.stem}").ROWS
    return rows


TABLE += _family_rows()
