"""KID: equality with a straightforward reference, subset sampling, seeds, errors, class.

Tolerances (docs/tolerances.md): exact equalities are B4/B5 (same features, same seed, one process);
`approx`/`allclose` bounds are T1 (float64 formulas on well-conditioned input; each states its value).
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics.pairwise import polynomial_kernel as sk_poly

from gmeval.errors import InvalidArgumentError
from gmeval.metrics.image import KID, kid_distance


def _feats(n, d, seed, shift=0.0):
    rng = np.random.default_rng(seed)
    return np.abs(rng.standard_normal((n, d))) + shift


def _reference_kid(real, fake, n_subsets, m, seed):
    """Straightforward reference: same subset draws, sklearn's polynomial kernel, explicit masks."""
    rng = np.random.default_rng(seed)
    vals = []
    for _ in range(n_subsets):
        x = real[rng.choice(len(real), m, replace=False)]
        y = fake[rng.choice(len(fake), m, replace=False)]
        kw = dict(degree=3, gamma=1.0 / real.shape[1], coef0=1.0)
        kxx, kyy, kxy = sk_poly(x, x, **kw), sk_poly(y, y, **kw), sk_poly(x, y, **kw)
        off = ~np.eye(m, dtype=bool)
        vals.append(kxx[off].mean() + kyy[off].mean() - 2.0 * kxy.mean())
    return np.mean(vals), np.std(vals)


def test_matches_reference_computation():
    real, fake = _feats(300, 24, 0), _feats(250, 24, 1, shift=0.2)
    res = kid_distance(real, fake, n_subsets=7, subset_size=100, seed=3)
    mean, std = _reference_kid(real, fake, 7, 100, 3)
    assert res.mean == pytest.approx(mean, rel=1e-12)
    assert res.std == pytest.approx(std, rel=1e-10)
    assert res.gamma == pytest.approx(1 / 24) and res.degree == 3 and res.coef0 == 1.0
    assert len(res.values) == 7


def test_subsets_are_drawn_without_replacement():
    # with subset_size == N every subset is a permutation of the whole set: identical MMD^2 values
    real, fake = _feats(60, 8, 2), _feats(60, 8, 3, shift=0.1)
    res = kid_distance(real, fake, n_subsets=5, subset_size=60, seed=0)
    assert np.ptp(res.values) <= 1e-12 * abs(res.mean)


def test_default_protocol_and_direction():
    real, fake_same, fake_far = _feats(1200, 16, 4), _feats(1200, 16, 5), _feats(1200, 16, 6, shift=0.5)
    near = kid_distance(real, fake_same, n_subsets=5)
    far = kid_distance(real, fake_far, n_subsets=5)
    assert near.subset_size == 1000 and near.n_subsets == 5
    assert abs(near.mean) < 3 * near.std + 1e-3   # same distribution: unbiased estimate around 0
    assert far.mean > 10 * max(near.mean, near.std)
    assert KID.higher_is_better is False


def test_seeded_reproducibility():
    real, fake = _feats(200, 8, 7), _feats(200, 8, 8)
    a = kid_distance(real, fake, n_subsets=4, subset_size=50, seed=11)
    b = kid_distance(real, fake, n_subsets=4, subset_size=50, seed=np.random.default_rng(11))
    c = kid_distance(real, fake, n_subsets=4, subset_size=50, seed=12)
    np.testing.assert_array_equal(a.values, b.values)
    assert not np.array_equal(a.values, c.values)


def test_subset_larger_than_n_is_a_clear_error():
    with pytest.raises(InvalidArgumentError, match=r"`subset_size`.*N real = 300, N fake = 80.*got 1000"):
        kid_distance(_feats(300, 4, 0), _feats(80, 4, 1))


def test_class_chunks_and_merge_equal_one_call():
    real, fake = _feats(400, 12, 9), _feats(350, 12, 10, shift=0.1)
    ref = kid_distance(real, fake, n_subsets=6, subset_size=200, seed=5)
    m = KID(n_subsets=6, subset_size=200, seed=5)
    for i in range(0, 400, 77):
        m.update(real[i:i + 77], real=True)
    m.update(fake[:100], real=False)
    other = KID(n_subsets=6, subset_size=200, seed=5).update(fake[100:], real=False)
    res = m.merge(other).compute()
    np.testing.assert_array_equal(res.values, ref.values)
    with pytest.raises(InvalidArgumentError, match="configuration"):
        m.merge(KID(n_subsets=7))
