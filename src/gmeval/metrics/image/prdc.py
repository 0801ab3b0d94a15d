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

from ._base import MetricReport, TwoSampleFeatureMetric
from ...errors import InvalidArgumentError
from ._common import MetricResult, as_features, check_choice, check_int, same_dim
from .knn import DEFAULT_BLOCK_SIZE, radii_and_ball_statistics

PR_K = 3
DC_K = 5


@dataclass
class PRDCResult(MetricResult):
    """Precision, recall, density, coverage; values are None for the part that was not requested.

    Attributes:
        precision: share of fake samples inside the real k-NN manifold (higher is better).
        recall: share of real samples inside the fake k-NN manifold.
        density: mean number of real k-NN balls holding a fake sample, divided by k.
        coverage: share of real samples whose k-NN ball holds a fake sample.
        k_pr: k of precision/recall (None when not computed).
        k_dc: k of density/coverage.
        n_real: number of real samples.
        n_fake: number of fake samples.
        fake_in_real_manifold: (M,) bool precision memberships (with ``details=True``; not in `as_dict`).
        real_in_fake_manifold: (N,) bool recall memberships.
        fake_density_counts: (M,) int, how many real k_dc-balls contain each fake sample.
        real_covered: (N,) bool coverage memberships.
        real_radii_pr: the real k_pr-NN radii.
        fake_radii_pr: the fake k_pr-NN radii.
        real_radii_dc: the real k_dc-NN radii.

    Example:
        >>> import numpy as np
        >>> real = np.array([[0.0], [1.0], [2.0], [3.0]])
        >>> fake = np.array([[0.5], [10.0]])
        >>> r = prdc_score(real, fake, k_pr=1, k_dc=1, details=True)
        >>> r.as_dict()
        {'precision': 0.5, 'recall': 1.0, 'density': 1.0, 'coverage': 0.5, 'k_pr': 1, 'k_dc': 1, 'n_real': 4, 'n_fake': 2}
        >>> r.fake_in_real_manifold.tolist(), r.real_covered.tolist()
        ([True, False], [True, True, False, False])
    """

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
    """Precision, recall (k_pr = 3), density and coverage (k_dc = 5) from one set of blocked passes.

    Args:
        real_features: real features, N x D (N >= 2).
        fake_features: generated features, M x D.
        k_pr: neighbour count of precision/recall; below both N and M.
        k_dc: neighbour count of density/coverage; below N.
        inclusive: True: a point is inside a ball when d <= r (closed balls, the reference code's
            convention); False: d < r.
        block_size: rows per distance tile (memory bound; results do not depend on it).
        compute_dtype: "auto" (default: bfloat16 screening tiles on CPUs with AMX-BF16 / AVX512-BF16,
            float32 elsewhere), "bfloat16", "float32" or "float64" tile products; every comparison the
            tile's worst-case rounding window cannot decide, and every returned radius, is recomputed in
            float64, so results equal the float64 ones.
        details: also return the per-sample memberships and radii.

    Returns:
        A `PRDCResult` with all four values.

    Raises:
        InvalidArgumentError: a neighbour count not below the set sizes, or another option out of range.
        ShapeMismatchError: the feature dimensions differ.

    Example:
        >>> import numpy as np
        >>> real = np.array([[0.0], [1.0], [2.0], [3.0]])
        >>> fake = np.array([[0.5], [10.0]])
        >>> r = prdc_score(real, fake, k_pr=1, k_dc=2)
        >>> r.precision, r.recall, r.density, r.coverage
        (0.5, 1.0, 0.5, 0.5)
    """
    return _prdc(real_features, fake_features, k_pr, k_dc, inclusive=inclusive, block_size=block_size,
                 compute_dtype=compute_dtype, details=details)


