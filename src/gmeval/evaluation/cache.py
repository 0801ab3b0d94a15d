"""Feature cache: key = SHA-256 of everything that changes the features; atomic writes; checksummed entries.

The key hashes the pixel content of the input (not its name), the extractor's full signature
(name, weights SHA-256, preprocessing), the layers and a cache-format version, so a changed
resize mode or weights file can never return stale features (torch-fidelity's key omits the
resize mode). Files live in the user cache (`$GMEVAL_CACHE/features`), never in site-packages.

Every entry stores, beside the arrays, the SHA-256 of their names, dtypes, shapes and bytes
(`__sha256__`). An entry that cannot be read or whose content does not match its checksum (a
truncated file, flipped bytes, a foreign file) gives a warning naming the file, is deleted and
is recomputed: a damaged cache never fails a run. Temp files of writes killed mid-way are swept
once they are older than `utils.io.STALE_TEMP_SECONDS`.
"""

from __future__ import annotations

import hashlib
import io
import json
import warnings

import numpy as np

from ..utils.io import atomic_write_bytes, sweep_stale_temp
from ..utils.paths import cache_dir

CACHE_VERSION = 2  # 2: entries carry __sha256__, and "clean" preprocessing clips the bicubic overshoot
_CHECKSUM_KEY = "__sha256__"


class CacheEntryWarning(UserWarning):
    """A damaged feature-cache entry was found, deleted and will be recomputed."""


def feature_cache_key(fingerprint: str, extractor_signature: dict, layers) -> str:
    blob = json.dumps({"fp": fingerprint, "ext": extractor_signature, "layers": sorted(layers), "v": CACHE_VERSION},
                      sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def arrays_sha256(arrays: dict) -> str:
    """SHA-256 over the sorted names, dtypes, shapes and bytes of a dict of numpy arrays."""
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(json.dumps([name, a.dtype.str, list(a.shape)]).encode())
        h.update(a.data)
    return h.hexdigest()


def entry_path(key: str):
    return cache_dir("features") / f"{key}.npz"


def load_cached(key: str) -> dict | None:
    path = entry_path(key)
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as f:
            feats = {k: f[k] for k in f.files}
        stored = str(feats.pop(_CHECKSUM_KEY))
        if stored != arrays_sha256(feats):
            raise ValueError("content does not match its checksum")
    except Exception as exc:  # zipfile.BadZipFile, zlib.error, EOFError, KeyError, ValueError, OSError...
        warnings.warn(f"feature cache entry {path} is damaged ({type(exc).__name__}: {exc}); "
                      "deleted, the features are recomputed", CacheEntryWarning, stacklevel=2)
        path.unlink(missing_ok=True)
        return None
    return feats


def store(key: str, feats: dict) -> None:
    folder = cache_dir("features")
    sweep_stale_temp(folder)  # leftovers of killed writes of any entry
    buf = io.BytesIO()
    np.savez(buf, **feats, **{_CHECKSUM_KEY: np.array(arrays_sha256(feats))})
    atomic_write_bytes(folder / f"{key}.npz", buf.getvalue())
