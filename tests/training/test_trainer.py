"""Tolerances (docs/tolerances.md): torch.equal / exact equalities are B1-B5 (same machine and threads);
`approx`/`allclose` bounds are T1 (float64 formulas) or T3 (float32 across shapes), as each states.
"""

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from gmeval.errors import CheckpointError, InvalidArgumentError, TrainingDivergedError
from gmeval.training.checkpoint import load_model, read_checkpoint
from gmeval.training.config import TrainConfig, parse_stop_condition
from gmeval.training.runlog import read_jsonl
from gmeval.training.trainer import Trainer, train

ROOT = Path(__file__).resolve().parents[2]


def cfg(tmp_path, name="run", **kw):
    base = dict(model="mlp-gan", data="digits:train", out=str(tmp_path / name), steps=30, batch_size=32,
                log_every=10, sample_every=10, checkpoint_every=10, seed=3, grid_size=16)
    base.update(kw)
    return TrainConfig(**base)


def states_equal(a: dict, b: dict) -> bool:
    """Bitwise equality of state dicts: guarantee B1 of docs/tolerances.md (same machine and threads)."""
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_run_folder_contents(tmp_path):
    res = train(cfg(tmp_path), progress=False)
    out = Path(res["run_dir"])
    assert res["steps"] == 30 and res["stopped_by"] == "steps"
    for f in ("checkpoint.pt", "config.json", "log.jsonl", "loss_curves.png", "samples/step_0000010.png", "samples/final.png"):
        assert (out / f).is_file(), f
    recs = read_jsonl(out / "log.jsonl")
    assert [r["step"] for r in recs] == [10, 20, 30]
    for key in ("loss_d", "loss_g", "d_real", "d_fake", "grad_norm_d", "grad_norm_g", "images_per_s"):
        assert all(math.isfinite(r[key]) for r in recs), key
    assert 0 < recs[-1]["d_real"] < 1
    ck = read_checkpoint(out / "checkpoint.pt")
    assert ck["step"] == 30 and set(ck["optimizers"]) == {"d", "g"} and ck["config"]["seed"] == 3


@pytest.mark.parametrize("model,extra", [("mlp-gan", {}), ("mlp-gan", {"loss": "wgan-gp", "d_steps": 2}),
                                         ("cgan", {}), ("vae", {}), ("ae", {})])
def test_same_seed_bitwise_identical(tmp_path, model, extra):
    a = Trainer(cfg(tmp_path, "a", model=model, steps=12, **extra), progress=False)
    a.run()
    b = Trainer(cfg(tmp_path, "b", model=model, steps=12, **extra), progress=False)
    b.run()
    assert states_equal(a.model.state_dict(), b.model.state_dict())
    c = Trainer(cfg(tmp_path, "c", model=model, steps=12, seed=4, **extra), progress=False)
    c.run()
    assert not states_equal(a.model.state_dict(), c.model.state_dict())


@pytest.mark.parametrize("model", ["mlp-gan", "vae", "cgan"])
def test_resume_equals_uninterrupted(tmp_path, model):
    full = Trainer(cfg(tmp_path, "full", model=model, steps=40), progress=False)
    full.run()
    part = Trainer(cfg(tmp_path, "part", model=model, steps=20), progress=False)
    part.run()
    resumed = Trainer(cfg(tmp_path, "part", model=model, steps=40), resume=True, progress=False)
    assert resumed.step == 20
    resumed.run()
    assert states_equal(full.model.state_dict(), resumed.model.state_dict())
    for k in full.objective.optimizers:
        sa, sb = full.objective.optimizers[k].state_dict()["state"], resumed.objective.optimizers[k].state_dict()["state"]
        assert all(torch.equal(sa[i]["exp_avg"], sb[i]["exp_avg"]) for i in sa)  # B1
    steps = [r["step"] for r in read_jsonl(tmp_path / "part" / "log.jsonl") if "step" in r and "event" not in r]
    assert steps == sorted(steps) and len(steps) == len(set(steps))  # log continued without duplicates


