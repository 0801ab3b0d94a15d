"""Image providers of a study: real and fake sources resolved with `gmeval.sources.load_images`.

Images are kept in memory as canonical uint8 N x C x H x W arrays and served as PNG bytes by
opaque random ids (the `images` table of the store): a URL says nothing about whether the
image is real or fake, nor which model made it. Selection is seeded:

- files and datasets (``mnist:test``, folders, ``.npy``/``.npz``): a random subset, drawn
  without replacement with a generator seeded from (study seed, source role);
- generators (``.pt`` checkpoints, models, callables): `n` samples with a seed derived the same way.

Attention-check images are uniform noise with the shape of the real images (obviously fake) and
real images of a check pool of their own (never shown in the tutorial nor as scored trials).
On restart the pixels are re-derived and compared with the SHA-256 stored per image, so a
changed source or seed can never silently change what an image id points to.
"""

from __future__ import annotations

import hashlib
import io
import os
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np

from ..data import ImageData
from ..errors import DataError, InvalidArgumentError, ShapeMismatchError
from ..utils.seeding import as_numpy_generator, derive_seed
from .protocol import StudyDesign

GENERATOR_SUFFIXES = (".pt", ".pth", ".ckpt")


def is_generator_spec(spec) -> bool:
    """True when `spec` is sampled (checkpoint, model, callable), False when it is a fixed image set.

    Args:
        spec: a source spec.

    Returns:
        Whether it is a generator.

    Example:
        >>> import numpy as np
        >>> is_generator_spec("runs/a/checkpoint.pt"), is_generator_spec("digits:test"), is_generator_spec(np.zeros(1))
        (True, False, False)
    """
    from ..models.base import GenerativeModel

    if isinstance(spec, GenerativeModel):
        return True
    if isinstance(spec, (str, os.PathLike)):
        return Path(str(spec)).suffix.lower() in GENERATOR_SUFFIXES
    return callable(spec) and not isinstance(spec, (ImageData, np.ndarray))


def select_images(spec, n: int, seed: int, *, role: str) -> ImageData:
    """`n` images of `spec`: a seeded random subset of an image set, or `n` seeded samples of a generator.

    Args:
        spec: a source spec.
        n: how many images.
        seed: the subset or sampling seed.
        role: the source's role, for messages (``"real"``, ``"fake (gan)"``).

    Returns:
        An `ImageData` of `n` images.

    Raises:
        InvalidArgumentError: an image set with fewer than `n` images.
        DataError: a source that gives another number of images.

    Example:
        >>> data = select_images("digits:test", 5, seed=0, role="real")
        >>> data.images.shape, data.origin
        ((5, 1, 8, 8), 'digits:test')
    """
    from ..sources import describe_source, load_images

    if is_generator_spec(spec):
        data = load_images(spec, n, seed=seed)
    else:
        data = load_images(spec, None, seed=seed)
        if len(data) < n:
            raise InvalidArgumentError(f"{role} source", f"at least {n} images for this study design "
                                       "(lower --pool-size / --tutorial)", f"{describe_source(spec)} with {len(data)}")
        idx = as_numpy_generator(seed).choice(len(data), n, replace=False)
        data = data.subset(idx)
    if len(data) != n:
        raise DataError(f"expected {n} images, got {len(data)}", describe_source(spec))
    return data


def noise_images(n: int, shape: tuple[int, int, int], seed: int) -> np.ndarray:
    """`n` uniform-noise uint8 images (attention checks: obviously not a real image).

    Args:
        n: how many images.
        shape: C x H x W.
        seed: the seed.

    Returns:
        An n x C x H x W uint8 array.

    Example:
        >>> x = noise_images(2, (1, 8, 8), seed=0)
        >>> x.shape, x.dtype.name, bool((noise_images(2, (1, 8, 8), seed=0) == x).all())
        ((2, 1, 8, 8), 'uint8', True)
    """
    return as_numpy_generator(seed).integers(0, 256, size=(n, *shape), dtype=np.uint8)


