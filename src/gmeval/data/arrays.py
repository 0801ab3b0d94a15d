"""`.npy` / `.npz` array files as a source.

`.npz`: images under key `images` (or `x`, `arr_0`, or the only array); labels under `labels`
(or `y`) when present. Layout N x C x H x W, N x H x W x C or N x H x W; uint8, or floats in [0, 1].
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import CorruptFileError, DataError, InvalidArgumentError, ShapeMismatchError
from ..utils.io import NPY_READ_ERRORS
from .canonical import ImageData, as_uint8_nchw

_IMAGE_KEYS = ("images", "x", "arr_0", "samples")
_LABEL_KEYS = ("labels", "y")


def load_array_file(path: str | os.PathLike) -> ImageData:
    """Load images (and labels) from a ``.npy`` or ``.npz`` file.

    In a ``.npz``, images are under ``images`` (or ``x``, ``arr_0``, ``samples``, or the only
    array) and labels under ``labels`` (or ``y``) when present. Layouts N x C x H x W, N x H x W x C
    or N x H x W; uint8, or floats in [0, 1] (see `as_uint8_nchw`).

    Args:
        path: the array file.

    Returns:
        `ImageData` with origin ``file:<path>``.

    Raises:
        InvalidArgumentError: `path` is not an existing file.
        CorruptFileError: numpy cannot read it.
        DataError: a ``.npz`` has no recognisable image array.
        ShapeMismatchError: the array is not an image batch, or the labels do not match it.

    Example:
        >>> import tempfile
        >>> import numpy as np
        >>> with tempfile.TemporaryDirectory() as d:
        ...     np.savez(d + "/s.npz", images=np.zeros((4, 28, 28, 1), np.uint8), labels=np.arange(4))
        ...     data = load_array_file(d + "/s.npz")
        >>> data.images.shape, data.labels.tolist()
        ((4, 1, 28, 28), [0, 1, 2, 3])
    """
    path = Path(path)
    if not path.is_file():
        raise InvalidArgumentError("path", "an existing .npy or .npz file", str(path))
    try:
        loaded = np.load(path, allow_pickle=False)
    except NPY_READ_ERRORS as exc:
        raise CorruptFileError(f"cannot read array file ({exc})", path) from exc
    labels = None
    if isinstance(loaded, np.lib.npyio.NpzFile):
        with loaded:
            keys = list(loaded.keys())
            key = next((k for k in _IMAGE_KEYS if k in keys), keys[0] if len(keys) == 1 else None)
            if key is None:
                raise DataError(f"no image array found: keys are {keys}, expected one of {_IMAGE_KEYS}", path)
            try:
                arr = loaded[key]
                lk = next((k for k in _LABEL_KEYS if k in keys), None)
                labels = loaded[lk] if lk else None
            except NPY_READ_ERRORS as exc:
                raise CorruptFileError(f"cannot read array {key!r} ({exc})", path) from exc
    else:
        arr = loaded
    try:
        images = as_uint8_nchw(arr, str(path))
    except ShapeMismatchError:
        raise
    if labels is not None and labels.shape != (len(images),):
        raise ShapeMismatchError(f"labels shape {labels.shape} does not match {len(images)} images", path)
    return ImageData(images, labels, f"file:{path}")