def test_resume_rejects_changed_config(tmp_path):
    train(cfg(tmp_path, steps=10), progress=False)
    with pytest.raises(CheckpointError, match="lr"):
        Trainer(cfg(tmp_path, steps=20, lr=1e-3), resume=True, progress=False)
    with pytest.raises(CheckpointError, match="not found"):
        Trainer(cfg(tmp_path, "nothing"), resume=True, progress=False)


def test_divergence_stops_and_keeps_last_good_checkpoint(tmp_path, monkeypatch):
    t = Trainer(cfg(tmp_path, steps=30, checkpoint_every=5), progress=False)
    real_step = t.objective.step

    def step(next_batch, gen):
        out = real_step(next_batch, gen)
        if t.step + 1 == 13:
            out["loss_g"] = float("nan")
        return out

    monkeypatch.setattr(t.objective, "step", step)
    with pytest.raises(TrainingDivergedError, match=r"loss_g became non-finite at step 13.*\(step 10\)"):
        t.run()
    ck = read_checkpoint(tmp_path / "run" / "checkpoint.pt")
    assert ck["step"] == 10
    assert read_jsonl(tmp_path / "run" / "log.jsonl")[-1]["event"] == "diverged"


def test_stop_when_metric_target(tmp_path):
    calls = []

    def hook(trainer):
        calls.append(trainer.step)
        return {"toy": 100.0 / trainer.step}

    hook.keys = ("toy",)
    res = Trainer(cfg(tmp_path, steps=100, eval_every=5, stop_when=["toy<=5"]), hooks=[hook], progress=False).run()
    assert res["stopped_by"] == "stop_when" and res["steps"] == 20 and calls[:4] == [5, 10, 15, 20]
    assert any(r.get("toy") == 5.0 for r in read_jsonl(tmp_path / "run" / "log.jsonl"))
    with pytest.raises(InvalidArgumentError, match="stop_when"):
        parse_stop_condition("fid < 3")


def test_invalid_config(tmp_path):
    with pytest.raises(InvalidArgumentError, match="batch_size"):
        Trainer(cfg(tmp_path, batch_size=5000), progress=False)
    with pytest.raises(InvalidArgumentError, match="labelled source"):
        Trainer(cfg(tmp_path, model="cgan", data=str(_npz(tmp_path))), progress=False)


def _npz(tmp_path):
    p = tmp_path / "x.npz"
    np.savez(p, images=np.zeros((40, 1, 8, 8), np.uint8))
    return p


def test_checkpoint_survives_sigkill_mid_save(tmp_path):
    """Kill a training process that checkpoints every step; the last checkpoint stays readable and resumable."""
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "gmeval", "train", "mlp-gan", "--dataset", "digits:train", "--steps", "100000",
           "--batch-size", "16", "--checkpoint-every", "1", "--sample-every", "0", "--log-every", "1",
           "--out", str(out), "--no-progress", "--model-opt", "hidden=512"]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    for delay in (3.0, 3.37, 3.71):  # several kill points: some land inside torch.save
        proc = subprocess.Popen(cmd + (["--resume"] if (out / "checkpoint.pt").exists() else []), env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        t0 = time.time()
        while not (out / "checkpoint.pt").exists() and time.time() - t0 < 60:
            time.sleep(0.05)
        time.sleep(delay - 3.0 + 0.5)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        ck = read_checkpoint(out / "checkpoint.pt")
        assert ck["step"] >= 1
        load_model(out / "checkpoint.pt")
    res = Trainer(TrainConfig(**{**read_checkpoint(out / "checkpoint.pt")["config"], "steps": ck["step"] + 2,
                                 "out": str(out)}), resume=True, progress=False).run()
    assert res["steps"] == ck["step"] + 2
    assert not list(out.glob(".*.tmp"))  # stale temp files of the killed save were cleaned
