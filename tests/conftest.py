"""Shared fixtures. Tests never touch the user's real cache: GMEVAL_CACHE points into tmp."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def _data_root() -> Path | None:
    env = os.environ.get("GMEVAL_DATA")
    for cand in ([Path(env)] if env else []) + [SHARED_DATA]:
        if (cand / "mnist" / "t10k-images-idx3-ubyte.gz").is_file():
            return cand
    return None


DATA_ROOT = _data_root()
needs_mnist = pytest.mark.skipif(
    DATA_ROOT is None, reason="MNIST IDX files not found (set GMEVAL_DATA to a folder with mnist/*.gz, e.g. ../shared/data)"
)


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("GMEVAL_CACHE", str(tmp_path_factory.getbasetemp() / "gmeval-cache"))
    monkeypatch.setenv("GMEVAL_OFFLINE", "1")
    if DATA_ROOT is not None:
        monkeypatch.setenv("GMEVAL_DATA", str(DATA_ROOT))


@pytest.fixture(scope="session")
def mnist_root() -> Path:
    if DATA_ROOT is None:
        pytest.skip("MNIST IDX files not found (set GMEVAL_DATA to a folder with mnist/*.gz, e.g. ../shared/data)")
    return DATA_ROOT


def train_tiny(out: Path, model: str = "mlp-gan", **options) -> Path:
    """Train `model` for a few steps on digits (8 x 8) into run folder `out`, in about a second; returns the
    checkpoint. `options` override TrainConfig fields (20 steps of 32 images, no grids, one final checkpoint)."""
    from gmeval.training.config import TrainConfig
    from gmeval.training.trainer import Trainer

    cfg = {"model": model, "data": "digits:train", "out": str(out), "steps": 20, "batch_size": 32, "sample_every": 0,
           "checkpoint_every": 0, "log_every": 10, **options}
    Trainer(TrainConfig(**cfg), progress=False).run()
    return out / "checkpoint.pt"


@pytest.fixture(scope="session")
def gan_ckpt(tmp_path_factory) -> Path:
    """A 20-step MLP GAN checkpoint trained on digits (read-only: copy it to write a run folder beside it)."""
    return train_tiny(tmp_path_factory.mktemp("gan"))


@pytest.fixture(scope="session")
def cgan_ckpt(tmp_path_factory) -> Path:
    """A 5-step cgan checkpoint trained on digits: a conditional model in a second (read-only)."""
    return train_tiny(tmp_path_factory.mktemp("cgan"), "cgan", steps=5, batch_size=16)
