"""Controlled degradations of uint8 N x C x H x W images (for `gmeval sanity`).

Each function is pure and seeded: (images, strength, rng) -> new uint8 images of the same shape.
Strength 0 returns an unchanged copy. Pixel noise is in units of the full range (0..1 = 0..255).
"""

from __future__ import annotations

import numpy as np

from ..errors import InvalidArgumentError


def _check(images, strength, name, hi=None) -> np.ndarray:
    x = np.asarray(images)
    if x.dtype != np.uint8 or x.ndim != 4:
        raise InvalidArgumentError("images", "uint8 N x C x H x W", f"{x.dtype} {x.shape}")
    if not np.isfinite(strength) or strength < 0 or (hi is not None and strength > hi):
        raise InvalidArgumentError(name, f"a number in [0, {hi if hi is not None else 'inf'})", strength)
    return x


def gaussian_noise(images, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Add N(0, (255 sigma)^2) noise per pixel, round and clip to 0..255.

    Args:
        images: uint8 N x C x H x W.
        sigma: the noise's standard deviation as a share of the full range (0.1 = 25.5 grey levels).
        rng: the random generator.

    Returns:
        New uint8 images of the same shape.

    Raises:
        InvalidArgumentError: `images` is not uint8 N x C x H x W, or `sigma` is negative or not finite.

    Example:
        >>> import numpy as np
        >>> x = np.full((2, 1, 4, 4), 128, np.uint8)
        >>> np.array_equal(gaussian_noise(x, 0.0, np.random.default_rng(0)), x)
        True
        >>> gaussian_noise(x, 0.1, np.random.default_rng(0)).shape
        (2, 1, 4, 4)
    """
    x = _check(images, sigma, "sigma")
    return np.clip(np.rint(x + rng.normal(0.0, 255.0 * sigma, x.shape)), 0, 255).astype(np.uint8)


def gaussian_blur(images, sigma: float, rng: np.random.Generator | None = None) -> np.ndarray:
    """Gaussian blur of standard deviation `sigma` pixels over H and W (scipy.ndimage, reflect borders).

    Args:
        images: uint8 N x C x H x W.
        sigma: the blur's standard deviation in pixels (0: an unchanged copy).
        rng: unused (the blur is deterministic); accepted for the common signature.

    Returns:
        New uint8 images of the same shape.

    Raises:
        InvalidArgumentError: `images` is not uint8 N x C x H x W, or `sigma` is negative or not finite.

    Example:
        >>> import numpy as np
        >>> x = np.zeros((1, 1, 5, 5), np.uint8); x[0, 0, 2, 2] = 255
        >>> y = gaussian_blur(x, 1.0)
        >>> int(y.max()) < 255, int(y[0, 0, 2, 2]) == int(y.max())
        (True, True)
    """
    from scipy.ndimage import gaussian_filter

    x = _check(images, sigma, "sigma")
    if sigma == 0:
        return x.copy()
    out = gaussian_filter(x.astype(np.float64), sigma=(0, 0, sigma, sigma), mode="reflect")
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def salt_and_pepper(images, p: float, rng: np.random.Generator) -> np.ndarray:
    """Set a share `p` of the pixel positions to 0 or 255 with equal odds (all channels of a position alike).

    Args:
        images: uint8 N x C x H x W.
        p: the share of pixel positions hit, in [0, 1].
        rng: the random generator.

    Returns:
        New uint8 images of the same shape.

    Raises:
        InvalidArgumentError: `images` is not uint8 N x C x H x W, or `p` is outside [0, 1].

    Example:
        >>> import numpy as np
        >>> y = salt_and_pepper(np.full((1, 1, 4, 4), 128, np.uint8), 1.0, np.random.default_rng(0))
        >>> set(np.unique(y).tolist()) <= {0, 255}
        True
    """
    x = _check(images, p, "p", 1.0).copy()
    hit = rng.random((x.shape[0], 1) + x.shape[2:]) < p
    salt = rng.random(hit.shape) < 0.5
    hit = np.broadcast_to(hit, x.shape)
    x[hit] = np.broadcast_to(np.where(salt, 255, 0), x.shape)[hit]
    return x


def replace_share(images, others, share: float, rng: np.random.Generator) -> np.ndarray:
    """Replace a random share of the rows of `images` by rows of `others` (both drawn without replacement).

    Args:
        images: uint8 N x C x H x W.
        others: images of the same C x H x W to draw the replacements from.
        share: the share of rows replaced, in [0, 1] (rounded to a whole number of rows).
        rng: the random generator.

    Returns:
        New uint8 images of the same shape.

    Raises:
        InvalidArgumentError: bad `images` or `share`, or fewer rows in `others` than are needed.

    Example:
        >>> import numpy as np
        >>> y = replace_share(np.zeros((4, 1, 2, 2), np.uint8), np.ones((4, 1, 2, 2), np.uint8), 0.5,
        ...                   np.random.default_rng(0))
        >>> int(y.reshape(4, -1).max(axis=1).sum())
        2
    """
    x = _check(images, share, "share", 1.0).copy()
    k = int(round(share * len(x)))
    if k > len(others):
        raise InvalidArgumentError("others", f"at least {k} rows to replace {share} of {len(x)}", len(others))
    rows = rng.choice(len(x), k, replace=False)
    x[rows] = np.asarray(others)[rng.choice(len(others), k, replace=False)]
    return x


def keep_classes(images, labels, keep, n: int) -> np.ndarray:
    """The first `n` images whose label is in `keep` (mode dropping; one class = mode collapse).

    Args:
        images: N x C x H x W.
        labels: N labels.
        keep: the labels to keep.
        n: how many images to return.

    Returns:
        A copy of the first `n` matching images.

    Raises:
        InvalidArgumentError: fewer than `n` images have a label in `keep`.

    Example:
        >>> import numpy as np
        >>> x = np.arange(6, dtype=np.uint8).reshape(6, 1, 1, 1)
        >>> keep_classes(x, [0, 1, 0, 1, 0, 1], {1}, 2).ravel().tolist()
        [1, 3]
    """
    x = np.asarray(images)
    rows = np.flatnonzero(np.isin(np.asarray(labels), list(keep)))
    if len(rows) < n:
        raise InvalidArgumentError("n", f"at most {len(rows)} (images of classes {sorted(keep)})", n)
    return x[rows[:n]].copy()
