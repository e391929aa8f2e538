"""PyTorch's spellings of NumPy's keywords: ``dim=`` for ``axis=`` and ``keepdim=`` for
``keepdims=``, added to a function as keyword-only aliases (one implementation, two names)."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

__all__ = ["dim_alias", "takes_dim_alias"]


def dim_alias(name: str) -> Callable[[Callable], Callable]:
    """Decorate ``f(..., axis, ...)`` to also take PyTorch's ``dim=`` (and ``keepdim=`` when it
    has ``keepdims``) as keyword-only aliases: the same function, one more spelling.

    Example
    -------
    >>> f = dim_alias("f")(lambda x, axis=0: axis)
    >>> f(None, dim=1), f(None, axis=1)
    (1, 1)
    """
    def decorate(f: Callable) -> Callable:
        sig = inspect.signature(f)
        names = list(sig.parameters)
        pairs = [(a, n) for a, n in (("dim", "axis"), ("keepdim", "keepdims")) if n in names]

        @functools.wraps(f)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not kwargs:                   # the common call: straight through
                return f(*args)
            for alias, real in pairs:
                if alias in kwargs:
                    value = kwargs.pop(alias)
                    if real in kwargs or len(args) > names.index(real):
                        raise TypeError(f"{name}: give {real}= or its alias {alias}=, not both")
                    kwargs[real] = value
            return f(*args, **kwargs)
        extra = [inspect.Parameter(a, inspect.Parameter.KEYWORD_ONLY, default=None)
                 for a, _ in pairs]
        wrapper.__signature__ = sig.replace(  # type: ignore[attr-defined]
            parameters=[*sig.parameters.values(), *extra])
        return wrapper
    return decorate


def takes_dim_alias(f: Any) -> bool:
    """Whether ``f`` has an ``axis`` parameter but no ``dim`` spelling (nor ``**kwargs``)."""
    try:
        params = inspect.signature(f).parameters
    except (TypeError, ValueError):
        return False
    return ("axis" in params and "dim" not in params
            and not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()))