def pixel_sha256(image_chw: np.ndarray) -> str:
    """SHA-256 of an image's shape and pixel bytes (stored with each image; verified on restart).

    Args:
        image_chw: a uint8 C x H x W array.

    Returns:
        64 hex characters.

    Example:
        >>> import numpy as np
        >>> a = np.zeros((1, 2, 2), np.uint8)
        >>> pixel_sha256(a) == pixel_sha256(a.copy()), pixel_sha256(a) == pixel_sha256(np.zeros((1, 4, 1), np.uint8))
        (True, False)
    """
    h = hashlib.sha256(repr(tuple(image_chw.shape)).encode())
    h.update(np.ascontiguousarray(image_chw).data)
    return h.hexdigest()


def encode_png(image_chw: np.ndarray) -> bytes:
    r"""uint8 C x H x W (C in 1, 3) -> PNG bytes, without any metadata chunk.

    Args:
        image_chw: the image.

    Returns:
        The PNG bytes.

    Example:
        >>> import io
        >>> import numpy as np
        >>> from PIL import Image
        >>> png = encode_png(np.full((3, 4, 5), 200, np.uint8))
        >>> Image.open(io.BytesIO(png)).size, png[:4]
        ((5, 4), b'\x89PNG')
    """
    from PIL import Image

    arr = image_chw[0] if image_chw.shape[0] == 1 else image_chw.transpose(1, 2, 0)
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(arr)).save(buf, format="PNG", optimize=False)
    return buf.getvalue()


class ImageProvider:
    r"""Source name -> uint8 array; serves PNG bytes by image id (with a bounded LRU cache).

    Args:
        arrays: {source name: N x C x H x W uint8 array}; every source has the same C x H x W.
        cache_size: PNGs kept in memory.

    Raises:
        ShapeMismatchError: sources of different image shapes (raters could tell them apart by size).

    Example:
        >>> import numpy as np
        >>> p = ImageProvider({"real": np.zeros((2, 1, 8, 8), np.uint8), "gan": np.ones((2, 1, 8, 8), np.uint8)})
        >>> p.bind([{"image_id": "id-1", "source": "gan", "idx": 1, "sha256": pixel_sha256(p.image("gan", 1))}])
        >>> p.shape, p.has("id-1"), p.has("id-2"), p.png("id-1")[:4]
        ((1, 8, 8), True, False, b'\x89PNG')
    """

    def __init__(self, arrays: dict[str, np.ndarray], cache_size: int = 4096):
        shapes = {k: tuple(v.shape[1:]) for k, v in arrays.items()}
        if len(set(shapes.values())) > 1:
            raise ShapeMismatchError(f"real and fake images must have one shape (C x H x W), otherwise raters can tell "
                                     f"them apart by size; got {shapes}")
        self.arrays = arrays
        self.shape = next(iter(shapes.values()))
        self._ids: dict[str, tuple[str, int]] = {}
        self._cache: OrderedDict[str, bytes] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def image(self, source: str, idx: int) -> np.ndarray:
        """The uint8 C x H x W image `idx` of `source`."""
        return self.arrays[source][idx]

    def bind(self, rows: list[dict]) -> None:
        """Attach the store's image rows (image_id, source, idx, sha256), checking every pixel hash."""
        bad = []
        for r in rows:
            src, idx = r["source"], int(r["idx"])
            if src not in self.arrays or idx >= len(self.arrays[src]) or pixel_sha256(self.image(src, idx)) != r["sha256"]:
                bad.append(f"{src}[{idx}]")
            self._ids[r["image_id"]] = (src, idx)
        if bad:
            raise DataError(f"{len(bad)} stored images differ from what the sources give now (first: {bad[:3]}); the "
                            "sources, seeds or sizes changed since the study was created: start a new study database")

    def has(self, image_id: str) -> bool:
        """Whether `image_id` is bound."""
        return image_id in self._ids

    def png(self, image_id: str) -> bytes:
        """The PNG bytes of a bound image (KeyError for unknown ids)."""
        with self._lock:
            data = self._cache.get(image_id)
            if data is not None:
                self._cache.move_to_end(image_id)
                return data
        src, idx = self._ids[image_id]  # KeyError for unknown ids
        data = encode_png(self.image(src, idx))
        with self._lock:
            self._cache[image_id] = data
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return data


