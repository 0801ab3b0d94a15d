"""One entry point for data (not generators): a dataset split, an image folder, or an array file."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import InvalidArgumentError
from .arrays import load_array_file
from .canonical import ImageData
from .folder import load_image_folder
from .registry import DATASETS, load_dataset


def is_dataset_spec(spec) -> bool:
    """Whether `spec` names a registered dataset split (``"mnist:test"``) rather than a file or folder.

    An existing path of the same name wins: a folder called ``mnist`` is a folder.

    Args:
        spec: anything; only strings can be dataset specs.

    Returns:
        True for a registered dataset name, with or without ``:split``.

    Example:
        >>> is_dataset_spec("digits:test"), is_dataset_spec("samples/"), is_dataset_spec(3)
        (True, False, False)
    """
    return isinstance(spec, str) and spec.split(":", 1)[0].lower() in DATASETS and not os.path.exists(spec)


def load_data_source(spec: str | os.PathLike, root=None, size=None) -> ImageData:
    """Load stored images: a dataset split, an image folder, or a ``.npy``/``.npz`` array file.

    Args:
        spec: ``"name[:split]"`` of a registered dataset (`DATASETS`), a folder of images, or an array file.
        root: a data root searched before ``$GMEVAL_DATA`` and the cache (datasets only).
        size: (H, W) to resize a folder's images to (folders only; see `load_image_folder`).

    Returns:
        The images as `ImageData`.

    Raises:
        InvalidArgumentError: `spec` is none of the above (the message says whether the path exists).
        DataError: the files are missing, corrupt or inconsistent (subclasses name the file).

    Example:
        >>> data = load_data_source("digits:test")
        >>> data.origin, data.images.shape
        ('digits:test', (360, 1, 8, 8))
    """
    s = str(spec)
    path = Path(s)
    if is_dataset_spec(s):
        return load_dataset(s, root=root)
    if path.is_dir():
        return load_image_folder(path, size=size)
    if path.suffix.lower() in (".npy", ".npz") and path.is_file():
        return load_array_file(path)
    raise InvalidArgumentError(
        "data", f"a dataset ({', '.join(f'{k}:SPLIT' for k in DATASETS)}), an image folder or a .npy/.npz file", s,
        hint="" if path.exists() else f"{s!r} does not exist.")
