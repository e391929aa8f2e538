"""Checkpoints lose nothing and expose nothing (autograd_lite/checkpoint.py), and optimizers
save and restore their state exactly."""

from __future__ import annotations

import os
import signal
import struct
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import numpy as np
import pytest

from autograd_lite import checkpoint, nn, optim
from autograd_lite.checkpoint import CheckpointError

ROOT = Path(__file__).resolve().parent.parent


def _mode(path) -> int:
    return os.stat(path).st_mode & 0o777


# -- keys ------------------------------------------------------------------------------------


def test_any_key_round_trips_including_savez_parameter_names(tmp_path):
    state = {"file": np.arange(3.0), "allow_pickle": np.ones((2, 2), np.float32),
             "args": np.array(7, np.int64), "a/b": np.zeros(0), "x.npy": np.array([True]),
             "": np.array([1 + 2j])}
    out = checkpoint.load(checkpoint.save(state, tmp_path / "k.npz"))
    assert sorted(out) == sorted(state)
    for k, v in state.items():
        assert out[k].dtype == v.dtype and out[k].shape == v.shape
        assert out[k].tobytes() == v.tobytes(), k
    assert out["file"].flags.writeable                  # loaded arrays are ordinary arrays


def test_nn_save_and_load_are_the_checkpoint_functions():
    assert nn.save is checkpoint.save and nn.load is checkpoint.load


def test_fortran_and_non_contiguous_arrays_round_trip(tmp_path):
    a = np.asfortranarray(np.arange(12.0).reshape(3, 4))
    b = np.arange(20.0)[::3]
    out = checkpoint.load(checkpoint.save({"a": a, "b": b}, tmp_path / "m.npz"))
    np.testing.assert_array_equal(out["a"], a)
    np.testing.assert_array_equal(out["b"], b)


def test_files_from_numpy_savez_and_savez_compressed_load(tmp_path):
    np.savez(tmp_path / "a.npz", w=np.arange(4.0))
    np.savez_compressed(tmp_path / "b.npz", w=np.arange(4.0))
    for name in ("a.npz", "b.npz"):
        assert checkpoint.load(tmp_path / name)["w"].tolist() == [0, 1, 2, 3]


# -- atomic writes: temporaries, modes, read-only files, symlinks, missing directories --------


def test_stale_temporaries_of_the_same_target_are_removed_on_the_next_save(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()   # a pid now unused
    stale = [tmp_path / f".m.npz.{dead}-0a1b2c3d.tmp", tmp_path / ".m.npz.cl9hdphv.tmp"]
    live = tmp_path / f".m.npz.{os.getppid()}-0a1b2c3d.tmp"       # a running process's save
    other = tmp_path / f".other.npz.{dead}-0a1b2c3d.tmp"          # another target's
    for p in [*stale, live, other]:
        p.write_bytes(b"x" * 100)
    checkpoint.save({"w": np.zeros(2)}, tmp_path / "m.npz")
    assert not any(p.exists() for p in stale)
    assert live.exists() and other.exists()


def test_a_save_killed_by_sigkill_leaves_a_temporary_that_the_next_save_removes(tmp_path):
    code = textwrap.dedent(f"""
        import os, signal, numpy as np
        from autograd_lite import checkpoint
        def write_and_die(f, *a, **k):
            f.write(b"partial")
            os.kill(os.getpid(), signal.SIGKILL)
        np.lib.format.write_array = write_and_die
        checkpoint.save({{"w": np.zeros(3)}}, {str(tmp_path / "m.npz")!r})
    """)
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT)
    assert r.returncode == -signal.SIGKILL
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    checkpoint.save({"w": np.ones(3)}, tmp_path / "m.npz")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npz"]


