"""The fusion lab: compare_op over every pair, the stability sweep (its findings, CSV, plot) and
the CLI's ``compare --op`` / ``--sweep``."""

from __future__ import annotations

import numpy as np
import pytest

from autograd_lite.cli import main
from autograd_lite.compare import PAIRS, compare_op
from autograd_lite.sweep import stability_sweep, sweep_op

SMALL = dict(batch=6, classes=5, seq=12, dim=4)


@pytest.mark.parametrize("op", list(PAIRS))
def test_compare_op_reports_every_pair(op):
    r = compare_op(op, dtype=np.float64, repeat=2, **SMALL)
    assert r.report.a.name == "fused" and r.report.b.name == "composed"
    assert r.report.value_diff < 1e-12
    assert all(d.max_rel < 1e-8 for d in r.report.gradients)
    assert r.report.a.nodes < r.report.b.nodes and r.edges[0] < r.edges[1]
    assert r.peak[0] > 0 and r.peak[1] > 0
    text = str(r)
    assert op in text and "peak memory (fwd + bwd)" in text and "graph edges" in text
    assert "<table>" in r._repr_html_()


def test_compare_op_rejects_an_unknown_op():
    with pytest.raises(ValueError, match="compare_op: unknown op 'conv'"):
        compare_op("conv")


def test_fused_forms_survive_the_sweep_where_textbook_forms_break():
    scales = [1.0, 1e2, 1e4]
    bce = {(r.form, r.dtype, r.scale): r for r in
           sweep_op("bce_with_logits", scales, ["float32", "float64"], batch=4, classes=3).rows}
    for dtype in ("float32", "float64"):
        for s in scales:
            assert bce["fused", dtype, s].status == "ok" and bce["fused", dtype, s].ulps < 8
            assert bce["stable composed", dtype, s].status == "ok"
        assert bce["composed", dtype, 1e2].status == "overflow"
    ce = {(r.form, r.scale): r for r in sweep_op("cross_entropy", scales, ["float32"]).rows}
    assert ce["naive", 1e2].status == "overflow"
    assert all(ce["fused", s].status == "ok" and ce["fused", s].ulps < 8 for s in scales)


def test_sweep_of_a_users_own_pair_has_csv_and_text():
    t = stability_sweep({"exp": lambda x: x.exp(), "exp2": lambda x: (x * 2).exp() ** 0.5},
                        lambda s, rng: [s * np.array([0.5, 1.0])], [1.0, 1e3], ["float64"])
    assert [r.status for r in t.rows] == ["ok", "overflow", "ok", "overflow"]
    csv = t.to_csv()
    assert csv.splitlines()[0] == "form,dtype,scale,ulps,status" and len(csv.splitlines()) == 5
    assert "exp float64" in str(t) and "ovf" in str(t)


def test_sweep_plot(tmp_path):
    pytest.importorskip("matplotlib")
    import matplotlib
    matplotlib.use("Agg")
    t = sweep_op("log_softmax", [1.0, 1e3], ["float32"], batch=2, classes=3)
    path = t.save(str(tmp_path / "s.png"))
    assert path.endswith(".png") and (tmp_path / "s.png").stat().st_size > 1000


def test_cli_compare_op_and_sweep(tmp_path, capsys):
    assert main(["compare", "--op", "layer_norm", "--batch", "4", "--classes", "3",
                 "--repeat", "1"]) == 0
    assert "layer_norm: (4, 3) input" in capsys.readouterr().out
    out = tmp_path / "ln.csv"
    assert main(["compare", "--op", "attention", "--sweep", "--sweep-out", str(out)]) == 0
    assert "attention" in capsys.readouterr().out and out.read_text().startswith("form,")
    assert main(["compare", "--repeat", "1"]) == 0          # the default: unchanged
    assert capsys.readouterr().out.startswith("cross_entropy of (64, 10) float32 logits")


def test_html_report_draws_both_graphs_side_by_side():
    import shutil
    r = compare_op("log_softmax", repeat=1, **SMALL)
    html = r._repr_html_()
    assert html.count("<table>") == 3
    if shutil.which("dot"):
        assert "<svg" in html and "fused" in html


def test_fusion_benchmark_compares_like_with_like(monkeypatch):
    """Every implementation in benchmarks/fusion.py computes the same gradients (small sizes)."""
    from benchmarks import fusion
    monkeypatch.setattr(fusion, "ROWS", 6)
    monkeypatch.setattr(fusion, "COLS", 5)
    monkeypatch.setattr(fusion, "LN_SHAPE", (4, 7))
    monkeypatch.setattr(fusion, "ATTENTION_N", (9,))
    monkeypatch.setattr(fusion, "DTYPE", np.float64)
    for name, impls in fusion.workloads().items():
        fused, composed = impls["fused"](), impls["composed"]()
        for a, b in zip(fused, composed):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12, err_msg=name)
        try:
            import torch.nn.functional as F
        except ImportError:
            continue
        for a, b in zip(fused, impls["_torch"](F)()):
            np.testing.assert_allclose(a, b.numpy(), rtol=1e-9, atol=1e-12, err_msg=name)
