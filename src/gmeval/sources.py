"""Resolve any user-facing image input to canonical ImageData.

A *source* is one of:
- a dataset split: ``mnist:test``, ``fashion-mnist:train``, ``digits:test``;
- a folder of images; a ``.npy`` / ``.npz`` array file;
- a training checkpoint (``.pt``): sampled with the model's contract (`n` samples, `seed`);
- a Python object: ImageData, array/tensor, iterable of batches, a GenerativeModel, or a callable
  ``f(n, generator) -> images``.
Statistics files (``.npz`` with mu/sigma) are handled by the evaluation layer, not here.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .data import ImageData, as_image_data, load_data_source
from .data.any import is_dataset_spec  # noqa: F401  (re-exported)
from .errors import InvalidArgumentError
from .utils.seeding import as_torch_generator


def describe_source(spec) -> str:
    return spec if isinstance(spec, str) else type(spec).__name__


def load_images(spec, n: int | None = None, seed: int = 0, data_root=None, size=None, batch_size: int = 1000) -> ImageData:
    """Load or generate images from `spec` (see module docstring).

    `n`: for datasets/files, the first n items (all when None); for generators, required.
    `seed`: only used by generators (the sampling seed); recorded in ImageData.meta.
    """
    from .models.base import GenerativeModel

    if isinstance(spec, ImageData):
        data = spec
    elif isinstance(spec, GenerativeModel):
        return _sample_model(spec, n, seed, describe=f"model:{spec.name}", batch_size=batch_size)
    elif isinstance(spec, (str, os.PathLike)):
        path = Path(spec)
        if path.suffix.lower() in (".pt", ".pth", ".ckpt") and path.is_file():
            from .training.checkpoint import load_model

            return _sample_model(load_model(path), n, seed, describe=f"checkpoint:{path}", batch_size=batch_size)
        data = load_data_source(spec, root=data_root, size=size)
    elif callable(spec):
        if n is None:
            raise InvalidArgumentError("n", "a sample count for a generator callable", None)
        g = as_torch_generator(seed)
        data = as_image_data(spec(n, g), origin=f"callable:{getattr(spec, '__name__', type(spec).__name__)}")
        data.meta["seed"] = seed
        return data
    else:
        data = as_image_data(spec)
    if n is not None:
        if n > len(data):
            raise InvalidArgumentError("n", f"at most {len(data)} (the size of {data.origin})", n)
        data = data.subset(slice(0, n))
    return data


def _sample_model(model, n, seed, describe, batch_size):
    if n is None:
        raise InvalidArgumentError("n", "a sample count for a generative model", None)
    labels = model.default_labels(n).numpy() if model.conditional else None
    imgs = model.sample(n, seed=seed, batch_size=batch_size)
    data = ImageData(imgs.numpy(), labels, describe, model.num_classes or None)
    data.meta.update({"seed": seed, "model": model.name})
    return data
