"""Checkpoints that lose nothing and run nothing: :func:`save`, :func:`load`, :func:`atomic_write`.

* :func:`atomic_write` is the one way the package replaces a file: the bytes go to a hidden
  temporary file beside the target (``.NAME.<pid>-<random>.tmp``), flushed to disk, then renamed
  over it, so a crash leaves the previous file intact. It keeps the existing file's mode (a 0600
  checkpoint stays private), refuses to replace a read-only file or anything that is not a regular
  file, writes through a symlink to its target, removes stale temporaries that killed saves of
  the same target left behind, and on SIGTERM (in the main thread) removes its own before the
  process ends. Errors name the user's path, never the temporary one.
* :func:`save` writes a ``state_dict()`` (a Module's, an optimizer's, or any dict of numeric
  arrays) as an ``.npz`` archive. The archive is written member by member, so every key round-trips
  — including names such as ``file`` or ``allow_pickle`` that ``np.savez`` takes for its own.
* :func:`load` reads it back without ever unpickling, and checks the file first: an empty file,
  a ``.npy`` array, a text file, a corrupt or truncated archive, a member whose declared shape
  does not match its bytes, an oversized header, or an archive that would inflate far beyond its
  size each give one :class:`CheckpointError` naming the file and what is wrong.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import secrets
import signal
import stat
import threading
import zipfile
import zlib
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from .tensor import Tensor

__all__ = ["CheckpointError", "atomic_write", "save", "load", "MAX_INFLATION", "MIN_LIMIT"]

MIN_LIMIT = 1 << 30
"""An archive may always declare this many bytes of arrays (1 GiB) ..."""
MAX_INFLATION = 100
"""... or up to this many times its size on disk, whichever is larger (``max_bytes=`` overrides)."""

_UMASK = os.umask(0)
os.umask(_UMASK)
_ACTIVE: set[str] = set()            # temporaries being written by this process


class CheckpointError(ValueError):
    """A file is not a readable checkpoint; the message names the file and what is wrong."""


# ---------------------------------------------------------------------------------------------
# Atomic writes


def _temp_pattern(name: str) -> re.Pattern:
    # this version: .NAME.<pid>-<hex>.tmp ; earlier versions (mkstemp): .NAME.<8 chars>.tmp
    return re.compile(rf"^\.{re.escape(name)}\.(?:(\d+)-[0-9a-f]+|[a-z0-9_]{{8}})\.tmp$")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:   # someone else's process
        return True
    return True


def _remove_stale(target: Path) -> list[Path]:
    """Delete temporaries of ``target`` left by saves that were killed; return them."""
    pattern = _temp_pattern(target.name)
    removed = []
    try:
        names = os.listdir(target.parent)
    except OSError:
        return removed
    for name in names:
        m = pattern.match(name)
        if not m:
            continue
        path = target.parent / name
        pid = int(m.group(1)) if m.group(1) else None
        if str(path) in _ACTIVE or (pid is not None and pid != os.getpid() and _alive(pid)):
            continue   # a save in progress
        with contextlib.suppress(OSError):
            path.unlink()
            removed.append(path)
    return removed


class _Terminated(BaseException):
    """Raised inside a save by SIGTERM, so the temporary file is removed before exiting."""


@contextlib.contextmanager
def _cleanup_on_sigterm(tmp: Path, user: Path, what: str) -> Iterator[None]:
    """While writing: turn SIGTERM into an exception (main thread only); on it, remove ``tmp``,
    then deliver SIGTERM again to whatever handler was installed before."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.getsignal(signal.SIGTERM)
    if old in (signal.SIG_IGN, None):
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise _Terminated

    signal.signal(signal.SIGTERM, handler)
    try:
        yield
    except _Terminated:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        signal.signal(signal.SIGTERM, old)
        os.kill(os.getpid(), signal.SIGTERM)      # the original disposition now applies
        raise InterruptedError(f"{what}: interrupted by SIGTERM; {str(user)!r} was not "
                               f"written") from None
    finally:
        signal.signal(signal.SIGTERM, old)


def _oserror(e: OSError, text: str) -> OSError:
    err = OSError(e.errno, text)   # OSError(errno, ...) picks the matching subclass
    err.filename = None
    return err


