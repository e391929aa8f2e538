"""Drawings, graph statistics and ``explain`` (autograd_lite/viz.py), and the graph/explain CLI."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite import cli, examples, notation, viz
from autograd_lite.scalar import Scalar

HAS_DOT = shutil.which("dot") is not None
SHAPE = r"\((?:\d+(?:, \d+)*,?)?\)"


def _shape(text: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", text))


def _dot_nodes(source: str) -> list[str]:
    found = re.findall(r"^\t(\w+) \[", source, flags=re.M)
    return [n for n in found if n not in ("graph", "node", "edge")]


def _dot_edges(source: str) -> list[tuple[str, str]]:
    return re.findall(r"^\t(\w+) -> (\w+)", source, flags=re.M)


def _node_attrs(source: str, node: str) -> str:
    m = re.search(rf"^\t{node} \[(.*?)\]$", source, flags=re.M | re.S)
    assert m, f"no node {node} in\n{source}"
    return m.group(1)


def _gradient_lines(text: str) -> list[tuple[str, str, str, str]]:
    """(target, '=' or '+=', rule, shapes) for every gradient line of an explanation."""
    pat = re.compile(r"^\s+d(\S+)\s+(\+?=)\s+(.*?)\s{3,}(\(.*)$")
    return [m.groups() for m in map(pat.match, text.splitlines()) if m]


def _mlp(fused: bool = True) -> al.Tensor:
    return examples.mlp_example(batch=16, sizes=(12, 7, 5), fused=fused)


# ---------------------------------------------------------------------------------------------
# explain


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "composed"])
def test_explain_mlp_lists_every_parameter_with_shapes_that_multiply_out(fused):
    loss = _mlp(fused)
    text = str(notation.explain(loss))
    lines = _gradient_lines(text)
    loss.backward()
    params = {p.name: p for p in al.engine.toposort(loss) if p.is_leaf}
    assert set(params) == {"W1", "b1", "W2", "b2"}
    for name, p in params.items():
        (target, op, rule, shapes), = [line for line in lines if line[0] == name]
        assert op == "="
        result = _shape(re.match(SHAPE, shapes).group(0))
        assert result == p.grad.shape == p.shape, (name, shapes)
        if name.startswith("W"):
            # dW = Aᵀ @ dZ   (m, n) = (m, k) @ (k, n)
            layer = name[1]
            assert re.fullmatch(rf"A{int(layer) - 1}ᵀ @ d\w+", rule), rule
            m = re.fullmatch(rf"({SHAPE}) = ({SHAPE}) @ ({SHAPE})", shapes)
            assert m, shapes
            (r1, r2), (a1, k1), (k2, b2) = (_shape(m.group(i)) for i in (1, 2, 3))
            assert k1 == k2 and (r1, r2) == (a1, b2) == p.shape
        else:
            # db = Σ_batch dZ   (n,) = sum over axis 0 of (N, n)
            assert rule.startswith("Σ_batch d"), rule
            m = re.fullmatch(rf"({SHAPE}) = sum over axis 0 of ({SHAPE})", shapes)
            assert m, shapes
            assert _shape(m.group(2)) == (16,) + p.shape
    if fused:   # one line for the whole fused op, its rule straight from the op table
        (line,) = [x for x in lines if x[0] == "Z2"]
        assert re.search(r"^loss = cross_entropy\(Z2", text, flags=re.M)
        assert _shape(re.match(SHAPE, line[3]).group(0)) == (16, 5)


def test_explain_shapes_equal_real_gradient_shapes_everywhere():
    x = al.Tensor(np.linspace(-1, 1, 12).reshape(4, 3), requires_grad=True, name="x")
    w = al.Tensor(np.ones((3, 2)), requires_grad=True, name="w")
    c = al.Tensor(np.full((1, 2), 0.5), requires_grad=True, name="c")
    h = (x @ w).tanh() * c + c          # c reached by two paths, broadcast over axis 0 twice
    loss = (h / (1 + x.sum())).sum()
    loss.backward(retain_grads=True)
    exp = notation.explain(loss)
    names = viz._names(viz._forward([loss]))
    nodes = {names[id(n)]: n for n in al.engine.toposort(loss, all_nodes=True)}
    for step in exp.steps:
        assert step.shape == nodes[step.target].grad.shape, step
    text = str(exp)
    assert re.search(r"dc\s+\+=", text)                  # the second path into c is added
    # the broadcast (1, 2) parameter shows the sum that undoes broadcasting
    assert re.search(r"dc\s+=\s+Σ_axis0 .*\(1, 2\) = sum over axis 0 of", text), text
    assert "⊙" in text and "@" in text


def test_explain_of_scalar_graph_uses_scalar_rules():
    a, b = Scalar(2.0, name="a"), Scalar(-3.0, name="b")
    d = (a * b + a).tanh()
    text = str(notation.explain(d))
    assert re.search(r"da\s+=\s+dt\d+$", text, flags=re.M)
    assert re.search(r"da\s+\+=\s+dt\d+ · b", text)
    assert "(1 − tanh²t" in text


def test_explain_is_printable_and_html():
    exp = notation.explain(examples.build("ce-composed"))
    assert str(exp) == repr(exp)
    assert exp._repr_html_().startswith("<pre>") and "dZ" in exp._repr_html_()


def test_explain_errors():
    with pytest.raises(ValueError, match="does not require grad"):
        notation.explain(al.Tensor([1.0]).sum())
    with pytest.raises(TypeError, match="Tensor or Scalar"):
        notation.explain(np.ones(3))


# ---------------------------------------------------------------------------------------------
# graph_stats and the DOT source


def test_dot_structure_matches_graph_stats():
    loss = _mlp()
    stats = viz.graph_stats(loss)
    src = viz.draw_graph(loss).source
    assert len(_dot_nodes(src)) == stats.nodes == stats.values + sum(stats.ops.values())
    assert len(_dot_edges(src)) == stats.edges
    assert stats.ops["matmul"] == 2 and stats.ops["add"] == 2 and stats.ops["relu"] == 1
    for op in stats.ops:
        assert f"label={op}" in src or f'label="{op}' in src
    assert "(16, 12) float64" in src and "(12, 7) float64" in src and "W1" in src


def test_graph_stats_counts_each_buffer_once():
    x = al.Tensor(np.ones((10, 10)), requires_grad=True)
    y = x.reshape(100)                       # a view of x's buffer
    z = (y * y).sum()
    s = viz.graph_stats(z)
    assert s.values == 4 and s.ops == {"reshape": 1, "mul": 1, "sum": 1}
    assert s.bytes == 800 + 800 + 8          # x (shared with y), y*y, the sum
    assert s.edges == 1 + 1 + 2 + 1 + 1 + 1
    assert "7 nodes" in str(s)


def test_values_and_grads_appear_when_asked():
    x = al.Tensor([1.5, -2.0], requires_grad=True, name="x")
    big = al.Tensor(np.arange(20.0), name="big")
    loss = ((x * x).sum() + (big * x[0]).sum()) * 2
    plain = viz.draw_graph(loss).source
    assert "1.5" not in plain and "grad" not in plain
    src = viz.draw_graph(loss, show_values=True).source
    assert "[ 1.5, -2. ]" in src and "mean 9.5" in src      # small arrays in full, big summarised
    assert "grad" not in viz.draw_graph(loss, show_grads=True).source   # no backward yet
    loss.backward()
    src = viz.draw_graph(loss, show_grads=True).source
    assert "grad [386.,  -8.]" in src                          # 2·(2x + [Σbig, 0])


def test_node_kinds_are_visibly_distinct():
    src = viz.draw_graph(examples.build("ce-composed")).source
    z = _node_attrs(src, "v0")
    assert "#cfe2ff" in z                                       # parameter: blue
    const = [n for n in _dot_nodes(src) if "dashed" in _node_attrs(src, n)]
    assert any("0.25" in _node_attrs(src, n) for n in const)   # 1/N, value shown (and the
    # log-softmax's max shift, a constant too)
    root = [n for n in _dot_nodes(src) if "penwidth=2" in _node_attrs(src, n)]
    assert len(root) == 1 and "loss" in _node_attrs(src, root[0])


def test_fused_cross_entropy_is_drawn_distinct():
    src = viz.draw_graph(examples.build("ce-fused")).source
    fused = [n for n in _dot_nodes(src) if "cross_entropy" in _node_attrs(src, n)]
    assert len(fused) == 1 and "doubleoctagon" in _node_attrs(src, fused[0])
    assert "doubleoctagon" not in viz.draw_graph(examples.build("ce-composed")).source


def test_output_is_deterministic():
    a = viz.draw_graph(examples.build("mlp-small"), show_values=True).source
    b = viz.draw_graph(examples.build("mlp-small"), show_values=True).source   # a new graph
    assert a == b
    loss = examples.build("ce-composed")
    assert viz.draw_graph(loss).source == viz.draw_graph(loss).source
    assert str(notation.explain(loss)) == str(notation.explain(examples.build("ce-composed")))


def test_scalar_and_tensor_roots():
    a, b = Scalar(2.0, name="a"), Scalar(-3.0, name="b")
    d = (a * b + a).tanh()
    d.backward()
    s = viz.graph_stats(d)
    assert (s.values, s.ops, s.edges) == (5, {"mul": 1, "add": 1, "tanh": 1}, 8)
    src = viz.draw_graph(d, show_values=True, show_grads=True, rankdir="LR").source
    assert len(_dot_nodes(src)) == s.nodes and len(_dot_edges(src)) == s.edges
    assert 'label="a|data 2|grad' in src and "float64" not in src
    t = viz.draw_graph(al.Tensor([1.0], requires_grad=True).exp()).source
    assert "(1,) float64" in t and "exp" in t


def test_multiple_roots_share_their_subgraph():
    x = al.Tensor(np.ones(3), requires_grad=True, name="x")
    h = x.exp()
    r1, r2 = h.sum(), (h * 2).sum()
    s = viz.graph_stats([r1, r2])
    assert s.values == 6 and s.ops == {"exp": 1, "sum": 2, "mul": 1}
    src = viz.draw_graph([r1, r2]).source
    assert len(_dot_nodes(src)) == s.nodes and len(_dot_edges(src)) == s.edges
    assert sum("penwidth=2" in _node_attrs(src, n) for n in _dot_nodes(src)) == 2


def test_highlight_edge_labels_and_layout_options():
    loss = _mlp()
    src = viz.draw_graph(loss, highlight=["W1", "relu"], edge_labels=True, rankdir="TB",
                         title="two layers").source
    red = [n for n in _dot_nodes(src) if "#d62728" in _node_attrs(src, n)]
    assert len(red) == 2
    assert 'label="x (16, 12)"' in src and 'label="y (12, 7)"' in src
    assert "rankdir=TB" in src and 'label="two layers"' in src
    assert 'label="{W1|(12, 7) float64}"' in src          # TB records stack with braces
    with pytest.raises(ValueError, match="rankdir"):
        viz.draw_graph(loss, rankdir="up")
    with pytest.raises(TypeError, match="Tensor or Scalar"):
        viz.draw_graph("loss")


def test_large_graph_is_collapsed_above_max_nodes():
    x = al.Tensor(0.5, requires_grad=True, name="x")
    y = x
    for _ in range(5000):
        y = y.tanh()                                       # 10,001 drawn nodes
    assert viz.graph_stats(y).nodes == 10_001
    src = viz.draw_graph(y, max_nodes=300).source
    nodes = _dot_nodes(src)
    assert 299 <= len(nodes) <= 301 and "more" in nodes
    assert "9,701 more nodes not drawn" in src and "tanh×" in src
    assert [a for a, b in _dot_edges(src) if a == "more"] == ["more"]   # one dashed link
    assert len(_dot_nodes(viz.draw_graph(y, max_nodes=None).source)) == 10_001
    with pytest.raises(ValueError, match="max_nodes"):
        viz.draw_graph(y, max_nodes=0)


def test_side_by_side_puts_each_graph_in_a_captioned_box():
    dot = viz.draw_side_by_side({"composed": examples.build("ce-composed"),
                                 "fused": examples.build("ce-fused")}, rankdir="TB")
    src = dot.source
    assert "subgraph cluster_0" in src and "subgraph cluster_1" in src
    assert "label=composed" in src and "label=fused" in src
    n = viz.graph_stats(examples.build("ce-composed")).nodes + \
        viz.graph_stats(examples.build("ce-fused")).nodes
    assert len(set(re.findall(r"^\t+(g\d_\w+) \[", src, flags=re.M))) == n


# ---------------------------------------------------------------------------------------------
# Rendering


def test_missing_dot_gives_one_clear_error(tmp_path, monkeypatch):
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    dot = viz.draw_graph(examples.build("ce-composed"))        # drawing needs no `dot`
    with pytest.raises(viz.GraphvizNotFoundError) as e:
        viz.save_graph(dot, tmp_path / "g.svg")
    msg = str(e.value)
    assert "apt-get install graphviz" in msg and "brew install graphviz" in msg
    assert "conda install" in msg
    assert viz.save_graph(dot, tmp_path / "g.dot") and (tmp_path / "g.dot").read_text() == \
        dot.source                                             # DOT source still saves
    assert cli.main(["graph", "ce-composed", "-o", str(tmp_path / "c.png")]) == 1


@pytest.mark.skipif(not HAS_DOT, reason="Graphviz `dot` is not installed (.ci/run installs it)")
def test_real_svg_rendering(tmp_path):
    loss = _mlp()
    stats = viz.graph_stats(loss)
    path = viz.save_graph(viz.draw_graph(loss, show_values=True), tmp_path / "mlp.svg")
    root = ET.parse(path).getroot()
    groups = [g.get("class") for g in root.iter("{http://www.w3.org/2000/svg}g")]
    assert groups.count("node") == stats.nodes
    assert groups.count("edge") == stats.edges
    titles = {t.text for t in root.iter("{http://www.w3.org/2000/svg}title")}
    assert {"v0", "op2"} <= titles
    with pytest.raises(ValueError, match="unknown format"):
        viz.save_graph(viz.draw_graph(loss), tmp_path / "mlp.bmp")


# ---------------------------------------------------------------------------------------------
# CLI


def test_cli_graph_writes_dot_and_side_by_side(tmp_path, capsys):
    out = tmp_path / "mlp.dot"
    assert cli.main(["graph", "mlp-small", "--values", "--grads", "-o", str(out)]) == 0
    src = out.read_text()
    assert src.startswith("digraph") and "grad" in src and "W1" in src
    both = tmp_path / "ce.dot"
    assert cli.main(["graph", "ce-composed", "ce-fused", "--rankdir", "TB", "--format", "dot",
                     "-o", str(both)]) == 0
    assert "cluster_1" in both.read_text()
    assert f"wrote {both}" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        cli.main(["graph", "no-such-example"])


@pytest.mark.skipif(not HAS_DOT, reason="Graphviz `dot` is not installed (.ci/run installs it)")
def test_cli_graph_renders_svg(tmp_path):
    out = tmp_path / "fused.svg"
    assert cli.main(["graph", "ce-fused", "-o", str(out)]) == 0
    assert ET.parse(out).getroot().tag.endswith("svg")


def test_cli_explain_prints_the_equations(capsys):
    assert cli.main(["explain", "mlp-small"]) == 0
    text = capsys.readouterr().out
    assert re.search(r"dW1\s+=\s+A0ᵀ @ d\w+\s+\(4, 5\) = \(4, 8\) @ \(8, 5\)", text), text
    assert re.search(r"db1\s+=\s+Σ_batch d\w+\s+\(5,\) = sum over axis 0 of \(8, 5\)", text)


# ---------------------------------------------------------------------------------------------
# README and docs stay in sync with the code

ROOT = __import__("pathlib").Path(__file__).parent.parent


def _readme_section() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return readme.split("## Seeing the graph", 1)[1].split("\n## ", 1)[0]


def test_readme_example_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code = _readme_section().split("```python\n", 1)[1].split("```", 1)[0]
    if not HAS_DOT:
        pytest.raises(viz.GraphvizNotFoundError, exec, code, {})
        return
    exec(compile(code, "README.md", "exec"), {})
    assert (tmp_path / "mlp.svg").exists()
    shown = re.search(r"print\(al.graph_stats\(loss\)\)\s+# (.*)", code).group(1)
    printed = capsys.readouterr().out
    assert printed.startswith(shown.split("...")[0])


def test_readme_explain_output_is_current():
    shown = _readme_section().split("```text\n", 1)[1].split("```", 1)[0]
    assert shown.rstrip("\n") == str(notation.explain(examples.build("mlp"))), \
        "regenerate the README block with `autograd-lite explain mlp`"


@pytest.mark.skipif(not HAS_DOT, reason="Graphviz `dot` is not installed (.ci/run installs it)")
def test_docs_picture_is_current(tmp_path):
    def texts(path):
        svg = "{http://www.w3.org/2000/svg}"
        return sorted(t.text or "" for t in ET.parse(path).getroot().iter(svg + "text"))

    fresh = tmp_path / "ce.svg"
    assert cli.main(["graph", "ce-composed", "ce-fused", "--rankdir", "TB", "-o", str(fresh)]) == 0
    assert texts(ROOT / "docs" / "cross_entropy_graphs.svg") == texts(fresh), \
        "regenerate with the command in the README's 'Seeing the graph' section"
