"""Fixtures shared by the CLI tests."""

import pytest

from gmeval.training.config import TrainConfig
from gmeval.training.trainer import Trainer


@pytest.fixture(scope="session")
def cgan_ckpt(tmp_path_factory):
    """A 5-step cgan checkpoint trained on digits (8x8): a conditional model in a second."""
    out = tmp_path_factory.mktemp("cgan")
    Trainer(TrainConfig(model="cgan", data="digits:train", out=str(out), steps=5, batch_size=16, sample_every=0,
                        checkpoint_every=0), progress=False).run()
    return out / "checkpoint.pt"