def atomic_write(path: str | os.PathLike, write: Callable[[BinaryIO], Any], *,
                 what: str = "save") -> Path:
    """Replace ``path`` with the bytes ``write(f)`` writes to a binary file ``f``, atomically.

    ``what`` prefixes error messages (the caller's name). Returns ``Path(path)``.

    Example
    -------
    >>> atomic_write("notes.txt", lambda f: f.write(b"hello\\n"))   # doctest: +SKIP
    PosixPath('notes.txt')
    """
    user = Path(path)
    target = Path(os.path.realpath(user))       # through symlinks, to the file they name
    if not target.parent.is_dir():
        raise FileNotFoundError(f"{what}: cannot write {str(user)!r}: the directory "
                                f"{str(user.parent)!r} does not exist")
    try:
        st = os.stat(target)
    except FileNotFoundError:
        mode = 0o666 & ~_UMASK
    else:
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError(f"{what}: {str(user)!r} is a directory, expected a file name")
        if not stat.S_ISREG(st.st_mode):
            raise OSError(f"{what}: {str(user)!r} is not a regular file (a device, pipe or "
                          f"socket); refusing to replace it")
        if not st.st_mode & 0o222 or not os.access(target, os.W_OK):
            raise PermissionError(f"{what}: {str(user)!r} is read-only; refusing to replace it "
                                  f"(make it writable, or save elsewhere)")
        mode = stat.S_IMODE(st.st_mode)
    _remove_stale(target)
    tmp = target.parent / f".{target.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as e:
        raise _oserror(e, f"{what}: cannot write {str(user)!r}: {e.strerror}") from None
    _ACTIVE.add(str(tmp))
    try:
        with _cleanup_on_sigterm(tmp, user, what):
            try:
                os.fchmod(fd, mode)
                with os.fdopen(fd, "wb") as f:
                    write(f)
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(tmp, target)
            except OSError as e:
                if e.strerror is None:
                    raise
                raise _oserror(e, f"{what}: could not write {str(user)!r}: {e.strerror}"
                               ) from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    finally:
        _ACTIVE.discard(str(tmp))
    return user


# ---------------------------------------------------------------------------------------------
# save


def _state(obj: Any) -> dict[str, np.ndarray]:
    """The arrays to save: ``obj.state_dict()`` or ``obj`` itself (a mapping)."""
    if callable(getattr(obj, "state_dict", None)):
        obj = obj.state_dict()
    if not isinstance(obj, Mapping):
        raise TypeError(f"save: expected a Module, an optimizer or a mapping of names to arrays, "
                        f"got {type(obj).__name__}")
    state: dict[str, np.ndarray] = {}
    for k, v in obj.items():
        if not isinstance(k, str):
            raise TypeError(f"save: keys must be strings, got {type(k).__name__} {k!r:.40}")
        arr = v._data if isinstance(v, Tensor) else np.asarray(v)
        if arr.dtype.kind not in "biufc":
            raise TypeError(f"save: key {k!r} holds dtype {arr.dtype}; checkpoints store only "
                            "numeric arrays")
        state[k] = arr
    return state


