"""draw_graph's op labels: einsum subscripts, conv / pool / unfold hyper-parameters."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite import viz
from autograd_lite.viz_labels import op_label


def _t(*shape, grad=True):
    return al.Tensor(np.ones(shape), requires_grad=grad)


def _label(source: str, op: str) -> str:
    """The label of the (first) op node named ``op`` in a DOT source, its lines joined by ``|``."""
    m = re.search(rf'^\top\d+ \[label="({re.escape(op)}\b[^"]*)"', source, flags=re.M)
    assert m, f"no {op} node in\n{source}"
    return m.group(1).replace("\n", "|")


X, W = (1, 2, 6, 6), (4, 2, 3, 3)
CASES = [
    (lambda: al.conv2d(_t(*X), _t(*W), stride=2, padding=1),
     "conv2d|kernel 3×3|stride 2|padding 1"),
    (lambda: al.conv2d(_t(*X), _t(*W), padding="same", dilation=2),
     "conv2d|kernel 3×3|stride 1|padding 2|dilation 2"),
    (lambda: al.conv2d(_t(*X), _t(4, 1, 3, 2), groups=2, padding=((0, 1), (2, 0))),
     "conv2d|kernel 3×2|stride 1|padding (0, 1, 2, 0)|groups 2"),
    (lambda: al.conv2d(_t(*X), _t(*W, grad=False), stride=(1, 2)),
     "conv2d|kernel 3×3|stride (1, 2)"),
    (lambda: al.conv1d(_t(1, 2, 5), _t(3, 2, 2), stride=2, padding=1),
     "conv1d|kernel 2|stride 2|padding 1"),
    (lambda: al.conv_transpose2d(_t(*X), _t(2, 3, 3, 3), stride=2, padding=1, output_padding=1),
     "conv_transpose2d|kernel 3×3|stride 2|padding 1|output_padding 1"),
    (lambda: al.max_pool2d(_t(*X), 2), "max_pool2d|kernel 2×2|stride 2"),
    (lambda: al.max_pool2d(_t(*X), 3, stride=2, padding=1, ceil_mode=True),
     "max_pool2d|kernel 3×3|stride 2|padding 1|ceil_mode"),
    (lambda: al.max_pool2d(_t(1, 1, 5, 5), 3, stride=2, ceil_mode=True),   # changes nothing
     "max_pool2d|kernel 3×3|stride 2"),
    (lambda: al.avg_pool2d(_t(*X), (2, 3), stride=1, padding=1),
     "avg_pool2d|kernel 2×3|stride 1|padding 1"),
    (lambda: al.adaptive_avg_pool2d(_t(*X), (2, 3)), "adaptive_avg_pool2d|output 2×3"),
    (lambda: al.unfold(_t(*X), 3, dilation=2), "unfold|kernel 3×3|stride 1|dilation 2"),
    (lambda: al.fold(_t(1, 8, 25), (4, 4), 2, padding=1), "fold|kernel 2×2|stride 1|padding 1"),
    (lambda: al.einsum("bij,bjk->bik", _t(2, 3, 4), _t(2, 4, 5)), "einsum|bij,bjk->bik"),
    (lambda: al.einsum("bij,bjk,bkl->bil", _t(2, 3, 4), _t(2, 4, 5), _t(2, 5, 3),
                       optimize=False), "einsum|bij,bjk,bkl->bil|optimize=False"),
    (lambda: al.einsum("ii", _t(3, 3)), "einsum|ii->"),
    (lambda: al.sum(_t(2, 3), axis=1), "sum|axis=1"),
]


@pytest.mark.parametrize("make, expected", CASES, ids=[e.split("|")[0] + str(i)
                                                       for i, (_, e) in enumerate(CASES)])
def test_op_label(make, expected):
    out = make()
    assert op_label(out).replace("\n", "|") == expected
    pytest.importorskip("graphviz")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert _label(viz.draw_graph(out).source, expected.split("|")[0]) == expected


def test_a_cnn_drawing_shows_every_layer_with_its_hyper_parameters():
    pytest.importorskip("graphviz")
    model = al.nn.DigitsCNN(rng=0)
    model.eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        src = viz.draw_graph(model(np.zeros((2, 64), dtype=np.float32))).source
    assert src.count("conv2d\nkernel 3×3\nstride 1\npadding 1\"") == 2
    assert src.count("max_pool2d\nkernel 2×2\nstride 2\"") == 2
