"""The generic metric tester's cases (after torchmetrics' MetricTester): one per registered image metric.

Each case gives fixed inputs, the pure function's values and an independent reference written here
from the papers' definitions (numpy / scipy / scikit-learn, nothing from gmeval's formula code).
tests/metrics/test_metric_engine.py runs every case through four checks (class = function =
reference, merge of two halves = one pass, two gloo processes = one process), and
tests/distributed/workers/metric_worker.py is the two-process side.
"""

from __future__ import annotations

import numpy as np
from scipy import linalg
from scipy.stats import binomtest

from gmeval.metrics.image import (IMAGE_METRICS, ImageInputs, classifier_two_sample_test, density_coverage_score,
                                  fid_distance, fid_infinity_distance, inception_score, inception_score_infinity,
                                  kid_distance, memorization_check, mode_coverage_score, precision_recall_score)

N_REAL, N_FAKE, N_TRAIN, DIM, CLASSES = 160, 140, 200, 6, 10


def make_inputs(seed: int = 0) -> ImageInputs:
    rng = np.random.default_rng(seed)
    real = rng.normal(size=(N_REAL, DIM))
    fake = rng.normal(size=(N_FAKE, DIM)) * 1.2 + 0.3
    logits = rng.normal(size=(N_FAKE, CLASSES)) * 3
    return ImageInputs(real_features=real, fake_features=fake, fake_logits=logits, fake_class_logits=logits,
                       real_labels=rng.integers(0, CLASSES, N_REAL), train_features=np.concatenate([fake[:20] + 1e-3,
                                                                                                   rng.normal(size=(N_TRAIN - 20, DIM))]))


# -- independent references (definitions from the papers) ------------------------------------------
def ref_fid(x, y):
    """Heusel et al. 2017: |mu_x - mu_y|^2 + tr(S_x + S_y - 2 (S_x S_y)^(1/2)), scipy's sqrtm."""
    mx, my, sx, sy = x.mean(0), y.mean(0), np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    covmean = linalg.sqrtm(sx @ sy).real
    return float(((mx - my) ** 2).sum() + np.trace(sx + sy - 2 * covmean))


