"""Checks made before any work starts: option values, memory estimates and output paths.

Each failed check raises :class:`OptionError`, a ``ValueError`` that knows which option (a
keyword argument of the library function, ``--option`` on the command line) was wrong, so the
command line can print one line naming it and exit with status 2 before computing anything.

Example
-------
>>> positive_int("epochs", 0)
Traceback (most recent call last):
...
autograd_lite.preflight.OptionError: epochs: expected an integer >= 1, got 0
"""

from __future__ import annotations

import math
import numbers
import os
import secrets
from pathlib import Path
from typing import Any

__all__ = ["OptionError", "positive_int", "nonnegative_int", "finite_float", "available_memory",
           "check_memory", "output_dir", "output_file", "human_bytes"]


class OptionError(ValueError):
    """A bad option value; ``option`` is its name (``"batch_size"``), ``str()`` says what was
    expected."""

    def __init__(self, option: str, message: str) -> None:
        super().__init__(f"{option}: {message}")
        self.option = option
        self.message = message


def _int(option: str, value: Any, least: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise OptionError(option, f"expected {what}, got {value!r:.40}")
    if value < least:
        raise OptionError(option, f"expected {what}, got {value}")
    return int(value)


def positive_int(option: str, value: Any) -> int:
    """``value`` if it is an integer >= 1."""
    return _int(option, value, 1, "an integer >= 1")


def nonnegative_int(option: str, value: Any) -> int:
    """``value`` if it is an integer >= 0 (a seed)."""
    return _int(option, value, 0, "an integer >= 0")


def finite_float(option: str, value: Any, *, positive: bool = False) -> float:
    """``value`` as a float if it is a finite real number (and > 0 with ``positive``)."""
    what = "a finite number > 0" if positive else "a finite number"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise OptionError(option, f"expected {what}, got {value!r:.40}")
    if not math.isfinite(value) or (positive and value <= 0):
        raise OptionError(option, f"expected {what}, got {value}")
    return float(value)


# ---------------------------------------------------------------------------------------------
# Memory


def human_bytes(n: float) -> str:
    """``1.5 GB`` style (powers of 1000, as memory is sold)."""
    for unit in ("bytes", "kB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000
    return ""   # pragma: no cover


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation (Linux ``MemAvailable``; else free physical
    pages), or ``None`` when the system does not say."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_memory(option: str, need: int, what: str) -> None:
    """Raise :class:`OptionError` when ``need`` bytes (``what`` says for what) exceed the
    available memory."""
    have = available_memory()
    if have is not None and need > have:
        raise OptionError(option, f"{what} needs about {human_bytes(need)} of memory, but about "
                                  f"{human_bytes(have)} is available; choose smaller sizes")


# ---------------------------------------------------------------------------------------------
# Output paths


def _probe(directory: Path, option: str) -> None:
    """Create and remove a file in ``directory``: can we write there at all?"""
    probe = directory / f".autograd-lite-probe-{secrets.token_hex(4)}"
    try:
        probe.touch(exist_ok=False)
        probe.unlink()
    except OSError as e:
        raise OptionError(option, f"cannot write into {str(directory)!r}: {e.strerror}"
                          ) from None


def output_dir(option: str, path: str | os.PathLike, *, create: bool = True) -> Path:
    """A directory we can write into: created (with its parents) when missing.

    Refuses a path that is a file, or a directory that cannot be created or written to.
    """
    p = Path(path)
    if p.exists() and not p.is_dir():
        kind = "a file" if p.is_file() else "not a directory"
        raise OptionError(option, f"{str(p)!r} is {kind}, expected a directory")
    if create:
        try:
            p.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise OptionError(option, f"cannot create the directory {str(p)!r}: {e.strerror}"
                              ) from None
    elif not p.is_dir():
        raise OptionError(option, f"no such directory: {str(p)!r}")
    _probe(p, option)
    return p


def output_file(option: str, path: str | os.PathLike) -> Path:
    """A file name we can write: its directory exists and is writable, and the path is not a
    directory, a device (``/dev/full``) or a read-only file."""
    p = Path(path)
    if p.is_dir():
        raise OptionError(option, f"{str(p)!r} is a directory, expected a file name")
    if p.exists():
        if not p.is_file():
            raise OptionError(option, f"{str(p)!r} is not a regular file (a device or pipe)")
        if not os.stat(p).st_mode & 0o222 or not os.access(p, os.W_OK):
            raise OptionError(option, f"{str(p)!r} is read-only")
    parent = p.resolve().parent
    if not parent.is_dir():
        raise OptionError(option, f"the directory {str(p.parent)!r} does not exist")
    _probe(parent, option)
    return p
