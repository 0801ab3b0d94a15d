"""Seeded bootstrap confidence intervals for any metric computed from rows of features.

For b = 1..n_boot: redraw the rows of the real and/or fake set (from one np.random.Generator:
seed -> identical intervals), recompute the metric; the interval comes from the replicate
distribution. Two resampling schemes:

* "replacement" (default; Efron's bootstrap): n rows drawn with replacement from n.
* "half" (half-sampling, McCarthy 1969): floor(n/2) distinct rows drawn without replacement.
  For a mean, the finite-population factor (1 - m/n) = 1/2 makes the replicate variance equal
  the full-sample variance, so no rescaling is needed; there are no duplicated rows, which
  k-NN metrics need (see below).

Intervals:

* "percentile" (default): [q_{a/2}, q_{1-a/2}] of the replicates (Efron 1979/1993), a = 1 - confidence;
* "basic": [2 theta - q_{1-a/2}, 2 theta - q_{a/2}], which corrects a shift of the
  replicates relative to the point estimate theta.
`std` is the replicates' standard deviation (ddof = 1), the bootstrap standard error.

Caveats, worth knowing before reading an interval:
* FID and KID are biased in N, and a bootstrap resample has only ~63 % distinct rows, so FID
  replicates sit ABOVE the point estimate; the percentile interval can then miss the point
  estimate. The interval is a statement about sampling variability, not about the bias.
* k-NN metrics (precision/recall/density/coverage) see duplicated rows as neighbours at
  distance 0, which shrinks the k-NN radii of resampled sets: with scheme="replacement" their
  replicates are strongly biased low (benchmarks/bench_metrics.py, N = 500, D = 32: precision
  point 0.552, replicate mean 0.446; coverage 0.908 vs 0.692). Use scheme="half" for them: its
  replicates are only mildly shifted (radii of N/2 points) and their spread matches the spread
  over fresh samples (docs/metrics.md gives the measured calibration).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ...errors import InvalidArgumentError
from ...utils.seeding import as_numpy_generator
from ._common import MetricResult, check_choice, check_float, check_int

BOOT_N = 200
BOOT_CONFIDENCE = 0.95
RESAMPLE = ("both", "real", "fake")
SCHEMES = ("replacement", "half")
METHODS = ("percentile", "basic")


@dataclass
class BootstrapResult(MetricResult):
    """A bootstrap interval of one value.

    Attributes:
        point: the value on the full sets.
        low: lower end of the interval.
        high: upper end of the interval.
        std: standard deviation of the replicates (ddof 1).
        n_boot: number of replicates.
        confidence: the interval's level.
        method: "percentile" or "basic".
        resample: which sets were redrawn ("both", "real" or "fake").
        scheme: "replacement" or "half".
        seed: the int seed (None when a Generator was passed).
        replicates: every replicate's value (not in `as_dict`).

    Example:
        >>> import numpy as np
        >>> r = bootstrap_ci(np.mean, np.arange(10.0), n_boot=50)
        >>> r.point, r.replicates.shape, r.low <= r.point <= r.high
        (4.5, (50,), True)
    """
    point: float
    low: float
    high: float
    std: float
    n_boot: int
    confidence: float
    method: str
    resample: str
    scheme: str
    seed: int | None
    replicates: np.ndarray | None = None

    HIGHER_IS_BETTER = {"point": None}


def _values(out) -> dict[str, float] | float:
    if isinstance(out, (numbers.Real, np.floating, np.integer)) and not isinstance(out, bool):
        return float(out)
    if hasattr(out, "as_dict"):
        out = out.as_dict()
    if isinstance(out, dict):
        vals = {k: float(v) for k, v in out.items()
                if isinstance(v, (numbers.Real, np.floating, np.integer)) and not isinstance(v, bool) and v is not None}
        if vals:
            return vals
    raise InvalidArgumentError("metric_fn", "a function returning a number, a dict of numbers, or a result with as_dict()",
                               type(out).__name__)


def bootstrap_ci(metric_fn: Callable, real=None, fake=None, *, n_boot: int = BOOT_N,
                 confidence: float = BOOT_CONFIDENCE, seed: int | np.random.Generator | None = 0,
                 resample: str = "both", method: str = "percentile", scheme: str = "replacement", keys=None):
    """Bootstrap interval(s) of `metric_fn(real, fake)` (or `metric_fn(x)` when only one set is given).

    Args:
        metric_fn: a function of the row set(s) returning a number, a dict of numbers, or a result with ``as_dict()``.
        real: the real rows (an array indexable by row), or None.
        fake: the generated rows, or None.
        n_boot: number of replicates (200).
        confidence: the interval's level (0.95).
        seed: an int or an np.random.Generator for the redraws.
        resample: "both" | "real" | "fake" (which sets are redrawn; with one set, that set).
        method: "percentile" | "basic" interval.
        scheme: "replacement" (n rows with replacement) | "half" (n // 2 rows without replacement).
        keys: for metrics returning several values (dict / as_dict()), which ones to keep (all numeric by default).

    Returns:
        A `BootstrapResult` for a scalar metric, else {key: BootstrapResult}.

    Raises:
        InvalidArgumentError: no row set, a bad option, too few rows, unknown `keys`, or a metric
            returning no number.

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> real, fake = rng.normal(size=(50, 2)), rng.normal(size=(40, 2)) + 1.0
        >>> res = bootstrap_ci(lambda r, f: {"gap": f.mean() - r.mean(), "n": len(r)}, real, fake, n_boot=20, keys=["gap"])
        >>> list(res), res["gap"].n_boot, res["gap"].resample, res["gap"].low < res["gap"].high
        (['gap'], 20, 'both', True)
        >>> bootstrap_ci(np.mean, None, None)
        Traceback (most recent call last):
        ...
        gmeval.errors.InvalidArgumentError: Argument `real/fake` must be at least one row set, but got 'None for both'.
    """
    if not callable(metric_fn):
        raise InvalidArgumentError("metric_fn", "a callable", type(metric_fn).__name__)
    if real is None and fake is None:
        raise InvalidArgumentError("real/fake", "at least one row set", "None for both")
    n_boot = check_int("n_boot", n_boot, 2)
    confidence = check_float("confidence", confidence, 0.0, 1.0, low_open=True, high_open=True)
    check_choice("resample", resample, RESAMPLE)
    check_choice("method", method, METHODS)
    check_choice("scheme", scheme, SCHEMES)
    sets = {"real": real, "fake": fake}
    for name, s in sets.items():
        need = 2 if scheme == "half" else 1
        if s is not None and len(s) < need:
            raise InvalidArgumentError(name, f"a row set with at least {need} rows for scheme={scheme!r}", f"{len(s)} rows")
    two = real is not None and fake is not None
    redraw = {"real": real is not None and (resample in ("both", "real") or not two),
              "fake": fake is not None and (resample in ("both", "fake") or not two)}
    if two and not (redraw["real"] or redraw["fake"]):  # pragma: no cover - guarded by check_choice
        raise InvalidArgumentError("resample", "a set to redraw", resample)

    def call(r, f):
        if two:
            return _values(metric_fn(r, f))
        return _values(metric_fn(r if r is not None else f))

    point = call(real, fake)
    rng = as_numpy_generator(seed)
    reps = []
    for _ in range(n_boot):
        drawn = {}
        for name in ("real", "fake"):
            s = sets[name]
            if not redraw[name]:
                drawn[name] = s
            elif scheme == "replacement":
                drawn[name] = s[rng.integers(0, len(s), len(s))]
            else:
                drawn[name] = s[np.sort(rng.choice(len(s), len(s) // 2, replace=False))]
        reps.append(call(drawn["real"], drawn["fake"]))
    resample_used = "both" if (redraw["real"] and redraw["fake"]) else ("real" if redraw["real"] else "fake")
    common = dict(n_boot=n_boot, confidence=confidence, method=method, resample=resample_used, scheme=scheme,
                  seed=seed if isinstance(seed, int) else None)
    if isinstance(point, float):
        return _interval(point, np.array(reps, np.float64), **common)
    names = list(point) if keys is None else list(keys)
    missing = [k for k in names if k not in point]
    if missing:
        raise InvalidArgumentError("keys", f"names among the metric's values {sorted(point)}", missing)
    return {k: _interval(point[k], np.array([r[k] for r in reps], np.float64), **common) for k in names}


def normal_z(confidence: float) -> float:
    """The two-sided standard-normal quantile of a normal interval: point +- z * std covers `confidence`.

    Args:
        confidence: the interval's level, in (0, 1).

    Returns:
        z as a float.

    Example:
        >>> round(normal_z(0.95), 4)
        1.96
    """
    from scipy.stats import norm

    return float(norm.ppf(0.5 + confidence / 2))


def _interval(point: float, reps: np.ndarray, *, n_boot, confidence, method, resample, scheme, seed) -> BootstrapResult:
    a = 1.0 - confidence
    q_lo, q_hi = np.quantile(reps, [a / 2.0, 1.0 - a / 2.0])
    low, high = (q_lo, q_hi) if method == "percentile" else (2 * point - q_hi, 2 * point - q_lo)
    return BootstrapResult(point=point, low=float(low), high=float(high), std=float(np.std(reps, ddof=1)), n_boot=n_boot,
                           confidence=confidence, method=method, resample=resample, scheme=scheme, seed=seed,
                           replicates=reps)



def normal_intervals(values_fn: Callable, inputs, n_boot: int, confidence: float, seed: int, scheme: str, keys) -> dict:
    """Normal bootstrap intervals of ``values_fn(inputs)`` (a dict of values) over resampled real and fake
    feature rows of an `ImageInputs`: point +- z * (bootstrap standard error).

    Percentile and basic intervals are displaced by the small-sample bias of FID (a resample has only
    ~63 % distinct rows, so every replicate is biased upward) and of k-NN metrics; the standard error
    is not, so the interval is centred on the estimate and its width reflects sampling variability
    (Efron & Tibshirani 1993, sec. 13.2). The bias itself is not corrected: see docs/metrics.md.

    Args:
        values_fn: a function of an `ImageInputs` returning a dict of values.
        inputs: the `ImageInputs` whose real and fake features are resampled.
        n_boot: number of replicates.
        confidence: the interval's level.
        seed: the int seed of the redraws.
        scheme: "replacement" or "half", as `bootstrap_ci`.
        keys: the value names to give intervals.

    Returns:
        {key: {"ci_low", "ci_high", "ci_std", "ci_confidence", "ci_n_boot", "ci_method"}}.

    Example:
        >>> import numpy as np
        >>> from gmeval.metrics.image import ImageInputs
        >>> rng = np.random.default_rng(0)
        >>> x = ImageInputs(real_features=rng.normal(size=(30, 2)), fake_features=rng.normal(size=(30, 2)))
        >>> ci = normal_intervals(lambda i: {"gap": float(i.fake_features.mean() - i.real_features.mean())},
        ...                       x, n_boot=10, confidence=0.9, seed=0, scheme="replacement", keys=["gap"])
        >>> sorted(ci["gap"]), ci["gap"]["ci_method"]
        (['ci_confidence', 'ci_high', 'ci_low', 'ci_method', 'ci_n_boot', 'ci_std'], 'normal/replacement')
    """
    from dataclasses import replace

    def fn(real, fake):
        return values_fn(replace(inputs, real_features=real, fake_features=fake))

    res = bootstrap_ci(fn, inputs.real_features, inputs.fake_features, n_boot=n_boot, confidence=confidence, seed=seed,
                       scheme=scheme, keys=list(keys))
    res = res if isinstance(res, dict) else {list(keys)[0]: res}
    z = normal_z(confidence)
    return {k: {"ci_low": float(r.point - z * r.std), "ci_high": float(r.point + z * r.std), "ci_std": float(r.std),
                "ci_confidence": confidence, "ci_n_boot": r.n_boot, "ci_method": f"normal/{r.scheme}"} for k, r in res.items()}
