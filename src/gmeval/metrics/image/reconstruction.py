"""Reconstruction metrics for autoencoders: MSE, PSNR, SSIM between originals and reconstructions.

Images: N x C x H x W (or N x H x W), uint8 or floating point. Data range L: 255 for uint8,
1.0 for floating point in [0, 1] (checked), or given explicitly with `data_range`. Every
metric is computed in float64 on images scaled to [0, 1] (x / L), per image, then averaged over
images (each image weighs the same):

* MSE  = mean over pixels and channels of (x - y)^2 on the [0, 1] scale. Lower is better.
* PSNR = 10 log10(1 / MSE) dB per image (= 10 log10(L^2 / MSE_raw)); an image reconstructed
  exactly has PSNR = +inf, and so then has the mean. Higher is better.
* SSIM (Wang, Bovik, Sheikh, Simoncelli, "Image Quality Assessment: From Error Visibility to
  Structural Similarity", IEEE TIP 2004): local means, variances and covariance under an
  11 x 11 Gaussian window (sigma = 1.5, normalised to sum 1; weighted moments, no N-1
  correction), C1 = (K1 L)^2, C2 = (K2 L)^2 with K1 = 0.01, K2 = 0.03,
      SSIM = (2 mu_x mu_y + C1)(2 s_xy + C2) / ((mu_x^2 + mu_y^2 + C1)(s_x^2 + s_y^2 + C2)),
  averaged over the 'valid' window positions (no padding, as Wang's ssim.m; images need
  H, W >= 11), then over channels. No automatic downsampling (Wang's MATLAB script
  downsamples images larger than 256 px; scikit-image and torchmetrics do not). Higher is better.
"""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgumentError, ShapeMismatchError
from ._base import Metric
from ._common import check_float, check_int, to_numpy

SSIM_WIN = 11
SSIM_SIGMA = 1.5
SSIM_K1 = 0.01
SSIM_K2 = 0.03
_CHUNK = 256


def _as_unit_images(x, name: str, data_range: float | None) -> np.ndarray:
    a = to_numpy(x)
    if a.ndim == 3:
        a = a[:, None]
    if a.ndim != 4:
        raise ShapeMismatchError(f"`{name}` must be N x C x H x W (or N x H x W) images, got shape {a.shape}")
    if data_range is None:
        if a.dtype == np.uint8:
            data_range = 255.0
        elif np.issubdtype(a.dtype, np.floating):
            data_range = 1.0
            if a.size and (np.nanmin(a) < 0.0 or np.nanmax(a) > 1.0):
                raise InvalidArgumentError(
                    name, "uint8 images or floating-point images in [0, 1]",
                    f"floating-point values in [{float(np.nanmin(a)):g}, {float(np.nanmax(a)):g}]",
                    "Pass data_range= explicitly (e.g. 255.0) for other scales.")
        else:
            raise InvalidArgumentError(name, "uint8 or floating-point images (or pass data_range=)", f"dtype {a.dtype}")
    else:
        data_range = check_float("data_range", data_range, 0.0, np.inf, low_open=True, high_open=True)
    a = a.astype(np.float64) / data_range
    if not np.isfinite(a).all():
        raise InvalidArgumentError(name, "finite pixel values", "NaN or inf entries")
    return a


def _pair(original, reconstruction, data_range):
    x = _as_unit_images(original, "original", data_range)
    y = _as_unit_images(reconstruction, "reconstruction", data_range)
    if x.shape != y.shape:
        raise ShapeMismatchError(f"`original` and `reconstruction` must have the same shape, got {x.shape} and {y.shape}")
    if len(x) == 0:
        raise InvalidArgumentError("original", "at least one image", "an empty array")
    return x, y


def per_image_mse(original, reconstruction, *, data_range: float | None = None) -> np.ndarray:
    """Per-image mean squared error on the [0, 1] scale.

    Args:
        original: N x C x H x W (or N x H x W) images: uint8, or floats in [0, 1].
        reconstruction: images of the same shape.
        data_range: the pixel range (None: 255 for uint8, 1 for floats).

    Returns:
        A float64 vector of N values.

    Raises:
        ShapeMismatchError: the shapes differ or are not image batches.
        InvalidArgumentError: float pixels outside [0, 1] without `data_range`, another dtype, NaN, or no images.

    Example:
        >>> import numpy as np
        >>> a = np.zeros((2, 1, 4, 4), np.uint8)
        >>> b = a.copy(); b[1] = 51   # the second image off by 0.2 everywhere
        >>> per_image_mse(a, b).round(6).tolist()
        [0.0, 0.04]
    """
    x, y = _pair(original, reconstruction, data_range)
    return ((x - y) ** 2).reshape(len(x), -1).mean(axis=1)


