import os

import pytest
import torch

from gmeval.utils.io import atomic_path, atomic_save_torch, atomic_write_text, sha256_file


def test_torch_saves_are_byte_reproducible(tmp_path):
    obj = {"w": torch.arange(10.0), "step": 3}
    atomic_save_torch(obj, tmp_path / "a.pt")
    atomic_save_torch(obj, tmp_path / "b.pt")
    assert sha256_file(tmp_path / "a.pt") == sha256_file(tmp_path / "b.pt")
    assert torch.equal(torch.load(tmp_path / "a.pt")["w"], obj["w"])


def test_failed_write_leaves_old_file_and_no_temp(tmp_path):
    p = tmp_path / "f.txt"
    atomic_write_text(p, "old")
    with pytest.raises(RuntimeError):
        with atomic_path(p) as tmp:
            tmp.write_text("half")
            raise RuntimeError("boom")
    assert p.read_text() == "old" and sorted(os.listdir(tmp_path)) == ["f.txt"]
    assert oct(p.stat().st_mode & 0o777) != oct(0o600)  # ordinary permissions, not mkstemp's 0600
