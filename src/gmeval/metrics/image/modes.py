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
    """Mode coverage of generated samples by a domain classifier.

    Attributes:
        modes_covered: classes holding at least `threshold` x their fair share of the fake samples.
        num_classes: number of classes C.
        mode_coverage: modes_covered / num_classes.
        kl_fake_real: KL(fake class histogram || real one) in nats (lower is better).
        confident_share: share of fake samples classified with probability > `confidence` (None when
            only labels were given).
        real_confident_share: the same for the real samples.
        n_fake: number of fake samples.
        n_real: number of real samples (0 when the reference distribution is uniform).
        threshold: the coverage threshold.
        eps: the histogram smoothing of the KL.
        confidence: the probability above which a prediction is confident.
        fake_histogram: class counts of the fake samples, (C,) (not in `as_dict`).
        real_histogram: class counts of the real samples, or None (uniform reference).
        covered: (C,) bool, which classes are covered.

    Example:
        >>> r = mode_coverage_from_histograms([50, 50, 0, 0])
        >>> r.modes_covered, r.covered.tolist(), r.n_real
        (2, [True, True, False, False], 0)
    """
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
    """Class counts of integer labels.

    Args:
        labels: 1-D integer labels in [0, num_classes).
        num_classes: length of the histogram.

    Returns:
        An int64 vector of `num_classes` counts.

    Example:
        >>> class_histogram([0, 2, 2], 4).tolist()
        [1, 0, 2, 0]
    """
    return np.bincount(np.asarray(labels, np.int64), minlength=num_classes).astype(np.int64)


def kl_divergence(q_counts, p_counts, eps: float = KL_EPS) -> float:
    """KL(q || p) in nats between two histograms, each normalised then smoothed as (x + eps) / (1 + C eps).

    Args:
        q_counts: the first histogram (counts or probabilities).
        p_counts: the second one, of the same length.
        eps: the smoothing that keeps empty bins finite.

    Returns:
        The divergence in nats (0 for proportional histograms).

    Example:
        >>> kl_divergence([1, 1], [5, 5])
        0.0
        >>> round(kl_divergence([1, 1], [1, 3]), 4)   # (ln 2 + ln 2/3) / 2
        0.1438
    """
    q = np.asarray(q_counts, np.float64)
    p = np.asarray(p_counts, np.float64)
    c = q.size
    q = (q / q.sum() + eps) / (1.0 + c * eps)
    p = (p / p.sum() + eps) / (1.0 + c * eps)
    return float(np.sum(q * (np.log(q) - np.log(p))))


def mode_coverage_from_histograms(fake_hist, real_hist=None, *, threshold: float = MODE_THRESHOLD,
                                  eps: float = KL_EPS) -> ModeCoverageResult:
    """Mode coverage and KL from class-count histograms (real_hist None = uniform reference).

    A class is covered when it holds at least `threshold` x M / C of the M fake samples.

    Args:
        fake_hist: class counts of the generated samples (non-negative, positive total).
        real_hist: class counts of the real samples, or None for a uniform reference.
        threshold: the coverage threshold, a share of the fair count M / C (0.1).
        eps: the smoothing of the KL.

    Returns:
        A `ModeCoverageResult` (confident shares None: histograms carry no confidences).

    Raises:
        InvalidArgumentError: a histogram is empty, negative, of zero total or of another length.

    Example:
        >>> r = mode_coverage_from_histograms([90, 10, 1], [1, 1, 1])
        >>> r.modes_covered, r.num_classes, r.n_fake, r.n_real
        (2, 3, 101, 3)
        >>> mode_coverage_from_histograms([0, 0])
        Traceback (most recent call last):
        ...
        gmeval.errors.InvalidArgumentError: Argument `fake_hist` must be a 1-D histogram of non-negative counts with a positive total, but got [0, 0].
    """
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

    Args:
        fake: N x C classifier logits (preferred: also gives the confident share) or 1-D predicted labels.
        real: real labels (1-D), real logits (N x C, their argmax is used), or None (uniform reference).
        num_classes: C (None: the logits' width, or the largest label + 1).
        threshold: the coverage threshold, a share of the fair count (0.1).
        eps: the smoothing of the KL.
        confidence: the probability above which a prediction counts as confident (0.9).

    Returns:
        A `ModeCoverageResult`.

    Raises:
        InvalidArgumentError: empty inputs, labels out of range, non-integer labels, NaN logits.
        ShapeMismatchError: logits of another width than `num_classes`, or arrays that are not 1-D/2-D.

    Example:
        >>> import numpy as np
        >>> logits = np.eye(3)[[0, 0, 1, 1]] * 10.0   # confident predictions of classes 0 and 1
        >>> r = mode_coverage_score(logits, real=[0, 1, 2])
        >>> r.modes_covered, r.confident_share, r.real_confident_share
        (2, 1.0, None)
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
        threshold: the coverage threshold, as `mode_coverage_score`.
        eps: the smoothing of the KL.
        confidence: the probability above which a prediction is confident.

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
        """A ModeCoverage sized to the classifier logits of an `ImageInputs` (further options passed on)."""
        return cls(num_classes=inputs.require("fake_class_logits", cls.name).shape[1], **options)

    def declare(self) -> None:
        """Per side: a class histogram and (confident, logit-row) counts, all sum states."""
        c = self._config["num_classes"]
        for side in ("fake", "real"):  # histogram, confident count, count of samples that came as logits
            self.add_state(f"{side}_hist", "sum", np.zeros(c, np.int64))
            self.add_state(f"{side}_counts", "sum", np.zeros(2, np.int64))

    def update(self, logits_or_labels, *, real: bool = False, index=None):
        """Add generated (``real=False``) or real predictions: 1-D labels or N x C logits; returns self."""
        side = "real" if check_real(real) else "fake"
        lab, conf, _ = _labels_or_logits(logits_or_labels, "logits_or_labels", self._config["num_classes"])
        setattr(self, f"{side}_hist", getattr(self, f"{side}_hist") + class_histogram(lab, self._config["num_classes"]))
        if conf is not None:
            add = np.array([np.sum(conf > np.log(self._config["confidence"])), len(lab)], np.int64)
            setattr(self, f"{side}_counts", getattr(self, f"{side}_counts") + add)
        return self

    def update_from(self, inputs):
        """Update from an `ImageInputs` (fake classifier logits, and real labels when given)."""
        self.update(inputs.require("fake_class_logits", self.name), real=False)
        if inputs.real_labels is not None:
            self.update(np.asarray(inputs.real_labels), real=True)
        return self

    def compute(self) -> ModeCoverageResult:
        """The `ModeCoverageResult` of the histograms (InvalidArgumentError before any fake update)."""
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
        """Modes covered, KL and confident share for `evaluate`, with the histograms as details."""
        r = self.compute() if result is None else result
        details = {"fake_histogram": list(map(int, r.fake_histogram)),
                   "real_histogram": None if r.real_histogram is None else list(map(int, r.real_histogram)),
                   "covered": list(map(bool, r.covered))}
        return MetricReport({"modes_covered": r.modes_covered, "kl_fake_real": r.kl_fake_real,
                             "confident_share": r.confident_share}, details, {"thr": r.threshold})
