"""Mode coverage for labelled domains (MNIST, Fashion-MNIST): mode collapse made visible.

A classifier trained on the real data labels every generated sample (argmax of its logits).
From the predicted-class histogram h (counts, M samples, C classes):

* modes covered: class c counts as covered when it receives at least `threshold` times what a
  uniform distribution over classes would give, h_c >= threshold * M / C, with
  threshold = 0.1 by default (10 % of the uniform share, i.e. >= 100 of 10 000 samples for 10
  classes). A relative threshold, unlike "at least one sample" (PacGAN/VEEGAN on stacked
  MNIST), is not fooled by a few misclassified samples at large M.
* KL(fake || real) = sum_c q_c log(q_c / p_c) in nats, with q the fake class distribution and
  p the real one (from real labels, or from the classifier's predictions on real images, which
  cancels part of the classifier's bias). Both distributions are smoothed as
  (x + eps) / (1 + C eps) with eps = 1e-6 so a class missing from the real side gives a large
  but finite value. 0 = same class proportions; lower is better.
* confident share: fraction of fake samples whose top softmax probability exceeds
  `confidence` = 0.9 (strictly), a proxy for "recognisable" samples; needs logits.

References: mode counting with a pretrained classifier follows Metz et al. 2017 ("Unrolled
GANs", stacked MNIST) and Srivastava et al. 2017 (VEEGAN); the class-distribution KL follows
Santurkar et al. 2018 ("A Classification-Based Study of Covariate Shift in GAN
Distributions").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...errors import InvalidArgumentError, ShapeMismatchError
from ._base import Metric, MetricReport, check_real
from ._common import MetricResult, check_float, check_int, to_numpy
from .inception_score import log_softmax

MODE_THRESHOLD = 0.1
KL_EPS = 1e-6
CONFIDENCE = 0.9


@dataclass
class ModeCoverageResult(MetricResult):
    modes_covered: int
    num_classes: int
    mode_coverage: float          # modes_covered / num_classes
    kl_fake_real: float           # nats
    confident_share: float | None  # None when only labels were given
    real_confident_share: float | None
    n_fake: int
    n_real: int                   # 0 when the reference distribution is uniform
    threshold: float
    eps: float
    confidence: float
    fake_histogram: np.ndarray | None = None   # counts (C,)
    real_histogram: np.ndarray | None = None   # counts (C,) or None (uniform reference)
    covered: np.ndarray | None = None          # bool (C,)

    HIGHER_IS_BETTER = {"modes_covered": True, "mode_coverage": True, "kl_fake_real": False,
                        "confident_share": True, "real_confident_share": None}


def _labels_or_logits(x, name: str, num_classes: int | None):
    """-> (predicted labels int64 (N,), confident mask or None, num_classes)."""
    a = to_numpy(x)
    if a.ndim == 2:
        if num_classes is not None and a.shape[1] != num_classes:
            raise ShapeMismatchError(f"`{name}` has {a.shape[1]} logit columns, expected num_classes = {num_classes}")
        if not np.isfinite(a).all():
            raise InvalidArgumentError(name, "finite logits", "NaN or inf entries")
        logp = log_softmax(a)
        return logp.argmax(axis=1), logp.max(axis=1), a.shape[1]
    if a.ndim == 1:
        if a.size and (not np.issubdtype(a.dtype, np.integer) and not np.all(a == np.round(a))):
            raise InvalidArgumentError(name, "integer class labels (1-D) or logits (2-D)", f"non-integer values of dtype {a.dtype}")
        lab = a.astype(np.int64)
        c = num_classes if num_classes is not None else (int(lab.max()) + 1 if lab.size else 0)
        if lab.size and (lab.min() < 0 or lab.max() >= c):
            raise InvalidArgumentError(name, f"labels in [0, {c})", f"labels in [{lab.min()}, {lab.max()}]")
        return lab, None, c
    raise ShapeMismatchError(f"`{name}` must be 1-D labels or N x C logits, got shape {a.shape}")


def class_histogram(labels: np.ndarray, num_classes: int) -> np.ndarray:
    return np.bincount(np.asarray(labels, np.int64), minlength=num_classes).astype(np.int64)


def kl_divergence(q_counts, p_counts, eps: float = KL_EPS) -> float:
    """KL(q || p) in nats between two histograms, each normalised then smoothed as (x + eps) / (1 + C eps)."""
    q = np.asarray(q_counts, np.float64)
    p = np.asarray(p_counts, np.float64)
    c = q.size
    q = (q / q.sum() + eps) / (1.0 + c * eps)
    p = (p / p.sum() + eps) / (1.0 + c * eps)
    return float(np.sum(q * (np.log(q) - np.log(p))))


def mode_coverage_from_histograms(fake_hist, real_hist=None, *, threshold: float = MODE_THRESHOLD,
                                  eps: float = KL_EPS) -> ModeCoverageResult:
    """Mode coverage and KL from class-count histograms (real_hist None = uniform reference)."""
    threshold = check_float("threshold", threshold, 0.0, np.inf, high_open=True)
    eps = check_float("eps", eps, 0.0, 1.0, low_open=True)
    h = np.asarray(fake_hist, np.int64)
    if h.ndim != 1 or h.size < 1 or np.any(h < 0) or h.sum() == 0:
        raise InvalidArgumentError("fake_hist", "a 1-D histogram of non-negative counts with a positive total", h.tolist())
    c, m = h.size, int(h.sum())
    if real_hist is None:
        ref = np.ones(c, np.int64)
        n_real = 0
    else:
        ref = np.asarray(real_hist, np.int64)
        if ref.shape != h.shape or np.any(ref < 0) or ref.sum() == 0:
            raise InvalidArgumentError("real_hist", f"a histogram of {c} non-negative counts with a positive total",
                                       ref.tolist())
        n_real = int(ref.sum())
    covered = h >= threshold * m / c
    return ModeCoverageResult(
        modes_covered=int(covered.sum()), num_classes=c, mode_coverage=float(covered.mean()),
        kl_fake_real=kl_divergence(h, ref, eps), confident_share=None, real_confident_share=None,
        n_fake=m, n_real=n_real, threshold=threshold, eps=eps, confidence=CONFIDENCE,
        fake_histogram=h, real_histogram=None if real_hist is None else ref, covered=covered)


def mode_coverage_score(fake, real=None, *, num_classes: int | None = None, threshold: float = MODE_THRESHOLD,
                        eps: float = KL_EPS, confidence: float = CONFIDENCE) -> ModeCoverageResult:
    """Mode coverage of generated samples.

    fake: N x C classifier logits (preferred: also gives the confident share) or 1-D predicted labels.
    real: real labels (1-D), real logits (N x C, their argmax is used), or None (uniform reference).
    """
    confidence = check_float("confidence", confidence, 0.0, 1.0, high_open=True)
    if num_classes is not None:
        num_classes = check_int("num_classes", num_classes, 2)
    fl, fconf, c = _labels_or_logits(fake, "fake", num_classes)
    if len(fl) == 0:
        raise InvalidArgumentError("fake", "at least one sample", "an empty array")
    real_hist, rconf = None, None
    if real is not None:
        rl, rconf, c = _labels_or_logits(real, "real", c)
        if len(rl) == 0:
            raise InvalidArgumentError("real", "at least one sample or None", "an empty array")
        real_hist = class_histogram(rl, c)
    res = mode_coverage_from_histograms(class_histogram(fl, c), real_hist, threshold=threshold, eps=eps)
    log_conf = np.log(confidence)
    res.confident_share = None if fconf is None else float(np.mean(fconf > log_conf))
    res.real_confident_share = None if rconf is None else float(np.mean(rconf > log_conf))
    res.confidence = confidence
    return res


class ModeCoverage(Metric):
    """Stateful mode coverage: keeps only class histograms and confident counts ("sum" states).

    update(logits_or_labels, real=False) for generated samples, real=True for the reference.

    Args:
        num_classes: the classifier's number of classes.
        threshold, eps, confidence: as `mode_coverage_score`.

    >>> import numpy as np
    >>> m = ModeCoverage(10).update(np.arange(100) % 5).update(np.arange(100) % 10, real=True)
    >>> m.compute().modes_covered
    5
    """

    name = "modes"
    outputs = {"modes_covered": True, "kl_fake_real": False, "confident_share": True}
    needs = ("classes",)
    description = "mode coverage by the domain classifier"
    higher_is_better = True
    primary = "modes_covered"

    def __init__(self, num_classes: int, threshold: float = MODE_THRESHOLD, eps: float = KL_EPS,
                 confidence: float = CONFIDENCE):
        check_int("num_classes", num_classes, 2)
        super().__init__(num_classes=num_classes, threshold=threshold, eps=eps, confidence=confidence)

    @classmethod
    def for_inputs(cls, inputs, **options) -> "ModeCoverage":
        return cls(num_classes=inputs.require("fake_class_logits", cls.name).shape[1], **options)

    def declare(self) -> None:
        c = self._config["num_classes"]
        for side in ("fake", "real"):  # histogram, confident count, count of samples that came as logits
            self.add_state(f"{side}_hist", "sum", np.zeros(c, np.int64))
            self.add_state(f"{side}_counts", "sum", np.zeros(2, np.int64))

    def update(self, logits_or_labels, *, real: bool = False, index=None):
        side = "real" if check_real(real) else "fake"
        lab, conf, _ = _labels_or_logits(logits_or_labels, "logits_or_labels", self._config["num_classes"])
        setattr(self, f"{side}_hist", getattr(self, f"{side}_hist") + class_histogram(lab, self._config["num_classes"]))
        if conf is not None:
            add = np.array([np.sum(conf > np.log(self._config["confidence"])), len(lab)], np.int64)
            setattr(self, f"{side}_counts", getattr(self, f"{side}_counts") + add)
        return self

    def update_from(self, inputs):
        self.update(inputs.require("fake_class_logits", self.name), real=False)
        if inputs.real_labels is not None:
            self.update(np.asarray(inputs.real_labels), real=True)
        return self

    def compute(self) -> ModeCoverageResult:
        if self.fake_hist.sum() == 0:
            raise InvalidArgumentError("fake samples", "at least one update(..., real=False) before compute()", "none")
        cfg = self._config
        res = mode_coverage_from_histograms(self.fake_hist, self.real_hist if self.real_hist.sum() else None,
                                            threshold=cfg["threshold"], eps=cfg["eps"])
        res.confidence = cfg["confidence"]
        for side, attr in (("fake", "confident_share"), ("real", "real_confident_share")):
            confident, n = getattr(self, f"{side}_counts")
            setattr(res, attr, int(confident) / int(n) if n and n == getattr(self, f"{side}_hist").sum() else None)
        return res

    def report(self, result=None) -> MetricReport:
        r = self.compute() if result is None else result
        details = {"fake_histogram": list(map(int, r.fake_histogram)),
                   "real_histogram": None if r.real_histogram is None else list(map(int, r.real_histogram)),
                   "covered": list(map(bool, r.covered))}
        return MetricReport({"modes_covered": r.modes_covered, "kl_fake_real": r.kl_fake_real,
                             "confident_share": r.confident_share}, details, {"thr": r.threshold})
