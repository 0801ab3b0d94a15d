"""The training loop: one screen of logic, every knob in TrainConfig.

A run folder holds:
    config.json        the TrainConfig
    checkpoint.pt      latest good checkpoint (atomic); resume with resume=True
    log.jsonl          one record per logged step (losses, D outputs, grad norms, images/s, hook metrics)
    samples/step_XXXXXXX.png  sample grid of a FIXED latent batch every `sample_every` steps
    loss_curves.png    at the end
A folder that already holds a run (config.json, checkpoint.pt or log.jsonl) is refused unless
`resume=True` (continue it) or `overwrite=True` (delete that run's files first). Resume checks the
config, the checkpoint's SHA-256 and the training data's content fingerprint (the one the feature
cache keys on); a missing or deleted log.jsonl is reported (warning + a `log_lost` record).
Determinism: the same seed and config give bitwise-identical weights on CPU (same torch, same
thread count). Every random number comes from generators derived from `seed`: model init, the
data order of each epoch, and one noise generator whose state is checkpointed; an interrupted
and resumed run therefore ends with the same weights as an uninterrupted one.

Under torchrun (W processes) training is data-parallel: every rank builds the same model, data
permutation and noise generator; rank r takes rows r, r + W, ... of each global batch of
`batch_size` (a multiple of W), the networks run under DistributedDataParallel, and logged
metrics are averaged over ranks. Rank 0 alone writes config.json, log.jsonl, sample grids,
checkpoints and plots; the others wait at a barrier after each checkpoint. A checkpoint holds
no rank-specific state, so a run resumes with any number of processes.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from tqdm import tqdm

from .. import distributed as gdist
from ..data import ImageData, load_data_source
from ..errors import CheckpointError, InvalidArgumentError, RunFolderError, TrainingDivergedError
from ..models import build_model
from ..utils.imageio import save_grid
from ..utils.io import atomic_write_text, storage_errors
from ..utils.seeding import derive_seed
from .config import RESUMABLE_OVERRIDES, TrainConfig, parse_stop_condition
from .checkpoint import clean_stale_temp, read_checkpoint, save_checkpoint
from .objectives import OBJECTIVES
from .runlog import RUN_FILES, JsonlLog, plot_curves, read_jsonl, remove_run_files


class _NoLog:
    """Stands in for the JSONL log on ranks other than 0 (they write nothing)."""

    def write(self, record: dict) -> None:
        pass


class Trainer:
    """Build with a config (and optional hooks), then `run()`.

    A hook is a callable `hook(trainer) -> dict[str, float]` called every `eval_every` steps and at the
    end; its metrics go to the log and can be targets of `stop_when` (the evaluation layer plugs FID here).
    """

    def __init__(self, cfg: TrainConfig, hooks: list[Callable] | None = None, resume: bool = False,
                 data: ImageData | None = None, progress: bool = True, overwrite: bool = False):
        self.cfg, self.hooks = cfg, list(hooks or [])
        if gdist.launched_by_torchrun():
            gdist.init_distributed()
        self.rank, self.world = gdist.rank_world()
        self.is_main = self.rank == 0  # rank 0 writes every file
        self.device = gdist.device()
        self.progress = progress and self.is_main
        self.out = Path(cfg.out)
        self.ckpt_path = self.out / "checkpoint.pt"
        self.stops = [parse_stop_condition(s) for s in cfg.stop_when]
        self.resume, self.overwrite = resume, overwrite
        ckpt = None
        if resume:
            ckpt = read_checkpoint(self.ckpt_path)
            self._check_resume_config(ckpt["config"])
        else:
            self._check_new_run_folder()
        self.data = data if data is not None else load_data_source(cfg.data, root=cfg.data_root)
        self.data_fingerprint = self.data.fingerprint()  # the feature cache's content key
        if ckpt is not None:
            self._check_resume_data(ckpt.get("data_fingerprint"))
        self.images = torch.from_numpy(self.data.images)
        self.labels = torch.from_numpy(self.data.labels) if self.data.labels is not None else None
        opts = dict(cfg.model_options)
        opts.setdefault("image_shape", list(self.data.shape))
        with torch.random.fork_rng():  # init from a derived seed, global RNG left untouched
            torch.manual_seed(derive_seed(cfg.seed, "init"))
            self.model = build_model(cfg.model, **opts)
        if self.world > 1:  # before the optimizers' states are loaded, so they land on the same device
            self.model.to(self.device)
        if self.model.conditional and self.labels is None:
            raise InvalidArgumentError("data", f"a labelled source for the conditional model {cfg.model!r}", cfg.data)
        self.objective = OBJECTIVES[self.model.kind](self.model, cfg)
        per_step = self.objective.batches_per_step * cfg.batch_size
        if cfg.steps is None and cfg.epochs is None:
            raise InvalidArgumentError("steps/epochs", "a number of steps or epochs", None)
        self.total_steps = int(cfg.steps) if cfg.steps is not None else math.ceil(cfg.epochs * len(self.images) / per_step)
        if cfg.batch_size < 1 or cfg.batch_size > len(self.images):
            raise InvalidArgumentError("batch_size", f"an integer in [1, {len(self.images)}] (the data size)", cfg.batch_size)
        if cfg.batch_size % self.world:
            raise InvalidArgumentError("batch_size", f"a multiple of the number of processes ({self.world}): each rank "
                                       "takes an equal share of every global batch", cfg.batch_size)
        self.noise = torch.Generator().manual_seed(derive_seed(cfg.seed, "noise"))
        self.cursor = {"epoch": 0, "pos": 0}
        self.step = 0
        self.saved_step: int | None = None  # step of the last checkpoint this run wrote or resumed from
        self._perm_epoch, self._perm = -1, None
        if ckpt is not None:
            self.model.load_state_dict(ckpt["model_state"])
            for k, o in self.objective.optimizers.items():
                o.load_state_dict(ckpt["optimizers"][k])
            self.noise.set_state(ckpt["rng"]["noise"])
            self.cursor = dict(ckpt["cursor"])
            self.step = int(ckpt["step"])
            self.saved_step = self.step
        if self.world > 1:
            self.objective.distribute(self.rank, self.world, self.device)
        # fixed latent batch for sample grids (frame-to-frame comparable)
        fixed = torch.Generator().manual_seed(derive_seed(cfg.seed, "fixed-grid"))
        self.fixed_z = self.model.sample_latent(cfg.grid_size, fixed) if self.model.kind != "autoencoder" else None
        self.fixed_real = self.images[torch.randperm(len(self.images), generator=fixed)[: cfg.grid_size]]

    def _check_new_run_folder(self) -> None:
        existing = [f for f in RUN_FILES if (self.out / f).exists()]
        if existing and not self.overwrite:
            raise RunFolderError(f"{self.out}: already holds a run ({', '.join(existing)}); pass --resume to continue "
                                 "it, --overwrite to replace it, or choose another --out")
        gdist.barrier("run folder checked")  # every rank looked before rank 0 writes anything

    def _check_resume_data(self, saved: str | None) -> None:
        if saved is None:  # format-1 checkpoint: no fingerprint recorded
            return
        if saved != self.data_fingerprint:
            raise CheckpointError(f"{self.ckpt_path}: cannot resume, the training data {self.cfg.data!r} changed since "
                                  f"the checkpoint (content fingerprint {saved[:16]}... then, "
                                  f"{self.data_fingerprint[:16]}... now)")

    def _check_resume_config(self, saved: dict) -> None:
        now = self.cfg.to_json()
        diff = {k: (saved.get(k), now[k]) for k in now if k not in RESUMABLE_OVERRIDES and saved.get(k) != now[k]}
        if diff:
            raise CheckpointError(f"{self.ckpt_path}: cannot resume, the config differs in {diff} (checkpoint, now); "
                                  f"only {sorted(RESUMABLE_OVERRIDES)} may change on resume")

    # -- data -------------------------------------------------------------------------------------
    def next_batch(self):
        """The next batch in a per-epoch permutation derived from (seed, epoch); drops the ragged tail."""
        bs, n = self.cfg.batch_size, len(self.images)
        if self.cursor["pos"] + bs > n:
            self.cursor = {"epoch": self.cursor["epoch"] + 1, "pos": 0}
        if self._perm_epoch != self.cursor["epoch"]:
            g = torch.Generator().manual_seed(derive_seed(self.cfg.seed, "data", self.cursor["epoch"]))
            self._perm, self._perm_epoch = torch.randperm(n, generator=g), self.cursor["epoch"]
        idx = self._perm[self.cursor["pos"]: self.cursor["pos"] + bs]
        self.cursor["pos"] += bs
        if self.world > 1:  # this rank's rows of the global batch (the cursor stays global)
            idx = idx[self.rank::self.world]
            x = self.model.to_model_range(self.images[idx]).to(self.device)
            return x, (self.labels[idx].to(self.device) if self.labels is not None else None)
        x = self.model.to_model_range(self.images[idx])
        return x, (self.labels[idx] if self.labels is not None else None)

    # -- outputs ----------------------------------------------------------------------------------
    @torch.no_grad()
    def preview(self) -> np.ndarray:
        """uint8 images for the grid: decoded fixed latents, or (autoencoders) real/reconstruction pairs."""
        m = self.model
        was = m.training
        m.eval()
        try:
            dev = next(m.parameters()).device
            if m.kind == "autoencoder":
                real = self.fixed_real[: self.cfg.grid_size // 2]
                rec = m.to_uint8(m.reconstruct(m.to_model_range(real).to(dev))).cpu()
                out = torch.stack([real, rec], 1).flatten(0, 1)
            else:
                y = m.default_labels(len(self.fixed_z)).to(dev) if m.conditional else None
                out = m.to_uint8(m.decode(self.fixed_z.to(dev), y)).cpu()
        finally:
            m.train(was)
        return out.numpy()

    def save(self, extra: dict | None = None) -> None:
        """Write the checkpoint (rank 0 only; under torchrun every rank then meets at a barrier)."""
        if self.is_main:
            self._write_checkpoint(extra)
        gdist.barrier("checkpoint written by rank 0")
        self.saved_step = self.step

    def _write_checkpoint(self, extra: dict | None = None) -> None:
        save_checkpoint(self.ckpt_path, model=self.model, optimizers=self.objective.optimizers,
                        rng={"noise": self.noise.get_state()}, cursor=self.cursor, step=self.step,
                        config=self.cfg.to_json(), extra=extra, data_fingerprint=self.data_fingerprint)

    def _sync_buffers(self) -> None:
        """Give every rank rank 0's buffers (batch-norm running statistics drift apart between the
        DDP broadcasts), so hooks sample, and autoencoders fit their prior, with the checkpointed model."""
        if self.world > 1:
            gdist.broadcast_tensors(list(self.model.buffers()), 0, "model buffers")

    def _run_hooks(self) -> dict:
        self._sync_buffers()
        metrics = {}
        for hook in self.hooks:
            metrics.update(hook(self) or {})
        return metrics

    def _stop_reached(self, metrics: dict) -> bool:
        if not self.stops:
            return False
        for key, op, target in self.stops:
            v = metrics.get(key)
            if v is None or not (v <= target if op == "<=" else v >= target):
                return False
        return True

    # -- loop -------------------------------------------------------------------------------------
    def run(self) -> dict:
        cfg = self.cfg
        if self.is_main:
            with storage_errors(self.out):
                self.out.mkdir(parents=True, exist_ok=True)
            clean_stale_temp(self.out)
            if self.overwrite and not self.resume:
                remove_run_files(self.out)
            atomic_write_text(self.out / "config.json", json.dumps(cfg.to_json(), indent=2, sort_keys=True) + "\n")
            log = JsonlLog(self.out / "log.jsonl", truncate_after_step=self.step, resume=self.resume)
        else:
            log = _NoLog()
        self.model.train()
        bar = tqdm(total=self.total_steps, initial=self.step, desc=f"train {cfg.model}", disable=not self.progress,
                   dynamic_ncols=True)
        t_last, n_last = time.perf_counter(), 0
        t_start = time.perf_counter()
        stopped_by = "steps"
        last_metrics: dict = {}
        while self.step < self.total_steps:
            metrics = self.objective.step(self.next_batch, self.noise)
            if self.world > 1:  # the global batch's values (every rank holds an equal share)
                metrics = gdist.all_reduce_mean(metrics, "training metrics")
            bad = [k for k, v in metrics.items() if not math.isfinite(v)]
            if bad:
                log.write({"event": "diverged", "step": self.step + 1, **metrics})
                bar.close()
                raise TrainingDivergedError(
                    f"{', '.join(bad)} became non-finite at step {self.step + 1}; training stopped. The last good "
                    f"checkpoint is {f'{self.ckpt_path} (step {self.saved_step})' if self.saved_step is not None else 'none (no checkpoint written yet)'}. "
                    "Try a lower learning rate or another loss.")
            self.step += 1
            n_last += self.objective.batches_per_step * cfg.batch_size
            hook_metrics = {}
            if self.hooks and cfg.eval_every and self.step % cfg.eval_every == 0:
                hook_metrics = self._run_hooks()
            if self.step % cfg.log_every == 0 or hook_metrics or self.step == self.total_steps:
                now = time.perf_counter()
                rec = {"step": self.step, "epoch": self.cursor["epoch"], "images_per_s": n_last / max(now - t_last, 1e-9),
                       **metrics, **hook_metrics}
                log.write(rec)
                t_last, n_last = now, 0
                bar.set_postfix({k: f"{v:.3f}" for k, v in metrics.items() if k.startswith(("loss", "d_"))}, refresh=False)
            last_metrics = {**metrics, **hook_metrics}
            if cfg.sample_every and self.step % cfg.sample_every == 0 and self.is_main:
                save_grid(self.preview(), self.out / "samples" / f"step_{self.step:07d}.png")
            if cfg.checkpoint_every and self.step % cfg.checkpoint_every == 0:
                self.save()
            bar.update(1)
            if hook_metrics and self._stop_reached(last_metrics):
                stopped_by = "stop_when"
                log.write({"event": "stop_when", "step": self.step, "conditions": cfg.stop_when})
                break
        bar.close()
        self._sync_buffers()  # every rank ends with rank 0's model (the one checkpointed)
        if self.model.kind == "autoencoder":
            self.fit_latent_prior()
        final_hooks = self._run_hooks() if self.hooks and not (cfg.eval_every and self.step % cfg.eval_every == 0) else {}
        if final_hooks:
            log.write({"step": self.step, "epoch": self.cursor["epoch"], **final_hooks})
            last_metrics.update(final_hooks)
            if stopped_by == "steps" and self._stop_reached(last_metrics):
                stopped_by = "stop_when"
        if self.is_main:
            self._write_checkpoint(extra={"stopped_by": stopped_by})
            save_grid(self.preview(), self.out / "samples" / "final.png")
            plot_curves(read_jsonl(self.out / "log.jsonl"), self.out / "loss_curves.png", title=f"{cfg.model} on {cfg.data}")
        gdist.barrier("final checkpoint written by rank 0")
        result = {"steps": self.step, "stopped_by": stopped_by, "seconds": time.perf_counter() - t_start,
                  "run_dir": str(self.out), "final_metrics": last_metrics}
        if self.world > 1:
            result["distributed"] = gdist.describe()
        return result

    @torch.no_grad()
    def fit_latent_prior(self, batch_size: int = 1000) -> None:
        """Autoencoders generate by a Gaussian fitted to training codes (ex-post density estimation)."""
        m = self.model
        m.eval()
        dev = next(m.parameters()).device
        codes = [m.encode(m.to_model_range(self.images[i:i + batch_size]).to(dev)).cpu()
                 for i in range(0, len(self.images), batch_size)]
        m.fit_latent_prior(torch.cat(codes))
        m.train()


def train(cfg: TrainConfig, hooks=None, resume: bool = False, progress: bool = True) -> dict:
    return Trainer(cfg, hooks=hooks, resume=resume, progress=progress).run()