def precision_recall_score(real_features, fake_features, *, k: int = PR_K, inclusive: bool = True,
                           block_size: int = DEFAULT_BLOCK_SIZE, compute_dtype: str = "auto",
                           details: bool = False) -> PRDCResult:
    """Improved precision and recall (Kynkaanniemi et al. 2019), k = 3. Fields density/coverage are None.

    Args:
        real_features: real features, N x D (N >= 2).
        fake_features: generated features, M x D (M >= 2).
        k: neighbour count; below both N and M.
        inclusive: closed (True) or open balls, as `prdc_score`.
        block_size: rows per distance tile, as `prdc_score`.
        compute_dtype: tile product dtype, as `prdc_score`.
        details: also return the per-sample memberships and radii.

    Returns:
        A `PRDCResult` (density and coverage None).

    Raises:
        InvalidArgumentError: a neighbour count not below the set sizes, or another option out of range.
        ShapeMismatchError: the feature dimensions differ.

    Example:
        >>> import numpy as np
        >>> real = np.array([[0.0], [1.0], [2.0], [3.0]])
        >>> fake = np.array([[0.5], [10.0]])
        >>> r = precision_recall_score(real, fake, k=1)
        >>> r.precision, r.recall, r.density
        (0.5, 1.0, None)
        >>> precision_recall_score(real, fake, k=2)
        Traceback (most recent call last):
        ...
        gmeval.errors.InvalidArgumentError: Argument `k` must be an integer in [1, 1], but got 2. It must be below both N real = 4 and N fake = 2.
    """
    return _prdc(real_features, fake_features, k, None, inclusive=inclusive, block_size=block_size,
                 compute_dtype=compute_dtype, details=details)


def density_coverage_score(real_features, fake_features, *, k: int = DC_K, inclusive: bool = True,
                           block_size: int = DEFAULT_BLOCK_SIZE, compute_dtype: str = "auto",
                           details: bool = False) -> PRDCResult:
    """Density and coverage (Naeem et al. 2020), k = 5. Needs no fake-fake pass. precision/recall are None.

    Args:
        real_features: real features, N x D (N >= 2).
        fake_features: generated features, M x D (M >= 1).
        k: neighbour count; below N.
        inclusive: closed (True) or open balls, as `prdc_score`.
        block_size: rows per distance tile, as `prdc_score`.
        compute_dtype: tile product dtype, as `prdc_score`.
        details: also return the per-sample memberships and radii.

    Returns:
        A `PRDCResult` (precision and recall None).

    Raises:
        InvalidArgumentError: a neighbour count not below the set sizes, or another option out of range.
        ShapeMismatchError: the feature dimensions differ.

    Example:
        >>> import numpy as np
        >>> real = np.array([[0.0], [1.0], [2.0], [3.0]])
        >>> fake = np.array([[0.5], [10.0]])
        >>> r = density_coverage_score(real, fake, k=1)
        >>> r.density, r.coverage, r.precision
        (1.0, 0.5, None)
    """
    return _prdc(real_features, fake_features, None, k, inclusive=inclusive, block_size=block_size,
                 compute_dtype=compute_dtype, details=details)


class PRDC(TwoSampleFeatureMetric):
    """Stateful precision/recall/density/coverage. update(features, real=...) then compute() -> PRDCResult.

    Args:
        k_pr: neighbour count of precision/recall, as `prdc_score`.
        k_dc: neighbour count of density/coverage, as `prdc_score`.
        inclusive: closed (True) or open balls, as `prdc_score`.
        block_size: rows per distance tile, as `prdc_score`.
        compute_dtype: tile product dtype, as `prdc_score`.
        extractor: None (update with features) or an extractor name (update with uint8 images).
        layer: the extractor's layer (see `TwoSampleFeatureMetric`).

    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(200, 4))
    >>> r = PRDC().update(x, real=True).update(x, real=False).compute()
    >>> (r.precision, r.recall, r.coverage)
    (1.0, 1.0, 1.0)
    """

    higher_is_better = True
    primary = "precision"

    def __init__(self, k_pr: int = PR_K, k_dc: int = DC_K, inclusive: bool = True,
                 block_size: int = DEFAULT_BLOCK_SIZE, compute_dtype: str = "auto", *, extractor: str | None = None,
                 layer: str | None = None):
        super().__init__(k_pr=k_pr, k_dc=k_dc, inclusive=inclusive, block_size=block_size, compute_dtype=compute_dtype,
                         extractor=extractor, layer=layer)

    def _compute(self, real, fake) -> PRDCResult:
        return prdc_score(real, fake, **self.formula_config())


