"""Test helpers for nested containers (dicts, lists, tuples, namedtuples), written apart from the
library's own pytree code so that the tests do not check it against itself."""

from __future__ import annotations


def leaves(tree):
    """The leaves of ``tree``, depth first, dicts in their key order."""
    if isinstance(tree, dict):
        return [v for k in tree for v in leaves(tree[k])]
    if isinstance(tree, (list, tuple)):
        return [v for e in tree for v in leaves(e)]
    return [tree]


def like(tree, new_leaves):
    """A container of ``tree``'s structure holding ``new_leaves`` (in :func:`leaves` order)."""
    it = iter(new_leaves)

    def go(t):
        if isinstance(t, dict):
            return {k: go(v) for k, v in t.items()}
        if isinstance(t, tuple) and hasattr(t, "_fields"):
            return type(t)(*(go(e) for e in t))
        if isinstance(t, (list, tuple)):
            return type(t)(go(e) for e in t)
        return next(it)
    return go(tree)
