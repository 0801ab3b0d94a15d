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
    return isinstance(spec, str) and spec.split(":", 1)[0].lower() in DATASETS and not os.path.exists(spec)


def load_data_source(spec: str | os.PathLike, root=None, size=None) -> ImageData:
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
