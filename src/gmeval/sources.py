"""Resolve any user-facing image input to canonical ImageData.

A *source* is one of:
- a dataset split: ``mnist:test``, ``fashion-mnist:train``, ``digits:test``;
- a folder of images; a ``.npy`` / ``.npz`` array file;
- a training checkpoint (``.pt``): sampled with the model's contract (`n` samples, `seed`), in
  chunks (see below);
- a Python object: ImageData, array/tensor, iterable of batches, a GenerativeModel, or a callable
  ``f(n, generator) -> images``.
Statistics files (``.npz`` with mu/sigma) are handled by the evaluation layer, not here.

Chunk rule for generated samples (models and checkpoints). The n samples are drawn in chunks of
`SAMPLE_CHUNK` (1000) consecutive global indices; chunk c is `model.sample(size_c, seed=s_c)`
with s_0 = seed and s_c = derive_seed(seed, "sample-chunk", c) for c > 0 (class-conditional
models get the slice [start_c, stop_c) of `model.default_labels(n)`). The images therefore
depend on (model, n, seed) only, never on how many processes draw them: with
`distributed=True` under torchrun, rank r of W draws chunks r, r + W, ... and the chunks are
gathered back in global order, giving exactly the single-process samples. For n <= 1000 the
result equals `model.sample(n, seed=seed)`.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .data import ImageData, as_image_data, load_data_source
from .data.any import is_dataset_spec  # noqa: F401  (re-exported)
from .distributed.sharding import SAMPLE_CHUNK
from .errors import InvalidArgumentError
from .utils.seeding import as_torch_generator


def describe_source(spec) -> str:
    """A short description of a source for messages: the string itself, else the object's type name.

    Args:
        spec: any source.

    Returns:
        The description.

    Example:
        >>> import numpy as np
        >>> describe_source("mnist:test"), describe_source(np.zeros(1))
        ('mnist:test', 'ndarray')
    """
    return spec if isinstance(spec, str) else type(spec).__name__


def load_images(spec, n: int | None = None, seed: int = 0, data_root=None, size=None,
                distributed: bool = False) -> ImageData:
    """Load or generate images from any source (the kinds are in the module docstring).

    Args:
        spec: a dataset split (``"digits:test"``), an image folder, a ``.npy``/``.npz`` file, a
            checkpoint (``.pt``), ImageData, an array/tensor, an iterable of batches, a
            `GenerativeModel`, or a callable ``f(n, generator) -> images``.
        n: for stored sources, the first n items (all when None); for generators, required.
        seed: the sampling seed of generators (recorded in ``meta``); unused by stored sources.
        data_root: a data root searched first for dataset files.
        size: (H, W) to resize a folder's images to.
        distributed: under torchrun, divide generation among the ranks (a collective: every rank
            must call it); every rank gets the same full ImageData. Stored sources are read by every
            rank; a callable is called on rank 0 only and its images broadcast. No effect in a single
            process.

    Returns:
        `ImageData`.

    Raises:
        InvalidArgumentError: `n` missing for a generator, or larger than a stored source; an
            unrecognised `spec`.
        DataError: the files are missing, corrupt or inconsistent (subclasses name the file).
        CheckpointError: a checkpoint cannot be read.

    Example:
        >>> import torch
        >>> from gmeval.models import build_model
        >>> load_images("digits:test", n=5).images.shape
        (5, 1, 8, 8)
        >>> gan = build_model("mlp-gan", image_shape=(1, 8, 8), latent_dim=4, hidden=16)
        >>> fake = load_images(gan, n=4, seed=1)
        >>> fake.origin, fake.meta["seed"], torch.equal(torch.from_numpy(fake.images), gan.sample(4, seed=1))
        ('model:mlp-gan', 1, True)
        >>> load_images(lambda n, g: torch.rand(n, 1, 8, 8, generator=g), n=3).origin
        'callable:<lambda>'
    """
    from .models.base import GenerativeModel

    if isinstance(spec, ImageData):
        data = spec
    elif isinstance(spec, GenerativeModel):
        return sample_images(spec, n, seed, distributed=distributed,
                             describe=f"model:{spec.name}")
    elif isinstance(spec, (str, os.PathLike)):
        path = Path(spec)
        if path.suffix.lower() in (".pt", ".pth", ".ckpt") and path.is_file():
            from .training.checkpoint import load_model

            model = load_model(path)
            if distributed:
                from .distributed import device

                model.to(device())  # the rank's GPU under nccl; a no-op on CPU
            return sample_images(model, n, seed, distributed=distributed,
                                 describe=f"checkpoint:{path}")
        data = load_data_source(spec, root=data_root, size=size)
    elif callable(spec):
        if n is None:
            raise InvalidArgumentError("n", "a sample count for a generator callable", None)
        return _call_generator(spec, n, seed, distributed)
    else:
        data = as_image_data(spec)
    if n is not None:
        if n > len(data):
            raise InvalidArgumentError("n", f"at most {len(data)} (the size of {data.origin})", n)
        data = data.subset(slice(0, n))
    return data


def sample_chunks(model, n: int, seed: int, chunks, labels=None) -> tuple[np.ndarray, np.ndarray]:
    """Draw the given chunks of n samples (the chunk rule is in the module docstring).

    Args:
        model: a `GenerativeModel`.
        n: the total number of samples (fixes the chunk bounds).
        seed: the global sampling seed.
        chunks: chunk numbers to draw, in the order wanted.
        labels: n class labels for a conditional model (default: balanced, ``model.default_labels(n)``).

    Returns:
        (uint8 images of those chunks in order, their global indices as int64).

    Example:
        >>> from gmeval.models import build_model
        >>> gan = build_model("mlp-gan", image_shape=(1, 8, 8), latent_dim=4, hidden=16)
        >>> images, idx = sample_chunks(gan, 2500, seed=0, chunks=[2])
        >>> images.shape, idx[[0, -1]].tolist()
        ((500, 1, 8, 8), [2000, 2499])
    """
    from .distributed.sharding import chunk_bounds, chunk_seed

    bounds = chunk_bounds(n, SAMPLE_CHUNK)
    labels = _sample_labels(model, n, labels)
    imgs, idx = [], []
    for c in chunks:
        start, stop = bounds[c]
        y = None if labels is None else labels[start:stop]
        imgs.append(model.sample(stop - start, seed=chunk_seed(seed, c), labels=y).numpy())
        idx.append(np.arange(start, stop, dtype=np.int64))
    if not imgs:
        return np.empty((0,) + tuple(model.image_shape), np.uint8), np.empty(0, np.int64)
    return np.concatenate(imgs), np.concatenate(idx)


def _sample_labels(model, n: int, labels) -> np.ndarray | None:
    """The n class labels of the samples as int64: the given ones, else balanced for a conditional model."""
    if labels is not None:
        return np.asarray(labels, dtype=np.int64)
    return model.default_labels(n).numpy() if model.conditional else None


def sample_images(model, n, seed: int = 0, distributed: bool = False,
                  describe: str | None = None, labels=None) -> ImageData:
    """n samples of a `GenerativeModel` as ImageData, drawn chunk by chunk (module docstring).

    With `distributed=True` under torchrun each rank draws its chunks and all ranks receive the
    full set in global order (collective). The result does not depend on the number of ranks.

    Args:
        model: a `GenerativeModel`.
        n: the number of samples (a positive int).
        seed: the sampling seed.
        distributed: share the drawing among the torchrun ranks.
        describe: the result's origin (default ``model:<name>``).
        labels: n class labels for a conditional model (default: balanced 0, 1, ..., K-1, 0, ...).

    Returns:
        `ImageData` with the labels (conditional models) and ``meta`` seed, model and chunk size.

    Raises:
        InvalidArgumentError: a bad `n`, or labels for an unconditional model or of the wrong shape.

    Example:
        >>> from gmeval.models import build_model
        >>> cgan = build_model("cgan", image_shape=(1, 8, 8), latent_dim=4, num_classes=3, hidden=16)
        >>> data = sample_images(cgan, 4, seed=0)
        >>> data.images.shape, data.labels.tolist(), data.meta["sample_chunk"]
        ((4, 1, 8, 8), [0, 1, 2, 0], 1000)
    """
    from .distributed import gather_in_order, rank_chunks, rank_world
    from .distributed.sharding import chunk_bounds

    if n is None:
        raise InvalidArgumentError("n", "a sample count for a generative model", None)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise InvalidArgumentError("n", "a positive integer", n)
    n = int(n)
    if labels is not None and not model.conditional:
        raise InvalidArgumentError("labels", f"None for the unconditional model {model.name!r}", "labels")
    if labels is not None and np.shape(labels) != (n,):
        raise InvalidArgumentError("labels", f"{n} class labels (one per sample)", f"an array of shape {np.shape(labels)}")
    labels = _sample_labels(model, n, labels)
    n_chunks = len(chunk_bounds(n, SAMPLE_CHUNK))
    rank, world = rank_world() if distributed else (0, 1)
    imgs, idx = sample_chunks(model, n, seed, rank_chunks(n_chunks, rank, world), labels=labels)
    if world > 1:
        imgs = gather_in_order(imgs, idx, n, name="generated images")
    data = ImageData(imgs, labels, describe or f"model:{model.name}", model.num_classes or None)
    data.meta.update({"seed": seed, "model": model.name, "sample_chunk": SAMPLE_CHUNK})
    return data


def _call_generator(spec, n, seed, distributed) -> ImageData:
    """A callable f(n, generator) is called once (on rank 0 when distributed; images broadcast)."""
    from .distributed import broadcast_array, broadcast_object, is_rank_zero, rank_world

    origin = f"callable:{getattr(spec, '__name__', type(spec).__name__)}"
    if not distributed or rank_world()[1] == 1:
        data = as_image_data(spec(n, as_torch_generator(seed)), origin=origin)
    else:
        data = None
        try:
            if is_rank_zero():
                data = as_image_data(spec(n, as_torch_generator(seed)), origin=origin)
        finally:  # tell the others whether rank 0 succeeded, so they never wait for images that never come
            ok = broadcast_object(data is not None if is_rank_zero() else None, 0, "generator callable status")
        if not ok:
            from .distributed import DistributedError

            raise DistributedError(f"rank 0 failed to call the generator {origin} (see its error)")
        images = broadcast_array(data.images if data is not None else None, 0, "generated images")
        labels = broadcast_object(data.labels if data is not None else None, 0, "generated labels")
        data = ImageData(images, labels, origin)
    data.meta["seed"] = seed
    return data
