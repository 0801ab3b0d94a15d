"""Checkpoint format: older files keep loading (with a warning) and can be upgraded; shipped weights load."""

from __future__ import annotations

import warnings

import pytest
import torch

from gmeval.models import build_model
from gmeval.training.checkpoint import (FORMAT, UnverifiedCheckpointWarning, load_model, payload_sha256,
                                        read_checkpoint, save_checkpoint, upgrade_checkpoint)


def _format1(path, model):
    """What gmeval 0.1 wrote before checksums (format 1): the same dict without sha256/data_fingerprint."""
    torch.save({"format": "gmeval-checkpoint/1", "gmeval_version": "0.1.0", "model_name": model.name,
                "model_config": model.config(), "model_state": model.state_dict(), "optimizers": {}, "rng": {},
                "cursor": {}, "step": 7, "config": {}, "extra": {}}, path)


def test_format_1_loads_with_a_warning_and_upgrades(tmp_path):
    torch.manual_seed(0)
    model = build_model("mlp-gan", image_shape=(1, 8, 8), latent_dim=4, hidden=8)
    old = tmp_path / "old.pt"
    _format1(old, model)
    with pytest.warns(UnverifiedCheckpointWarning, match="upgrade_checkpoint"):
        loaded = load_model(old)
    assert all(torch.equal(a, b) for a, b in zip(loaded.state_dict().values(), model.state_dict().values()))
    upgrade_checkpoint(old)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ck = read_checkpoint(old)
    assert ck["format"] == FORMAT and ck["sha256"] == payload_sha256(ck) and ck["step"] == 7


def test_saves_are_byte_reproducible(tmp_path):
    torch.manual_seed(0)
    model = build_model("mlp-gan", image_shape=(1, 8, 8), latent_dim=4, hidden=8)
    for name in ("a.pt", "b.pt"):
        save_checkpoint(tmp_path / name, model=model, optimizers={}, rng={}, cursor={}, step=1, config={},
                        data_fingerprint="f" * 64)
    assert (tmp_path / "a.pt").read_bytes() == (tmp_path / "b.pt").read_bytes()


def test_shipped_classifier_weights_still_load():
    from gmeval.models.classifier import load_classifier, manifest

    for dataset, entry in manifest().items():
        assert load_classifier(dataset).weights_sha256 == entry["sha256"]


def test_only_plain_data_is_saved(tmp_path):
    """What weights_only loading would refuse is refused at save time, not discovered at resume."""
    import numpy as np

    from gmeval.errors import CheckpointError

    model = build_model("mlp-gan", image_shape=(1, 8, 8), latent_dim=4, hidden=8)
    for bad, name in ((np.int64(3), "numpy.int64"), (np.float64(0.5), "numpy.float64")):
        with pytest.raises(CheckpointError, match=name):
            save_checkpoint(tmp_path / "c.pt", model=model, optimizers={}, rng={}, cursor={"pos": bad}, step=1,
                            config={})
    assert not (tmp_path / "c.pt").exists()
