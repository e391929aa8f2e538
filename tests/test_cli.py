"""The command line validates first, then works; it never shows a traceback, never silently does
nothing, never loses or overwrites a file: bad options, output paths, graph formats, existing run
directories, Ctrl-C during training and resuming a run bit for bit."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from autograd_lite import checkpoint, train
from autograd_lite.cli import main

ROOT = Path(__file__).resolve().parent.parent
HUGE = "1000000,1000000"          # 10¹² weights: more memory than any machine has


def _cli(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    return subprocess.run([sys.executable, "-m", "autograd_lite", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


def _one_line_error(err: str, option: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "error: " in lines[0] and option in lines[0], err
    assert "Traceback" not in err


# -- bad options: one line naming the option, exit 2, nothing done -----------------------------

BAD_OPTIONS = [
    (["train", "--epochs", "0"], "--epochs", "expected an integer >= 1, got 0"),
    (["train", "--epochs", "-1"], "--epochs", "got -1"),
    (["train", "--batch-size", "0"], "--batch-size", "expected an integer >= 1"),
    (["train", "--lr", "-1"], "--lr", "expected a finite number > 0, got -1"),
    (["train", "--lr", "nan"], "--lr", "got nan"),
    (["train", "--lr", "inf"], "--lr", "got inf"),
    (["train", "--lr", "0"], "--lr", "got 0"),
    (["train", "--seed", "-1"], "--seed", "expected an integer >= 0"),
    (["train", "--hidden", "64,,64"], "--hidden", "got '64,,64'"),
    (["train", "--hidden", "64,0"], "--hidden", "positive integers"),
    (["train", "--hidden", ""], "--hidden", "positive integers"),
    (["train", "--max-steps", "0"], "--max-steps", "expected an integer >= 1"),
    (["train", "--hidden", HUGE], "--hidden", "needs about 28.0 TB of memory, but about"),
    (["train", "--epochs", "x"], "--epochs", "invalid int value: 'x'"),
    (["compare", "--scale", "nan"], "--scale", "expected a finite number, got nan"),
    (["compare", "--scale=-inf"], "--scale", "got -inf"),
    (["compare", "--batch", "0"], "--batch", "expected an integer >= 1, got 0"),
    (["compare", "--classes", "-3"], "--classes", "got -3"),
    (["compare", "--repeat", "0"], "--repeat", "got 0"),
    (["compare", "--seed", "-1"], "--seed", "expected an integer >= 0"),
    (["compare", "--batch", "1000000", "--classes", "1000000"], "--batch",
     "needs about 80.0 TB of memory"),
    (["graph", "mlp", "-o", "x.jpg"], "-o/--output", "unknown format 'jpg'"),
    (["graph", "mlp", "--format", "png", "-o", "out.svg"], "--format",
     "format 'png' contradicts the suffix of 'out.svg'"),
    (["graph", "nope"], "EXAMPLE", "invalid choice: 'nope'"),
]


@pytest.mark.parametrize("argv, option, message", BAD_OPTIONS,
                         ids=[" ".join(a) for a, _, _ in BAD_OPTIONS])
def test_bad_options_give_one_line_naming_the_option_and_exit_2(argv, option, message, tmp_path,
                                                                 monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    try:
        code = main(argv)
    except SystemExit as e:            # argparse's own parse errors
        code = e.code
    captured = capsys.readouterr()
    assert code == 2
    _one_line_error(captured.err, option)
    assert message in captured.err
    assert captured.out == ""                     # nothing was computed or trained
    assert list(tmp_path.iterdir()) == []         # and nothing written (no runs/, no graph)


def test_no_traceback_from_the_installed_entry_point(tmp_path):
    r = _cli("train", "--lr", "nan", cwd=tmp_path)
    assert r.returncode == 2 and r.stdout == ""
    _one_line_error(r.stderr, "--lr")
    r = _cli("compare", "--batch", "1000000", "--classes", "100000", cwd=tmp_path)
    assert r.returncode == 2 and r.stdout == ""
    _one_line_error(r.stderr, "--batch")
    assert "needs about 8.0 TB of memory" in r.stderr


# -- output paths ------------------------------------------------------------------------------


@pytest.fixture
def paths(tmp_path):
    f = tmp_path / "a_file"
    f.write_text("precious\n")
    ro = tmp_path / "ro.svg"
    ro.write_text("old\n")
    ro.chmod(0o444)
    return {"file": f, "dir": tmp_path, "missing": tmp_path / "no" / "such" / "dir",
            "read-only file": ro}


OUTPUTS = [
    (["train", "--out", "{file}"], "--out", "is a file, expected a directory"),
    (["train", "--out", "/dev/full"], "--out", "is not a directory, expected a directory"),
    (["train", "--out", "/sys/autograd-lite-test"], "--out", "cannot create the directory"),
    (["train", "--out", "/proc"], "--out", "cannot write into '/proc'"),
    (["compare", "--graph-dir", "{file}"], "--graph-dir", "is a file, expected a directory"),
    (["compare", "--graph-dir", "/sys/autograd-lite-test"], "--graph-dir", "cannot create"),
    (["compare", "--graph-dir", "/dev/full"], "--graph-dir", "is not a directory"),
    (["graph", "mlp", "-o", "{dir}"], "-o/--output", "is a directory, expected a file name"),
    (["graph", "mlp", "-o", "{missing}/g.svg"], "-o/--output", "does not exist"),
    (["graph", "mlp", "-o", "/dev/full"], "-o/--output", "is not a regular file"),
    (["graph", "mlp", "-o", "/proc/g.dot"], "-o/--output", "cannot write into '/proc'"),
    (["graph", "mlp", "-o", "{read-only file}"], "-o/--output", "is read-only"),
]


@pytest.mark.parametrize("argv, option, message", OUTPUTS,
                         ids=[" ".join(a) for a, _, _ in OUTPUTS])
def test_unusable_output_paths_are_refused_before_any_work(argv, option, message, paths,
                                                            capsys):
    argv = [a.format(**paths) for a in argv]
    assert main(argv) == 2
    captured = capsys.readouterr()
    _one_line_error(captured.err, option)
    assert message in captured.err and captured.out == ""
    assert paths["file"].read_text() == "precious\n"
    assert paths["read-only file"].read_text() == "old\n"


def test_a_read_only_directory_is_refused(tmp_path, capsys):
    if os.geteuid() == 0:
        pytest.skip("root may write into read-only directories (the /proc cases cover this)")
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        assert main(["graph", "mlp", "-o", str(ro / "g.dot")]) == 2
        assert main(["train", "--out", str(ro / "run")]) == 2
    finally:
        ro.chmod(0o755)
    assert "Permission denied" in capsys.readouterr().err


def test_a_disk_that_fills_up_while_writing_gives_one_line_and_leaves_no_file(tmp_path,
                                                                               monkeypatch,
                                                                               capsys):
    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    out = tmp_path / "g.dot"
    assert main(["graph", "mlp", "-o", str(out)]) == 1
    err = capsys.readouterr().err
    _one_line_error(err, str(out))
    assert "No space left on device" in err and ".tmp" not in err
    assert list(tmp_path.iterdir()) == []


def test_graph_formats_from_suffix_and_option(tmp_path):
    assert main(["graph", "mlp-small", "--format", "dot", "-o", str(tmp_path / "g.gv")]) == 0
    assert (tmp_path / "g.gv").read_text().startswith("digraph")
    assert main(["graph", "mlp-small", "--format", "dot", "-o", str(tmp_path / "plain")]) == 0
    assert (tmp_path / "plain").read_text().startswith("digraph")
    assert main(["graph", "mlp-small", "-o", str(tmp_path / "G.DOT")]) == 0


# -- train: run directories, Ctrl-C, resume ----------------------------------------------------

QUICK = ["train", "--data", "moons", "--hidden", "8", "--no-progress"]


@pytest.fixture
def no_plot(monkeypatch):
    """Skip curves.png (matplotlib takes a second a run); the Ctrl-C test draws it."""
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "matplotlib" else real(name, *a))


def _arrays(path: Path) -> dict[str, bytes]:
    return {k: v.tobytes() for k, v in checkpoint.load(path).items()}


def test_an_existing_run_is_never_overwritten(tmp_path, capsys, no_plot):
    out = tmp_path / "run"
    assert main([*QUICK, "--epochs", "1", "--out", str(out)]) == 0
    first = {p.name: p.read_bytes() for p in out.iterdir()}
    assert main([*QUICK, "--epochs", "2", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert f"{out} holds an earlier run; writing this one to {out}-2" in text
    assert {p.name: p.read_bytes() for p in out.iterdir()} == first
    assert json.loads((tmp_path / "run-2" / "config.json").read_text())["epochs"] == 2
    assert train.next_run_dir(out) == tmp_path / "run-3"


def test_ten_steps_then_resume_to_twenty_equals_twenty_steps(tmp_path, capsys, no_plot):
    a, b = tmp_path / "a", tmp_path / "b"
    assert main([*QUICK, "--max-steps", "10", "--out", str(a)]) == 0     # stops mid-epoch 1
    assert "continue this run with: autograd-lite train --resume" in capsys.readouterr().out
    assert json.loads((a / "progress.json").read_text())["progress"]["step"] == 10
    assert main(["train", "--resume", str(a), "--max-steps", "20", "--no-progress"]) == 0
    assert "resuming" in capsys.readouterr().out
    assert main([*QUICK, "--max-steps", "20", "--out", str(b)]) == 0
    for name in ("model.npz", "optimizer.npz"):
        assert _arrays(a / name) == _arrays(b / name), name
    pa, pb = (json.loads((d / "progress.json").read_text()) for d in (a, b))
    assert pa == pb and pa["progress"]["step"] == 20 and pa["progress"]["epoch"] == 1
    assert (a / "history.csv").read_text() == (b / "history.csv").read_text()


def test_resume_across_epochs_matches_an_uninterrupted_run(tmp_path, no_plot):
    a, b = tmp_path / "a", tmp_path / "b"
    assert main([*QUICK, "--epochs", "1", "--out", str(a)]) == 0
    assert main(["train", "--resume", str(a), "--epochs", "3", "--no-progress"]) == 0
    assert main([*QUICK, "--epochs", "3", "--out", str(b)]) == 0
    assert _arrays(a / "model.npz") == _arrays(b / "model.npz")
    assert (a / "history.csv").read_text() == (b / "history.csv").read_text()


def test_resume_refusals(tmp_path, capsys, no_plot):
    run = tmp_path / "run"
    assert main([*QUICK, "--epochs", "1", "--out", str(run)]) == 0
    capsys.readouterr()
    assert main(["train", "--resume", str(run)]) == 2                   # already finished
    _one_line_error(capsys.readouterr().err, "--epochs")
    assert main(["train", "--resume", str(run), "--lr", "0.5"]) == 2
    _one_line_error(capsys.readouterr().err, "--lr")
    assert main(["train", "--resume", str(tmp_path / "nothing")]) == 2
    _one_line_error(capsys.readouterr().err, "--resume")
    (run / "progress.json").write_text("{not json")
    assert main(["train", "--resume", str(run), "--epochs", "2"]) == 2
    _one_line_error(capsys.readouterr().err, "--resume")


def test_ctrl_c_stops_cleanly_writes_the_run_and_resumes_exactly(tmp_path):
    out = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "autograd_lite", *QUICK, "--epochs", "100000",
                             "--out", str(out)], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    first = proc.stdout.readline()                 # printed just before training starts
    assert first.startswith("training MLP"), first
    time.sleep(1.0)                                 # into training (a few ms a step)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    stdout = first + stdout
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr
    assert "interrupted: stopping at the end of this step" in stdout
    assert "continue this run with: autograd-lite train --resume" in stdout
    assert sorted(p.name for p in out.iterdir()) == sorted(train.RUN_FILES)
    state = json.loads((out / "progress.json").read_text())
    steps = state["progress"]["step"]
    assert state["progress"]["interrupted"] and steps >= 1
    rows = (out / "history.csv").read_text().splitlines()
    assert len(rows) - 1 >= state["progress"]["epoch"]          # what was trained so far
    # resuming continues exactly where it stopped
    more = str(steps + 7)
    assert main(["train", "--resume", str(out), "--max-steps", more, "--no-progress"]) == 0
    ref = tmp_path / "ref"
    assert main([*QUICK, "--epochs", "100000", "--max-steps", more, "--out", str(ref)]) == 0
    assert _arrays(out / "model.npz") == _arrays(ref / "model.npz")
    assert _arrays(out / "optimizer.npz") == _arrays(ref / "optimizer.npz")


def test_run_in_python_stops_on_max_steps_and_reports_progress(tmp_path):
    res = train.run(train.Config(data="moons", hidden=(4,), max_steps=3), tmp_path / "r",
                    progress=False, log=lambda s: None)
    assert res.progress.step == 3 and not res.progress.interrupted
    assert res.out == tmp_path / "r" and res.history.epoch == []
    rows = (tmp_path / "r" / "history.csv").read_text().splitlines()
    assert rows[1].startswith("0.2308,")                  # 3 of 13 batches: a partial epoch
    np.testing.assert_array_equal(checkpoint.load(tmp_path / "r" / "model.npz")["layers.0.bias"],
                                  res.model.state_dict()["layers.0.bias"])


# -- the command itself ------------------------------------------------------------------------


def test_version_python_m_and_bench(tmp_path, capsys):
    from autograd_lite import __version__

    r = _cli("--version", cwd=tmp_path)                 # python -m autograd_lite
    assert r.returncode == 0 and r.stdout.strip() == f"autograd-lite {__version__}"
    assert main(["bench"]) == 2
    err = capsys.readouterr().err
    assert "python -m benchmarks" in err
    _one_line_error(err, "bench")
    assert main([]) == 2 and "compare" in capsys.readouterr().out


def test_cli_has_one_table_of_subcommands():
    from autograd_lite import cli

    assert set(cli.COMMANDS) == {"compare", "graph", "explain", "train", "export"}
    source = Path(cli.__file__).read_text()
    assert source.count("add_parser(") == 1 and source.count("add_subparsers(") == 1


def test_a_stop_on_the_last_batch_of_an_epoch_records_the_epoch(tmp_path):
    res = train.run(train.Config(data="moons", hidden=(4,), max_steps=13), tmp_path / "r",
                    progress=False, log=lambda s: None)    # 800 samples / 64 = 13 batches
    assert res.history.epoch == [1] and res.progress.batch == 0 and res.progress.epoch == 1
    assert (tmp_path / "r" / "history.csv").read_text().splitlines()[1].startswith("1,")


def test_fit_stops_cleanly_on_sigint_in_python_and_restores_the_handler():
    from autograd_lite import data, nn, optim

    split = data.load("moons")
    model = nn.MLP([2, 4, 2], rng=0)
    opt = optim.SGD(model.parameters(), lr=0.1)
    real_step = opt.step
    calls = []

    def step():
        real_step()
        calls.append(1)
        if len(calls) == 5:
            signal.raise_signal(signal.SIGINT)      # Ctrl-C (or a Jupyter kernel interrupt)

    opt.step = step
    before = signal.getsignal(signal.SIGINT)
    logged = []
    hist = train.fit(model, opt, split.X_train, split.y_train, epochs=50, progress=False,
                     log=logged.append)
    assert hist.progress.interrupted and hist.progress.step == 5 and len(calls) == 5
    assert any("stopping at the end of this step" in line for line in logged)
    assert signal.getsignal(signal.SIGINT) is before


def test_ctrl_c_in_any_command_is_one_line_and_exit_130(monkeypatch, capsys):
    from autograd_lite import compare

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(compare, "compare_gradients", interrupted)
    assert main(["compare", "--repeat", "1"]) == 130
    err = capsys.readouterr().err
    assert err.strip() == "autograd-lite compare: interrupted"


def test_export_writes_an_onnx_model_of_a_trained_run(tmp_path, capsys):
    ort = pytest.importorskip("onnxruntime")
    run = tmp_path / "run"
    assert main(["train", "--data", "moons", "--epochs", "1", "--hidden", "8", "--out", str(run),
                 "--no-progress"]) == 0
    out = tmp_path / "m.onnx"
    assert main(["export", str(run), "-o", str(out)]) == 0
    assert f"wrote {out}" in capsys.readouterr().out
    sess = ort.InferenceSession(str(out))
    x = np.zeros((5, 2), dtype=np.float32)
    assert sess.run(None, {"x": x})[0].shape == (5, 2)


def test_export_of_a_missing_run_is_one_line_and_exit_2(tmp_path, capsys):
    pytest.importorskip("onnx")
    assert main(["export", str(tmp_path / "nothing"), "-o", str(tmp_path / "m.onnx")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("autograd-lite export: error: argument CHECKPOINT:") and \
        err.count("\n") == 1