def test_sigterm_during_a_save_removes_the_temporary_and_terminates(tmp_path):
    code = textwrap.dedent(f"""
        import os, signal, numpy as np
        from autograd_lite import checkpoint
        def write_and_get_terminated(f, *a, **k):
            f.write(b"partial")
            os.kill(os.getpid(), signal.SIGTERM)
            f.write(b"more")
        np.lib.format.write_array = write_and_get_terminated
        checkpoint.save({{"w": np.zeros(3)}}, {str(tmp_path / "m.npz")!r})
        print("not reached")
    """)
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == -signal.SIGTERM, r.stderr
    assert "not reached" not in r.stdout
    assert list(tmp_path.iterdir()) == []


def test_resaving_keeps_the_existing_file_mode(tmp_path):
    path = checkpoint.save({"w": np.zeros(2)}, tmp_path / "m.npz")
    os.chmod(path, 0o600)
    checkpoint.save({"w": np.ones(2)}, path)
    assert _mode(path) == 0o600
    os.chmod(path, 0o640)
    checkpoint.save({"w": np.ones(2)}, path)
    assert _mode(path) == 0o640


def test_a_new_checkpoint_gets_a_normal_file_mode(tmp_path):
    umask = os.umask(0)
    os.umask(umask)
    path = checkpoint.save({"w": np.zeros(2)}, tmp_path / "m.npz")
    assert _mode(path) == 0o666 & ~umask


def test_a_read_only_checkpoint_is_not_replaced(tmp_path):
    path = checkpoint.save({"w": np.zeros(2)}, tmp_path / "m.npz")
    before = path.read_bytes()
    os.chmod(path, 0o444)
    with pytest.raises(PermissionError, match=r"m\.npz' is read-only; refusing to replace it"):
        checkpoint.save({"w": np.ones(2)}, path)
    assert path.read_bytes() == before and sorted(os.listdir(tmp_path)) == ["m.npz"]


def test_saving_through_a_symlink_writes_its_target(tmp_path):
    real = tmp_path / "store" / "real.npz"
    real.parent.mkdir()
    checkpoint.save({"w": np.zeros(2)}, real)
    os.chmod(real, 0o600)
    link = tmp_path / "latest.npz"
    link.symlink_to(real)
    assert checkpoint.save({"w": np.ones(2)}, link) == link
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert checkpoint.load(real)["w"].tolist() == [1, 1] and _mode(real) == 0o600
    dangling = tmp_path / "new.npz"
    dangling.symlink_to(tmp_path / "store" / "fresh.npz")
    checkpoint.save({"w": np.ones(1)}, dangling)
    assert dangling.is_symlink() and (tmp_path / "store" / "fresh.npz").is_file()


def test_saving_into_a_missing_directory_names_the_users_path(tmp_path):
    target = tmp_path / "nope" / "m.npz"
    with pytest.raises(FileNotFoundError) as e:
        checkpoint.save({"w": np.zeros(2)}, target)
    assert str(target) in str(e.value) and ".tmp" not in str(e.value)


def test_saving_over_a_directory_or_a_device_is_refused(tmp_path):
    with pytest.raises(IsADirectoryError, match="is a directory"):
        checkpoint.save({"w": np.zeros(2)}, tmp_path)
    with pytest.raises(OSError, match="not a regular file"):
        checkpoint.save({"w": np.zeros(2)}, "/dev/full")


def test_a_failed_write_names_the_users_path_and_leaves_nothing(tmp_path, monkeypatch):
    def full(f, *a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np.lib.format, "write_array", full)
    with pytest.raises(OSError, match=r"could not write '.*m\.npz': No space left") as e:
        checkpoint.save({"w": np.zeros(2)}, tmp_path / "m.npz")
    assert ".tmp" not in str(e.value)
    assert list(tmp_path.iterdir()) == []


# -- load: bad files ---------------------------------------------------------------------------


def _npz_with_member(path: Path, member: bytes, name: str = "w.npy") -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(name, member)
    return path


