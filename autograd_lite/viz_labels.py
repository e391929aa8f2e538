"""The text of ``draw_graph``'s op nodes: the primitive's name, then what it was called with.

``einsum`` nodes show their subscripts (``einsum`` / ``bij,bjk->bik``); convolution, pooling and
``unfold``/``fold`` nodes their hyper-parameters in PyTorch's words and PyTorch's ``repr``
habit — the kernel size and stride always; ``padding``, ``dilation``, ``groups`` and
``output_padding`` when they differ from the default (a padding ``(top, bottom, left, right)``
when it is not the same on both sides), ``ceil_mode`` when it changed the output size; any other
op its small parameters as ``name=value``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["op_label"]

_WINDOWED = {"conv2d", "conv1d", "conv_transpose2d", "conv2d_weight", "max_pool2d",
             "avg_pool2d", "unfold", "fold"}


def _pair(v: Any) -> Any:
    """``(a, a)`` as ``a``: the one number PyTorch users write."""
    return v[0] if isinstance(v, tuple) and len(v) == 2 and v[0] == v[1] else v


def _size(v: Any) -> str:
    return "×".join(map(str, v)) if isinstance(v, tuple) else str(v)


def _padding(pads: Any) -> Any:
    if not isinstance(pads, tuple):
        return pads
    if len(pads) == 2:                                        # conv1d: (left, right)
        return pads[0] if pads[0] == pads[1] else pads
    t, b, left, r = pads
    return _pair((t, left)) if (t, left) == (b, r) else pads


def _shape(node: Any, i: int) -> tuple:
    parents = getattr(node, "_parents", ())
    return tuple(getattr(parents[i], "_data", None).shape) if len(parents) > i else ()


def _windowed(node: Any, name: str, p: dict) -> list[str]:
    """Kernel, stride, padding, dilation, groups, ceil_mode of a conv / pool / unfold node."""
    kernel = p.get("ksize") or _shape(node, 1)[2:]
    lines = [f"kernel {_size(kernel)}"] if kernel else []
    pads = p.get("pads", 0)
    if name in ("max_pool2d", "avg_pool2d"):
        hw, (top, left) = _shape(node, 0)[2:], (pads[0], pads[2])
        floor = tuple((n + 2 * lo - d * (k - 1) - 1) // s + 1 for n, lo, d, k, s in
                      zip(hw, (top, left), p["dilation"], p["ksize"], p["stride"]))
        ceil_mode, pads = len(hw) == 2 and floor != tuple(p["out_hw"]), (top, left)
    else:
        ceil_mode = False
    lines.append(f"stride {_pair(p.get('stride', 1))}")
    if any(pads if isinstance(pads, tuple) else (pads,)):
        lines.append(f"padding {_padding(pads)}")
    for key in ("dilation", "groups"):
        if _pair(p.get(key, 1)) != 1:
            lines.append(f"{key} {_pair(p[key])}")
    if name == "conv_transpose2d" and kernel:
        natural = tuple((n - 1) * s - lo - hi + d * (k - 1) + 1 for n, s, lo, hi, d, k in zip(
            _shape(node, 0)[2:], p["stride"], pads[::2], pads[1::2], p["dilation"], kernel))
        extra = tuple(o - n for o, n in zip(p["out_hw"], natural))
        lines += [f"output_padding {_pair(extra)}"] if any(extra) else []
    return lines + (["ceil_mode"] if ceil_mode else [])


def op_label(node: Any) -> str:
    """The label of the op node that produced ``node``."""
    op = node._op
    p = getattr(node, "_params", None) or {}
    if op.name == "einsum" and "spec" in p:
        ins, out = p["spec"]
        extra = [",".join(ins) + "->" + out]
        if p.get("optimize", "greedy") != "greedy":
            extra.append(f"optimize={p['optimize']!r}")
    elif op.name in _WINDOWED:
        extra = _windowed(node, op.name, p)
    elif op.name == "adaptive_avg_pool2d" and "ph" in p:
        extra = [f"output {p['ph'].shape[0]}×{p['pw'].shape[0]}"]
    else:
        extra = [f"{k}={v!r}" for k, v in p.items()
                 if k != "index" and len(repr(v)) <= 16
                 and not (v is None or v is False or isinstance(v, float) and v == 0)]
    return "\n".join([op.name, *extra])
