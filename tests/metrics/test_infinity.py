"""FID-infinity / IS-infinity (Chong & Forsyth 2020): the fit, the subset scheme, and the MNIST checks."""

from __future__ import annotations

import numpy as np
import pytest

from gmeval.errors import InvalidArgumentError
from gmeval.metrics.image import extrapolate_inverse_n, fid_distance, fid_infinity_distance, inception_score_infinity
from gmeval.metrics.image.infinity import sample_sizes
from tests.conftest import needs_mnist
from tests.tolerances import FID_FORMULA_RTOL


def test_exact_line_is_recovered():
    ns = np.array([1000, 2000, 3000, 4000, 5000])
    r = extrapolate_inverse_n(ns, 2.5 + 700.0 / ns)
    # T1: a float64 least-squares solve against the closed form of an exact line
    assert r.intercept == pytest.approx(2.5, rel=FID_FORMULA_RTOL)
    assert r.slope == pytest.approx(700.0, rel=FID_FORMULA_RTOL)
    assert r.low <= 2.5 <= r.high and r.high - r.low < 1e-6
    assert r.r2 == pytest.approx(1.0, abs=1e-12)  # T1
    y, lo, hi = r.predict(10000)
    assert y == pytest.approx(2.5 + 0.07, rel=FID_FORMULA_RTOL)  # T1


def test_noisy_line_interval_covers_the_truth_at_the_stated_rate():
    rng = np.random.default_rng(0)
    ns = np.linspace(1000, 5000, 15)
    covered = 0
    for _ in range(400):
        r = extrapolate_inverse_n(ns, 1.0 + 500 / ns + rng.normal(0, 0.02, 15))
        covered += r.low <= 1.0 <= r.high
    # 95 % intervals: 400 trials give 380 +- 2 * 4.4 covered (binomial), 360 leaves room
    assert 360 <= covered <= 395


def test_bad_inputs_are_typed_errors():
    with pytest.raises(InvalidArgumentError, match="at least 3 distinct"):
        extrapolate_inverse_n([100, 100, 200], [1, 2, 3])
    with pytest.raises(InvalidArgumentError, match="one value per N"):
        extrapolate_inverse_n([100, 200, 300], [1, 2])
    with pytest.raises(InvalidArgumentError, match="n_max"):
        sample_sizes(100, n_max=500)
    assert list(sample_sizes(1000, points=5)) == [200, 400, 600, 800, 1000]


def test_fid_infinity_same_distribution_interval_contains_zero_and_is_below_plain_fid():
    rng = np.random.default_rng(1)
    real, fake = rng.normal(size=(4000, 8)), rng.normal(size=(4000, 8))
    r = fid_infinity_distance(real, fake, seed=0)
    assert r.low <= 0.0 <= r.high
    assert r.slope > 0  # FID's bias falls with N
    assert abs(r.intercept) < fid_distance(real[:800], fake[:800])


def test_fid_infinity_recovers_a_mean_shift():
    rng = np.random.default_rng(2)
    shift = np.zeros(8)
    shift[0] = 1.0  # equal covariances: FID = |mu1 - mu2|^2 = 1
    real, fake = rng.normal(size=(6000, 8)), rng.normal(size=(6000, 8)) + shift
    r = fid_infinity_distance(real, fake, seed=0)
    assert r.low <= 1.0 <= r.high
    # deterministic given the seed (B5)
    assert fid_infinity_distance(real, fake, seed=0).intercept == r.intercept


def test_is_infinity_corrects_the_low_bias_of_small_n():
    rng = np.random.default_rng(3)
    logits = rng.normal(0, 3, size=(3000, 10))
    r = inception_score_infinity(logits, seed=0)
    assert r.slope < 0  # IS is biased low at small N: the marginal entropy is underestimated
    assert r.intercept > r.values[0]


@needs_mnist
@pytest.mark.slow
def test_mnist_checks(mnist_root):
    """The issue's checks with MNIST classifier features (benchmarks/fid_infinity.py gives the numbers)."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location("fidinf", Path(__file__).parents[2] / "benchmarks" / "fid_infinity.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    out = mod.measure(seed=0)
    self_ = out["self"]
    # the same set against itself: near 0, i.e. near the pool-conditioned expectation -slope / M (module docstring)
    assert abs(self_["intercept"]) < self_["fid_at_2000_subset"]
    assert self_["low"] <= self_["expected_given_pool"] <= self_["high"]
    assert out["predict_10000"]["inside"]
    assert out["halves"]["contains_0"]


def test_evaluate_reports_fid_inf_and_is_inf_with_signatures():
    from gmeval.evaluation import evaluate

    res = evaluate("digits:test", "digits:train", "fid,fid-inf,is-inf", extractor="mnist", n=300, n_real=300, progress=False,
                   cache=False)
    m = res["metrics"]
    assert m["fid_inf"]["higher_is_better"] is False and m["is_inf"]["higher_is_better"] is True
    assert m["fid_inf_fit_low"]["value"] <= m["fid_inf"]["value"] <= m["fid_inf_fit_high"]["value"]
    assert "|pts:15|" in m["fid_inf"]["signature"] and "nmax:300" in m["fid_inf"]["signature"]
    det = res["details"]["fid-inf"]
    assert len(det["ns"]) == 15 and det["ns"][-1] == 300
    # the last point uses every row of both sides, in their order: it is the plain FID (B4)
    assert det["values"][-1] == m["fid"]["value"]