def build_provider(design: StudyDesign, real, fakes: dict) -> tuple[ImageProvider, list[dict], dict]:
    """Load every image a study needs; returns (provider, image rows for the store, sources description).

    Sizes: real = design.n_real_pool scored + design.n_tutorial_real tutorial + design.n_check_real
    attention-check images (the check pool is disjoint from the tutorial and scored pools); each fake
    source = design.pool_size scored + ceil(n_tutorial_fake / n_models) tutorial images;
    noise = design.n_check_noise images.

    Args:
        design: the `StudyDesign`.
        real: the real source.
        fakes: {model: source}, one per model of the design, in its order.

    Returns:
        (`ImageProvider`, image rows for `Store.create`, the sources' description).

    Raises:
        InvalidArgumentError: `fakes` does not match the design's models, or a source has too few images.

    Example:
        >>> from gmeval.human import StudyDesign
        >>> design = StudyDesign("hype-inf", ("gan",), per_model=2, pool_size=2, n_tutorial=2, n_checks=2)
        >>> provider, rows, sources = build_provider(design, "digits:test", {"gan": "digits:train"})
        >>> sorted(provider.arrays), len(rows), sorted({r["pool"] for r in rows}), sources["gan"]["n"]
        (['gan', 'noise', 'real'], 8, ['check', 'scored', 'tutorial'], 3)
    """
    from ..sources import describe_source

    if list(fakes) != list(design.models):
        raise InvalidArgumentError("fakes", f"one source per model {list(design.models)}", list(fakes))
    models = design.models
    n_tut_fake = -(-design.n_tutorial_fake // len(models))
    arrays: dict[str, np.ndarray] = {}
    sources: dict = {}
    rows: list[dict] = []
    n_real = design.n_real_pool + design.n_tutorial_real + design.n_check_real
    seed_real = derive_seed(design.seed, "images", "real")
    data = select_images(real, n_real, seed_real, role="real")
    arrays["real"] = data.images
    sources["real"] = {"spec": describe_source(real), "seed": seed_real, "n": n_real, "fingerprint": data.fingerprint()}
    rows += _rows("real", "real", data.images, design.n_real_pool, n_tutorial=design.n_tutorial_real)
    for m in models:
        n = design.pool_size + n_tut_fake
        seed_m = derive_seed(design.seed, "images", "fake", m)
        data = select_images(fakes[m], n, seed_m, role=f"fake ({m})")
        arrays[m] = data.images
        sources[m] = {"spec": describe_source(fakes[m]), "seed": seed_m, "n": n, "fingerprint": data.fingerprint()}
        rows += _rows(m, "fake", data.images, design.pool_size)
    shape = tuple(arrays["real"].shape[1:])
    seed_noise = derive_seed(design.seed, "images", "noise")
    noise = noise_images(max(design.n_check_noise, 0), shape, seed_noise)
    if len(noise):
        arrays["noise"] = noise
        sources["noise"] = {"spec": "uniform noise", "seed": seed_noise, "n": len(noise)}
        rows += [{"source": "noise", "idx": i, "truth": "fake", "pool": "check", "sha256": pixel_sha256(noise[i])}
                 for i in range(len(noise))]
    return ImageProvider(arrays), rows, sources


def _rows(source: str, truth: str, images: np.ndarray, n_scored: int, n_tutorial: int | None = None) -> list[dict]:
    """Image rows: the first `n_scored` scored, then `n_tutorial` tutorial (default: all the rest), then checks."""
    n_tutorial = len(images) - n_scored if n_tutorial is None else n_tutorial

    def pool(i):
        return "scored" if i < n_scored else "tutorial" if i < n_scored + n_tutorial else "check"

    return [{"source": source, "idx": i, "truth": truth, "pool": pool(i), "sha256": pixel_sha256(images[i])}
            for i in range(len(images))]
