"""Checkpoints: one file with model, optimizers, RNG states, data cursor, step and config.

Written atomically (temp file in the same folder, fsync, rename), so a process killed with
SIGKILL mid-save leaves the previous checkpoint intact. Stale temp files of a killed save are
removed by `clean_stale_temp`.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from .. import __version__
from ..errors import CheckpointError
from ..models import build_model
from ..utils.io import atomic_save_torch

FORMAT = "gmeval-checkpoint/1"


def save_checkpoint(path: str | os.PathLike, *, model, optimizers: dict, rng: dict, cursor: dict, step: int,
                    config: dict, extra: dict | None = None) -> Path:
    payload = {
        "format": FORMAT,
        "gmeval_version": __version__,
        "model_name": model.name,
        "model_config": model.config(),
        "model_state": model.state_dict(),
        "optimizers": {k: o.state_dict() for k, o in optimizers.items()},
        "rng": rng,
        "cursor": cursor,
        "step": step,
        "config": config,
        "extra": extra or {},
    }
    return atomic_save_torch(payload, path)


def read_checkpoint(path: str | os.PathLike) -> dict:
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint file not found")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:  # truncated zip, pickle errors, ...
        raise CheckpointError(f"{path}: cannot read checkpoint ({type(exc).__name__}: {exc})") from exc
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a gmeval checkpoint (expected format {FORMAT!r})")
    return ckpt


def load_model(path: str | os.PathLike, ckpt: dict | None = None):
    """Rebuild the model stored in a checkpoint, in eval mode."""
    ckpt = ckpt if ckpt is not None else read_checkpoint(path)
    model = build_model(ckpt["model_name"], **ckpt["model_config"])
    try:
        model.load_state_dict(ckpt["model_state"])
    except RuntimeError as exc:
        raise CheckpointError(f"{path}: model weights do not fit {ckpt['model_name']} ({exc})") from exc
    return model.eval()


def clean_stale_temp(folder: str | os.PathLike) -> list[Path]:
    """Remove temp files left by a save that was killed (".<name>.<random>.tmp")."""
    removed = []
    for p in Path(folder).glob(".*.tmp"):
        p.unlink(missing_ok=True)
        removed.append(p)
    return removed
