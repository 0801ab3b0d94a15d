"""Classifier two-sample test and memorisation check.

Tolerances (docs/tolerances.md): exact equalities are B4/B5 (same features, same seed, one process);
`approx`/`allclose` bounds are T1 (float64 formulas on well-conditioned input; each states its value).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from gmeval.errors import InvalidArgumentError
from gmeval.metrics.image import C2ST, Memorization, classifier_two_sample_test, memorization_check


def _gauss(n, d, seed, shift=0.0):
    return np.random.default_rng(seed).standard_normal((n, d)) + shift


# --- C2ST ----------------------------------------------------------------------------------------
def test_c2st_is_chance_on_identical_distributions():
    res = classifier_two_sample_test(_gauss(400, 10, 0), _gauss(400, 10, 1), seed=0)
    # 800 held-out predictions: binomial sd of the accuracy at 0.5 is 0.018; allow ~4 sd
    assert abs(res.accuracy - 0.5) < 0.07
    assert res.p_value > 0.001
    assert res.n_test == 800 and res.n_per_side == 400 and res.cv == "5-fold"


def test_c2st_is_near_one_on_separated_distributions():
    res = classifier_two_sample_test(_gauss(300, 10, 2), _gauss(300, 10, 3, shift=3.0), seed=0)
    assert res.accuracy > 0.97
    assert res.p_value < 1e-100


def test_c2st_balances_sides_holdout_and_seed():
    real, fake = _gauss(500, 5, 4), _gauss(120, 5, 5, shift=0.5)
    a = classifier_two_sample_test(real, fake, cv=0.25, seed=1)
    assert a.n_per_side == 120 and a.n_test == 60 and a.cv == "holdout-0.25"
    b = classifier_two_sample_test(real, fake, cv=0.25, seed=1)
    assert a.as_dict() == b.as_dict()
    from scipy.stats import binomtest
    assert a.p_value == pytest.approx(binomtest(a.n_correct, a.n_test, 0.5, alternative="greater").pvalue, rel=1e-12)


def test_c2st_class_and_errors():
    real, fake = _gauss(100, 4, 6), _gauss(100, 4, 7, 1.0)
    m = C2ST(seed=2).update(real, real=True).update(fake[:50], real=False)
    res = m.merge(C2ST(seed=2).update(fake[50:], real=False)).compute()
    assert res.as_dict() == classifier_two_sample_test(real, fake, seed=2).as_dict()
    assert C2ST.higher_is_better is False
    with pytest.raises(InvalidArgumentError, match="`cv`"):
        classifier_two_sample_test(real, fake, cv=1)
    with pytest.raises(InvalidArgumentError, match="`cv`"):
        classifier_two_sample_test(real, fake, cv=1.5)


# --- memorisation ------------------------------------------------------------------------------
def test_memorization_finds_copies_and_matches_reference():
    train = _gauss(400, 12, 8)
    fake = _gauss(100, 12, 9)
    fake[:7] = train[[3, 50, 99, 120, 200, 201, 399]]           # exact copies
    fake[7:10] = train[[10, 11, 12]] + 1e-3                     # near copies
    res = memorization_check(fake, train, n_train_queries=None, n_closest=10, block_size=64)
    # reference with full cdist
    tt = cdist(train, train)
    np.fill_diagonal(tt, np.inf)
    median = np.median(tt.min(axis=1))
    ft = cdist(fake, train)
    assert res.train_nn_median == pytest.approx(median, rel=1e-12)
    np.testing.assert_allclose(res.nn_distances, ft.min(axis=1), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(res.nn_indices, ft.argmin(axis=1))
    expected_near = ft.min(axis=1) < median / 3.0
    assert res.near_copies == expected_near.sum() == 10
    assert res.near_copy_share == pytest.approx(0.1, abs=1e-15)
    # the closest pairs are the exact copies (distance 0, in fake index order), then the near copies
    np.testing.assert_array_equal(res.closest_fake[:7], np.arange(7))
    np.testing.assert_array_equal(res.closest_train[:7], [3, 50, 99, 120, 200, 201, 399])
    np.testing.assert_array_equal(res.closest_distances[:7], 0.0)
    assert Memorization.higher_is_better is False and Memorization.primary == "near_copy_share"


def test_memorization_subsampled_median_and_class():
    train, fake = _gauss(600, 6, 10), _gauss(200, 6, 11)
    full = memorization_check(fake, train, n_train_queries=None)
    sub = memorization_check(fake, train, n_train_queries=300, seed=0)
    assert sub.n_train_queries == 300
    assert sub.train_nn_median == pytest.approx(full.train_nn_median, rel=0.15)  # unbiased, noisier
    m = Memorization(n_train_queries=300, seed=0).update(train, real=True)
    m.update(fake[:90], real=False).update(fake[90:], real=False)
    assert m.compute().as_dict() == sub.as_dict()
    with pytest.raises(InvalidArgumentError, match="`alpha`"):
        memorization_check(fake, train, alpha=0)
