"""Fused ops, each one public function with a composed twin: ``fused=True`` is one node with a
closed-form VJP (written with ops, so differentiable again under ``create_graph=True``) that saves
only what that VJP needs; ``fused=False`` is the same function composed from primitives.

The pairs (cross-entropy is :func:`autograd_lite.functional.cross_entropy`, its fused primitive
:mod:`.cross_entropy`):

- :func:`log_softmax`, :func:`softmax` (``axis``)
- :func:`binary_cross_entropy_with_logits` (``weight``, ``pos_weight``, ``reduction``)
- :func:`layer_norm` (``normalized_shape``, ``weight``, ``bias``, ``eps``)
- :func:`scaled_dot_product_attention` (``mask``, ``causal``, ``scale``): blocked, memory linear
  in the sequence length

:mod:`autograd_lite.compare` puts each pair side by side (``PAIRS``), and
:mod:`autograd_lite.sweep` sweeps their numerical stability over input scales and dtypes.
"""

from __future__ import annotations

from .attention import scaled_dot_product_attention
from .bce import binary_cross_entropy_with_logits, stable_composed
from .layer_norm import layer_norm
from .softmax import log_softmax, softmax

__all__ = ["log_softmax", "softmax", "binary_cross_entropy_with_logits", "layer_norm",
           "scaled_dot_product_attention", "stable_composed"]
