"""``autograd-lite train --model cnn``: a stopped run resumes exactly, like the MLP's."""

from __future__ import annotations

import numpy as np

from autograd_lite import nn
from autograd_lite.cli import main


def test_cnn_run_resumed_equals_the_run_never_stopped(tmp_path, capsys):
    common = ["train", "--model", "cnn", "--no-progress", "--epochs", "2"]
    assert main(common + ["--max-steps", "3", "--out", str(tmp_path / "a")]) == 0
    assert "continue this run with: autograd-lite train --resume" in capsys.readouterr().out
    assert main(["train", "--resume", str(tmp_path / "a"), "--max-steps", "6",
                 "--no-progress"]) == 0
    assert main(common + ["--max-steps", "6", "--out", str(tmp_path / "b")]) == 0
    a, b = (nn.load(tmp_path / d / "model.npz") for d in "ab")
    assert a.keys() == b.keys() and len(a) == 6
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