def _write_npz(f: BinaryIO, state: Mapping[str, np.ndarray]) -> None:
    """An uncompressed ``.npz``, one ``KEY.npy`` member per key (what ``np.savez`` writes)."""
    with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
        for k, arr in state.items():
            with zf.open(k + ".npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, arr, allow_pickle=False)


def save(obj: Any, path: str | os.PathLike) -> Path:
    """Write ``obj.state_dict()`` (a Module, an optimizer) or a dict of arrays to ``path``
    (``.npz``), atomically (see :func:`atomic_write`). Arrays round-trip bit for bit, under any
    key.

    Example
    -------
    >>> model = al.nn.MLP([2, 3], rng=0)
    >>> save(model, "model.npz")                      # doctest: +SKIP
    PosixPath('model.npz')
    >>> model.load_state_dict(load("model.npz"))      # doctest: +SKIP
    """
    state = _state(obj)
    return atomic_write(path, lambda f: _write_npz(f, state), what="save")


# ---------------------------------------------------------------------------------------------
# load


def _size(n: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return ""   # pragma: no cover


def load(path: str | os.PathLike, module: Any = None, *,
         max_bytes: int | None = None) -> dict[str, np.ndarray]:
    """Read a checkpoint written by :func:`save`: key → array (into ``module`` too, if given).

    Never unpickles. ``module`` is anything with ``load_state_dict`` (a Module checks keys, shapes
    and dtypes; an optimizer its parameters' state). The archive may declare at most
    ``max_bytes`` of arrays; by default ``max(1 GiB, 100 × the file's size)``, which any
    checkpoint written by :func:`save` (uncompressed) meets, and which stops a small file from
    inflating to gigabytes. Every problem with the file raises :class:`CheckpointError` naming it.

    Example
    -------
    >>> state = load("model.npz")                     # doctest: +SKIP
    >>> sorted(state)                                 # doctest: +SKIP
    ['layers.0.bias', 'layers.0.weight']
    >>> load("model.npz", module=model)               # doctest: +SKIP
    """
    name = os.fspath(path)
    try:
        f = open(name, "rb")  # noqa: SIM115 - closed below
    except FileNotFoundError:
        raise FileNotFoundError(f"load: no such file: {name!r}") from None
    except IsADirectoryError:
        raise IsADirectoryError(f"load: {name!r} is a directory, not a checkpoint file") from None
    except OSError as e:
        raise _oserror(e, f"load: cannot read {name!r}: {e.strerror}") from None
    with f:
        state = _read_npz(f, name, max_bytes)
    if module is not None:
        module.load_state_dict(state)
    return state


def _read_npz(f: BinaryIO, name: str, max_bytes: int | None) -> dict[str, np.ndarray]:
    def bad(what: str) -> CheckpointError:
        return CheckpointError(f"load: {name!r} {what}")

    size = os.fstat(f.fileno()).st_size
    head = f.read(8)
    if size == 0:
        raise bad("is empty (0 bytes), not a checkpoint (an interrupted copy?)")
    if head.startswith(b"\x93NUMPY"):
        raise bad("is a single .npy array, not a .npz checkpoint (read it with numpy.load)")
    if not head.startswith(b"PK"):
        raise bad(f"is not a checkpoint .npz file (not a zip archive; it starts with {head!r})")
    f.seek(0)
    try:
        zf = zipfile.ZipFile(f)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as e:
        raise bad(f"is corrupt or truncated (not a readable zip archive: {e})") from None
    with zf:
        infos = zf.infolist()
        declared = sum(i.file_size for i in infos)
        limit = max(MIN_LIMIT, MAX_INFLATION * size) if max_bytes is None else max_bytes
        if declared > limit:
            raise bad(f"declares {_size(declared)} of arrays in a file of {_size(size)}, more "
                      f"than the limit of {_size(limit)}; refusing to read it (a zip bomb? "
                      f"pass max_bytes= to allow)")
        state: dict[str, np.ndarray] = {}
        for info in infos:
            if not info.filename.endswith(".npy") or info.is_dir():
                raise bad(f"holds {info.filename!r}, which is not an array (.npy member)")
            key = info.filename[:-4]
            try:
                state[key] = _read_member(zf, info, key)
            except CheckpointError as e:
                raise bad(str(e)) from None
            except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError,
                    NotImplementedError) as e:
                raise bad(f"is corrupt: key {key!r}: {e}") from None
    return state


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, key: str) -> np.ndarray:
    fmt = np.lib.format
    with zf.open(info) as m:
        version = fmt.read_magic(m)
        reader = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
        shape, fortran, dtype = reader(m)   # refuses headers over 10,000 bytes
        if dtype.hasobject:
            raise CheckpointError(f"key {key!r} is a pickled object array; checkpoints hold "
                                  f"only numeric arrays and are read without unpickling")
        if dtype.kind not in "biufc":
            raise CheckpointError(f"key {key!r} has dtype {dtype}; checkpoints hold only "
                                  f"numeric arrays")
        nbytes = math.prod(shape) * dtype.itemsize
        held = info.file_size - m.tell()
        if nbytes != held:
            raise CheckpointError(f"is corrupt: key {key!r} declares shape {shape} {dtype} "
                                  f"({_size(nbytes)}) but holds {_size(held)}")
        buf = bytearray(nbytes)
        if m.readinto(buf) != nbytes or m.read(1):   # reading to the end checks the CRC
            raise CheckpointError(f"is corrupt: key {key!r} is truncated")
    arr = np.frombuffer(buf, dtype=dtype)
    return arr.reshape(shape, order="F" if fortran else "C")
