"""Shared helpers for the fault and hostile-input tests: in-process CLI runs and folder snapshots."""

from __future__ import annotations

import errno
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest

from gmeval.cli import main

try:  # hypothesis caches data in ./.hypothesis when its tests are collected: keep the checkout clean
    from hypothesis.configuration import set_hypothesis_home_dir

    set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "gmeval-tests-hypothesis")
except ImportError:  # the property tests skip themselves
    pass


def run_cli(capsys, *argv, record_warnings: bool = True) -> tuple[int, str, str]:
    """Run `gmeval ARGV` in this process; returns (exit code, stdout, stderr). A traceback would raise here.

    With `record_warnings`, warnings are filtered as in a fresh `python -m gmeval` process (Python's default
    filters) and appended to stderr as the CLI prints them (one line each), so they count as output lines."""
    capsys.readouterr()
    with warnings.catch_warnings(record=True) as rec:
        if record_warnings:
            warnings.resetwarnings()
            warnings.simplefilter("default")
            for cat in (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning):
                warnings.simplefilter("ignore", cat)
        else:
            warnings.simplefilter("always")
        try:
            rc = main([str(a) for a in argv])
        except SystemExit as exc:  # argparse usage errors
            rc = exc.code
    out, err = capsys.readouterr()
    err += "".join(f"gmeval: warning: {w.message}\n" for w in rec)
    return rc, out, err


def assert_one_line_error(rc: int, err: str, *needles: str) -> None:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert rc == 2, err
    assert len(lines) == 1, err
    assert "Traceback" not in err and "error:" in lines[0], err
    for n in needles:
        assert n in lines[0], (n, err)


def snapshot(folder: Path) -> dict:
    """Every file under `folder`: relative path -> (bytes, mtime_ns)."""
    return {str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.fixture
def enospc(monkeypatch):
    """Make os.write fail with ENOSPC (or `code`) for the writes `when(data)` selects (default: every write)."""
    real = os.write

    def install(when=lambda data: True, code=errno.ENOSPC):
        def fake(fd, data):
            if when(bytes(data[:64])) and len(data) > 0:
                raise OSError(code, os.strerror(code))
            return real(fd, data)

        monkeypatch.setattr(os, "write", fake)

    return install


def tiny_images(path: Path, seed: int, n: int = 64, side: int = 8) -> Path:
    rng = np.random.default_rng(seed)
    np.save(path, rng.integers(0, 256, (n, 1, side, side), dtype=np.uint8))
    return path


TRAIN = ("train", "mlp-gan", "--steps", 2, "--batch-size", 16, "--no-progress", "--sample-every", 0,
         "--model-opt", "latent_dim=4", "--model-opt", "hidden=16")


@pytest.fixture
def small_run(tmp_path, capsys):
    """A 2-step MLP GAN run on 64 random 8x8 images: (run folder, data file)."""
    data = tiny_images(tmp_path / "data.npy", 0)
    out = tmp_path / "run"
    rc, _, err = run_cli(capsys, *TRAIN, "--data", data, "--out", out)
    assert rc == 0, err
    return out, data
