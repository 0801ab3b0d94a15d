"""FID-infinity and IS-infinity: effectively unbiased FID and Inception Score (Chong & Forsyth,
"Effectively Unbiased FID and Inception Score and where to find them", CVPR 2020).

FID and IS computed from N generated samples are biased, and the bias is, to first order, linear
in 1/N (Chong & Forsyth, sec. 3: E[FID_N] = FID_inf + k / N, k depending on the generator). So a
FID computed at N = 2000 cannot be compared with one at N = 10000, nor two models at the same N
whose k differ. The remedy: compute the metric at several N, fit the line y = a + b / N by least
squares, and report the intercept a = the value at N = infinity.

Three pure steps:
- `extrapolate_inverse_n(ns, values)`: the fit alone (ordinary least squares in x = 1/N), with a
  Student-t interval of the intercept from the fit's residuals and `predict(n)` with a prediction
  interval for a new measurement at N;
- `fid_infinity_distance(real_features, fake_features)`: FID of N real against N fake rows, drawn
  without replacement from one seeded generator, at `points` sizes evenly spaced in [n_min, n_max];
- `inception_score_infinity(logits)`: IS with one split on subsets of the logits, likewise.

Conventions. FID_N here is FID with N rows on each side: at each point N real and N fake rows are
drawn without replacement (independent subsets per point). FID's bias has a real-side term k_r / N
as well as the fake-side k_f / N; the paper keeps the real statistics fixed (50k training images),
which leaves k_r / N_real in the intercept. With both sides at N, both terms are linear in 1/N and
the intercept estimates FID between the distributions. Measured on two random disjoint halves of
MNIST train (benchmarks/fid_infinity.py, docs/metrics.md) the interval contains 0. Over draws of the
pools the expected value at N is FID_inf + k / N; conditioned on the pools at hand (M_r, M_f rows)
it is FID(pools) + k_r (1/N - 1/M_r) + k_f (1/N - 1/M_f), so a set against itself gives an
intercept near -slope / M, slightly below 0. The paper draws fresh samples (and Sobol latents) at
each N instead.
Defaults: 15 sizes (the paper's count) from M / 5 to M (the paper: 5k to 50k, i.e. M / 10 to M;
M / 5 keeps N well above the feature dimension for small M). The interval is the fit's: it
reflects the scatter of the points around the line, not the sampling noise of the real set or of
the fake pool (use the bootstrap for that, as `gmeval compare` does).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...errors import InvalidArgumentError
from ...stats import GaussianStats
from ...utils.seeding import as_numpy_generator
from ..frechet import frechet_distance_from_stats
from ._base import LogitsMetric, MetricReport, TwoSampleFeatureMetric
from ._common import MetricResult, as_features, check_float, check_int, same_dim
from .inception_score import inception_score

INF_POINTS = 15
INF_MIN_FRACTION = 0.2
INF_CONFIDENCE = 0.95


@dataclass
class InverseNFit(MetricResult):
    """Least-squares line value(N) = intercept + slope / N.

    Attributes:
        intercept: the extrapolation to N = infinity.
        slope: the coefficient of 1 / N.
        low: lower end of the intercept's Student-t interval (k - 2 degrees of freedom).
        high: upper end of that interval.
        intercept_se: the intercept's standard error.
        r2: the fit's coefficient of determination.
        confidence: the interval's confidence level.
        points: number of sample sizes fitted.
        n_min: the smallest N.
        n_max: the largest N.
        ns: the sample sizes (not in `as_dict`).
        values: the measured value at each N.
        residual_std: the standard deviation of the residuals.
        cov: the 2 x 2 covariance of (intercept, slope).

    Example:
        >>> fit = extrapolate_inverse_n([10, 20, 40, 80], [7.0, 5.0, 4.0, 3.5])   # exactly 3 + 40 / N
        >>> round(fit.intercept, 6), round(fit.slope, 6), round(fit.predict(100)[0], 6)
        (3.0, 40.0, 3.4)
    """

    intercept: float
    slope: float
    low: float          # interval of the intercept (Student-t, k - 2 degrees of freedom)
    high: float
    intercept_se: float
    r2: float
    confidence: float
    points: int
    n_min: int
    n_max: int
    ns: np.ndarray | None = None        # not in as_dict
    values: np.ndarray | None = None
    residual_std: float = 0.0
    cov: np.ndarray | None = None       # 2 x 2 covariance of (intercept, slope)

    HIGHER_IS_BETTER = {"intercept": None}

    def predict(self, n: int, confidence: float | None = None) -> tuple[float, float, float]:
        """(value, low, high) for a new measurement at N = n: the line plus a prediction interval
        (the fit's uncertainty and the scatter of one new point)."""
        from scipy.stats import t as student_t

        n = check_int("n", n, 1)
        conf = self.confidence if confidence is None else check_float("confidence", confidence, 0, 1, low_open=True, high_open=True)
        g = np.array([1.0, 1.0 / n])
        var = float(g @ self.cov @ g) + self.residual_std ** 2
        q = float(student_t.ppf(0.5 + conf / 2, self.points - 2))
        y = self.intercept + self.slope / n
        return y, y - q * np.sqrt(var), y + q * np.sqrt(var)


def extrapolate_inverse_n(ns, values, confidence: float = INF_CONFIDENCE) -> InverseNFit:
    """Fit values = a + b / N by ordinary least squares; a is the extrapolation to N = infinity.

    Args:
        ns: the sample sizes (at least 3 distinct positive values).
        values: the metric measured at each size.
        confidence: level of the intercept's Student-t interval (0.95).

    Returns:
        An `InverseNFit`.

    Raises:
        InvalidArgumentError: lengths differ, fewer than 3 distinct sizes, a size <= 0, or a non-finite value.

    Example:
        >>> fit = extrapolate_inverse_n([100, 200, 400], [12.0, 11.0, 10.5])
        >>> round(fit.intercept, 6), fit.points, fit.n_min, fit.n_max
        (10.0, 3, 100, 400)
        >>> extrapolate_inverse_n([100, 100, 200], [1.0, 1.0, 1.0])
        Traceback (most recent call last):
        ...
        gmeval.errors.InvalidArgumentError: Argument `ns` must be at least 3 distinct positive sample sizes with finite values, but got [100.0, 100.0, 200.0].
    """
    from scipy.stats import t as student_t

    ns = np.asarray(ns, np.float64).ravel()
    y = np.asarray(values, np.float64).ravel()
    if len(ns) != len(y):
        raise InvalidArgumentError("values", f"one value per N ({len(ns)})", len(y))
    if len(np.unique(ns)) < 3 or np.any(ns <= 0) or not np.all(np.isfinite(y)):
        raise InvalidArgumentError("ns", "at least 3 distinct positive sample sizes with finite values", ns.tolist())
    confidence = check_float("confidence", confidence, 0, 1, low_open=True, high_open=True)
    x = 1.0 / ns
    X = np.stack([np.ones_like(x), x], 1)
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    resid = y - X @ coef
    dof = len(y) - 2
    s2 = float(resid @ resid) / dof
    cov = s2 * np.linalg.inv(X.T @ X)
    se = float(np.sqrt(cov[0, 0]))
    q = float(student_t.ppf(0.5 + confidence / 2, dof))
    ss_tot = float(((y - y.mean()) ** 2).sum())
    r2 = 1.0 - float(resid @ resid) / ss_tot if ss_tot > 0 else 1.0
    return InverseNFit(intercept=float(coef[0]), slope=float(coef[1]), low=float(coef[0] - q * se),
                       high=float(coef[0] + q * se), intercept_se=se, r2=r2, confidence=confidence, points=len(y),
                       n_min=int(ns.min()), n_max=int(ns.max()), ns=ns.astype(np.int64), values=y,
                       residual_std=float(np.sqrt(s2)), cov=cov)


def sample_sizes(m: int, points: int = INF_POINTS, n_min: int | None = None, n_max: int | None = None) -> np.ndarray:
    """`points` sizes evenly spaced in [n_min, n_max] (default [m / 5, m]), distinct integers <= m.

    Args:
        m: the number of samples available (>= 3).
        points: how many sizes (>= 3).
        n_min: the smallest size (None: m / 5, at least 2).
        n_max: the largest size (None: m).

    Returns:
        An int64 vector of distinct sizes, ascending.

    Raises:
        InvalidArgumentError: fewer than 3 distinct sizes fit in the range, or an argument out of range.

    Example:
        >>> sample_sizes(1000, 5).tolist()
        [200, 400, 600, 800, 1000]
        >>> sample_sizes(10, 3, n_min=9)
        Traceback (most recent call last):
        ...
        gmeval.errors.InvalidArgumentError: Argument `n_min/n_max` must be a range holding at least 3 distinct sizes (m = 10), but got (9, 10).
    """
    m = check_int("number of samples", m, 3)
    points = check_int("points", points, 3)
    hi = m if n_max is None else check_int("n_max", n_max, 3, m)
    lo = max(2, int(round(m * INF_MIN_FRACTION))) if n_min is None else check_int("n_min", n_min, 2, hi)
    ns = np.unique(np.linspace(lo, hi, points).round().astype(np.int64))
    if len(ns) < 3:
        raise InvalidArgumentError("n_min/n_max", f"a range holding at least 3 distinct sizes (m = {m})", (lo, hi))
    return ns


def _subset_values(fn, rows: np.ndarray, ns: np.ndarray, rng) -> np.ndarray:
    return np.array([fn(rows[np.sort(rng.choice(len(rows), int(k), replace=False))]) for k in ns], np.float64)


def fid_infinity_distance(real_features, fake_features, *, points: int = INF_POINTS, n_min: int | None = None,
                          n_max: int | None = None, confidence: float = INF_CONFIDENCE,
                          seed: int | np.random.Generator | None = 0) -> InverseNFit:
    """FID-infinity: FID of N real against N fake rows (independent subsets without replacement) at `points`
    sizes N up to min(N_real, N_fake), fitted in 1/N and extrapolated to N = inf (module docstring).

    Args:
        real_features: real features, N_real x D (N_real >= 3).
        fake_features: generated features, N_fake x D.
        points: number of sample sizes (15).
        n_min: the smallest size (None: a fifth of min(N_real, N_fake)).
        n_max: the largest size (None: min(N_real, N_fake)).
        confidence: level of the intercept's interval.
        seed: an int or an np.random.Generator for the subsets.

    Returns:
        An `InverseNFit` whose intercept is FID-infinity.

    Raises:
        InvalidArgumentError: too few rows or sizes out of range.
        ShapeMismatchError: the feature dimensions differ.

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> fit = fid_infinity_distance(rng.normal(size=(300, 2)), rng.normal(size=(300, 2)) + 2.0, points=4)
        >>> fit.ns.tolist(), 7.0 < fit.intercept < 9.0   # |mu1 - mu2|^2 = 8
        ([60, 140, 220, 300], True)
    """
    real = as_features(real_features, "real_features", min_rows=3)
    fake = as_features(fake_features, "fake_features", min_rows=3)
    same_dim(real, fake, "real_features", "fake_features")
    ns = sample_sizes(min(len(real), len(fake)), points, n_min, n_max)
    rng = as_numpy_generator(seed)
    vals = []
    for k in ns:
        r = real[np.sort(rng.choice(len(real), int(k), replace=False))]
        f = fake[np.sort(rng.choice(len(fake), int(k), replace=False))]
        vals.append(frechet_distance_from_stats(GaussianStats.from_features(r), GaussianStats.from_features(f)))
    return extrapolate_inverse_n(ns, vals, confidence)


def inception_score_infinity(logits, *, points: int = INF_POINTS, n_min: int | None = None, n_max: int | None = None,
                             confidence: float = INF_CONFIDENCE, seed: int | np.random.Generator | None = 0) -> InverseNFit:
    """IS-infinity: the Inception Score (one split) of `points` subsets of the logits, extrapolated to N = inf.

    Args:
        logits: N x C classifier logits (N >= 3).
        points: number of sample sizes (15).
        n_min: the smallest size (None: N / 5).
        n_max: the largest size (None: N).
        confidence: level of the intercept's interval.
        seed: an int or an np.random.Generator for the subsets.

    Returns:
        An `InverseNFit` whose intercept is IS-infinity.

    Raises:
        InvalidArgumentError: too few rows or sizes out of range.

    Example:
        >>> import numpy as np
        >>> logits = np.eye(5)[np.arange(200) % 5] * 30.0
        >>> fit = inception_score_infinity(logits, points=3)
        >>> fit.ns.tolist(), 4.5 < fit.intercept < 5.5
        ([40, 120, 200], True)
    """
    z = as_features(logits, "logits", min_rows=3)
    ns = sample_sizes(len(z), points, n_min, n_max)
    vals = _subset_values(lambda s: inception_score(s, splits=1, shuffle=False).mean, z, ns, as_numpy_generator(seed))
    return extrapolate_inverse_n(ns, vals, confidence)


def _inf_report(prefix: str, r: InverseNFit) -> MetricReport:
    values = {prefix: r.intercept, f"{prefix}_fit_low": r.low, f"{prefix}_fit_high": r.high, f"{prefix}_slope": r.slope}
    details = {"ns": [int(v) for v in r.ns], "values": [float(v) for v in r.values], "intercept": r.intercept,
               "slope": r.slope, "low": r.low, "high": r.high, "r2": r.r2, "confidence": r.confidence}
    return MetricReport(values, details, {"pts": r.points, "nmin": r.n_min, "nmax": r.n_max})


def _fit_config(points, n_min, n_max, confidence, seed) -> dict:
    check_int("points", points, 3)
    check_int("seed", seed, 0)
    return {"points": points, "n_min": n_min, "n_max": n_max, "confidence": confidence, "seed": seed}


class FIDInfinity(TwoSampleFeatureMetric):
    """Stateful FID-infinity ("cat" states of real and fake features); compute() -> InverseNFit.

    Args:
        points: number of sample sizes, as `fid_infinity_distance`.
        n_min: the smallest size (None: a fifth of the smaller side).
        n_max: the largest size (None: the smaller side).
        confidence: level of the intercept's interval.
        seed: the int seed of the subsets.
        extractor: None (update with features) or an extractor name (update with uint8 images).
        layer: the extractor's layer (see `TwoSampleFeatureMetric`).

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> m = FIDInfinity(points=5).update(rng.normal(size=(400, 3)), real=True).update(rng.normal(size=(400, 3)), real=False)
    >>> fit = m.compute()
    >>> (fit.points, fit.n_max, fit.low <= 0.05)
    (5, 400, True)
    """

    name = "fid-inf"
    outputs = {"fid_inf": False, "fid_inf_fit_low": None, "fid_inf_fit_high": None, "fid_inf_slope": None}
    description = "FID-infinity: FID at 15 sample sizes extrapolated to N = inf in 1/N (Chong & Forsyth 2020)"
    options = ("points",)
    higher_is_better = False
    primary = "intercept"

    def __init__(self, points: int = INF_POINTS, n_min: int | None = None, n_max: int | None = None,
                 confidence: float = INF_CONFIDENCE, seed: int = 0, *, extractor: str | None = None, layer: str | None = None):
        super().__init__(**_fit_config(points, n_min, n_max, confidence, seed), extractor=extractor, layer=layer)

    def _compute(self, real, fake) -> InverseNFit:
        return fid_infinity_distance(real, fake, **self.formula_config())

    def report(self, result=None) -> MetricReport:
        """FID-infinity, its fit interval and slope for `evaluate`, with the fit's points as details."""
        return _inf_report("fid_inf", self.compute() if result is None else result)


class ISInfinity(LogitsMetric):
    """Stateful IS-infinity (a "cat" state of generated logits); compute() -> InverseNFit.

    Args:
        points: number of sample sizes, as `inception_score_infinity`.
        n_min: the smallest size (None: N / 5).
        n_max: the largest size (None: N).
        confidence: level of the intercept's interval.
        seed: the int seed of the subsets.
        extractor: None (update with logits) or an extractor name (update with uint8 images).
        layer: the extractor's logits layer (see `LogitsMetric`).

    >>> import numpy as np
    >>> logits = np.eye(10)[np.arange(500) % 10] * 20
    >>> 9.5 < ISInfinity(points=4).update(logits).compute().intercept < 10.5   # 10 equally likely, confident classes
    True
    """

    name = "is-inf"
    outputs = {"is_inf": True, "is_inf_fit_low": None, "is_inf_fit_high": None, "is_inf_slope": None}
    description = "IS-infinity: one-split IS at 15 sample sizes extrapolated to N = inf (Chong & Forsyth 2020)"
    options = ("points",)
    higher_is_better = True
    primary = "intercept"

    def __init__(self, points: int = INF_POINTS, n_min: int | None = None, n_max: int | None = None,
                 confidence: float = INF_CONFIDENCE, seed: int = 0, *, extractor: str | None = None, layer: str | None = None):
        super().__init__(**_fit_config(points, n_min, n_max, confidence, seed), extractor=extractor, layer=layer)

    def _compute(self, logits) -> InverseNFit:
        return inception_score_infinity(logits, **self.formula_config())

    def report(self, result=None) -> MetricReport:
        """IS-infinity, its fit interval and slope for `evaluate`, with the fit's points as details."""
        return _inf_report("is_inf", self.compute() if result is None else result)
