"""Feature cache: key = SHA-256 of everything that changes the features; atomic writes.

The key hashes the pixel content of the input (not its name), the extractor's full signature
(name, weights SHA-256, preprocessing), the layers and a cache-format version, so a changed
resize mode or weights file can never return stale features (torch-fidelity's key omits the
resize mode). Files live in the user cache (`$GMEVAL_CACHE/features`), never in site-packages.
"""

from __future__ import annotations

import hashlib
import io
import json

import numpy as np

from ..utils.io import atomic_write_bytes
from ..utils.paths import cache_dir

CACHE_VERSION = 2  # 2: "clean" preprocessing now clips the bicubic overshoot (features cached by 1 are stale)


def feature_cache_key(fingerprint: str, extractor_signature: dict, layers) -> str:
    blob = json.dumps({"fp": fingerprint, "ext": extractor_signature, "layers": sorted(layers), "v": CACHE_VERSION},
                      sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def load_cached(key: str) -> dict | None:
    path = cache_dir("features") / f"{key}.npz"
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as f:
            return {k: f[k] for k in f.files}
    except (OSError, ValueError, EOFError):
        path.unlink(missing_ok=True)  # a damaged cache entry is recomputed, never trusted
        return None


def store(key: str, feats: dict) -> None:
    buf = io.BytesIO()
    np.savez(buf, **feats)
    atomic_write_bytes(cache_dir("features") / f"{key}.npz", buf.getvalue())