BAD_FILES = {
    "empty": (lambda p: p.write_bytes(b""), "is empty"),
    "npy": (lambda p: np.save(open(p, "wb"), np.zeros(3)), "single .npy array"),
    "text": (lambda p: p.write_text("hello, I am text\n"), "not a zip archive"),
    "truncated": (lambda p: p.write_bytes(_saved_bytes()[:40]), "corrupt"),
    "huge header": (lambda p: _npz_with_member(p, b"\x93NUMPY\x02\x00" + struct.pack("<I", 2**31)
                                               + b"{"), "corrupt: key 'w'"),
    "huge shape": (lambda p: _npz_with_member(
        p, _npy_header("{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000,), }")),
        r"declares shape \(1000000000000,\) float64 \(7450\.6 GiB\) but holds 0 bytes"),
    "object": (lambda p: _npz_with_member(
        p, _npy_header("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }") + b"x"),
        "pickled object array"),
    "not an array": (lambda p: _npz_with_member(p, b"hi", name="readme.txt"), "not an array"),
}


def _npy_header(d: str) -> bytes:
    header = d.encode() + b" " * (63 - len(d) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header


def _saved_bytes() -> bytes:
    import io
    f = io.BytesIO()
    checkpoint._write_npz(f, {"w": np.arange(100.0)})
    return f.getvalue()


@pytest.mark.parametrize("kind", list(BAD_FILES))
def test_bad_files_give_one_clear_error_naming_the_file(tmp_path, kind):
    make, message = BAD_FILES[kind]
    path = tmp_path / "model.npz"
    make(path)
    with pytest.raises(CheckpointError, match=message) as e:
        checkpoint.load(path)
    assert str(path) in str(e.value)
    assert isinstance(e.value, ValueError)


def test_every_flipped_byte_is_caught(tmp_path):
    good = _saved_bytes()
    caught = 0
    for i in range(0, len(good), 7):
        bad = bytearray(good)
        bad[i] ^= 0xFF
        path = tmp_path / "flip.npz"
        path.write_bytes(bytes(bad))
        try:
            out = checkpoint.load(path)
        except CheckpointError as e:
            assert "flip.npz" in str(e)
            caught += 1
        else:   # a flip in an unchecked zip field may leave the data intact
            np.testing.assert_array_equal(out["w"], np.arange(100.0))
    assert caught > len(good) // 7 // 2


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file: .*gone.npz"):
        checkpoint.load(tmp_path / "gone.npz")
    with pytest.raises(IsADirectoryError, match="is a directory"):
        checkpoint.load(tmp_path)


def _bomb(path: Path, nbytes: int) -> Path:
    """A real zip bomb: ``nbytes`` of zeros as one float64 array, deflated."""
    header = _npy_header(f"{{'descr': '<f8', 'fortran_order': False, 'shape': ({nbytes // 8},), }}")
    chunk = bytes(1 << 22)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open("w.npy", "w", force_zip64=True) as m:
            m.write(header)
            for _ in range(nbytes // len(chunk)):
                m.write(chunk)
    return path


def test_a_zip_bomb_is_refused_before_it_is_inflated(tmp_path, monkeypatch):
    path = _bomb(tmp_path / "bomb.npz", 64 * 2**20)
    assert path.stat().st_size < 100 * 2**10              # 64 MiB of arrays in < 100 KiB
    monkeypatch.setattr(checkpoint, "MIN_LIMIT", 16 * 2**20)   # the rule, at a smaller scale
    with pytest.raises(CheckpointError, match=r"declares 64\.0 MiB of arrays in a file of "
                                              r".* KiB, more than the limit of 16\.0 MiB"):
        checkpoint.load(path)
    assert checkpoint.load(path, max_bytes=2**27)["w"].shape == (2**23,)   # when allowed
    small = _npz_with_member(tmp_path / "s.npz", _npy_header(
        "{'descr': '<f8', 'fortran_order': False, 'shape': (1000,), }") + bytes(8000))
    with pytest.raises(CheckpointError, match=r"limit of 3\.9 KiB"):
        checkpoint.load(small, max_bytes=4000)
    assert checkpoint.load(small)["w"].shape == (1000,)


@pytest.mark.skipif(not os.environ.get("AUTOGRAD_LITE_THOROUGH"), reason="builds a 2 GiB bomb")
def test_a_2_gib_zip_bomb_of_2_mb_is_refused_by_default(tmp_path):
    path = _bomb(tmp_path / "bomb.npz", 2**31)
    assert path.stat().st_size < 3 * 2**20
    with pytest.raises(CheckpointError, match=r"declares 2\.0 GiB .* limit of 1\.0 GiB"):
        checkpoint.load(path)


# -- optimizers --------------------------------------------------------------------------------


def _steps(model, opt, n, seed):
    rng = np.random.default_rng(seed)
    for _ in range(n):
        x = rng.standard_normal((8, 3))
        loss = (model(x) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()


MAKERS = {
    "sgd": lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3),
    "adam": lambda ps: optim.Adam(ps, lr=1e-2, betas=(0.8, 0.99), weight_decay=1e-3),
    "adamw": lambda ps: optim.AdamW(ps, lr=1e-2),
}


@pytest.mark.parametrize("name", list(MAKERS))
def test_optimizer_state_round_trips_through_a_file_and_resumes_bit_for_bit(tmp_path, name):
    make = MAKERS[name]
    ref = nn.MLP([3, 5, 2], dtype=np.float64, rng=0)
    ref_opt = make(ref.parameters())
    _steps(ref, ref_opt, 10, seed=1)
    _steps(ref, ref_opt, 10, seed=2)

    first = nn.MLP([3, 5, 2], dtype=np.float64, rng=0)
    opt = make(first.parameters())
    _steps(first, opt, 10, seed=1)
    checkpoint.save(first, tmp_path / "model.npz")
    checkpoint.save(opt, tmp_path / "optimizer.npz")

    resumed = nn.MLP([3, 5, 2], dtype=np.float64, rng=7)
    checkpoint.load(tmp_path / "model.npz", resumed)
    opt2 = make(resumed.parameters())
    opt2.lr = 123.0                                       # restored from the file
    checkpoint.load(tmp_path / "optimizer.npz", opt2)
    assert opt2.lr == ref_opt.lr
    _steps(resumed, opt2, 10, seed=2)
    for (k, a), b in zip(ref.state_dict().items(), resumed.state_dict().values()):
        assert a.tobytes() == b.tobytes(), k


def test_optimizer_state_dict_layout_and_errors():
    model = nn.MLP([3, 2], rng=0)
    opt = optim.Adam(model.parameters(), lr=1e-3)
    _steps(model, opt, 1, seed=0)
    sd = opt.state_dict()
    assert {"hyper.lr", "hyper.betas", "hyper.eps", "hyper.weight_decay", "state.0.step",
            "state.0.m", "state.1.v"} <= set(sd)
    assert sd["state.0.step"] == 1 and sd["hyper.betas"].tolist() == [0.9, 0.999]
    sd["state.0.m"][...] = 5                              # a copy, not the live state
    assert not np.any(opt.state[0]["m"] == 5)
    sgd = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    with pytest.raises(KeyError, match=r"missing keys \['hyper.dampening', 'hyper.momentum'"
                                       r".*another optimizer"):
        sgd.load_state_dict(sd)
    bad = opt.state_dict()
    bad["state.0.m"] = np.zeros((7,), np.float32)
    with pytest.raises(ValueError, match=r"state.0.m has shape \(7,\)"):
        opt.load_state_dict(bad)
    bad = opt.state_dict()
    bad["state.9.m"] = np.zeros(2)
    with pytest.raises(KeyError, match="state.9.m"):
        opt.load_state_dict(bad)
    with pytest.raises(TypeError, match="expected a mapping"):
        opt.load_state_dict([1, 2])
