"""``autograd_lite.optim``: optimizers, gradient clipping and learning-rate schedulers with
PyTorch's names, gathered from :mod:`~autograd_lite.optimizer` (``Optimizer``, ``SGD``, ``Adam``,
``AdamW``), :mod:`~autograd_lite.optimizers` (``RMSprop``, ``Adagrad``, ``clip_grad_norm_``,
``clip_grad_value_``) and :mod:`~autograd_lite.schedulers` (nothing imports this module back).

Example
-------
>>> w = al.Tensor([1.0, 2.0], requires_grad=True)
>>> opt = al.optim.SGD([w], lr=0.5)
>>> (w * w).sum().backward(); opt.step()
>>> w
Tensor([0., 0.], dtype=float64, requires_grad=True)
"""

from __future__ import annotations

from . import optimizer, optimizers, schedulers
from .optimizer import *  # noqa: F403
from .optimizer import _hyper  # noqa: F401  (shared by optimizer subclasses users write)
from .optimizers import *  # noqa: F403
from .schedulers import *  # noqa: F403

__all__ = [*optimizer.__all__, *optimizers.__all__, *schedulers.__all__]
