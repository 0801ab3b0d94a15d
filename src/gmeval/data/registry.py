"""The dataset registry: name -> how to load each split, as canonical ImageData."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..errors import DatasetNotFoundError, InvalidArgumentError, ShapeMismatchError
from .canonical import ImageData
from .files import candidate_paths, data_roots, resolve_dataset_file
from .idx import parse_idx


@dataclass(frozen=True)
class DatasetSpec:
    """How to load one registered dataset (an entry of `DATASETS`).

    Attributes:
        name: the registry name (``"mnist"``).
        splits: the split names (``("train", "test")``).
        num_classes: the number of classes.
        class_names: one display name per class.
        description: one line for ``gmeval datasets``.
        loader: ``loader(spec, split, root) -> ImageData``.
        files: split -> (images file, labels file), for file-backed datasets.
        sha256: file -> SHA-256 of its decompressed bytes.
        mirrors: base URLs to download the files from.

    Example:
        >>> spec = DATASETS["digits"]
        >>> spec.splits, spec.num_classes
        (('train', 'test'), 10)
    """
    name: str
    splits: tuple[str, ...]
    num_classes: int
    class_names: tuple[str, ...]
    description: str
    loader: Callable[["DatasetSpec", str, object], ImageData]
    files: dict = field(default_factory=dict)  # split -> (images file, labels file)
    sha256: dict = field(default_factory=dict)  # file -> sha256 of decompressed bytes
    mirrors: tuple[str, ...] = ()


def _load_idx_split(spec: DatasetSpec, split: str, root) -> ImageData:
    img_file, lab_file = spec.files[split]
    imgs = parse_idx(resolve_dataset_file(spec.name, img_file, spec.sha256[img_file], spec.mirrors, root), img_file)
    labs = parse_idx(resolve_dataset_file(spec.name, lab_file, spec.sha256[lab_file], spec.mirrors, root), lab_file)
    if imgs.ndim != 3 or labs.ndim != 1 or len(imgs) != len(labs):
        raise ShapeMismatchError(f"images {imgs.shape} and labels {labs.shape} do not form a labelled image set", img_file)
    return ImageData(imgs[:, None], labs, f"{spec.name}:{split}", spec.num_classes)


_DIGITS_TRAIN = 1437  # sklearn's load_digits order: first 1437 (80%) train, last 360 test


def _load_digits(spec: DatasetSpec, split: str, root) -> ImageData:
    from sklearn.datasets import load_digits

    d = load_digits()
    # values are 0..16; scale to 0..255 exactly as round(v * 255 / 16)
    imgs = np.round(d.images * (255.0 / 16.0)).astype(np.uint8)[:, None]
    sl = slice(0, _DIGITS_TRAIN) if split == "train" else slice(_DIGITS_TRAIN, None)
    return ImageData(imgs[sl], d.target[sl], f"digits:{split}", 10)


_IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

DATASETS: dict[str, DatasetSpec] = {
    "mnist": DatasetSpec(
        "mnist", ("train", "test"), 10, tuple(str(i) for i in range(10)),
        "MNIST handwritten digits, 60000 train + 10000 test, 28x28 grayscale",
        _load_idx_split, _IDX_FILES,
        {
            "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
            "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
            "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
            "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        },
        ("https://ossci-datasets.s3.amazonaws.com/mnist", "https://storage.googleapis.com/cvdf-datasets/mnist"),
    ),
    "fashion-mnist": DatasetSpec(
        "fashion-mnist", ("train", "test"), 10,
        ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
        "Fashion-MNIST (Zalando), 60000 train + 10000 test, 28x28 grayscale",
        _load_idx_split, _IDX_FILES,
        {
            "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
            "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
            "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
            "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        },
        ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com",),
    ),
    "digits": DatasetSpec(
        "digits", ("train", "test"), 10, tuple(str(i) for i in range(10)),
        "scikit-learn's bundled 8x8 digits (1797 images; train = first 1437, test = last 360)",
        _load_digits,
    ),
}


def parse_dataset_spec(spec: str) -> tuple[str, str]:
    """Split ``"name[:split]"`` into a registered dataset name and split (default ``train``).

    Args:
        spec: e.g. ``"mnist:test"`` or ``"fashion-mnist"`` (the name is case-insensitive).

    Returns:
        (name, split).

    Raises:
        InvalidArgumentError: unknown dataset or split (the message lists the allowed ones).

    Example:
        >>> parse_dataset_spec("MNIST:test"), parse_dataset_spec("digits")
        (('mnist', 'test'), ('digits', 'train'))
        >>> parse_dataset_spec("digits:val")
        Traceback (most recent call last):
        ...
        gmeval.errors.InvalidArgumentError: Argument `split` must be one of ['train', 'test'] for digits, but got 'val'.
    """
    name, _, split = spec.partition(":")
    name = name.strip().lower()
    if name not in DATASETS:
        raise InvalidArgumentError("dataset", f"one of {sorted(DATASETS)} (optionally with ':split')", spec)
    split = split or "train"
    if split not in DATASETS[name].splits:
        raise InvalidArgumentError("split", f"one of {list(DATASETS[name].splits)} for {name}", split)
    return name, split


def training_split(source) -> str | None:
    """The training split of the registered dataset a source spec or origin names.

    Args:
        source: a source spec or an `ImageData` origin (``"mnist:test"``); anything else gives None.

    Returns:
        ``"<name>:train"``, or None when the source is no registered dataset or the dataset has no
        train split.

    Example:
        >>> training_split("fashion-mnist:test"), training_split("runs/samples.npz")
        ('fashion-mnist:train', None)
    """
    if not isinstance(source, str):
        return None
    name = source.partition(":")[0].strip().lower()
    return f"{name}:train" if name in DATASETS and "train" in DATASETS[name].splits else None


def load_dataset(spec: str, root: str | os.PathLike | None = None) -> ImageData:
    """Load a registered dataset split, e.g. ``load_dataset("mnist:test")``.

    Args:
        spec: ``"name[:split]"`` (see `parse_dataset_spec`).
        root: a data root searched before ``$GMEVAL_DATA`` and the cache (see `resolve_dataset_file`).

    Returns:
        `ImageData` with labels, origin ``name:split`` and `num_classes`.

    Raises:
        InvalidArgumentError: unknown dataset or split.
        DatasetNotFoundError: the files are not available.
        ChecksumError: a local file has the wrong content.

    Example:
        >>> data = load_dataset("digits:train")
        >>> data.images.shape, data.images.dtype, data.labels[:5].tolist()
        ((1437, 1, 8, 8), dtype('uint8'), [0, 1, 2, 3, 4])
    """
    name, split = parse_dataset_spec(spec)
    ds = DATASETS[name]
    return ds.loader(ds, split, root)


def dataset_status(root=None) -> list[dict]:
    """Which registered datasets are available locally, and where (for ``gmeval datasets``).

    Args:
        root: an explicit data root, searched first.

    Returns:
        One dict per dataset with keys ``name``, ``available``, ``where`` and ``description``.

    Example:
        >>> [row for row in dataset_status() if row["name"] == "digits"][0]["where"]
        'bundled with scikit-learn'
    """
    rows = []
    for name, ds in DATASETS.items():
        if not ds.files:
            rows.append({"name": name, "available": True, "where": "bundled with scikit-learn", "description": ds.description})
            continue
        found = None
        needed = {f for pair in ds.files.values() for f in pair}
        for label, base in data_roots(root):
            if all(any(c.is_file() for c in candidate_paths(base, name, f)) for f in needed):
                found = f"{base / name} ({label})"
                break
        rows.append({"name": name, "available": found is not None, "where": found or "not local (downloadable)", "description": ds.description})
    return rows
