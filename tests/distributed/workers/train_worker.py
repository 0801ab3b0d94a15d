"""Run under torchrun: resume a GAN run through the CLI, then train the other model kinds briefly.

usage: train_worker.py GAN_RUN_DIR OUT_DIR
Rank 0 writes OUT_DIR/result.json with every rank's parameter checksums (DDP keeps them equal).
"""

import json
import sys
from pathlib import Path

import torch

from gmeval import distributed as gdist
from gmeval.cli import main
from gmeval.evaluation.hooks import EvaluationHook
from gmeval.training.config import TrainConfig
from gmeval.training.trainer import Trainer

gan_run, out = sys.argv[1], Path(sys.argv[2])
assert gdist.init_distributed()
rank, world = gdist.rank_world()

# 1. resume the GAN written by the first launch, with a periodic (collective) FID hook
code = main(["train", "mlp-gan", "--data", "digits:train", "--out", gan_run, "--steps", "8", "--batch-size", "32",
             "--checkpoint-every", "2", "--sample-every", "2", "--log-every", "1", "--resume", "--eval-every", "4",
             "--eval-metrics", "fid", "--eval-n", "300", "--eval-extractor", "mnist", "--eval-real", "digits:test",
             "--no-progress", "--json"])
assert code == 0, code


def checksum(model):
    return float(sum(p.detach().double().abs().sum() for p in model.parameters()))


def buffer_checksum(model):
    return float(sum(b.detach().double().abs().sum() for b in model.buffers()))


# 2. the other objectives: whole-model DDP (AE, VAE), gradient penalty (wgan-gp), conditional GAN, and a
#    batch-norm DCGAN whose hook must sample with rank 0's running statistics on every rank
sums = {}
for name, model, extra in [("ae", "ae", {}), ("vae", "vae", {}), ("wgan", "mlp-gan", {"loss": "wgan-gp"}),
                           ("cgan", "cgan", {}), ("dcgan", "dcgan", {"eval_every": 3})]:
    cfg = TrainConfig(model=model, data="digits:train", out=str(out / name), steps=3, batch_size=32, sample_every=0,
                      checkpoint_every=0, log_every=1, **extra)
    hooks = [EvaluationHook(["fid"], real="digits:test", n=200, extractor="mnist")] if name == "dcgan" else []
    trainer = Trainer(cfg, hooks=hooks, progress=False)
    res = trainer.run()
    sums[name] = {"checksum": checksum(trainer.model), "buffers": buffer_checksum(trainer.model), "steps": res["steps"],
                  "metrics": res["final_metrics"]}

per_rank = gdist.all_gather_object(sums)
if rank == 0:
    (out / "result.json").write_text(json.dumps({"world": world, "per_rank": per_rank}))
gdist.shutdown()
