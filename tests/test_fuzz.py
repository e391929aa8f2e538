"""The differential fuzzer: random graphs over every op and every public way to call it, against
PyTorch and finite differences, first and second order, and nested transforms with closures.

Graphs (``fuzz_graphs.py``) mix float16/32/64, 0-d to 4-d broadcast shapes, negative axes,
fan-out and ``x ∘ x``, every index kind, Python-number and ndarray operands on either side, and
10% of inputs rounded to integers (exact ties and zeros). Forms (``fuzz_forms.py``,
``fuzz_structural.py``) are derived from the op table where they can be, so a new elementwise op
joins automatically and any other new op fails ``test_every_op_and_spelling_has_a_form``.

Per graph:

* first order (``fuzz_compare.py``): the value and every input's gradient against PyTorch
  (same dtype, tolerance by dtype, special values such as inf and NaN must match; in float16
  and float32 PyTorch's float64 result arbitrates, ``judge_low_precision``: within a multiple
  of how far rounding each step's value moves it, or no farther from it than PyTorch, so an
  ill-conditioned graph or PyTorch's own float16 overflow is not a failure and a wrong rule
  still is), and in float64 away from kinks and domain edges, two directional derivatives
  against central differences;
* second order (float64): ``H v`` through ``create_graph=True``, ``al.hvp`` and (inputs of up
  to 6 elements) ``al.hessian`` against PyTorch's double backward;
* nested transforms: random compositions of the seven transforms, 2 and 3 deep, each inner
  function closing over every outer variable, against PyTorch and finite differences.

A graph that fails only because it touches a defect of the Tensor/op-table core that is tracked
separately (issue 14 item 3: pow at base 0 and at exponent 0; and one found here: mask VJPs
that turn an infinite upstream gradient into NaN) is an expected failure naming the item
(``fuzz_graphs.core_reason``); any other disagreement fails. (Items 1 and the 0-d gradient,
which the fuzzer also caught, are fixed on main: they are no longer excused.) Where
PyTorch itself is wrong and finite differences side with autograd_lite, the graph passes with a
``FuzzExplained`` warning naming the rule (``fuzz_graphs.second_order``).

CI runs a few hundred graphs; ``AUTOGRAD_LITE_THOROUGH=1`` runs 10,000 first-order and 2,000
second-order graphs and 400 nested programs::

    AUTOGRAD_LITE_THOROUGH=1 python -m pytest -q -p no:cacheprovider tests/test_fuzz.py
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite import ops

from .fuzz_compare import first_order
from .fuzz_forms import _spellings
from .fuzz_graphs import core_reason, finite_differences, make_recipe, second_order
from .fuzz_structural import NOT_FUZZED, all_forms

torch = pytest.importorskip("torch")

THOROUGH = bool(os.environ.get("AUTOGRAD_LITE_THOROUGH"))
N_FIRST = 10_000 if THOROUGH else 150
N_SECOND = 2_000 if THOROUGH else 30
N_NESTED = 200 if THOROUGH else 6
SECOND_SEEDS = 1_000_000          # second-order graphs use their own seeds

FORMS = all_forms()


class FuzzExplained(UserWarning):
    """A disagreement with PyTorch where finite differences side with autograd_lite."""


def _verdict(recipe, problems: list[str], explained: list[str] = ()) -> None:
    for e in explained:
        warnings.warn(FuzzExplained(f"seed {recipe.seed}: {e}"), stacklevel=2)
    if not problems:
        return
    reason = core_reason(recipe, problems)
    if reason:
        pytest.xfail(reason)
    pytest.fail(recipe.describe() + "\n" + "\n".join(problems), pytrace=False)


@pytest.mark.parametrize("seed", range(N_FIRST))
def test_first_order_against_torch_and_finite_differences(seed):
    recipe = make_recipe(seed, FORMS)
    problems = first_order(recipe)
    if recipe.dtype == np.float64 and recipe.fd_ok and not recipe.kinky:
        problems += finite_differences(recipe)
    _verdict(recipe, problems)


@pytest.mark.parametrize("seed", range(SECOND_SEEDS, SECOND_SEEDS + N_SECOND))
def test_second_order_against_torch_double_backward(seed):
    recipe = make_recipe(seed, FORMS, dtype=np.float64, max_steps=6)
    problems, explained = second_order(recipe)
    _verdict(recipe, problems, explained)


@pytest.mark.parametrize("outer", ["grad", "hessian", "jacobian-of-grad"])
@pytest.mark.parametrize("depth", [2, 3])
@pytest.mark.parametrize("seed", range(N_NESTED))
def test_nested_transforms_with_closures(seed, depth, outer):
    from .fuzz_nested import ALT, TorchT, nested
    if outer != "grad" and depth == 3 and not THOROUGH and seed % 3:
        pytest.skip("3 levels under an outer Hessian: a third of the seeds in CI")
    rng = np.random.default_rng(10_000 * depth + seed)
    prog, desc = nested(rng, depth, 2)
    x0 = rng.normal(size=2)
    T = TorchT()
    f_al = lambda x: prog(ALT, x)  # noqa: E731
    f_t = lambda x: prog(T, x)  # noqa: E731
    if outer == "grad":
        got, want = al.grad(f_al)(x0), T.grad(f_t)(x0)
    elif outer == "hessian":
        got, want = al.hessian(f_al)(x0), T.hessian(f_t)(x0)
    else:
        got, want = al.jacobian(al.grad(f_al))(x0), T.jacobian(T.grad(f_t))(x0)
    np.testing.assert_allclose(got, want.detach().numpy(), rtol=1e-8, atol=1e-10, err_msg=desc)
    if outer == "grad":       # and against central differences of the program itself
        eps = 1e-6
        fd = [(prog(ALT, x0 + eps * e).item() - prog(ALT, x0 - eps * e).item()) / (2 * eps)
              for e in np.eye(2)]
        np.testing.assert_allclose(got, fd, rtol=1e-5, atol=1e-6, err_msg=desc)


# ---------------------------------------------------------------------------------------------
# The fuzzer's own coverage: a generator that silently stops reaching an op tests nothing.


def test_every_op_and_spelling_has_a_form():
    names = {f.name for f in FORMS}
    ops_reached = {f.op for f in FORMS}
    missing = [n for n in ops.OPS if n not in ops_reached and n not in NOT_FUZZED]
    assert not missing, f"ops without a fuzzer form: {missing} (add them in fuzz_structural.py)"
    for name, op in ops.OPS.items():
        if name in NOT_FUZZED or op.variadic or len(op.vjps) not in (1, 2):
            continue
        for kind in _spellings(name, len(op.vjps)):
            assert f"{name}:{kind}" in names, f"{name} is reachable as {kind} but never fuzzed"
    binary_operators = [n for n in names if n.endswith(":operator")
                        and f"{n.split(':')[0]}:reflected-array" not in names]
    assert binary_operators == [n for n in binary_operators
                                if n.split(":")[0] in ("neg", "abs", "getitem")]


NOT_OPS = {   # public names that are not differentiable operations on Tensors
    "functions": {"Tensor", "as_tensor", "tensor", "arange", "eye", "full", "ones", "ones_like",
                  "rand", "randn", "zeros", "zeros_like", "backward", "enable_grad",
                  "is_grad_enabled", "no_grad", "AnomalyError", "detect_anomaly",
                  "is_anomaly_enabled", "compare_gradients", "GradcheckError", "gradcheck",
                  "gradgradcheck", "grad", "hessian", "hvp", "jacobian", "jvp", "value_and_grad",
                  "vjp", "Scalar", "grads", "scalars", "values", "draw_graph",
                  "draw_side_by_side", "explain", "graph_stats", "save_graph", "data",
                  "functional", "nn", "ops", "optim", "get_num_threads", "set_num_threads"},
    "methods": {"add_", "sub_", "mul_", "div_", "copy_", "fill_", "zero_",   # in place: core
                "backward", "data", "detach", "dtype", "grad", "id", "is_leaf", "item", "name",
                "ndim", "numpy", "op", "register_hook", "requires_grad", "requires_grad_",
                "retain_grad", "shape", "size", "tolist", "zero_grad"},
}


# Public names merged from other branches (op families, losses, interop) after this fuzzer was
# written. They are reached by their own test files; each still needs a form here (the ones
# that are single op-table entries are also in fuzz_structural.PENDING). A name added later
# that is in neither a form nor this list fails the test below.
PENDING_PUBLIC = {
    "cat", "mod", "var", "std", "amax", "amin", "argmax", "argmin", "argsort", "any", "all",
    "sort", "topk", "cummax", "cummin", "quantile", "median", "norm", "pad", "split",
    "array_split", "chunk", "repeat", "repeat_interleave", "tile", "flip", "roll", "moveaxis",
    "swapaxes", "flatten", "unflatten", "meshgrid", "vstack", "hstack", "diag", "diagonal",
    "trace", "triu", "tril", "gather", "scatter_add", "index_add", "outer", "inner", "dot",
    "tensordot", "slogdet", "svd", "isnan", "isinf", "isfinite", "isclose", "allclose", "equal",
    "not_equal", "less", "less_equal", "greater", "greater_equal", "logical_and", "logical_or",
    "logical_xor", "logical_not", "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss",
    "binary_cross_entropy", "nll_loss", "kl_div", "margin_ranking_loss",
    "cosine_embedding_loss", "interop_numpy", "losses", "from_dlpack", "fused", "linalg",
    # Tensor methods
    "clamp", "clone", "double", "float", "t", "to", "view",
}


def test_every_public_function_and_method_has_a_form():
    names = {f.name for f in FORMS}
    prefixes = {n.split(":")[0] for n in names}
    aliases = {n.split(":function-")[1] for n in names if ":function-" in n}
    skip = NOT_OPS["functions"] | PENDING_PUBLIC | set(NOT_FUZZED)
    functions = [n for n in al.__all__ if n not in skip]
    missing = [n for n in functions if f"{n}:function" not in names and n not in aliases]
    assert not missing, f"public functions the fuzzer never calls: {missing}"
    methods = [m for m in dir(al.Tensor) if not m.startswith("_")
               and m not in NOT_OPS["methods"] | PENDING_PUBLIC | set(NOT_FUZZED)]
    missing = [m for m in methods if m not in prefixes]
    assert not missing, f"Tensor methods the fuzzer never calls: {missing}"


def test_recipes_reach_every_form_dtype_and_index_kind():
    seen, dtypes, kinds, ranks = set(), set(), set(), set()
    for seed in range(600):
        r = make_recipe(seed, FORMS)
        dtypes.add(np.dtype(r.dtype).name)
        ranks.update(x.ndim for x in r.inputs)
        for form, _, p in r.steps:
            seen.add(form.name)
            if form.op == "getitem":
                index = p["index"] if isinstance(p["index"], tuple) else (p["index"],)
                for i in index:
                    kinds.add("bool" if isinstance(i, np.ndarray) and i.dtype == bool else
                              "int-array" if isinstance(i, np.ndarray) else
                              "neg-step" if isinstance(i, slice) and (i.step or 1) < 0 else
                              type(i).__name__)
    assert {f.name for f in FORMS} <= seen, sorted({f.name for f in FORMS} - seen)
    assert dtypes == {"float16", "float32", "float64"} and ranks == {0, 1, 2, 3, 4}
    assert {"bool", "int-array", "neg-step", "slice", "int", "NoneType", "ellipsis"} <= kinds


def test_the_fuzzer_catches_a_wrong_vjp(monkeypatch):
    # a tanh VJP 0.1% off must be caught (the check is not vacuous)
    tanh = ops.OPS["tanh"]
    right = tanh.vjps[0]
    monkeypatch.setattr(tanh, "vjps", (lambda g, out, x: right(g, out, x) * 1.001,))
    caught = 0
    for seed in range(200):
        r = make_recipe(seed, FORMS)
        if any(f.op == "tanh" for f, _, _ in r.steps) and first_order(r):
            caught += 1
    assert caught >= 5


def test_low_precision_arbitration_does_not_excuse_a_wrong_float16_vjp(monkeypatch):
    # a float16 disagreement within the graph's conditioning, or where autograd_lite is no
    # farther than PyTorch from PyTorch's float64 result, is excused (judge_low_precision); a
    # VJP 5% off must still be caught: the conditioning is measured on autograd_lite's own
    # float64 runs (a wrong rule is wrong the same way, rounded or not), the reference is not
    tanh = ops.OPS["tanh"]
    right = tanh.vjps[0]
    monkeypatch.setattr(tanh, "vjps", (lambda g, out, x: right(g, out, x) * 1.05,))
    from . import fuzz_compare
    recipes = [r for r in (make_recipe(seed, FORMS, dtype=np.float16) for seed in range(300))
               if any(f.op == "tanh" for f, _, _ in r.steps)]
    caught = [bool(first_order(r)) for r in recipes]
    monkeypatch.setattr(fuzz_compare, "judge_low_precision",
                        lambda a, b, dtype, band, exact, scale=None, singular=False:
                        fuzz_compare.close(a, b, dtype, scale))
    assert caught == [bool(first_order(r)) for r in recipes]   # nothing excused
    assert len(recipes) >= 20 and sum(caught) >= 8
