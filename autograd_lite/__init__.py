"""autograd_lite: a small, readable reverse-mode automatic differentiation engine on NumPy.

The layers, bottom up (each imports only from those below it): ``engine`` (graph, backward
driver, modes; no NumPy) → ``ops`` (the op table) → ``tensor`` / ``scalar`` (graph nodes) →
``api`` (public functions generated from the op table), ``creation`` and ``functional``
(composites and fused ops) → ``nn``, ``optim``, ``data``, ``transforms``, ``gradcheck`` → ``viz``,
``explain``, ``compare`` → ``cli``.
"""

from __future__ import annotations

from . import api, data, functional, fused, interop_numpy, linalg, losses, nn, ops, optim
from .api import *  # noqa: F403  (every public op, generated from the op table)
from .compare import compare_gradients
from .creation import arange, eye, full, ones, ones_like, rand, randn, tensor, zeros, zeros_like
from .engine import (
    AnomalyError,
    backward,
    detect_anomaly,
    enable_grad,
    is_anomaly_enabled,
    is_grad_enabled,
    no_grad,
)
from .functional import cross_entropy
from .fused import (
    binary_cross_entropy_with_logits,
    layer_norm,
    log_softmax,
    scaled_dot_product_attention,
    softmax,
)
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .interop import from_dlpack
from .losses import *  # noqa: F403  (mse_loss, l1_loss, nll_loss, ...: see losses.__all__)
from .notation import explain
from .scalar import Scalar, grads, scalars, values
from .tensor import Tensor, as_tensor
from .threads import get_num_threads, set_num_threads
from .transforms import grad, hessian, hvp, jacobian, jvp, value_and_grad, vjp
from .viz import draw_graph, draw_side_by_side, graph_stats, save_graph

__version__ = "0.1.0"

__all__ = [
    *api.__all__,
    *losses.__all__,
    "Tensor", "as_tensor", "tensor", "arange", "eye", "full", "ones", "ones_like", "rand", "randn",
    "zeros", "zeros_like",
    "backward", "enable_grad", "is_grad_enabled", "no_grad",
    "AnomalyError", "detect_anomaly", "is_anomaly_enabled",
    "softmax", "log_softmax", "cross_entropy", "compare_gradients",
    "binary_cross_entropy_with_logits", "layer_norm", "scaled_dot_product_attention",
    "GradcheckError", "gradcheck", "gradgradcheck",
    "grad", "hessian", "hvp", "jacobian", "jvp", "value_and_grad", "vjp",
    "Scalar", "grads", "scalars", "values",
    "draw_graph", "draw_side_by_side", "explain", "graph_stats", "save_graph",
    "data", "functional", "fused", "interop_numpy", "linalg", "losses", "nn", "ops", "optim",
    "from_dlpack", "get_num_threads", "set_num_threads",
]
