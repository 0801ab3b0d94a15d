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
    """A damaged feature-cache entry was found, deleted and will be recomputed.

    Example:
        >>> import os, warnings
        >>> from unittest import mock
        >>> import tempfile
        >>> import numpy as np
        >>> with tempfile.TemporaryDirectory() as d, mock.patch.dict(os.environ, {"GMEVAL_CACHE": d}):
        ...     key = feature_cache_key("fp", {"extractor": "mnist"}, ["features"])
        ...     store(key, {"features": np.zeros((2, 3), np.float32)})
        ...     _ = entry_path(key).write_bytes(b"garbage")
        ...     with warnings.catch_warnings(record=True) as caught:
        ...         warnings.simplefilter("always")
        ...         print(load_cached(key), entry_path(key).exists(), caught[0].category.__name__)
        None False CacheEntryWarning
    """


def feature_cache_key(fingerprint: str, extractor_signature: dict, layers) -> str:
    """The cache key: SHA-256 of the input fingerprint, the extractor's full signature, the layers and the cache version.

    Args:
        fingerprint: the input's pixel fingerprint (`ImageData.fingerprint`).
        extractor_signature: the extractor's signature dict (name, weights hash, preprocessing ...).
        layers: the layer names (order does not matter).

    Returns:
        64 hex characters.

    Example:
        >>> a = feature_cache_key("fp", {"extractor": "mnist"}, ["features", "logits"])
        >>> a == feature_cache_key("fp", {"extractor": "mnist"}, ["logits", "features"]), len(a)
        (True, 64)
        >>> a == feature_cache_key("fp", {"extractor": "mnist", "preprocess": "other"}, ["features", "logits"])
        False
    """
    blob = json.dumps({"fp": fingerprint, "ext": extractor_signature, "layers": sorted(layers), "v": CACHE_VERSION},
                      sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def arrays_sha256(arrays: dict) -> str:
    """SHA-256 over the sorted names, dtypes, shapes and bytes of a dict of numpy arrays.

    Args:
        arrays: name -> numpy array.

    Returns:
        64 hex characters.

    Example:
        >>> import numpy as np
        >>> a = arrays_sha256({"x": np.zeros(3, np.float32)})
        >>> a == arrays_sha256({"x": np.zeros(3, np.float64)}), a == arrays_sha256({"x": np.zeros(3, np.float32)})
        (False, True)
    """
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(json.dumps([name, a.dtype.str, list(a.shape)]).encode())
        h.update(a.data)
    return h.hexdigest()


def entry_path(key: str):
    """The file of the cache entry `key` (``$GMEVAL_CACHE/features/<key>.npz``; nothing is created).

    Args:
        key: a `feature_cache_key`.

    Returns:
        A Path.

    Example:
        >>> import os
        >>> from unittest import mock
        >>> with mock.patch.dict(os.environ, {"GMEVAL_CACHE": "/data/cache"}):
        ...     print(entry_path("abc"))
        /data/cache/features/abc.npz
    """
    return cache_dir("features") / f"{key}.npz"


def load_cached(key: str) -> dict | None:
    """The arrays of the cache entry `key`, or None when there is none (a damaged entry warns and is deleted).

    Args:
        key: a `feature_cache_key`.

    Returns:
        name -> array, or None.

    Example:
        >>> import os, tempfile
        >>> from unittest import mock
        >>> import numpy as np
        >>> with tempfile.TemporaryDirectory() as d, mock.patch.dict(os.environ, {"GMEVAL_CACHE": d}):
        ...     print(load_cached("0" * 64))
        ...     store("0" * 64, {"features": np.arange(6.0).reshape(2, 3)})
        ...     print(load_cached("0" * 64)["features"].shape)
        None
        (2, 3)
    """
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
    """Write the cache entry `key` atomically, with the checksum of its arrays (and sweep stale temp files).

    Args:
        key: a `feature_cache_key`.
        feats: name -> numpy array.

    Example:
        >>> import os, tempfile
        >>> from unittest import mock
        >>> import numpy as np
        >>> with tempfile.TemporaryDirectory() as d, mock.patch.dict(os.environ, {"GMEVAL_CACHE": d}):
        ...     store("1" * 64, {"logits": np.ones((4, 10), np.float32)})
        ...     sorted(np.load(entry_path("1" * 64)).files)
        ['__sha256__', 'logits']
    """
    folder = cache_dir("features")
    sweep_stale_temp(folder)  # leftovers of killed writes of any entry
    buf = io.BytesIO()
    np.savez(buf, **feats, **{_CHECKSUM_KEY: np.array(arrays_sha256(feats))})
    atomic_write_bytes(folder / f"{key}.npz", buf.getvalue())
