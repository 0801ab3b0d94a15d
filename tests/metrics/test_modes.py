"""Mode coverage on constructed histograms and logits.

Tolerances (docs/tolerances.md): exact equalities are B4/B5 (same features, same seed, one process);
`approx`/`allclose` bounds are T1 (float64 formulas on well-conditioned input; each states its value).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import entropy

from gmeval.errors import InvalidArgumentError
from gmeval.metrics.image import ModeCoverage, kl_divergence, mode_coverage_from_histograms, mode_coverage_score


def _labels_from_hist(hist):
    return np.repeat(np.arange(len(hist)), hist)


def test_covered_modes_use_the_stated_threshold():
    # M = 1000, C = 10 -> uniform share 100 per class; threshold 0.1 -> at least 10 samples
    hist = np.array([300, 200, 200, 100, 100, 60, 20, 10, 9, 1])
    res = mode_coverage_from_histograms(hist)
    assert res.modes_covered == 8  # 10 counts (== threshold) is covered; 9 and 1 are not
    np.testing.assert_array_equal(res.covered, hist >= 10)
    assert res.mode_coverage == pytest.approx(0.8, abs=1e-15)
    assert mode_coverage_from_histograms(hist, threshold=0.5).modes_covered == 6  # >= 50 samples


def test_collapsed_generator_covers_one_mode():
    res = mode_coverage_score(_labels_from_hist([0, 0, 500, 0]), _labels_from_hist([25, 25, 25, 25]), num_classes=4)
    assert res.modes_covered == 1
    # KL(q || p) with q ~ one-hot, p uniform: log 4, up to the eps smoothing (1e-6)
    assert res.kl_fake_real == pytest.approx(np.log(4), rel=1e-4)


def test_kl_matches_scipy_and_is_zero_for_equal_proportions():
    q, p = np.array([5, 10, 30, 55]), np.array([20, 20, 30, 30])
    eps = 1e-6
    qs = (q / q.sum() + eps) / (1 + 4 * eps)
    ps = (p / p.sum() + eps) / (1 + 4 * eps)
    assert kl_divergence(q, p, eps) == pytest.approx(entropy(qs, ps), rel=1e-12)
    assert kl_divergence([1, 2, 3], [10, 20, 30]) == pytest.approx(0.0, abs=1e-15)
    # a class absent from the real side gives a large but finite value
    v = kl_divergence([50, 50], [100, 0])
    assert np.isfinite(v) and v > 5


def test_logits_give_confident_share_and_real_logits_are_accepted():
    c = 5
    logits = np.zeros((100, c))
    logits[:60, 0] = 10.0   # p(top) = e^10 / (e^10 + 4) ~ 0.9998 > 0.9
    logits[60:, 1] = 2.0    # p(top) = e^2 / (e^2 + 4) ~ 0.649
    res = mode_coverage_score(logits, real=np.eye(c)[np.arange(50) % c] * 5)
    assert res.confident_share == pytest.approx(0.6, abs=1e-15)
    assert res.real_confident_share == pytest.approx(1.0, abs=1e-15)  # e^5 / (e^5 + 4) ~ 0.974 > 0.9
    np.testing.assert_array_equal(res.fake_histogram, [60, 40, 0, 0, 0])
    np.testing.assert_array_equal(res.real_histogram, [10] * 5)
    assert res.modes_covered == 2


def test_class_accumulates_histograms_and_merges():
    rng = np.random.default_rng(0)
    fake = rng.standard_normal((300, 10)) * 3
    real = rng.integers(0, 10, 500)
    ref = mode_coverage_score(fake, real, num_classes=10)
    m = ModeCoverage(num_classes=10)
    assert m.higher_is_better is True
    m.update(fake[:100]).update(real[:250], real=True)
    other = ModeCoverage(num_classes=10).update(fake[100:]).update(real[250:], real=True)
    assert m.merge(other).compute().as_dict() == ref.as_dict()


def test_errors():
    with pytest.raises(InvalidArgumentError, match="`fake_hist`"):
        mode_coverage_from_histograms([0, 0, 0])
    with pytest.raises(InvalidArgumentError, match=r"`real`.*labels in \[0, 3\)"):
        mode_coverage_score(np.array([0, 1, 2]), np.array([0, 5]), num_classes=3)
    with pytest.raises(InvalidArgumentError, match="`threshold`"):
        mode_coverage_from_histograms([1, 2], threshold=-1)
    with pytest.raises(InvalidArgumentError, match="fake samples"):
        ModeCoverage(num_classes=3).compute()
