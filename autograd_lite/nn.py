"""``autograd_lite.nn``: modules and layers, containers, initialisers and checkpoints, in one
namespace with PyTorch's names.

Each family lives in its own module — :mod:`~autograd_lite.module` (``Module``, ``Parameter``,
``Linear``, ``Sequential``, ``MLP``, basic activations, ``Dropout``), ``containers``
(``ModuleList``, ``ModuleDict``, ``ParameterList``), ``layers`` (``Embedding``, ``BatchNorm1d``,
activation and loss modules, ...), ``conv_layers``, ``normalization`` (``LayerNorm``), ``init``
and ``checkpoint`` (``save``, ``load``) — and this module only gathers them (nothing imports it
back, so there is no import cycle).

Example
-------
>>> model = al.nn.Sequential(al.nn.Linear(3, 4, rng=0), al.nn.ReLU(), al.nn.Linear(4, 2, rng=0))
>>> model(np.ones((5, 3))).shape
(5, 2)
"""

from __future__ import annotations

from . import containers, conv_layers, init, layers, module
from .checkpoint import load, save
from .containers import *  # noqa: F403
from .conv_layers import *  # noqa: F403
from .layers import *  # noqa: F403
from .module import *  # noqa: F403
from .module import _rng  # noqa: F401  (the layers' shared generator helper, for subclasses)
from .normalization import LayerNorm

__all__ = [*module.__all__, *containers.__all__, *layers.__all__, *conv_layers.__all__,
           "LayerNorm", "init", "save", "load"]
