"""Data-parallel training under torchrun (2 CPU processes, gloo): checkpoint, resume, equality with one process.

Tolerances (docs/tolerances.md): torch.equal / exact equalities are B1-B5 (same machine and threads);
`approx`/`allclose` bounds are T1 (float64 formulas) or T3 (float32 across shapes), as each states.
"""

from __future__ import annotations

import json

import pytest
import torch

from gmeval.training.checkpoint import read_checkpoint
from gmeval.training.config import TrainConfig
from gmeval.training.runlog import read_jsonl
from gmeval.training.trainer import Trainer

from ..tolerances import TRAIN_DDP_ATOL
from ._launch import explain, torchrun, worker

pytestmark = pytest.mark.slow


def _checksum(model) -> float:
    return float(sum(p.detach().double().abs().sum() for p in model.parameters()))


def test_two_process_training_checkpoints_resumes_and_matches_one_process(tmp_path):
    run = tmp_path / "gan"
    # launch 1: 4 steps through the CLI, checkpoint every 2
    proc, _ = torchrun(2, ["-m", "gmeval", "train", "mlp-gan", "--data", "digits:train", "--out", str(run), "--steps", "4",
                           "--batch-size", "32", "--checkpoint-every", "2", "--sample-every", "2", "--log-every", "1",
                           "--no-progress", "--json"], timeout=180)
    assert proc.returncode == 0, explain(proc)
    first = json.loads(proc.stdout_text)  # rank 0 alone prints
    assert first["steps"] == 4 and first["distributed"]["world_size"] == 2
    ckpt4 = read_checkpoint(run / "checkpoint.pt")
    assert ckpt4["step"] == 4 and ckpt4["cursor"] == {"epoch": 0, "pos": 128}  # global batches of 32

    # launch 2: resume to 8 steps (with a collective FID hook), then AE / VAE / WGAN-GP / cGAN / DCGAN briefly
    out = tmp_path / "others"
    proc, _ = torchrun(2, [worker("train_worker.py"), str(run), str(out)], timeout=240)
    assert proc.returncode == 0, explain(proc)
    ckpt8 = read_checkpoint(run / "checkpoint.pt")
    assert ckpt8["step"] == 8 and ckpt8["extra"]["stopped_by"] == "steps"
    log = read_jsonl(run / "log.jsonl")
    assert [r["step"] for r in log] == list(range(1, 9))  # one writer: no duplicated records
    assert log[-1]["fid"] > 0 and all(abs(r["loss_d"]) < 1e3 for r in log)
    assert sorted(p.name for p in (run / "samples").glob("*.png")) == [
        "final.png", "step_0000002.png", "step_0000004.png", "step_0000006.png", "step_0000008.png"]

    # the same 8 steps in one process: the global batch and the noise are the same, so the weights agree
    # up to the float rounding of the gradient all-reduce (T7 of docs/tolerances.md: observed ~1e-7)
    ref_dir = tmp_path / "single"
    Trainer(TrainConfig(model="mlp-gan", data="digits:train", out=str(ref_dir), steps=8, batch_size=32, sample_every=0,
                        checkpoint_every=0, log_every=1), progress=False).run()
    ref = read_checkpoint(ref_dir / "checkpoint.pt")
    for k, v in ref["model_state"].items():
        assert torch.allclose(ckpt8["model_state"][k], v, rtol=0, atol=TRAIN_DDP_ATOL), k
    assert torch.equal(ckpt8["rng"]["noise"], ref["rng"]["noise"]) and ckpt8["cursor"] == ref["cursor"]

    # DDP keeps every rank's parameters identical, for every objective
    res = json.loads((out / "result.json").read_text())
    ranks = res["per_rank"]
    for name in ("ae", "vae", "wgan", "cgan", "dcgan"):
        assert ranks[0][name]["checksum"] == ranks[1][name]["checksum"], name
        assert ranks[0][name]["buffers"] == ranks[1][name]["buffers"], name  # batch-norm statistics synchronised
        assert ranks[0][name]["steps"] == 3
        assert all(abs(v) < 1e6 for v in ranks[0][name]["metrics"].values()), name
    assert ranks[0]["dcgan"]["metrics"]["fid"] == ranks[1]["dcgan"]["metrics"]["fid"] > 0  # the hook ran on both
    # the autoencoder draws no noise: 2 processes compute the single-process steps
    ae = Trainer(TrainConfig(model="ae", data="digits:train", out=str(tmp_path / "ae1"), steps=3, batch_size=32,
                             sample_every=0, checkpoint_every=0, log_every=1), progress=False)
    ae.run()
    assert abs(ranks[0]["ae"]["checksum"] - _checksum(ae.model)) <= 1e-6 * _checksum(ae.model)
