"""Improved precision/recall (Kynkaanniemi et al. 2019) and density/coverage (Naeem et al. 2020).

With real features {r_i} (N) and fake features {f_j} (M), NND_k(x) the distance from x to its
k-th nearest neighbour within its own set (the point itself excluded), and B(x, r) the
closed ball {y : d(x, y) <= r} (the `<=` convention, see `knn`):

    precision = 1/M sum_j 1[ exists i : f_j in B(r_i, NND_k(r_i)) ]          k = 3
    recall    = 1/N sum_i 1[ exists j : r_i in B(f_j, NND_k(f_j)) ]          k = 3
    density   = 1/(k M) sum_j sum_i 1[ f_j in B(r_i, NND_k(r_i)) ]          k = 5
    coverage  = 1/N sum_i 1[ exists j : f_j in B(r_i, NND_k(r_i)) ]          k = 5

- Kynkaanniemi, Karras, Laine, Lehtinen, Aila. "Improved Precision and Recall Metric for
  Assessing Generative Models", NeurIPS 2019 (k = 3).
- Naeem, Oh, Uh, Choi, Yoo. "Reliable Fidelity and Diversity Metrics for Generative Models",
  ICML 2020 (k = 5). Density can exceed 1; its expectation is 1 for identical distributions.

All four come from three blocked passes (real-real radii, fake-fake radii, one real-fake pass);
nothing of size N x M is stored. All are higher-is-better.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._base import TwoSampleFeatureMetric
from ...errors import InvalidArgumentError
from ._common import MetricResult, as_features, check_choice, check_int, same_dim
from .knn import DEFAULT_BLOCK_SIZE, radii_and_ball_statistics

PR_K = 3
DC_K = 5


@dataclass
class PRDCResult(MetricResult):
    """Values are None for the part that was not requested. Per-sample arrays with details=True."""

    precision: float | None = None
    recall: float | None = None
    density: float | None = None
    coverage: float | None = None
    k_pr: int | None = None
    k_dc: int | None = None
    n_real: int = 0
    n_fake: int = 0
    # details (not in as_dict):
    fake_in_real_manifold: np.ndarray | None = None   # (M,) bool, precision membership (k_pr)
    real_in_fake_manifold: np.ndarray | None = None   # (N,) bool, recall membership (k_pr)
    fake_density_counts: np.ndarray | None = None     # (M,) int, real k_dc-balls containing each fake
    real_covered: np.ndarray | None = None            # (N,) bool, coverage membership (k_dc)
    real_radii_pr: np.ndarray | None = None
    fake_radii_pr: np.ndarray | None = None
    real_radii_dc: np.ndarray | None = None

    HIGHER_IS_BETTER = {"precision": True, "recall": True, "density": True, "coverage": True}


def _too_few(name, k, n, m):
    raise InvalidArgumentError(name, f"a neighbour count below both set sizes (N real = {n}, N fake = {m})", k,
                               "Precision/recall needs at least 2 samples on each side.")


def _prdc(real, fake, k_pr, k_dc, *, inclusive, block_size, compute_dtype, details) -> PRDCResult:
    check_choice("inclusive", inclusive, (True, False))
    real = as_features(real, "real_features", min_rows=2)
    fake = as_features(fake, "fake_features", min_rows=1)
    same_dim(real, fake, "real_features", "fake_features")
    n, m = len(real), len(fake)
    name_pr, name_dc = ("k_pr", "k_dc") if (k_pr is not None and k_dc is not None) else ("k", "k")
    if k_pr is not None:  # radii within both sets: needs k_pr other points on each side
        k_pr = check_int(name_pr, k_pr, 1, min(n, m) - 1, f"It must be below both N real = {n} and N fake = {m}.") \
            if min(n, m) > 1 else _too_few(name_pr, k_pr, n, m)
    if k_dc is not None:  # radii within the real set only
        k_dc = check_int(name_dc, k_dc, 1, n - 1, f"It must be below N real = {n}.")
    ks = sorted({k for k in (k_pr, k_dc) if k is not None})
    real_r, fake_r, stats = radii_and_ball_statistics(real, fake, ks, [k_pr] if k_pr is not None else [],
                                                      inclusive=inclusive, block_size=block_size,
                                                      compute_dtype=compute_dtype)
    fake_r = fake_r.get(k_pr)
    res = PRDCResult(k_pr=k_pr, k_dc=k_dc, n_real=n, n_fake=m)
    if k_pr is not None:
        in_real = stats.b_in_a_counts[ks.index(k_pr)] > 0
        in_fake = stats.a_in_b_counts[0] > 0
        res.precision, res.recall = float(in_real.mean()), float(in_fake.mean())
        if details:
            res.fake_in_real_manifold, res.real_in_fake_manifold = in_real, in_fake
            res.real_radii_pr, res.fake_radii_pr = real_r[k_pr], fake_r
    if k_dc is not None:
        j = ks.index(k_dc)
        counts = stats.b_in_a_counts[j]
        res.density = float(counts.sum() / (k_dc * m))
        res.coverage = float(stats.a_has_b[j].mean())
        if details:
            res.fake_density_counts, res.real_covered, res.real_radii_dc = counts, stats.a_has_b[j], real_r[k_dc]
    return res


def prdc_score(real_features, fake_features, *, k_pr: int = PR_K, k_dc: int = DC_K, inclusive: bool = True,
               block_size: int = DEFAULT_BLOCK_SIZE, compute_dtype: str = "auto", details: bool = False) -> PRDCResult:
    """Precision, recall (k_pr = 3), density and coverage (k_dc = 5) from one set of blocked passes."""
    return _prdc(real_features, fake_features, k_pr, k_dc, inclusive=inclusive, block_size=block_size,
                 compute_dtype=compute_dtype, details=details)


def precision_recall_score(real_features, fake_features, *, k: int = PR_K, inclusive: bool = True,
                           block_size: int = DEFAULT_BLOCK_SIZE, compute_dtype: str = "auto",
                           details: bool = False) -> PRDCResult:
    """Improved precision and recall (Kynkaanniemi et al. 2019), k = 3. Fields density/coverage are None."""
    return _prdc(real_features, fake_features, k, None, inclusive=inclusive, block_size=block_size,
                 compute_dtype=compute_dtype, details=details)


def density_coverage_score(real_features, fake_features, *, k: int = DC_K, inclusive: bool = True,
                           block_size: int = DEFAULT_BLOCK_SIZE, compute_dtype: str = "auto",
                           details: bool = False) -> PRDCResult:
    """Density and coverage (Naeem et al. 2020), k = 5. Needs no fake-fake pass. precision/recall are None."""
    return _prdc(real_features, fake_features, None, k, inclusive=inclusive, block_size=block_size,
                 compute_dtype=compute_dtype, details=details)


class PRDC(TwoSampleFeatureMetric):
    """Stateful precision/recall/density/coverage. update(features, real=...) then compute() -> PRDCResult."""

    higher_is_better = True
    primary = "precision"

    def __init__(self, k_pr: int = PR_K, k_dc: int = DC_K, inclusive: bool = True,
                 block_size: int = DEFAULT_BLOCK_SIZE, compute_dtype: str = "float32"):
        super().__init__(k_pr=k_pr, k_dc=k_dc, inclusive=inclusive, block_size=block_size, compute_dtype=compute_dtype)

    def _compute(self, real, fake) -> PRDCResult:
        return prdc_score(real, fake, **self._config)


class PrecisionRecall(TwoSampleFeatureMetric):
    higher_is_better = True
    primary = "precision"

    def __init__(self, k: int = PR_K, inclusive: bool = True, block_size: int = DEFAULT_BLOCK_SIZE,
                 compute_dtype: str = "float32"):
        super().__init__(k=k, inclusive=inclusive, block_size=block_size, compute_dtype=compute_dtype)

    def _compute(self, real, fake) -> PRDCResult:
        return precision_recall_score(real, fake, **self._config)


class DensityCoverage(TwoSampleFeatureMetric):
    higher_is_better = True
    primary = "coverage"

    def __init__(self, k: int = DC_K, inclusive: bool = True, block_size: int = DEFAULT_BLOCK_SIZE,
                 compute_dtype: str = "float32"):
        super().__init__(k=k, inclusive=inclusive, block_size=block_size, compute_dtype=compute_dtype)

    def _compute(self, real, fake) -> PRDCResult:
        return density_coverage_score(real, fake, **self._config)
