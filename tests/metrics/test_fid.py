"""FID formula: analytic cases, references (scipy sqrtm, mpmath), small N, streaming/merging, classes.

Tolerances are stated on every assertion; they follow from float64 rounding (eps ~ 2.2e-16)
and the sqrt(eps) sensitivity of square roots of (near-)zero eigenvalues.

Tolerances (docs/tolerances.md): exact equalities are B4/B5 (same features, same seed, one process);
`approx`/`allclose` bounds are T1 (float64 formulas on well-conditioned input; each states its value).
"""

from __future__ import annotations

import warnings

import mpmath
import numpy as np
import pytest
from scipy import linalg

from gmeval.errors import InvalidArgumentError, ShapeMismatchError
from gmeval.metrics.frechet import frechet_distance, frechet_distance_from_stats
from gmeval.metrics.image import FID, fid_distance, fid_distance_from_stats, fid_features_to_stats
from gmeval.stats import GaussianStats


def _inception_like(n, d, seed, shift=0.0):
    """Non-negative, correlated, Inception-pool3-like features (rank-deficient signal + small noise)."""
    rng = np.random.default_rng(seed)
    a = np.random.default_rng(1234).standard_normal((d, 128)) / 12.0
    x = np.maximum(rng.standard_normal((n, 128)) @ a.T * 0.5 + 0.3 + shift, 0.0)
    return x + 0.01 * rng.standard_normal((n, d))


def _random_spd(d, seed, n=None):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n or 3 * d, d)) @ rng.standard_normal((d, d)) * 0.2
    return np.cov(x, rowvar=False)


def _sqrtm_reference(mu1, s1, mu2, s2):
    """The classic pytorch-fid route in float64: scipy.linalg.sqrtm of the product."""
    covmean = linalg.sqrtm(s1 @ s2)
    covmean = np.real(covmean)
    d = mu1 - mu2
    return float(d @ d + np.trace(s1) + np.trace(s2) - 2.0 * np.trace(covmean))


