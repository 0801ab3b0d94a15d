"""Injected faults: a disk that fills up (ENOSPC from os.write) while training, sampling and writing."""

from __future__ import annotations

import errno

import pytest

from gmeval.errors import StorageError
from gmeval.utils.io import atomic_write_set, atomic_write_text

from .conftest import TRAIN, assert_one_line_error, run_cli, snapshot


def test_checkpoint_save_on_a_full_disk_keeps_the_previous_checkpoint(small_run, capsys, enospc):
    out, data = small_run
    before = (out / "checkpoint.pt").read_bytes()
    enospc(lambda head: head.startswith(b"PK\x03\x04"))  # torch's zip archive: the checkpoint
    rc, _, err = run_cli(capsys, *TRAIN, "--data", data, "--out", out, "--resume", "--steps", 4, "--checkpoint-every", 1)
    assert_one_line_error(rc, err, str(out / "checkpoint.pt"), "no space left on device")
    assert (out / "checkpoint.pt").read_bytes() == before
    assert not list(out.glob(".*.tmp"))


def test_write_set_is_all_or_nothing(tmp_path, enospc):
    a, b = tmp_path / "a.json", tmp_path / "b.html"
    atomic_write_set({a: "old a", b: "old b"})
    enospc(lambda head: head.startswith(b"new b"))
    with pytest.raises(StorageError) as exc:
        atomic_write_set({a: "new a", b: "new b"})
    assert exc.value.errno == errno.ENOSPC and str(exc.value).startswith(str(b))
    assert (a.read_text(), b.read_text()) == ("old a", "old b")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "b.html"]


def test_storage_error_names_the_target_not_the_temp_file(tmp_path, enospc):
    enospc()
    with pytest.raises(StorageError, match=f"^{tmp_path / 'x.txt'}: no space left on device$"):
        atomic_write_text(tmp_path / "x.txt", "hello")
    assert snapshot(tmp_path) == {}


def test_permission_denied_while_writing_is_one_line(small_run, tmp_path, capsys, enospc):
    """EACCES injected (root ignores real file modes; test_06_permission_denied_... covers a real one)."""
    out, _ = small_run
    enospc(code=errno.EACCES)
    rc, _, err = run_cli(capsys, "sample", out / "checkpoint.pt", "-n", 2, "-o", tmp_path / "s.npz")
    assert_one_line_error(rc, err, str(tmp_path / "s.npz"), "permission denied")
    assert not (tmp_path / "s.npz").exists()
