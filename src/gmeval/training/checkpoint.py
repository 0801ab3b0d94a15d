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
    """A checkpoint of an older format has no checksum; its content cannot be verified.

    Example:
        >>> import warnings
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     warnings.warn("old.pt: no checksum", UnverifiedCheckpointWarning)
        >>> caught[0].category.__name__, issubclass(UnverifiedCheckpointWarning, UserWarning)
        ('UnverifiedCheckpointWarning', True)
    """


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
    """SHA-256 of a checkpoint payload without its `sha256` entry.

    Tensors are hashed with their dtype, shape and bytes; dict keys in sorted order.

    Args:
        payload: a dict of tensors and plain data (str, int, float, bool, None, lists, tuples, dicts).

    Returns:
        The hex digest (64 characters).

    Raises:
        CheckpointError: if the payload holds any other type (e.g. a numpy scalar).

    Example:
        >>> import torch
        >>> a = payload_sha256({"step": 1, "w": torch.zeros(2)})
        >>> len(a), a == payload_sha256({"w": torch.zeros(2), "step": 1, "sha256": "ignored"})
        (64, True)
        >>> a == payload_sha256({"step": 1, "w": torch.zeros(2, dtype=torch.float64)})
        False
    """
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
    """Write a checkpoint atomically: model, optimizers, RNG states, data cursor, step, config and SHA-256.

    Args:
        path: the .pt file to write (its folder is created).
        model: the model (a registered GenerativeModel: its name and `config()` are stored).
        optimizers: {name: torch optimizer}; their state dicts are stored.
        rng: generator states ({"noise": tensor}).
        cursor: the data position ({"epoch": int, "pos": int}).
        step: the optimizer step reached.
        config: the TrainConfig as `to_json()` gives it.
        extra: any other plain data (e.g. {"stopped_by": "steps"}).
        data_fingerprint: the training data's content fingerprint, checked on resume.

    Returns:
        The path written.

    Raises:
        CheckpointError: if a value cannot be stored safely (only tensors and plain data can).

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> from gmeval.models import build_model
        >>> m = build_model("vae", image_shape=(1, 8, 8), latent_dim=2, hidden=[16])
        >>> with tempfile.TemporaryDirectory() as d:
        ...     p = save_checkpoint(Path(d, "checkpoint.pt"), model=m, optimizers={}, rng={}, cursor={"epoch": 0, "pos": 0},
        ...                         step=3, config={"model": "vae"})
        ...     ckpt = read_checkpoint(p)
        >>> p.name, ckpt["step"], ckpt["model_name"], ckpt["format"]
        ('checkpoint.pt', 3, 'vae', 'gmeval-checkpoint/2')
    """
    payload = _payload(model=model, optimizers=optimizers, rng=rng, cursor=cursor, step=step, config=config,
                       extra=extra, data_fingerprint=data_fingerprint)
    return atomic_write_bytes(path, torch_bytes(payload))


