"""Measure FID-infinity's two checks on MNIST with the MNIST classifier features (docs/metrics.md).

    python benchmarks/fid_infinity.py        # prints JSON; 25 s of CPU once the features are cached

1. Self: MNIST test against itself (the intercept should be near 0; conditioned on this one pool the
   expectation is -slope / 10000, see gmeval.metrics.image.infinity).
2. Prediction: real = MNIST test (10000), fake = MNIST train; a line fitted on N in [1000, 5000]
   predicts the FID of a fresh 10000-row subset of train within its prediction interval.
3. Halves: two random disjoint halves of MNIST train (30000 each): the intercept's interval contains 0.
4. The paper's convention on the same halves: the real half's statistics kept fixed (all 30000 rows),
   only the fake half subsampled; the real side's own bias stays in the intercept.
"""

from __future__ import annotations

import json

import numpy as np


def features(spec: str) -> np.ndarray:
    """MNIST classifier features through the evaluation pipeline's feature cache."""
    from gmeval.evaluation.pipeline import real_features

    return real_features(spec, "mnist")


def fixed_real_fit(real: np.ndarray, fake: np.ndarray, seed: int):
    """Chong & Forsyth's convention: the real statistics from every real row, FID against fake subsets of the
    15 sizes gmeval uses, fitted in 1/N (gmeval's fid-inf subsamples both sides instead; docs/metrics.md)."""
    from gmeval.metrics.frechet import frechet_distance_from_stats
    from gmeval.metrics.image import extrapolate_inverse_n
    from gmeval.metrics.image.infinity import sample_sizes
    from gmeval.stats import GaussianStats

    rng = np.random.default_rng(seed)
    ns = sample_sizes(len(fake))
    real_stats = GaussianStats.from_features(real)
    vals = [frechet_distance_from_stats(real_stats, GaussianStats.from_features(fake[np.sort(rng.choice(len(fake), int(k),
                                                                                                        replace=False))]))
            for k in ns]
    return extrapolate_inverse_n(ns, vals)


def measure(seed: int = 0) -> dict:
    from gmeval.metrics.image import fid_distance, fid_infinity_distance

    test, train = features("mnist:test"), features("mnist:train")
    out = {}
    r = fid_infinity_distance(test, test, seed=seed)
    out["self"] = {"intercept": r.intercept, "low": r.low, "high": r.high, "slope": r.slope,
                   "expected_given_pool": -r.slope / len(test), "fid_at_2000_subset": float(r.values[0])}
    fit = fid_infinity_distance(test, train, n_min=1000, n_max=5000, seed=seed)
    rng = np.random.default_rng(seed + 1)
    measured = [fid_distance(test, train[rng.choice(len(train), 10000, replace=False)]) for _ in range(5)]
    pred, lo, hi = fit.predict(10000)
    out["predict_10000"] = {"intercept": fit.intercept, "slope": fit.slope, "r2": fit.r2, "predicted": pred, "low": lo,
                            "high": hi, "measured": measured,
                            "inside": bool(all(lo <= m <= hi for m in measured))}
    perm = np.random.default_rng(seed + 2).permutation(len(train))
    a, b = train[perm[:30000]], train[perm[30000:]]
    half = fid_infinity_distance(a, b, seed=seed)
    out["halves"] = {"intercept": half.intercept, "low": half.low, "high": half.high, "slope": half.slope,
                     "plain_fid_30000": fid_distance(a, b),
                     "contains_0": bool(half.low <= 0 <= half.high)}
    fixed = fixed_real_fit(a, b, seed)
    out["halves_fixed_real"] = {"intercept": fixed.intercept, "low": fixed.low, "high": fixed.high, "slope": fixed.slope,
                                "contains_0": bool(fixed.low <= 0 <= fixed.high)}
    return out


if __name__ == "__main__":
    print(json.dumps(measure(), indent=1))
