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
