"""Functions composed of primitives (no VJP of their own), by family: reductions and
statistics, shapes and indexing, linear algebra, predicates.

Each is differentiable through the primitives it calls (so also to second order); functions
with no gradient return constant integer or boolean Tensors. The names in each family's
``METHODS`` are also Tensor methods (the same function). Every function with an ``axis`` also
takes PyTorch's ``dim=`` (and ``keepdim=`` for ``keepdims``) as an alias.
"""

from __future__ import annotations

from ..ops.spellings import dim_alias, takes_dim_alias
from ..tensor import Tensor
from . import indexing, linalg, logic, reduce, shapes
from .indexing import *  # noqa: F403
from .linalg import *  # noqa: F403
from .logic import *  # noqa: F403
from .reduce import *  # noqa: F403
from .shapes import *  # noqa: F403

__all__ = [*reduce.__all__, *shapes.__all__, *indexing.__all__, *linalg.__all__,
           *logic.__all__]

for _family in (reduce, shapes, indexing, linalg, logic):
    for _name in _family.__all__:
        _f = getattr(_family, _name)
        if takes_dim_alias(_f):
            globals()[_name] = _f = dim_alias(_name)(_f)
        if _name in _family.METHODS:
            setattr(Tensor, _name, _f)
del _family, _name, _f
