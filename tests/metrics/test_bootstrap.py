"""Bootstrap confidence intervals: reproducibility, coverage of the point estimate, schemes, errors.

Tolerances (docs/tolerances.md): exact equalities are B4/B5 (same features, same seed, one process);
`approx`/`allclose` bounds are T1 (float64 formulas on well-conditioned input; each states its value).
"""

from __future__ import annotations

import numpy as np
import pytest

from gmeval.errors import InvalidArgumentError
from gmeval.metrics.image import bootstrap_ci, fid_distance, prdc_score


def _mean_gap(r, f):
    return float(np.mean(f) - np.mean(r))


def test_reproducible_from_a_seed():
    rng = np.random.default_rng(0)
    real, fake = rng.standard_normal((200, 3)), rng.standard_normal((150, 3)) + 0.2
    a = bootstrap_ci(_mean_gap, real, fake, n_boot=50, seed=7)
    b = bootstrap_ci(_mean_gap, real, fake, n_boot=50, seed=np.random.default_rng(7))
    c = bootstrap_ci(_mean_gap, real, fake, n_boot=50, seed=8)
    np.testing.assert_array_equal(a.replicates, b.replicates)
    assert (a.low, a.high, a.std, a.seed, b.seed) == (b.low, b.high, b.std, 7, None)  # a Generator has no int seed
    assert not np.array_equal(a.replicates, c.replicates)


def test_interval_contains_the_point_estimate_and_has_the_right_width():
    rng = np.random.default_rng(1)
    real, fake = rng.standard_normal((400, 1)), rng.standard_normal((400, 1)) + 0.5
    res = bootstrap_ci(_mean_gap, real, fake, n_boot=400, seed=0)
    assert res.low < res.point < res.high
    # standard error of a difference of two means of unit-variance samples: sqrt(2 / 400) = 0.0707
    assert res.std == pytest.approx(np.sqrt(2 / 400), rel=0.15)
    half = bootstrap_ci(_mean_gap, real, fake, n_boot=400, seed=0, scheme="half")
    assert half.low < half.point < half.high
    assert half.std == pytest.approx(np.sqrt(2 / 400), rel=0.15)  # finite-population factor 1/2
    basic = bootstrap_ci(_mean_gap, real, fake, n_boot=400, seed=0, method="basic")
    assert basic.low == pytest.approx(2 * res.point - res.high, rel=1e-12)


def test_multi_valued_metrics_and_resample_one_side():
    rng = np.random.default_rng(2)
    real, fake = rng.standard_normal((150, 8)), rng.standard_normal((150, 8)) * 1.1
    out = bootstrap_ci(lambda r, f: prdc_score(r, f), real, fake, n_boot=20, seed=0, scheme="half",
                       keys=["precision", "coverage"])
    assert set(out) == {"precision", "coverage"}
    for v in out.values():
        assert v.n_boot == 20 and len(v.replicates) == 20 and v.low <= v.high and v.scheme == "half"
    fake_only = bootstrap_ci(fid_distance, real, fake, n_boot=5, seed=0, resample="fake")
    assert fake_only.resample == "fake" and np.isfinite(fake_only.point)
    one = bootstrap_ci(lambda x: float(x.mean()), real, n_boot=10)
    assert one.resample == "real"


def test_errors():
    with pytest.raises(InvalidArgumentError, match="`scheme`"):
        bootstrap_ci(_mean_gap, np.zeros((5, 1)), np.zeros((5, 1)), scheme="jackknife")
    with pytest.raises(InvalidArgumentError, match="`confidence`"):
        bootstrap_ci(_mean_gap, np.zeros((5, 1)), np.zeros((5, 1)), confidence=95)
    with pytest.raises(InvalidArgumentError, match="`metric_fn`"):
        bootstrap_ci(lambda r, f: "text", np.zeros((5, 1)), np.zeros((5, 1)))
    with pytest.raises(InvalidArgumentError, match="`keys`"):
        bootstrap_ci(lambda r, f: {"a": 1.0}, np.zeros((5, 1)), np.zeros((5, 1)), keys=["b"])
