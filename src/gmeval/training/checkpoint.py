"""Checkpoints: one file with model, optimizers, RNG states, data cursor, step, config and checksum.

Written atomically (temp file in the same folder, fsync, rename), so a process killed with
SIGKILL mid-save leaves the previous checkpoint intact. Stale temp files of a killed save are
removed by `clean_stale_temp`.

Safety and integrity:

* Loading never runs code from the file: `torch.load(weights_only=True)` only rebuilds tensors and
  plain containers (dict, list, tuple, str, int, float, bool, None); the allowlist of extra Python
  globals is empty (`SAFE_GLOBALS`). A file holding anything else (e.g. a crafted pickle) is refused
  with a CheckpointError before any of it is executed.
* `sha256` holds the SHA-256 of the whole payload (every tensor's dtype, shape and bytes and every
  metadata value, walked in a fixed order; `payload_sha256`). It is recomputed at load time; a
  mismatch (flipped bytes inside a tensor, an edited file) is a CheckpointError naming the file.
* `data_fingerprint` is the content fingerprint of the training data (`ImageData.fingerprint`, the
  one the feature-cache key uses); resume refuses changed data.
* Checkpoints of format 1 (gmeval 0.1 before checksums) contain only tensors and plain data, so they
  still load safely, with a warning that they cannot be verified; `upgrade_checkpoint(path)` rewrites
  one in the current format (resuming a run does the same at its next save).
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from pathlib import Path

import torch

from .. import __version__
from ..errors import CheckpointError
from ..models import build_model
from ..utils.io import atomic_write_bytes, sweep_stale_temp, torch_bytes

FORMAT = "gmeval-checkpoint/2"
OLD_FORMATS = ("gmeval-checkpoint/1",)
#: Python globals torch.load may rebuild beyond tensors and plain containers: none
SAFE_GLOBALS: list = []
_REQUIRED = ("model_name", "model_config", "model_state", "step", "config")


class UnverifiedCheckpointWarning(UserWarning):
    """A checkpoint of an older format has no checksum; its content cannot be verified."""


def _update(h, obj) -> None:
    """Feed `obj` to the hash with type tags, so that different structures never collide."""
    if isinstance(obj, torch.Tensor):
        t = obj.detach().cpu().contiguous()
        h.update(f"T{t.dtype}{list(t.shape)}".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    elif isinstance(obj, dict):
        h.update(f"D{len(obj)}".encode())
        for k in sorted(obj, key=lambda k: (type(k).__name__, str(k))):
            _update(h, k)
            _update(h, obj[k])
    elif isinstance(obj, (list, tuple)):
        h.update(f"{'L' if isinstance(obj, list) else 'U'}{len(obj)}".encode())
        for v in obj:
            _update(h, v)
    elif obj is None or type(obj) in (str, int, float, bool):  # exact types: numpy.float64 subclasses float
        h.update(f"S{type(obj).__name__}:{json.dumps(obj)}".encode())
    else:  # e.g. a numpy scalar: weights_only loading would refuse the file, so refuse to write it
        raise CheckpointError(f"cannot store a {type(obj).__module__}.{type(obj).__name__} in a checkpoint: only "
                              "tensors, str, int, float, bool, None, lists, tuples and dicts are allowed")


def payload_sha256(payload: dict) -> str:
    """SHA-256 of a checkpoint payload without its `sha256` entry."""
    h = hashlib.sha256()
    _update(h, {k: v for k, v in payload.items() if k != "sha256"})
    return h.hexdigest()


def _payload(*, model, optimizers: dict, rng: dict, cursor: dict, step: int, config: dict, extra: dict | None,
             data_fingerprint: str | None) -> dict:
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
        "data_fingerprint": data_fingerprint,
    }
    payload["sha256"] = payload_sha256(payload)
    return payload


def save_checkpoint(path: str | os.PathLike, *, model, optimizers: dict, rng: dict, cursor: dict, step: int,
                    config: dict, extra: dict | None = None, data_fingerprint: str | None = None) -> Path:
    payload = _payload(model=model, optimizers=optimizers, rng=rng, cursor=cursor, step=step, config=config,
                       extra=extra, data_fingerprint=data_fingerprint)
    return atomic_write_bytes(path, torch_bytes(payload))


def read_checkpoint(path: str | os.PathLike) -> dict:
    """Load and verify a checkpoint; every problem is a CheckpointError naming the file."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint file not found" if not path.exists() else
                              f"{path}: not a regular file (expected a .pt checkpoint)")
    try:
        with torch.serialization.safe_globals(SAFE_GLOBALS), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch's remarks on foreign files: the error below says it all
            ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # truncated zip, refused pickle globals, ...
        text = str(exc).splitlines()[0] if str(exc) else ""
        if "weights_only" in str(exc) or "Unsupported global" in str(exc):
            raise CheckpointError(f"{path}: refused: the file holds Python objects other than tensors and plain "
                                  "data, and loading them could run code (gmeval checkpoints never do; a crafted or "
                                  f"foreign file?) [{text}]") from None
        raise CheckpointError(f"{path}: cannot read checkpoint ({type(exc).__name__}: {text})") from None
    fmt = ckpt.get("format") if isinstance(ckpt, dict) else None
    if fmt not in (FORMAT, *OLD_FORMATS) or any(k not in ckpt for k in _REQUIRED):
        raise CheckpointError(f"{path}: not a gmeval checkpoint (expected format {FORMAT!r})")
    if fmt == FORMAT:
        digest = payload_sha256(ckpt)
        if ckpt.get("sha256") != digest:
            raise CheckpointError(f"{path}: content does not match its SHA-256 (recorded {str(ckpt.get('sha256'))[:16]}..., "
                                  f"computed {digest[:16]}...): the file is corrupt or was changed; do not use it")
    else:
        warnings.warn(f"{path}: checkpoint format {fmt!r} has no checksum, its content cannot be verified; convert it "
                      "with gmeval.training.checkpoint.upgrade_checkpoint(path) (resuming the run also rewrites it)",
                      UnverifiedCheckpointWarning, stacklevel=2)
    return ckpt


def upgrade_checkpoint(path: str | os.PathLike, out: str | os.PathLike | None = None) -> Path:
    """Rewrite an older checkpoint in the current format (with checksum), in place or to `out`."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnverifiedCheckpointWarning)
        ckpt = read_checkpoint(path)
    ckpt = {**ckpt, "format": FORMAT, "data_fingerprint": ckpt.get("data_fingerprint")}
    ckpt["sha256"] = payload_sha256(ckpt)
    return atomic_write_bytes(out or path, torch_bytes(ckpt))


def load_model(path: str | os.PathLike, ckpt: dict | None = None):
    """Rebuild the model stored in a checkpoint, in eval mode."""
    ckpt = ckpt if ckpt is not None else read_checkpoint(path)
    try:
        model = build_model(ckpt["model_name"], **ckpt["model_config"])
        model.load_state_dict(ckpt["model_state"])
    except (RuntimeError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{path}: model weights do not fit {ckpt['model_name']} ({exc})") from exc
    return model.eval()


def clean_stale_temp(folder: str | os.PathLike) -> list[Path]:
    """Remove temp files left by a save that was killed (".<name>.<random>.tmp"): a run folder has one
    writer, so every temp file found before the run starts is a leftover, whatever its age."""
    return sweep_stale_temp(folder, older_than=0.0)
