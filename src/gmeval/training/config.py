"""Training configuration (no heavy imports: the CLI reads defaults from here)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from ..errors import InvalidArgumentError


@dataclass
class TrainConfig:
    model: str = "mlp-gan"             # registry name (gmeval.models.MODELS)
    model_options: dict = field(default_factory=dict)  # extra constructor kwargs, e.g. {"latent_dim": 64}
    data: str = "mnist:train"           # dataset split, image folder or .npy/.npz file
    out: str = "runs/run"               # run folder
    steps: int | None = None            # optimizer steps (GAN: generator updates); or use epochs
    epochs: float | None = None         # passes over the data (converted to steps)
    batch_size: int = 64
    lr: float = 2e-4                    # Adam learning rate (generator / whole model)
    lr_d: float | None = None           # discriminator learning rate (default: lr)
    betas: tuple = (0.5, 0.999)         # Adam betas (DCGAN's 0.5 for beta1)
    loss: str = "non-saturating"        # GAN loss: minimax, non-saturating, hinge, least-squares, wgan-gp
    gp_weight: float = 10.0             # gradient-penalty weight for wgan-gp
    d_steps: int = 1                    # discriminator updates per generator update
    seed: int = 0
    log_every: int = 50                 # JSONL record + progress-bar update interval (steps)
    sample_every: int = 500             # sample grid interval (steps); 0 disables
    checkpoint_every: int = 1000        # checkpoint interval (steps); a final one is always written
    eval_every: int = 0                 # hook interval (steps); 0: hooks run only at the end
    stop_when: list = field(default_factory=list)  # ["fid<=40", "d_real>=0.6"]: stop when all hold
    grid_size: int = 64                 # images in each sample grid
    monitor_every: int = 500            # collapse checks (pixel std over z, mode-check hooks) interval; 0: off
    tensorboard: bool = False           # also log scalars, grids and alerts to <out>/tensorboard
    data_root: str | None = None

    def to_json(self) -> dict:
        d = dataclasses.asdict(self)
        d["betas"] = list(self.betas)
        return d


#: keys that may differ between the run that wrote a checkpoint and the one resuming it
RESUMABLE_OVERRIDES = {"steps", "epochs", "log_every", "sample_every", "checkpoint_every", "eval_every", "stop_when", "out", "data_root",
                       "monitor_every", "tensorboard"}


def parse_stop_condition(text: str) -> tuple[str, str, float]:
    for op in ("<=", ">="):
        if op in text:
            k, v = text.split(op, 1)
            try:
                return k.strip(), op, float(v)
            except ValueError:
                break
    raise InvalidArgumentError("stop_when", "conditions like 'fid<=40' or 'd_real>=0.6' (operators <= and >=)", text)
