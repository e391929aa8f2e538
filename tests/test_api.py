"""The structure holds: every op reachable or marked internal, public names documented with an
example and covered by the bad-input table, Scalar and Tensor rules in agreement, the README's op
table current, layers without an import circle, modules small."""

from __future__ import annotations

import ast
import inspect
import math
import pathlib
import re

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite import ops
from autograd_lite.scalar import SCALAR_OPS, Scalar

from .bad_inputs_table import TABLE

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "autograd_lite"


def _public_callables():
    for name in al.__all__:
        obj = getattr(al, name)
        if inspect.ismodule(obj) or (inspect.isclass(obj) and issubclass(obj, BaseException)):
            continue
        if callable(obj):
            yield name, obj


def test_every_op_is_public_or_marked_internal():
    for op in ops.OPS.values():
        assert bool(op.public) != bool(op.internal), (
            f"{op.name}: give it a public name or say why it is internal (internal='...')")
        if op.public:
            assert getattr(al, op.public).__doc__ == op.docstring()
        if op.method:
            assert getattr(al.Tensor, op.method).__doc__ == op.docstring()


def test_public_functions_and_methods_are_one_function():
    for op in ops.OPS.values():
        if op.public and op.method:
            assert getattr(al, op.public) is getattr(al.Tensor, op.method)


def test_every_public_name_has_a_docstring_example():
    missing = [name for name, obj in _public_callables() if ">>>" not in (obj.__doc__ or "")]
    assert not missing, f"public names without a docstring example: {missing}"


def test_every_public_op_has_a_bad_input_row():
    labels = {case.label.split(":")[0].strip() for case in TABLE}
    missing = [op.public for op in ops.OPS.values() if op.public and op.public not in labels]
    assert not missing, f"public ops without a row in tests/bad_inputs_table.py: {missing}"


@pytest.mark.parametrize("name", sorted(SCALAR_OPS))
def test_scalar_rules_agree_with_the_tensor_op_of_the_same_name(name, rng):
    sop, top = SCALAR_OPS[name], ops.OPS[name]
    assert len(sop.vjps) == top.arity
    assert sop.rules == tuple(r.replace("⊙", "·") for r in top.rules)
    for _ in range(5):
        xs = [float(v) for v in rng.uniform(0.2, 2.0, size=top.arity)]
        g = float(rng.normal())
        out = sop.forward(*xs)
        tout = top.forward(*[np.float64(v) for v in xs])
        assert math.isclose(out, float(tout), rel_tol=1e-12)
        for i in range(top.arity):
            expected = top.vjp(i, np.float64(g), tout, [np.float64(v) for v in xs], {})
            assert math.isclose(sop.vjps[i](g, out, *xs), float(expected), rel_tol=1e-12)
    assert isinstance(Scalar(1.0), al.engine.Node)


def test_readme_op_table_is_generated_from_the_op_table():
    readme = (ROOT / "README.md").read_text()
    m = re.search(r"<!-- op-table.*?-->\n(.*?)\n<!-- /op-table -->", readme, re.S)
    assert m, "README: the op-table markers are missing"
    assert m.group(1) == ops.table(), "README's op table is stale: run python -m autograd_lite.ops"


# Each module may import only from its own layer or the layers below (the README's table).
LAYERS = [
    {"engine", "threads"},   # (threads: the row-block worker pool; stdlib only)
    {"ops"},
    {"inplace", "methods"},
    {"tensor", "scalar"},
    {"api", "creation", "functional", "fused", "interop_numpy", "composites", "linalg"},
    {"nn", "optim", "data", "transforms", "vectorize", "gradcheck", "checkpoint", "datasets",
     "losses",
     "containers", "layers", "init", "optimizers", "schedulers", "conv_layers", "module",
     "optimizer",
     "interop",    # (interop: the weights' and optimizer state's exchange format, as checkpoints)
     "preflight",  # (checks before work: options, memory, output paths; stdlib only)
     "blas",       # (BLAS thread limits for small problems; stdlib + optional threadpoolctl)
     "normalization"},
    {"loop", "train", "examples"},
    {"viz", "viz_labels", "notation", "notation_index", "compare", "onnx", "sweep"},
    {"cli", "__main__", "__init__"},
]


def _layer(module: str) -> int:
    for i, layer in enumerate(LAYERS):
        if module in layer:
            return i
    raise AssertionError(f"autograd_lite.{module} is in no layer of tests/test_api.py::LAYERS")


def _imports(path: pathlib.Path) -> set[str]:
    """The autograd_lite modules (first component) that ``path`` imports, at any depth."""
    rel = path.relative_to(PACKAGE).with_suffix("")
    inside = rel.parts[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level == 0:
                mod = node.module or ""
                if mod.startswith("autograd_lite."):
                    found.add(mod.split(".")[1])
                elif mod == "autograd_lite":
                    found.update(a.name for a in node.names)
                continue
            base = list(rel.parts[:-node.level]) if len(rel.parts) > 1 else []
            parts = base + (node.module.split(".") if node.module else [])
            if parts:
                found.add(parts[0])
            else:
                found.update(a.name for a in node.names)
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("autograd_lite."):
                    found.add(a.name.split(".")[1])
    found.discard(inside)
    return found


def test_layers_import_only_from_below():
    for path in PACKAGE.rglob("*.py"):
        module = path.relative_to(PACKAGE).parts[0].removesuffix(".py")
        if module == "__init__" or module == "__main__":
            continue
        for dep in _imports(path):
            if dep == "__main__":
                continue
            assert _layer(dep) <= _layer(module), (
                f"{path.relative_to(ROOT)} imports autograd_lite.{dep}, a higher layer")


def test_engine_does_not_import_numpy():
    tree = ast.parse((PACKAGE / "engine.py").read_text())
    names = {a.name for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))
             for a in n.names} | {n.module for n in ast.walk(tree)
                                  if isinstance(n, ast.ImportFrom) and n.module}
    assert not any(str(n).startswith("numpy") for n in names)


def test_no_module_over_about_500_lines():
    big = {str(p.relative_to(ROOT)): n for p in PACKAGE.rglob("*.py")
           if (n := len(p.read_text().splitlines())) > 520}
    assert not big, f"modules over ~500 lines (split them along a seam): {big}"


def _top_level_imports() -> dict[str, set[str]]:
    """Module → the package modules it imports at import time (top-level statements only;
    imports inside functions run later and cannot form an import cycle)."""
    def name(p: pathlib.Path) -> str:
        parts = list(p.relative_to(ROOT).with_suffix("").parts)
        return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
    modules = {name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for mod, path in modules.items():
        base = mod.split(".") if path.name == "__init__.py" else mod.split(".")[:-1]
        deps = set()
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.ImportFrom):
                target = (".".join(base[:len(base) - node.level + 1] +
                                   ([node.module] if node.module else []))
                          if node.level else node.module or "")
                deps |= {t for t in [target] + [f"{target}.{a.name}" for a in node.names]
                         if t in modules}
        graph[mod] = {d for d in deps if d != mod and not d.startswith(mod + ".")
                      and not mod.startswith(d + ".")}
    return graph


def test_no_import_cycle():
    graph = _top_level_imports()
    state: dict[str, int] = {}

    def visit(m: str, path: list[str]) -> None:
        state[m] = 1
        for d in sorted(graph[m]):
            assert state.get(d) != 1, f"import cycle: {' -> '.join(path + [d])}"
            if d not in state:
                visit(d, path + [d])
        state[m] = 2
    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
