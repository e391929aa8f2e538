"""Specs of ``einsum`` (merged into ``tests/spec.py``'s table): matrix products, batches,
``...`` broadcasting, diagonals and traces, implicit outputs, three-operand chains."""

from __future__ import annotations

import numpy as np

import autograd_lite as al

from .spec import Spec

EINSUM_CASES = [
    ("ij,jk->ik", ((2, 3), (3, 4))),
    ("ij,jk", ((2, 3), (3, 4))),                        # implicit output
    ("bij,bjk->bik", ((5, 2, 3), (5, 3, 4))),
    ("bij,bjk,bkl->bil", ((2, 3, 4), (2, 4, 5), (2, 5, 3))),
    ("...ij,...jk->...ik", ((2, 1, 2, 3), (5, 3, 4))),  # ... broadcast (1 against 5)
    ("ii->i", ((3, 3),)),                                # diagonal
    ("ii", ((4, 4),)),                                   # trace
    ("iij->ji", ((3, 3, 2),)),
    ("ij->", ((2, 3),)),
    ("ij->j", ((2, 3),)),
    ("i,j->ij", ((3,), (4,))),                           # outer
    ("i,i", ((3,), (3,))),                               # inner
    (",i->i", ((), (3,))),                               # 0-d operand
    ("ab,ab->b", ((1, 3), (2, 3))),                      # a letter of size 1 against 2
    ("ijk,jl,kl->il", ((2, 3, 4), (3, 5), (4, 5))),
    ("...ii->...i", ((2, 3, 3),)),
    ("nchw,oc->nohw", ((2, 3, 2, 2), (4, 3))),
]

SPECS: dict[str, Spec] = {
    "einsum": Spec(lambda *xs, subscripts: al.einsum(subscripts, *xs),
                   lambda *xs, subscripts: np.einsum(subscripts, *xs),
                   lambda *xs, subscripts: __import__("torch").einsum(subscripts, *xs),
                   [(shapes, {"subscripts": s}) for s, shapes in EINSUM_CASES]),
}