def read_checkpoint(path: str | os.PathLike) -> dict:
    """Load and verify a checkpoint; every problem is a CheckpointError naming the file.

    Loading never runs code from the file (`torch.load(weights_only=True)`); the SHA-256 is
    recomputed and compared. Files of an older format load with an UnverifiedCheckpointWarning.

    Args:
        path: the .pt file.

    Returns:
        The payload dict (model_name, model_config, model_state, optimizers, rng, cursor, step, config, ...).

    Raises:
        CheckpointError: missing or unreadable file, not a gmeval checkpoint, refused content, or a
            checksum mismatch.

    Example:
        >>> import tempfile
        >>> import torch
        >>> from pathlib import Path
        >>> with tempfile.TemporaryDirectory() as d:
        ...     torch.save({"weights": torch.zeros(2)}, Path(d, "other.pt"))
        ...     read_checkpoint(Path(d, "other.pt"))
        Traceback (most recent call last):
        ...
        gmeval.errors.CheckpointError: .../other.pt: not a gmeval checkpoint (expected format 'gmeval-checkpoint/2')
        >>> read_checkpoint("no/such/checkpoint.pt")
        Traceback (most recent call last):
        ...
        gmeval.errors.CheckpointError: no/such/checkpoint.pt: checkpoint file not found
    """
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
    """Rewrite an older checkpoint in the current format (with checksum), in place or to `out`.

    Args:
        path: the checkpoint to read.
        out: where to write the upgraded one (None: over `path`, atomically).

    Returns:
        The path written.

    Raises:
        CheckpointError: if `path` is not a readable gmeval checkpoint.

    Example:
        >>> import tempfile, warnings
        >>> import torch
        >>> from pathlib import Path
        >>> old = {"format": "gmeval-checkpoint/1", "model_name": "vae", "model_config": {}, "model_state": {},
        ...        "step": 7, "config": {}}
        >>> with tempfile.TemporaryDirectory() as d:
        ...     torch.save(old, Path(d, "old.pt"))
        ...     with warnings.catch_warnings(record=True) as caught:
        ...         warnings.simplefilter("always")
        ...         _ = read_checkpoint(Path(d, "old.pt"))
        ...     new = read_checkpoint(upgrade_checkpoint(Path(d, "old.pt"), Path(d, "new.pt")))
        >>> caught[0].category.__name__, new["format"], new["step"], len(new["sha256"])
        ('UnverifiedCheckpointWarning', 'gmeval-checkpoint/2', 7, 64)
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnverifiedCheckpointWarning)
        ckpt = read_checkpoint(path)
    ckpt = {**ckpt, "format": FORMAT, "data_fingerprint": ckpt.get("data_fingerprint")}
    ckpt["sha256"] = payload_sha256(ckpt)
    return atomic_write_bytes(out or path, torch_bytes(ckpt))


def load_model(path: str | os.PathLike, ckpt: dict | None = None):
    """Rebuild the model stored in a checkpoint, in eval mode.

    Args:
        path: the checkpoint (read unless `ckpt` is given; named in errors).
        ckpt: an already read payload, to avoid reading the file twice.

    Returns:
        The model, with the stored weights, in eval mode.

    Raises:
        CheckpointError: if the file is not a valid checkpoint or the weights do not fit the model.

    Example:
        >>> import tempfile
        >>> import torch
        >>> from pathlib import Path
        >>> from gmeval.models import build_model
        >>> m = build_model("vae", image_shape=(1, 8, 8), latent_dim=2, hidden=[16])
        >>> with tempfile.TemporaryDirectory() as d:
        ...     p = save_checkpoint(Path(d, "c.pt"), model=m, optimizers={}, rng={}, cursor={}, step=0, config={})
        ...     back = load_model(p)
        >>> back.name, back.training, all(torch.equal(a, b) for a, b in zip(m.parameters(), back.parameters()))
        ('vae', False, True)
    """
    ckpt = ckpt if ckpt is not None else read_checkpoint(path)
    try:
        model = build_model(ckpt["model_name"], **ckpt["model_config"])
        model.load_state_dict(ckpt["model_state"])
    except (RuntimeError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{path}: model weights do not fit {ckpt['model_name']} ({exc})") from exc
    return model.eval()


def clean_stale_temp(folder: str | os.PathLike) -> list[Path]:
    """Remove temp files left by a save that was killed (".<name>.<random>.tmp"): a run folder has one
    writer, so every temp file found before the run starts is a leftover, whatever its age.

    Args:
        folder: the run folder (nothing happens if it does not exist).

    Returns:
        The paths removed.

    Example:
        >>> import os, tempfile
        >>> from pathlib import Path
        >>> with tempfile.TemporaryDirectory() as d:
        ...     _ = Path(d, ".checkpoint.pt.x1.tmp").write_bytes(b"")
        ...     _ = Path(d, "log.jsonl").write_text("")
        ...     [p.name for p in clean_stale_temp(d)], sorted(os.listdir(d))
        (['.checkpoint.pt.x1.tmp'], ['log.jsonl'])
    """
    return sweep_stale_temp(folder, older_than=0.0)
