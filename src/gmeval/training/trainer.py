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
import sys
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
from ..utils.imageio import caption_image, make_grid, save_grid
from ..utils.io import atomic_write_text, storage_errors
from ..utils.seeding import derive_seed
from .config import RESUMABLE_OVERRIDES, TrainConfig
from .checkpoint import clean_stale_temp, read_checkpoint, save_checkpoint
from .monitors import PIXEL_STD_KEY, Watch, pixel_std_over_z
from .objectives import OBJECTIVES
from .runlog import RUN_FILES, JsonlLog, plot_curves, read_jsonl, remove_run_files
from .stopping import StopConditions


class _NoLog:
    """Stands in for the JSONL log on ranks other than 0 (they write nothing)."""

    def write(self, record: dict) -> None:
        pass


class Trainer:
    """Build with a config (and optional hooks), then `run()`.

    A hook is a callable `hook(trainer) -> dict[str, float]` called every `eval_every` steps and at the
    end; its metrics go to the log and can be targets of `stop_when` (the evaluation layer plugs FID here).
    A hook declares the names it returns in a `keys` attribute; stop conditions on other names are
    an error at start. Monitors are hooks of the same form called every `monitor_every` steps (the
    evaluation layer plugs the cheap mode-coverage check here); their values feed the alerts.

    Args:
        cfg: the run's TrainConfig.
        hooks: evaluation hooks, `hook(trainer) -> dict`, run every `eval_every` steps and at the end.
        resume: continue the run in `cfg.out` from its checkpoint (config, checksum and data checked).
        data: the training images (None: `load_data_source(cfg.data, root=cfg.data_root)`).
        progress: show a tqdm bar (rank 0 only).
        monitors: collapse-check hooks of the same form, run every `monitor_every` steps.
        overwrite: replace the run files already in `cfg.out` instead of refusing the folder.

    Raises:
        RunFolderError: `cfg.out` already holds a run and neither `resume` nor `overwrite` is set.
        CheckpointError: on resume, an unreadable checkpoint, or a changed config or data.
        InvalidArgumentError: a bad batch size, an unlabelled source for a conditional model, or a
            stop condition on a value the run does not produce.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> from gmeval.training.config import TrainConfig
        >>> with tempfile.TemporaryDirectory() as d:
        ...     cfg = TrainConfig("mlp-gan", data="digits:", out=str(Path(d, "run")), steps=2, batch_size=16)
        ...     t = Trainer(cfg, progress=False)
        ...     x, y = t.next_batch()
        >>> t.total_steps, tuple(x.shape), tuple(y.shape), sorted(t.objective.optimizers)
        (2, (16, 1, 8, 8), (16,), ['d', 'g'])
        >>> sorted(t.produced_keys())[:4]
        ['d_fake', 'd_real', 'epoch', 'grad_norm_d']
        >>> with tempfile.TemporaryDirectory() as d:
        ...     Trainer(TrainConfig("mlp-gan", data="digits:", out=d, steps=2, stop_when=["fid<=30"]), progress=False)
        Traceback (most recent call last):
        ...
        gmeval.errors.InvalidArgumentError: Argument `stop_when` must be a condition on a value this run produces: one of [...], but got 'fid<=30'. ...
    """

    def __init__(self, cfg: TrainConfig, hooks: list[Callable] | None = None, resume: bool = False,
                 data: ImageData | None = None, progress: bool = True, monitors: list[Callable] | None = None,
                 overwrite: bool = False):
        self.cfg, self.hooks = cfg, list(hooks or [])
        self.monitors = list(monitors or [])
        # data-parallel when a process group is already initialised (the CLI or a torchrun entry script does it)
        self.rank, self.world = gdist.rank_world()
        self.is_main = self.rank == 0  # rank 0 writes every file
        self.device = gdist.device()
        self.progress = progress and self.is_main
        self.out = Path(cfg.out)
        self.ckpt_path = self.out / "checkpoint.pt"
        self.stops = StopConditions(cfg.stop_when)
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
        self.watch = Watch(d_probabilities=self.objective.d_probabilities)
        self.tb = None  # TensorBoardLog while run() runs with cfg.tensorboard
        if cfg.tensorboard and self.is_main:  # a missing package is an error now, not after config.json is written
            from .tensorboard import require_tensorboard

            require_tensorboard()
        self.stops.validate(self.produced_keys())

    def produced_keys(self) -> set[str]:
        """Every value name this run logs: the objective's, the monitor's, and those hooks declare."""
        keys = set(self.objective.metric_names) | {"images_per_s", "epoch"}
        if self.cfg.monitor_every and self.fixed_z is not None:
            keys.add(PIXEL_STD_KEY)
        for hook in self.hooks + (self.monitors if self.cfg.monitor_every else []):
            keys.update(getattr(hook, "keys", ()))
        return keys

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
    def preview(self) -> np.ndarray:
        """uint8 images of the main grid (the first of `preview_grids()`)."""
        return next(iter(self.preview_grids().values()))[0]

    @torch.no_grad()
    def preview_grids(self, final: bool = False) -> dict[str, tuple[np.ndarray, int | None, str]]:
        """Sample grids, {name: (uint8 images, images per row or None, caption)}, the main one first.

        GANs: the fixed latent batch decoded ("samples"); a conditional model shows one row per class
        with the same latents in every column. Autoencoders: real/reconstruction pairs
        ("reconstructions"), and at the end (`final`, after the prior is fitted) samples from the
        fitted prior first. VAE: prior samples of the fixed latents, and reconstruction pairs.
        """
        m, cfg = self.model, self.cfg
        was = m.training
        m.eval()
        out: dict = {}
        try:
            dev = next(m.parameters()).device
            if m.kind == "autoencoder" and final and m.latent_prior_fitted:
                g = torch.Generator().manual_seed(derive_seed(cfg.seed, "prior-grid"))
                z = m.sample_latent(cfg.grid_size, g)
                out["samples"] = (m.to_uint8(m.decode(z.to(dev))).cpu().numpy(), None,
                                  "samples from the fitted Gaussian prior")
            if self.fixed_z is not None and m.conditional:
                cols = max(1, min(len(self.fixed_z), cfg.grid_size // m.num_classes))
                z = self.fixed_z[:cols].repeat(m.num_classes, 1).to(dev)
                y = torch.arange(m.num_classes).repeat_interleave(cols).to(dev)
                out["samples"] = (m.to_uint8(m.decode(z, y)).cpu().numpy(), cols,
                                  f"rows: classes 0-{m.num_classes - 1}; columns: same z")
            elif self.fixed_z is not None:
                prior = "samples (fixed z ~ prior)" if m.kind == "vae" else "samples (fixed z)"
                out["samples"] = (m.to_uint8(m.decode(self.fixed_z.to(dev), None)).cpu().numpy(), None, prior)
            if m.kind in ("autoencoder", "vae"):
                real = self.fixed_real[: cfg.grid_size // 2]
                x = m.to_model_range(real).to(dev)
                rec = m.to_uint8(m.reconstruct(x) if m.kind == "autoencoder" else m.decode(m.encode(x)[0])).cpu()
                cols = 2 * math.ceil(math.sqrt(len(real) / 2))  # even: each pair stays on one row
                out["reconstructions"] = (torch.stack([real, rec], 1).flatten(0, 1).numpy(), cols,
                                          "pairs: real | reconstruction")
        finally:
            m.train(was)
        return out

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

    def _run_hooks(self, hooks=None) -> dict:
        self._sync_buffers()
        metrics = {}
        for hook in self.hooks if hooks is None else hooks:
            metrics.update(hook(self) or {})
        return metrics

    def _run_monitors(self) -> dict:
        """The cheap collapse checks: pixel std over the fixed latents, then the monitor hooks."""
        self._sync_buffers()  # every rank measures rank 0's model, so stop conditions agree across ranks
        out = {PIXEL_STD_KEY: pixel_std_over_z(self.model, self.fixed_z)} if self.fixed_z is not None else {}
        if self.monitors:
            out.update(self._run_hooks(self.monitors))
        return out

    def _save_grids(self, step_name: str | None, final: bool = False) -> None:
        """Write the sample grids (rank 0): samples/step_XXXXXXX.png (main grid) or, at the end,
        samples/final.png (main grid) plus samples/<name>.png for the others; also to TensorBoard."""
        grids = self.preview_grids(final=final)
        for i, (name, (images, cols, caption)) in enumerate(grids.items()):
            if not final and i:
                break
            fname = step_name if not final else ("final" if i == 0 else name)
            save_grid(images, self.out / "samples" / f"{fname}.png", nrow=cols, caption=caption)
            if self.tb is not None:
                self.tb.grid(f"{name}", caption_image(make_grid(images, cols), caption), self.step)

    def _record(self, rec: dict, log) -> None:
        """Write one record; update the latest values, the alerts and TensorBoard."""
        log.write(rec)
        self.latest.update(rec)
        if self.tb is not None:
            self.tb.record(rec)
        for alert in self.watch.update(rec):
            self.alerts.append(alert)
            log.write(alert.record())
            if self.is_main:
                tqdm.write(alert.line(), file=sys.stderr)
            if self.tb is not None:
                self.tb.alert(alert)

    # -- loop -------------------------------------------------------------------------------------
    def run(self) -> dict:
        """Train to `total_steps` (or until `stop_when` holds), writing the run folder as it goes.

        Writes config.json, log.jsonl, sample grids and checkpoints (rank 0), runs hooks and monitors,
        and at the end the final checkpoint, samples/final.png and loss_curves.png.

        Returns:
            {"steps", "stopped_by" ("steps" or "stop_when"), "seconds", "run_dir", "final_metrics"
            (latest logged values), "alerts" (alert records)}, plus "distributed" under torchrun.

        Raises:
            TrainingDivergedError: a loss or gradient norm became non-finite (the message names the
                last good checkpoint).
            StorageError: a run file cannot be written.
        """
        cfg = self.cfg
        self.tb = None
        if self.is_main:
            with storage_errors(self.out):
                self.out.mkdir(parents=True, exist_ok=True)
            clean_stale_temp(self.out)
            if self.overwrite and not self.resume:
                remove_run_files(self.out)
            atomic_write_text(self.out / "config.json", json.dumps(cfg.to_json(), indent=2, sort_keys=True) + "\n")
            log = JsonlLog(self.out / "log.jsonl", truncate_after_step=self.step, resume=self.resume)
            if cfg.tensorboard:
                from .tensorboard import TensorBoardLog

                self.tb = TensorBoardLog(self.out, purge_step=self.step + 1 if self.step else None)
        else:
            log = _NoLog()
        self.latest: dict = {}  # latest value of every logged key (what stop conditions read)
        self.alerts: list = []
        self.model.train()
        bar = tqdm(total=self.total_steps, initial=self.step, desc=f"train {cfg.model}", disable=not self.progress,
                   dynamic_ncols=True)
        t_last, n_last = time.perf_counter(), 0
        t_start = time.perf_counter()
        stopped_by = "steps"
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
            if cfg.monitor_every and self.step % cfg.monitor_every == 0:
                hook_metrics.update(self._run_monitors())
            logged = self.step % cfg.log_every == 0 or hook_metrics or self.step == self.total_steps
            if logged:
                now = time.perf_counter()
                rec = {"step": self.step, "epoch": self.cursor["epoch"], "images_per_s": n_last / max(now - t_last, 1e-9),
                       **metrics, **hook_metrics}
                self._record(rec, log)
                t_last, n_last = now, 0
                post = {k: f"{v:.3f}" for k, v in metrics.items() if k.startswith(("loss", "d_"))}
                if self.alerts:
                    post["alerts"] = ",".join(dict.fromkeys(a.kind for a in self.alerts))
                bar.set_postfix(post, refresh=False)
            if cfg.sample_every and self.step % cfg.sample_every == 0 and self.is_main:
                self._save_grids(f"step_{self.step:07d}")
            if cfg.checkpoint_every and self.step % cfg.checkpoint_every == 0:
                self.save()
            bar.update(1)
            if logged and self.stops.hold(self.latest):
                stopped_by = "stop_when"
                log.write({"event": "stop_when", "step": self.step, "conditions": cfg.stop_when})
                break
        bar.close()
        self._sync_buffers()  # every rank ends with rank 0's model (the one checkpointed)
        if self.model.kind == "autoencoder":
            self.fit_latent_prior()
        final_hooks = self._run_hooks() if self.hooks and not (cfg.eval_every and self.step % cfg.eval_every == 0) else {}
        if final_hooks:
            self._record({"step": self.step, "epoch": self.cursor["epoch"], **final_hooks}, log)
            if stopped_by == "steps" and self.stops.hold(self.latest):
                stopped_by = "stop_when"
        if self.is_main:
            self._write_checkpoint(extra={"stopped_by": stopped_by})
            self._save_grids(None, final=True)
            plot_curves(read_jsonl(self.out / "log.jsonl"), self.out / "loss_curves.png", title=f"{cfg.model} on {cfg.data}")
            if self.tb is not None:
                self.tb.close()
        gdist.barrier("final checkpoint written by rank 0")
        last_metrics = {k: v for k, v in self.latest.items() if k not in ("step", "epoch", "images_per_s")}
        result = {"steps": self.step, "stopped_by": stopped_by, "seconds": time.perf_counter() - t_start,
                  "run_dir": str(self.out), "final_metrics": last_metrics,
                  "alerts": [a.record() for a in self.alerts]}
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
    """Build a Trainer and run it: the library's `gmeval train`.

    Args:
        cfg: the run's TrainConfig.
        hooks: evaluation hooks (see Trainer).
        resume: continue the run in `cfg.out` from its checkpoint.
        progress: show a tqdm bar.

    Returns:
        The summary `Trainer.run` returns.

    Raises:
        RunFolderError: `cfg.out` already holds a run and `resume` is not set.
        CheckpointError: on resume, an unreadable checkpoint, or a changed config or data.
        TrainingDivergedError: a loss became non-finite.

    Example:
        >>> import os, tempfile
        >>> from pathlib import Path
        >>> from gmeval.training.config import TrainConfig
        >>> with tempfile.TemporaryDirectory() as d:
        ...     cfg = TrainConfig("mlp-gan", data="digits:", out=str(Path(d, "run")), steps=3, batch_size=16,
        ...                       log_every=1, sample_every=0, monitor_every=0, grid_size=4)
        ...     result = train(cfg, progress=False)
        ...     files = sorted(os.listdir(cfg.out))
        >>> result["steps"], result["stopped_by"], sorted(result["final_metrics"])[:2]
        (3, 'steps', ['d_fake', 'd_real'])
        >>> files
        ['checkpoint.pt', 'config.json', 'log.jsonl', 'loss_curves.png', 'samples']
    """
    return Trainer(cfg, hooks=hooks, resume=resume, progress=progress).run()