def _psnr_from_mse(mse: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(1.0 / mse)


def per_image_psnr(original, reconstruction, *, data_range: float | None = None) -> np.ndarray:
    """Per-image PSNR in dB on the [0, 1] scale (inf for an exact reconstruction).

    Args:
        original: as `per_image_mse`.
        reconstruction: as `per_image_mse`.
        data_range: as `per_image_mse`.

    Returns:
        A float64 vector of N values.

    Raises:
        ShapeMismatchError: as `per_image_mse`.
        InvalidArgumentError: as `per_image_mse`.

    Example:
        >>> import numpy as np
        >>> x = np.zeros((2, 4, 4), np.uint8)
        >>> per_image_psnr(x, x + np.array([0, 51], np.uint8)[:, None, None]).round(4).tolist()   # 0 and 0.2 off
        [inf, 13.9794]
    """
    return _psnr_from_mse(per_image_mse(original, reconstruction, data_range=data_range))


def gaussian_window(size: int = SSIM_WIN, sigma: float = SSIM_SIGMA) -> np.ndarray:
    """size x size Gaussian window normalised to sum 1 (as MATLAB fspecial('gaussian', size, sigma)).

    Args:
        size: the window's side.
        sigma: the Gaussian's standard deviation.

    Returns:
        A float64 size x size array.

    Example:
        >>> w = gaussian_window(3, 1.0)
        >>> w.shape, round(float(w.sum()), 12), bool(w[1, 1] == w.max())
        ((3, 3), 1.0, True)
    """
    r = np.arange(size, dtype=np.float64) - (size - 1) / 2.0
    g = np.exp(-(r ** 2) / (2.0 * sigma ** 2))
    w = np.outer(g, g)
    return w / w.sum()


def per_image_ssim(original, reconstruction, *, data_range: float | None = None, win_size: int = SSIM_WIN,
                   sigma: float = SSIM_SIGMA, k1: float = SSIM_K1, k2: float = SSIM_K2) -> np.ndarray:
    """SSIM of every image pair (see module docstring), shape (N,).

    Args:
        original: as `per_image_mse`.
        reconstruction: as `per_image_mse`.
        data_range: as `per_image_mse`.
        win_size: side of the Gaussian window (11).
        sigma: its standard deviation (1.5).
        k1: SSIM's luminance constant (0.01).
        k2: SSIM's contrast constant (0.03).

    Returns:
        A float64 vector of N values (1 for identical images).

    Raises:
        ShapeMismatchError: as `per_image_mse`.
        InvalidArgumentError: as `per_image_mse`.
        ShapeMismatchError: images smaller than the window.

    Example:
        >>> import numpy as np
        >>> x = np.random.default_rng(0).integers(0, 256, (2, 1, 16, 16), dtype=np.uint8)
        >>> per_image_ssim(x, x).round(6).tolist()
        [1.0, 1.0]
    """
    import torch
    import torch.nn.functional as F

    x, y = _pair(original, reconstruction, data_range)
    win_size = check_int("win_size", win_size, 1)
    sigma = check_float("sigma", sigma, 0.0, np.inf, low_open=True, high_open=True)
    n, c, h, w = x.shape
    if h < win_size or w < win_size:
        raise ShapeMismatchError(f"SSIM with an {win_size} x {win_size} window needs images of at least that size, got {h} x {w}")
    c1, c2 = (k1 * 1.0) ** 2, (k2 * 1.0) ** 2  # data range is 1 after scaling
    win = torch.from_numpy(gaussian_window(win_size, sigma)).reshape(1, 1, win_size, win_size).repeat(c, 1, 1, 1)
    out = np.empty(n, np.float64)

    def filt(t):  # 'valid' Gaussian filtering of every channel separately
        return F.conv2d(t, win, groups=c)

    with torch.no_grad():
        for s in range(0, n, _CHUNK):
            xt = torch.from_numpy(x[s:s + _CHUNK])
            yt = torch.from_numpy(y[s:s + _CHUNK])
            mx, my = filt(xt), filt(yt)
            sxx = filt(xt * xt) - mx * mx
            syy = filt(yt * yt) - my * my
            sxy = filt(xt * yt) - mx * my
            num = (2 * mx * my + c1) * (2 * sxy + c2)
            den = (mx * mx + my * my + c1) * (sxx + syy + c2)
            out[s:s + _CHUNK] = (num / den).mean(dim=(1, 2, 3)).numpy()
    return out


def mean_squared_error(original, reconstruction, *, data_range: float | None = None) -> float:
    """Mean over images of the per-image MSE on the [0, 1] scale. Lower is better.

    Args:
        original: as `per_image_mse`.
        reconstruction: as `per_image_mse`.
        data_range: as `per_image_mse`.

    Returns:
        The mean as a float.

    Raises:
        ShapeMismatchError: as `per_image_mse`.
        InvalidArgumentError: as `per_image_mse`.

    Example:
        >>> import numpy as np
        >>> round(mean_squared_error(np.zeros((2, 3, 3)), np.full((2, 3, 3), 0.5)), 6)
        0.25
    """
    return float(per_image_mse(original, reconstruction, data_range=data_range).mean())


def psnr_score(original, reconstruction, *, data_range: float | None = None) -> float:
    """Mean over images of the per-image PSNR in dB (inf if any image is reconstructed exactly).

    Args:
        original: as `per_image_mse`.
        reconstruction: as `per_image_mse`.
        data_range: as `per_image_mse`.

    Returns:
        The mean as a float.

    Raises:
        ShapeMismatchError: as `per_image_mse`.
        InvalidArgumentError: as `per_image_mse`.

    Example:
        >>> import numpy as np
        >>> round(psnr_score(np.zeros((1, 8, 8)), np.full((1, 8, 8), 0.1)), 4), psnr_score(np.ones((1, 8, 8)), np.ones((1, 8, 8)))
        (20.0, inf)
    """
    return float(per_image_psnr(original, reconstruction, data_range=data_range).mean())


def ssim_score(original, reconstruction, *, data_range: float | None = None, win_size: int = SSIM_WIN,
               sigma: float = SSIM_SIGMA, k1: float = SSIM_K1, k2: float = SSIM_K2) -> float:
    """Mean over images of the per-image SSIM (Wang et al. 2004). 1 for identical images.

    Args:
        original: as `per_image_mse`.
        reconstruction: as `per_image_mse`.
        data_range: as `per_image_mse`.
        win_size: as `per_image_ssim`.
        sigma: as `per_image_ssim`.
        k1: as `per_image_ssim`.
        k2: as `per_image_ssim`.

    Returns:
        The mean as a float.

    Raises:
        ShapeMismatchError: as `per_image_mse`.
        InvalidArgumentError: as `per_image_mse`.

    Example:
        >>> import numpy as np
        >>> x = np.random.default_rng(1).integers(0, 256, (2, 1, 16, 16), dtype=np.uint8)
        >>> round(ssim_score(x, x), 6), ssim_score(x, 255 - x) < 0
        (1.0, True)
    """
    return float(per_image_ssim(original, reconstruction, data_range=data_range, win_size=win_size, sigma=sigma,
                                k1=k1, k2=k2).mean())


class _PerImageMean(Metric):
    """Keeps the sum of a per-image value and the image count ("sum" states): mergeable, batch-size independent."""

    def declare(self) -> None:
        self.add_state("total", "sum", np.zeros((), np.float64))
        self.add_state("count", "sum", np.zeros((), np.int64))

    def update(self, original, reconstruction):
        v = self._per_image(original, reconstruction)
        self.total = self.total + float(v.sum())
        self.count = self.count + len(v)
        return self

    def compute(self) -> float:
        if self.count == 0:
            raise InvalidArgumentError("images", "at least one update(original, reconstruction) before compute()", "none")
        return float(self.total / self.count)


class MSE(_PerImageMean):
    """Stateful mean squared error: sums of per-image values, mergeable and batch-size independent.

    Args:
        data_range: as `mean_squared_error`.

    Example:
        >>> import numpy as np
        >>> m = MSE().update(np.zeros((1, 3, 3)), np.full((1, 3, 3), 0.5)).update(np.zeros((1, 3, 3)), np.zeros((1, 3, 3)))
        >>> round(m.compute(), 6), m.higher_is_better
        (0.125, False)
    """
    higher_is_better = False
    primary = "mse"

    def __init__(self, data_range: float | None = None):
        super().__init__(data_range=data_range)

    def _per_image(self, x, y):
        return per_image_mse(x, y, **self._config)


class PSNR(_PerImageMean):
    """Stateful PSNR (mean of the per-image values).

    Args:
        data_range: as `psnr_score`.

    Example:
        >>> import numpy as np
        >>> round(PSNR(data_range=255.0).update(np.zeros((1, 4, 4)), np.full((1, 4, 4), 25.5)).compute(), 4)
        20.0
    """
    higher_is_better = True
    primary = "psnr"

    def __init__(self, data_range: float | None = None):
        super().__init__(data_range=data_range)

    def _per_image(self, x, y):
        return per_image_psnr(x, y, **self._config)


class SSIM(_PerImageMean):
    """Stateful SSIM (mean of the per-image values).

    Args:
        data_range: as `ssim_score`.
        win_size: as `ssim_score`.
        sigma: as `ssim_score`.
        k1: as `ssim_score`.
        k2: as `ssim_score`.

    Example:
        >>> import numpy as np
        >>> x = np.random.default_rng(0).integers(0, 256, (3, 1, 16, 16), dtype=np.uint8)
        >>> round(SSIM().update(x, x).compute(), 6)
        1.0
    """
    higher_is_better = True
    primary = "ssim"

    def __init__(self, data_range: float | None = None, win_size: int = SSIM_WIN, sigma: float = SSIM_SIGMA,
                 k1: float = SSIM_K1, k2: float = SSIM_K2):
        super().__init__(data_range=data_range, win_size=win_size, sigma=sigma, k1=k1, k2=k2)

    def _per_image(self, x, y):
        return per_image_ssim(x, y, **self._config)