class PrecisionRecall(TwoSampleFeatureMetric):
    """Improved precision and recall (registry name ``pr``; ``prd`` is a deprecated alias).

    Args:
        k: neighbour count, as `precision_recall_score`.
        inclusive: as `precision_recall_score`.
        block_size: as `precision_recall_score`.
        compute_dtype: as `precision_recall_score`.
        extractor: None (update with features) or an extractor name (update with uint8 images).
        layer: the extractor's layer (see `TwoSampleFeatureMetric`).

    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(200, 4))
    >>> r = PrecisionRecall().update(x, real=True).update(x + 100, real=False).compute()
    >>> (r.precision, r.recall)
    (0.0, 0.0)
    """

    name = "pr"
    outputs = {"precision": True, "recall": True}
    intervals = True
    bootstrap_scheme = "half"  # resampled duplicates sit at distance 0 and shrink the radii (metrics/image/bootstrap.py)
    description = "improved precision/recall, k=3"
    options = ("k",)
    higher_is_better = True
    primary = "precision"

    def __init__(self, k: int = PR_K, inclusive: bool = True, block_size: int = DEFAULT_BLOCK_SIZE,
                 compute_dtype: str = "auto", *, extractor: str | None = None, layer: str | None = None):
        super().__init__(k=k, inclusive=inclusive, block_size=block_size, compute_dtype=compute_dtype, extractor=extractor,
                         layer=layer)

    def _compute(self, real, fake) -> PRDCResult:
        return precision_recall_score(real, fake, **self.formula_config())

    def report(self, result=None) -> MetricReport:
        """``{"precision": ..., "recall": ...}`` for `evaluate`, with k as a signature parameter."""
        r = self.compute() if result is None else result
        return MetricReport({"precision": r.precision, "recall": r.recall}, {}, {"k": r.k_pr})


class DensityCoverage(TwoSampleFeatureMetric):
    """Density and coverage (Naeem et al. 2020), registry name ``dc``.

    Args:
        k: neighbour count, as `density_coverage_score`.
        inclusive: as `density_coverage_score`.
        block_size: as `density_coverage_score`.
        compute_dtype: as `density_coverage_score`.
        extractor: None (update with features) or an extractor name (update with uint8 images).
        layer: the extractor's layer (see `TwoSampleFeatureMetric`).

    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(200, 4))
    >>> DensityCoverage().update(x, real=True).update(x, real=False).compute().coverage
    1.0
    """

    name = "dc"
    outputs = {"density": True, "coverage": True}
    intervals = True
    bootstrap_scheme = "half"
    description = "density/coverage, k=5"
    options = ("k",)
    higher_is_better = True
    primary = "coverage"

    def __init__(self, k: int = DC_K, inclusive: bool = True, block_size: int = DEFAULT_BLOCK_SIZE,
                 compute_dtype: str = "auto", *, extractor: str | None = None, layer: str | None = None):
        super().__init__(k=k, inclusive=inclusive, block_size=block_size, compute_dtype=compute_dtype, extractor=extractor,
                         layer=layer)

    def _compute(self, real, fake) -> PRDCResult:
        return density_coverage_score(real, fake, **self.formula_config())

    def report(self, result=None) -> MetricReport:
        """``{"density": ..., "coverage": ...}`` for `evaluate`, with k as a signature parameter."""
        r = self.compute() if result is None else result
        return MetricReport({"density": r.density, "coverage": r.coverage}, {}, {"k": r.k_dc})