def _frozen_eigh_formula(mu1, s1, mu2, s2):
    """Frozen copy of gmeval's first formulation (A = S1^(1/2) by eigh, eigenvalues of A S2 A).

    Regression oracle: the current formulation (Cholesky factor, zero-row reduction) must agree.
    """
    w, v = linalg.eigh(s1)
    a = (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T
    m = a @ s2 @ a
    lam = linalg.eigvalsh((m + m.T) / 2.0)
    d = mu1 - mu2
    return float(d @ d + np.trace(s1) + np.trace(s2) - 2.0 * np.sqrt(np.clip(lam, 0.0, None)).sum())


# --- analytic cases ---------------------------------------------------------------------------
def test_fid_of_a_set_with_itself_is_zero_at_realistic_scale():
    x = _inception_like(2500, 2048, seed=0)  # N > D, pool3-like scale (trace of sigma ~ 1e2)
    assert np.trace(np.cov(x[:500], rowvar=False)) > 10.0
    assert fid_distance(x, x) == pytest.approx(0.0, abs=1e-6)


def test_equal_covariances_give_squared_mean_difference():
    s = _random_spd(64, seed=1)
    rng = np.random.default_rng(2)
    mu1, mu2 = rng.standard_normal(64), rng.standard_normal(64)
    expected = float((mu1 - mu2) @ (mu1 - mu2))
    assert frechet_distance(mu1, s, mu2, s) == pytest.approx(expected, rel=1e-9)


def test_unit_shift_with_identity_covariance_in_2048_dims_gives_2048():
    d = 2048
    eye = np.eye(d)
    assert frechet_distance(np.zeros(d), eye, np.ones(d), eye) == pytest.approx(2048.0, rel=1e-9)


def test_pure_scaling_of_one_dimension_matches_closed_form():
    # 1-d Gaussians: FD = (m1 - m2)^2 + (s1 - s2)^2 (s = standard deviations)
    assert frechet_distance([0.0], [[4.0]], [1.0], [[9.0]]) == pytest.approx(1.0 + 1.0, rel=1e-12)


# --- references -------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [3, 4])
def test_agrees_with_scipy_sqrtm_reference_on_random_statistics(seed):
    s1, s2 = _random_spd(256, seed), _random_spd(256, seed + 100)
    rng = np.random.default_rng(seed)
    mu1, mu2 = rng.standard_normal(256) * 0.1, rng.standard_normal(256) * 0.1
    ref = _sqrtm_reference(mu1, s1, mu2, s2)
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(ref, rel=1e-6)
    # and with the frozen previous formulation, tighter (both are symmetric-eigenvalue routes)
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(_frozen_eigh_formula(mu1, s1, mu2, s2), rel=1e-9)


@pytest.mark.slow  # ~10-20 s: 70k images, a 784-d sqrtm
def test_agrees_with_scipy_sqrtm_on_real_mnist_pixel_statistics(mnist_root):
    from gmeval.data import load_dataset

    test = load_dataset("mnist:test").images.reshape(10000, -1)
    train = load_dataset("mnist:train").images.reshape(60000, -1)
    a = fid_features_to_stats(test.astype(np.float64))
    b = GaussianStats()
    for i in range(0, len(train), 20000):  # streamed, as the pipeline does
        b.update(train[i:i + 20000].astype(np.float64))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", linalg.LinAlgWarning)  # sqrtm: "Matrix is singular" (constant pixels)
        ref = _sqrtm_reference(a.mean, a.cov, b.mean, b.cov)
    got = fid_distance_from_stats(a, b)
    assert got == pytest.approx(ref, rel=1e-6)
    assert got > 0


def test_small_n_case_stays_finite_where_naive_eigenvalues_give_nan():
    """N = 4 samples in C = 4 dims: rank-3 covariances. sqrt(eigvals(S1 S2)) hits tiny negative
    (or complex) eigenvalues and returns NaN/complex for many seeds; our formulation clips the
    symmetric problem's eigenvalues and stays finite, matching a 50-digit mpmath reference."""
    naive_failures = 0
    for seed in range(20):
        rng = np.random.default_rng(seed)
        a = GaussianStats.from_features(rng.standard_normal((4, 4)))
        b = GaussianStats.from_features(rng.standard_normal((4, 4)))
        ev = np.linalg.eigvals(a.cov @ b.cov)
        with np.errstate(invalid="ignore"):
            naive = np.sqrt(ev).sum()
        if np.isnan(naive) or np.iscomplexobj(naive) and abs(naive.imag) > 0:
            naive_failures += 1
        with pytest.warns(RuntimeWarning, match="N=4 samples for D=4"):
            got = frechet_distance_from_stats(a, b)
        assert np.isfinite(got) and got >= -1e-12
        # exact reference: eigenvalues of S1 S2 in 50-digit arithmetic (real parts, clipped at 0)
        with mpmath.workdps(50):
            m = mpmath.matrix(a.cov.tolist()) * mpmath.matrix(b.cov.tolist())
            lam = mpmath.eig(m, left=False, right=False)
            tr = sum(mpmath.sqrt(max(mpmath.re(v), 0)) for v in lam)
        d = a.mean - b.mean
        ref = float(d @ d + np.trace(a.cov) + np.trace(b.cov) - 2 * float(tr))
        assert got == pytest.approx(ref, rel=1e-7, abs=1e-7)  # sqrt(eps)-level: zero eigenvalue rounding
    assert naive_failures >= 3  # documented contrast (10 of these 20 seeds give NaN with numpy 2.x)


def test_constant_dimensions_are_removed_exactly():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((300, 6))
    y = rng.standard_normal((300, 6)) * 1.3 + 0.2
    pad = lambda z: np.concatenate([z, np.zeros((len(z), 3))], axis=1)  # noqa: E731  3 constant features
    assert fid_distance(pad(x), pad(y)) == pytest.approx(fid_distance(x, y), rel=1e-12)


# --- statistics, streaming, merging ---------------------------------------------------------------
def test_merged_statistics_equal_one_pass_statistics():
    x = _inception_like(900, 64, seed=6)
    one = GaussianStats.from_features(x)
    parts = [GaussianStats.from_features(x[i:i + 250]) for i in range(0, 900, 250)]
    merged = parts[0]
    for p in parts[1:]:
        merged = merged.merge(p)
    assert merged.n == one.n
    np.testing.assert_allclose(merged.mean, one.mean, rtol=1e-12, atol=0)
    np.testing.assert_allclose(merged.cov, one.cov, rtol=1e-12, atol=1e-12 * np.abs(one.cov).max())


def test_class_is_batch_size_independent_and_merges_shards():
    x, y = _inception_like(700, 32, seed=7), _inception_like(600, 32, seed=8, shift=0.05)
    ref = fid_distance(x, y)
    m = FID()
    assert m.higher_is_better is False
    for i in range(0, 700, 123):
        m.update(x[i:i + 123], real=True)
    for i in range(0, 600, 64):
        m.update(y[i:i + 64], real=False)
    assert m.compute() == pytest.approx(ref, rel=1e-10)
    # two shards of fake samples merged == one pass
    s1, s2 = FID().update(x, real=True).update(y[:250], real=False), FID().update(y[250:], real=False)
    assert s1.merge(s2).compute() == pytest.approx(ref, rel=1e-10)
    assert s1.fake.n == 250  # merge returns a new object
    m.reset()
    assert m.real.n == 0 and m.fake.n == 0


def test_class_with_fixed_reference_statistics():
    x, y = _inception_like(500, 16, seed=9), _inception_like(400, 16, seed=10, shift=0.1)
    ref_stats = GaussianStats.from_features(x)
    a = FID(real_stats=ref_stats).update(y[:100], real=False)
    b = FID(real_stats=ref_stats).update(y[100:], real=False)
    merged = a.merge(b)
    assert merged.real.n == 500  # the reference is counted once
    assert merged.compute() == pytest.approx(fid_distance(x, y), rel=1e-10)
    with pytest.raises(InvalidArgumentError, match="`real`"):
        a.update(x, real=True)
    with pytest.raises(InvalidArgumentError, match="same real reference"):
        a.merge(FID().update(y, real=False))


def test_warning_when_fewer_samples_than_dimensions():
    x, y = _inception_like(20, 32, seed=11), _inception_like(40, 32, seed=12)
    with pytest.warns(RuntimeWarning, match="N=20 samples for D=32"):
        v = fid_distance(x, y)
    assert np.isfinite(v)


def test_input_errors_name_the_argument():
    with pytest.raises(ShapeMismatchError, match="same feature dimension"):
        fid_distance(np.zeros((5, 3)), np.zeros((5, 4)))
    with pytest.raises(InvalidArgumentError, match="`real_features`.*finite"):
        fid_distance(np.full((5, 3), np.nan), np.zeros((5, 3)))
    with pytest.raises(InvalidArgumentError, match="`real_features`.*at least 2 rows"):
        fid_distance(np.zeros((1, 3)), np.zeros((5, 3)))
    with pytest.raises(InvalidArgumentError, match="`real`"):
        FID().update(np.zeros((3, 2)), real="yes")
    with pytest.raises(InvalidArgumentError, match="`real_stats`"):
        fid_distance_from_stats(np.zeros(3), GaussianStats(3))
