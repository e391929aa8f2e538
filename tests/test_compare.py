"""compare_gradients reports, and the ``autograd-lite compare`` command end to end."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite.cli import main


def _ce_pair(y):
    return (lambda z: al.cross_entropy(z, y), lambda z: al.cross_entropy(z, y, fused=False))


def test_fused_vs_composed_report(rng):
    z = rng.normal(size=(8, 5))
    y = rng.integers(0, 5, 8)
    report = al.compare_gradients(*_ce_pair(y), z, repeat=3)
    assert (report.a.name, report.b.name) == ("fused", "composed")
    assert report.a.value == pytest.approx(report.b.value, abs=1e-12)
    assert report.value_diff < 1e-12
    (d,) = report.gradients
    assert (d.input, d.shape, d.dtype) == (0, (8, 5), "float64")
    assert d.max_abs < 1e-15 and d.max_rel < 1e-12 and d.max_ulps < 64
    assert report.a.nodes == 4          # graph_stats: values logits, target, loss + 1 op
    assert report.b.nodes > report.a.nodes
    # fused keeps softmax(z)/N (one logits-sized array), the targets and the loss; composed more
    assert report.a.graph_bytes == 8 * 5 * 8 + 8 * 8 + 8
    assert report.b.graph_bytes > 0
    assert report.a.forward_s > 0 and report.b.backward_s > 0
    text = str(report)
    for word in ("fused", "composed", "graph nodes", "graph bytes", "forward", "backward",
                 "max ULPs", "(8, 5) float64"):
        assert word in text
    html = report._repr_html_()
    assert html.count("<table>") == 2 and "composed" in html


def test_differences_are_measured_in_ulps(rng):
    x = rng.uniform(1.0, 2.0, size=(3,)).astype(np.float32)
    c = np.float32(3.0)
    c_next = np.nextafter(c, np.float32(np.inf))      # one ULP above
    report = al.compare_gradients(lambda t: (t * c).sum(), lambda t: (t * c_next).sum(), x,
                                  names=("c", "next"), repeat=1)
    (d,) = report.gradients
    assert d.max_ulps == 1.0
    assert d.max_abs == pytest.approx(float(c_next - c))
    assert d.max_rel == pytest.approx(float(c_next - c) / float(c_next))


def test_non_float_inputs_pass_through_and_errors(rng):
    z = rng.normal(size=(4, 3))
    y = np.array([0, 2, 1, 1])
    report = al.compare_gradients(lambda z, y: al.cross_entropy(z, y, reduction="none"),
                                  lambda z, y: al.cross_entropy(z, y, reduction="none",
                                                                fused=False), z, y, repeat=1)
    assert [d.input for d in report.gradients] == [0]
    assert "array(4,)" in str(report)
    with pytest.raises(ValueError, match="no floating-point input"):
        al.compare_gradients(lambda y: y, lambda y: y, y)
    with pytest.raises(ValueError, match="names must be two"):
        al.compare_gradients(*_ce_pair(y), z, names=("a",))


def test_cli_compare_prints_the_report(capsys):
    assert main(["compare", "--batch", "16", "--classes", "5", "--repeat", "2"]) == 0
    out = capsys.readouterr().out
    assert "compare_gradients: fused vs composed" in out
    assert "(16, 5) float32" in out
    assert "naive softmax" in out and "loss nan" not in out


def test_cli_compare_large_scale_shows_the_naive_overflow(capsys, tmp_path):
    argv = ["compare", "--batch", "8", "--classes", "4", "--scale", "1000", "--dtype", "float64",
            "--seed", "1", "--repeat", "1", "--graph-dir", str(tmp_path)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "naive softmax (no max subtraction): loss nan" in out
    report_lines = out.split("naive softmax")[0]
    assert "nan" not in report_lines                  # fused and composed stay finite
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written in (["composed.svg", "fused.svg"], ["composed.dot", "fused.dot"])
    assert "cross_entropy" in (tmp_path / written[1]).read_text()


def test_cli_compare_rejects_bad_sizes(capsys):
    assert main(["compare", "--batch", "0"]) == 2
    assert "argument --batch: expected an integer >= 1, got 0" in capsys.readouterr().err
