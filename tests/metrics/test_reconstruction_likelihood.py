"""MSE / PSNR / SSIM and bits per dimension.

Tolerances (docs/tolerances.md): exact equalities are B4/B5 (same features, same seed, one process);
`approx`/`allclose` bounds are T1 (float64 formulas on well-conditioned input; each states its value).
"""

from __future__ import annotations

import numpy as np
import pytest

from gmeval.errors import InvalidArgumentError, ShapeMismatchError
from gmeval.metrics.image import (MSE, PSNR, SSIM, BitsPerDim, bits_per_dim, likelihood_summary, mean_squared_error,
                                  per_image_ssim, psnr_score, ssim_score)


def _images(n, seed, h=28, w=28, c=1):
    return np.random.default_rng(seed).integers(0, 256, (n, c, h, w)).astype(np.uint8)


def _noisy(x, seed, amp=20):
    noise = np.random.default_rng(seed).integers(-amp, amp + 1, x.shape)
    return np.clip(x.astype(int) + noise, 0, 255).astype(np.uint8)


def _ssim_oracle(x, y, win=11, sigma=1.5, k1=0.01, k2=0.03, data_range=255.0):
    """Frozen, loop-based transcription of Wang et al. (2004): Gaussian-weighted local statistics
    at every 'valid' window position of one single-channel image pair."""
    x, y = x.astype(np.float64), y.astype(np.float64)
    r = np.arange(win) - (win - 1) / 2
    g = np.exp(-r ** 2 / (2 * sigma ** 2))
    wgt = np.outer(g, g) / np.outer(g, g).sum()
    c1, c2 = (k1 * data_range) ** 2, (k2 * data_range) ** 2
    vals = []
    for i in range(x.shape[0] - win + 1):
        for j in range(x.shape[1] - win + 1):
            px, py = x[i:i + win, j:j + win], y[i:i + win, j:j + win]
            mx, my = (wgt * px).sum(), (wgt * py).sum()
            vx, vy = (wgt * (px - mx) ** 2).sum(), (wgt * (py - my) ** 2).sum()
            cxy = (wgt * (px - mx) * (py - my)).sum()
            vals.append((2 * mx * my + c1) * (2 * cxy + c2) / ((mx ** 2 + my ** 2 + c1) * (vx + vy + c2)))
    return np.mean(vals)


def test_ssim_of_identical_images_is_one():
    x = _images(4, 0, c=3)
    assert ssim_score(x, x) == pytest.approx(1.0, abs=1e-12)
    assert ssim_score(np.zeros((2, 1, 16, 16), np.uint8), np.zeros((2, 1, 16, 16), np.uint8)) == pytest.approx(1.0, abs=1e-12)


def test_ssim_matches_loop_oracle():
    x = _images(3, 1, h=20, w=24)
    y = _noisy(x, 2)
    got = per_image_ssim(x, y)
    want = [_ssim_oracle(x[i, 0], y[i, 0]) for i in range(3)]
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=0)
    assert 0 < got.max() < 1


def test_uint8_and_unit_float_inputs_agree():
    x = _images(5, 3)
    y = _noisy(x, 4)
    xf, yf = x / 255.0, y / 255.0
    assert ssim_score(xf, yf) == pytest.approx(ssim_score(x, y), rel=1e-12)
    assert mean_squared_error(xf, yf) == pytest.approx(mean_squared_error(x, y), rel=1e-12)
    assert psnr_score(x.astype(np.float64), y.astype(np.float64), data_range=255.0) == pytest.approx(
        psnr_score(x, y), rel=1e-12)


def test_psnr_known_value_for_known_mse():
    x = np.zeros((2, 1, 16, 16), np.uint8)
    y = np.full((2, 1, 16, 16), 16, np.uint8)  # MSE (raw) = 256 -> 10 log10(255^2 / 256)
    assert mean_squared_error(x, y) == pytest.approx((16 / 255) ** 2, rel=1e-14)
    assert psnr_score(x, y) == pytest.approx(10 * np.log10(255 ** 2 / 256), rel=1e-12)  # 24.0478 dB
    assert psnr_score(x, x) == np.inf


def test_classes_are_batch_size_independent():
    x = _images(37, 5)
    y = _noisy(x, 6)
    for cls, fn in ((MSE, mean_squared_error), (PSNR, psnr_score), (SSIM, ssim_score)):
        a = cls()
        for i in range(0, 20, 6):
            a.update(x[i:min(i + 6, 20)], y[i:min(i + 6, 20)])
        b = cls().update(x[20:], y[20:])
        assert a.merge(b).compute() == pytest.approx(fn(x, y), rel=1e-12)
    assert (MSE.higher_is_better, PSNR.higher_is_better, SSIM.higher_is_better) == (False, True, True)


def test_reconstruction_errors():
    with pytest.raises(InvalidArgumentError, match="`original`.*data_range"):
        ssim_score(np.full((1, 1, 16, 16), 3.0), np.zeros((1, 1, 16, 16)))
    with pytest.raises(ShapeMismatchError, match="same shape"):
        mean_squared_error(_images(2, 0), _images(3, 0))
    with pytest.raises(ShapeMismatchError, match="at least that size"):
        ssim_score(_images(1, 0, h=8, w=8), _images(1, 0, h=8, w=8))


# --- likelihood ----------------------------------------------------------------------------------
def test_bits_per_dim_formula_and_dequantisation_offset():
    assert bits_per_dim(784 * np.log(2), 784) == pytest.approx(1.0, rel=1e-15)
    assert bits_per_dim(0.0, 3072, num_bins=256) == pytest.approx(8.0, rel=1e-15)
    np.testing.assert_allclose(bits_per_dim(np.array([0.0, 784 * np.log(4)]), 784), [0.0, 2.0], rtol=1e-15)


def test_likelihood_summary_and_streaming_class():
    v = np.random.default_rng(0).normal(90.0, 5.0, 1000)
    res = likelihood_summary(v, 784)
    assert res.nelbo == pytest.approx(v.mean(), rel=1e-14)
    assert res.nelbo_sem == pytest.approx(v.std(ddof=1) / np.sqrt(1000), rel=1e-12)
    assert res.bits_per_dim == pytest.approx(v.mean() / (784 * np.log(2)), rel=1e-14)
    m = BitsPerDim(784)
    for i in range(0, 600, 77):
        m.update(v[i:min(i + 77, 600)])
    out = m.merge(BitsPerDim(784).update(v[600:])).compute()
    assert out.nelbo == pytest.approx(res.nelbo, rel=1e-12) and out.nelbo_sem == pytest.approx(res.nelbo_sem, rel=1e-10)
    assert out.n == 1000 and BitsPerDim.higher_is_better is False
    with pytest.raises(InvalidArgumentError, match="`num_dims`"):
        bits_per_dim(1.0, 0)