def ref_mmd2(x, y):
    """Binkowski et al. 2018: unbiased MMD^2 with k(a, b) = (a.b / d + 1)^3 over all rows (one subset)."""
    k = lambda a, b: (a @ b.T / a.shape[1] + 1) ** 3  # noqa: E731
    m, n = len(x), len(y)
    kxx, kyy = k(x, x), k(y, y)
    return float((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
                 - 2 * k(x, y).mean())


def ref_is(logits):
    """Salimans et al. 2016 with one split: exp(E_x KL(p(y|x) || p(y)))."""
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    py = p.mean(0)
    return float(np.exp((p * (np.log(p) - np.log(py))).sum(1).mean()))


def _kth(a, k):
    d = np.sqrt(((a[:, None] - a[None]) ** 2).sum(-1))
    return np.sort(d, 1)[:, k]  # column 0 is the point itself


def ref_pr(x, y, k=3):
    """Kynkaanniemi et al. 2019: a sample is inside the other set's manifold when it lies in some k-NN ball."""
    d = np.sqrt(((y[:, None] - x[None]) ** 2).sum(-1))  # fake x real
    rx, ry = _kth(x, k), _kth(y, k)
    return {"precision": float((d <= rx[None]).any(1).mean()), "recall": float((d.T <= ry[None]).any(1).mean())}


def ref_dc(x, y, k=5):
    """Naeem et al. 2020: density = mean ball count / k; coverage = real balls holding a fake sample."""
    d = np.sqrt(((y[:, None] - x[None]) ** 2).sum(-1))
    rx = _kth(x, k)
    inside = d <= rx[None]
    return {"density": float(inside.sum() / (k * len(y))), "coverage": float(inside.any(0).mean())}


def ref_modes(logits, labels):
    fake = np.bincount(logits.argmax(1), minlength=CLASSES) / len(logits)
    return {"modes_covered": float((fake >= 0.1 / CLASSES).sum())}


def ref_fit(ns, values):
    """Chong & Forsyth 2020: the intercept of the least-squares line of values against 1/N."""
    return float(np.polyfit(1.0 / np.asarray(ns, float), np.asarray(values, float), 1)[1])


# -- the cases ------------------------------------------------------------------------------------
def function_values(name: str, inp: ImageInputs, seed: int = 0) -> dict:
    """The pure function's values for the metric (the class must give the same)."""
    x, y = inp.real_features, inp.fake_features
    if name == "fid":
        return {"fid": fid_distance(x, y)}
    if name == "kid":
        r = kid_distance(x, y, subset_size=min(1000, len(x), len(y)), seed=seed)
        return {"kid": r.mean, "kid_std": r.std}
    if name == "is":
        r = inception_score(inp.fake_logits, seed=seed)
        return {"is": r.mean, "is_std": r.std}
    if name in ("fid-inf", "is-inf"):
        r = fid_infinity_distance(x, y, seed=seed) if name == "fid-inf" else inception_score_infinity(inp.fake_logits, seed=seed)
        p = name.replace("-", "_")
        return {p: r.intercept, f"{p}_fit_low": r.low, f"{p}_fit_high": r.high, f"{p}_slope": r.slope}
    if name == "pr":
        r = precision_recall_score(x, y)
        return {"precision": r.precision, "recall": r.recall}
    if name == "dc":
        r = density_coverage_score(x, y)
        return {"density": r.density, "coverage": r.coverage}
    if name == "modes":
        r = mode_coverage_score(inp.fake_class_logits, inp.real_labels, num_classes=CLASSES)
        return {"modes_covered": r.modes_covered, "kl_fake_real": r.kl_fake_real, "confident_share": r.confident_share}
    if name == "c2st":
        r = classifier_two_sample_test(x, y, seed=seed, max_per_side=5000)
        return {"c2st_accuracy": r.accuracy, "c2st_p_value": r.p_value}
    if name == "memorization":
        r = memorization_check(y, inp.train_features, seed=seed)
        return {"near_copy_share": r.near_copy_share, "median_distance_ratio": r.median_distance_ratio}
    raise KeyError(name)


def reference_values(name: str, inp: ImageInputs, report) -> dict:
    """Independent values for the headline outputs (some use the report's own draws or thresholds, named)."""
    x, y = inp.real_features, inp.fake_features
    if name == "fid":
        return {"fid": ref_fid(x, y)}
    if name == "kid":  # one subset holding every row: the draws no longer matter (MMD is permutation invariant);
        # the float64 route (the default float32 inner products are measured against it in docs/benchmarks.md)
        from gmeval.metrics.image import KID
        r = KID(n_subsets=1, subset_size=min(len(x), len(y)), compute_dtype="float64").update(x[:len(y)], real=True).update(y, real=False).compute()
        return {"kid_one_subset": (r.mean, ref_mmd2(x[:len(y)], y))}
    if name == "is":  # one split: no shuffling involved
        from gmeval.metrics.image import InceptionScore
        return {"is_one_split": (InceptionScore(splits=1).update(inp.fake_logits).compute().mean, ref_is(inp.fake_logits))}
    if name in ("fid-inf", "is-inf"):
        return {name.replace("-", "_"): ref_fit(report.details["ns"], report.details["values"])}
    if name == "pr":
        return ref_pr(x, y)
    if name == "dc":
        return ref_dc(x, y)
    if name == "modes":
        return ref_modes(inp.fake_class_logits, inp.real_labels)
    if name == "c2st":  # the p-value is the one-sided binomial test of the correct held-out predictions
        from gmeval.metrics.image import C2ST
        r = C2ST().update(x, real=True).update(y, real=False).compute()
        return {"c2st_p_value": binomtest(r.n_correct, r.n_test, 0.5, alternative="greater").pvalue}
    if name == "memorization":  # share of fake samples nearer a training image than the report's threshold
        d = np.sqrt(((y[:, None] - inp.train_features[None]) ** 2).sum(-1)).min(1)
        return {"near_copy_share": float((d <= report.details["threshold"]).mean())}
    raise KeyError(name)


NAMES = list(IMAGE_METRICS.names())
