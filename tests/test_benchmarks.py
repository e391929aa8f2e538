"""Smoke tests of the benchmark runner: its machinery, and that every workload compares like with
like (each implementation computes what its floor computes), at tiny sizes.

Nothing here is timed: timings are only ever reported by ``python -m benchmarks``, never asserted.
"""

from __future__ import annotations

import gc
import importlib
import json

import numpy as np
import pytest

from benchmarks import common, op_overhead
from benchmarks.__main__ import WORKLOADS, main


def _quick_config(**kw) -> common.Config:
    return common.Config(rounds=3, pause=0.0, block_s=0.0005, max_calls=3, quick=True, **kw)


def _toy_case(log: list, gc_seen: list) -> common.Case:
    def impl(name):
        def f():
            log.append(name)
            gc_seen.append(gc.isenabled())
            return sum(range(50))
        return f
    return common.Case("toy", "v", {n: impl(n) for n in ("ours", "theirs", "floor", "kern")},
                       "ours", unit="µs", per=10, per_label="/op", reference="theirs",
                       floor="floor", kernel="kern", goals={"reference": 1e9, "floor": 0.0})


@pytest.mark.parametrize("gc_on", [True, False])
def test_runner_times_in_blocks_with_rotating_order_and_the_requested_gc(gc_on):
    log, gc_seen = [], []
    case = _toy_case(log, gc_seen)
    was = gc.isenabled()
    rows = common.measure(case, _quick_config(gc=gc_on))
    assert gc.isenabled() == was
    assert [r.role for r in rows] == ["main", "reference", "floor", "kernel"]
    # blocks: after the calibration calls, each implementation runs several calls in a row,
    # and the first implementation of a round changes from round to round
    timed = log[8:]
    firsts = [timed[0]]
    for a, b in zip(timed, timed[1:]):
        if a != b and len(firsts) < 12:
            firsts.append(b)
    assert firsts[:4] == ["ours", "theirs", "floor", "kern"]
    assert firsts[4] == "theirs"               # round 2 starts one further on
    assert (gc_on and all(gc_seen[8:])) or (not gc_on and not all(gc_seen[8:]))
    by = {r.impl: r for r in rows}
    assert by["theirs"].vs_reference.median == 1.0 and by["floor"].vs_floor.median == 1.0
    assert by["ours"].unit == "µs/op" and by["ours"].value.q1 <= by["ours"].value.median
    goals = common.goals(case, rows)
    assert [g.met for g in goals] == [True, False]


def test_paired_ratios_are_medians_of_per_round_ratios_with_quartiles():
    times = {"a": [1.0, 2.0, 3.0, 4.0, 5.0], "ref": [1.0, 1.0, 1.0, 2.0, 10.0]}
    r = common.paired(times, "ref")["a"]
    assert r.median == 2.0          # ratios 1, 2, 3, 2, 0.5
    assert (r.q1, r.q3) == (1.0, 2.0)
    assert common.paired(times, None) == {"a": None, "ref": None}


def test_cli_writes_table_json_markdown_and_figure_and_rerenders_from_json(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out = tmp_path / "run.json"
    md, png = tmp_path / "table.md", tmp_path / "ratios.png"
    assert main(["op_overhead", "--quick", "--rounds", "2", "--threads", "1",
                 "--json", str(out), "--markdown", str(md), "--plot", str(png)]) == 0
    text = capsys.readouterr().out
    assert "BLAS/threads:" in text and "gc on" in text and "op_overhead" in text
    saved = json.loads(out.read_text())
    assert {r["role"] for r in saved["rows"]} >= {"main", "floor", "kernel"}
    table = md.read_text()
    assert "| op_overhead N=10 | **autograd_lite** |" in table        # every row
    assert "| workload | autograd_lite | × reference | × floor |" in table   # one per case
    assert "≤ 2.5× floor" in table                                    # the goals
    assert png.stat().st_size > 1000
    md.unlink()
    assert main(["--from-json", str(out), "--markdown", str(md)]) == 0
    assert "**autograd_lite**" in md.read_text()


def test_unknown_workload_is_a_clear_error(capsys):
    with pytest.raises(SystemExit):
        main(["no_such_workload"])
    assert "unknown workload" in capsys.readouterr().err


def _comparable(workload: str, out: object) -> list[np.ndarray]:
    """An implementation's result as a list of float arrays (loss first where there is one)."""
    if workload in ("softmax_ce", "mlp_step"):
        loss, grads = out
        grads = grads if isinstance(grads, (list, tuple)) else [grads]
        return [np.asarray(loss, dtype=float)] + [np.asarray(g, dtype=float) for g in grads]
    if workload == "fusion":   # one gradient per input
        return [np.asarray(g, dtype=float) for g in out]
    return [np.asarray(out, dtype=float)]


_TOL = {"softmax_ce": 1e-4, "mlp_step": 1e-3, "train_epoch": 1e-3, "fusion": 1e-4}


@pytest.mark.parametrize("workload", WORKLOADS)
def test_every_implementation_agrees_with_the_floor(workload):
    mod = importlib.import_module(f"benchmarks.{workload}")
    cases = list(mod.cases(quick=True))
    assert cases
    for case in cases:
        assert case.main in case.impls and case.floor in case.impls
        assert case.reference is None or case.reference in case.impls
        floor = _comparable(workload, case.impls[case.floor]())
        for name, fn in case.impls.items():
            if name in (case.floor, case.kernel):
                continue
            got = _comparable(workload, fn())
            assert len(got) == len(floor), name
            for g, f in zip(got, floor):
                np.testing.assert_allclose(g, f, rtol=_TOL.get(workload, 1e-7),
                                           atol=1e-6 * max(1.0, np.abs(f).max()),
                                           err_msg=f"{case.workload} {case.variant}: {name}")


def test_op_overhead_floor_matches_finite_differences():
    ops = op_overhead.make_chain(23)
    x0 = np.random.default_rng(1).standard_normal(op_overhead.SHAPE)
    f = lambda x: op_overhead.chain(x, np.tanh, ops).sum()
    eps = 1e-6
    numeric = [(f(x0 + eps * e) - f(x0 - eps * e)) / (2 * eps) for e in np.eye(x0.size)]
    np.testing.assert_allclose(op_overhead.floor_grad(x0, ops), numeric, rtol=1e-5)


def test_hessian_floor_matches_finite_differences_of_the_loss():
    from benchmarks import hessian

    theta, X, y = hessian.problem(2)
    f = lambda t: hessian.loss(t, X, y, 2, np.tanh)
    eps = 1e-4
    basis = np.eye(theta.size)
    numeric = np.array([[(f(theta + eps * (a + b)) - f(theta + eps * (a - b))
                          - f(theta - eps * (a - b)) + f(theta - eps * (a + b))) / (4 * eps ** 2)
                         for b in basis] for a in basis])
    np.testing.assert_allclose(hessian.floor_hessian(theta, X, y, 2), numeric, atol=1e-6)


def test_chain_memory_probe_reports_a_positive_peak():
    from benchmarks import chain_1e6

    peak = chain_1e6.peak_mib("autograd_lite", 3000)    # in a fresh interpreter
    if peak is None:
        pytest.skip("no /proc/self/clear_refs here")
    assert 0 < peak < 100
