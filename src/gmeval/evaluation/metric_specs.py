"""The metrics `evaluate` knows: what each needs and how it is computed from features.

Each spec names the input it needs:
- "features": the extractor's feature layer (pool3 for Inception, the 128-d penultimate layer for
  the MNIST classifiers), real and fake;
- "logits":   the extractor's logits (fake only);
- "classes":  predictions of the domain classifier (mnist / fashion-mnist) on fake and real;
- "train":    features of the training split (memorisation).
`compute(ctx)` returns {name: value} plus optional details; all formulas live in gmeval.metrics.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..errors import InvalidArgumentError


@dataclass(frozen=True)
class MetricSpec:
    name: str
    needs: tuple[str, ...]
    outputs: dict  # value name -> higher_is_better (None: 0.5 is best, etc.)
    compute: Callable
    description: str
    bootstrappable: bool = False
    #: resampling scheme for intervals: k-NN metrics need "half" (duplicated rows from resampling
    #: with replacement sit at distance 0 and shrink the radii; see metrics/image/bootstrap.py)
    bootstrap_scheme: str = "replacement"


def _fid(ctx):
    from ..metrics.image.fid import fid_distance_from_stats

    return {"fid": fid_distance_from_stats(ctx.real_stats(), ctx.fake_stats())}, {}, {}


def _kid(ctx):
    from ..metrics.image.kid import kid_distance

    size = min(ctx.opts.get("kid_subset_size", 1000), len(ctx.real_feats), len(ctx.fake_feats))
    r = kid_distance(ctx.real_feats, ctx.fake_feats, n_subsets=ctx.opts.get("kid_subsets", 100), subset_size=size, seed=ctx.seed)
    return {"kid": r.mean, "kid_std": r.std}, {}, {"subsets": r.n_subsets, "size": r.subset_size}


def _is(ctx):
    from ..metrics.image.inception_score import inception_score

    r = inception_score(ctx.fake_logits, splits=ctx.opts.get("is_splits", 10), seed=ctx.seed)
    return {"is": r.mean, "is_std": r.std}, {}, {"splits": r.splits, "logits": ctx.logits_layer}


def _inf_entry(prefix, r):
    values = {prefix: r.intercept, f"{prefix}_fit_low": r.low, f"{prefix}_fit_high": r.high, f"{prefix}_slope": r.slope}
    details = {"ns": [int(v) for v in r.ns], "values": [float(v) for v in r.values], "intercept": r.intercept,
               "slope": r.slope, "low": r.low, "high": r.high, "r2": r.r2, "confidence": r.confidence}
    return values, details, {"pts": r.points, "nmin": r.n_min, "nmax": r.n_max}


def _fid_inf(ctx):
    from ..metrics.image.infinity import fid_infinity_distance

    r = fid_infinity_distance(ctx.real_feats, ctx.fake_feats, points=ctx.opts.get("inf_points", 15),
                              seed=ctx.seed)
    return _inf_entry("fid_inf", r)


def _is_inf(ctx):
    from ..metrics.image.infinity import inception_score_infinity

    r = inception_score_infinity(ctx.fake_logits, points=ctx.opts.get("inf_points", 15), seed=ctx.seed)
    values, details, params = _inf_entry("is_inf", r)
    return values, details, {**params, "logits": ctx.logits_layer}


# float32 distance tiles: every comparison float32 rounding cannot decide is recomputed in float64
# (gmeval.metrics.image.knn), so results equal the float64 ones; 3.5x faster at 10k x 10k.
_KNN_DTYPE = "float32"


def _prd(ctx):
    from ..metrics.image.prdc import precision_recall_score

    r = precision_recall_score(ctx.real_feats, ctx.fake_feats, k=ctx.opts.get("k_pr", 3), compute_dtype=_KNN_DTYPE)
    return {"precision": r.precision, "recall": r.recall}, {}, {"k": r.k_pr}


def _dc(ctx):
    from ..metrics.image.prdc import density_coverage_score

    r = density_coverage_score(ctx.real_feats, ctx.fake_feats, k=ctx.opts.get("k_dc", 5), compute_dtype=_KNN_DTYPE)
    return {"density": r.density, "coverage": r.coverage}, {}, {"k": r.k_dc}


def _modes(ctx):
    from ..metrics.image.modes import mode_coverage_score

    r = mode_coverage_score(ctx.fake_class_logits, ctx.real_labels, num_classes=ctx.fake_class_logits.shape[1])
    details = {"fake_histogram": list(map(int, r.fake_histogram)),
               "real_histogram": None if r.real_histogram is None else list(map(int, r.real_histogram)),
               "covered": list(map(bool, r.covered)), "classifier": ctx.class_extractor_name}
    return ({"modes_covered": r.modes_covered, "kl_fake_real": r.kl_fake_real, "confident_share": r.confident_share},
            details, {"clf": ctx.class_extractor_name, "thr": r.threshold})


def _c2st(ctx):
    from ..metrics.image.c2st import classifier_two_sample_test

    r = classifier_two_sample_test(ctx.real_feats, ctx.fake_feats, seed=ctx.seed, max_per_side=ctx.opts.get("c2st_max", 5000))
    return {"c2st_accuracy": r.accuracy, "c2st_p_value": r.p_value}, {}, {"cv": r.cv}


def _memorization(ctx):
    from ..metrics.image.memorization import memorization_check

    r = memorization_check(ctx.fake_feats, ctx.train_feats, seed=ctx.seed)
    details = {"closest_fake": list(map(int, r.closest_fake)), "closest_train": list(map(int, r.closest_train)),
               "closest_distances": [float(r.nn_distances[i]) for i in r.closest_fake], "threshold": r.threshold,
               "train_source": ctx.train_origin}
    return ({"near_copy_share": r.near_copy_share, "median_distance_ratio": r.median_distance_ratio}, details,
            {"alpha": r.alpha, "train": ctx.train_origin, "ntrain": r.n_train})


METRICS: dict[str, MetricSpec] = {s.name: s for s in [
    MetricSpec("fid", ("features",), {"fid": False}, _fid, "Frechet distance of Gaussian fits (Heusel et al. 2017)", True),
    MetricSpec("fid-inf", ("features",), {"fid_inf": False, "fid_inf_fit_low": None, "fid_inf_fit_high": None,
                                          "fid_inf_slope": None}, _fid_inf,
               "FID-infinity: FID at 15 sample sizes extrapolated to N = inf in 1/N (Chong & Forsyth 2020)"),
    MetricSpec("kid", ("features",), {"kid": False, "kid_std": None}, _kid, "Kernel Inception Distance, unbiased MMD^2, cubic kernel"),
    MetricSpec("is", ("logits",), {"is": True, "is_std": None}, _is, "Inception Score (Salimans et al. 2016), 10 splits"),
    MetricSpec("is-inf", ("logits",), {"is_inf": True, "is_inf_fit_low": None, "is_inf_fit_high": None,
                                       "is_inf_slope": None}, _is_inf,
               "IS-infinity: one-split IS at 15 sample sizes extrapolated to N = inf (Chong & Forsyth 2020)"),
    MetricSpec("prd", ("features",), {"precision": True, "recall": True}, _prd, "improved precision/recall, k=3", True, "half"),
    MetricSpec("dc", ("features",), {"density": True, "coverage": True}, _dc, "density/coverage, k=5", True, "half"),
    MetricSpec("modes", ("classes",), {"modes_covered": True, "kl_fake_real": False, "confident_share": True}, _modes,
               "mode coverage by the domain classifier"),
    MetricSpec("c2st", ("features",), {"c2st_accuracy": None, "c2st_p_value": None}, _c2st,
               "classifier two-sample test (0.5 = indistinguishable)"),
    MetricSpec("memorization", ("features", "train"), {"near_copy_share": False, "median_distance_ratio": True}, _memorization,
               "nearest-training-neighbour check"),
]}
ALIASES = {"prdc": ("prd", "dc"), "pr": ("prd",), "all": tuple(METRICS)}


def parse_metrics(metrics) -> list[str]:
    items = metrics.split(",") if isinstance(metrics, str) else list(metrics)
    out: list[str] = []
    for m in (x.strip().lower() for x in items if x and x.strip()):
        names = ALIASES.get(m, (m,))
        for name in names:
            if name not in METRICS:
                raise InvalidArgumentError("metrics", f"names from {sorted(METRICS) + sorted(ALIASES)}", m)
            if name not in out:
                out.append(name)
    if not out:
        raise InvalidArgumentError("metrics", "at least one metric name", metrics)
    return out
