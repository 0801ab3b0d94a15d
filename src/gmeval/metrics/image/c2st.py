"""Classifier two-sample test (C2ST) on features: can a classifier tell real from generated?

Lopez-Paz & Oquab, "Revisiting Classifier Two-Sample Tests", ICLR 2017: train a binary
classifier to separate real (label 0) from fake (label 1) features and measure its accuracy on
samples it was not trained on. Under H0 (same distribution) the held-out accuracy is 0.5; an
accuracy near 1 means the generated samples are trivially distinguishable.

Protocol here (all seeded by one np.random.Generator):
* Balance: both sides are subsampled without replacement to n = min(N_real, N_fake,
  max_per_side) rows, so chance accuracy is exactly 0.5.
* Classifier: scikit-learn LogisticRegression (L2, C = 1, lbfgs) on standardised features
  (StandardScaler fitted on the training part only).
* Held-out predictions: `cv` = int k >= 2 -> stratified k-fold cross-validation, every sample is
  predicted once by the model that did not see it (default k = 5); `cv` = float in (0, 1) -> one
  stratified held-out split with that test fraction.
* p-value: one-sided exact binomial test of the number of correct held-out predictions
  against Binomial(n_test, 0.5) (scipy.stats.binomtest, alternative="greater"). It is exact for
  a single held-out split; with k-fold CV the folds' predictions are not fully independent and
  the p-value is the customary approximation.
Lower accuracy is better, down to 0.5 (`higher_is_better = False`); below 0.5 is noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...errors import InvalidArgumentError
from ...utils.seeding import as_numpy_generator
from ._base import MetricReport, TwoSampleFeatureMetric
from ._common import MetricResult, as_features, check_float, check_int, same_dim

C2ST_CV = 5
C2ST_MAX_PER_SIDE = 5000


@dataclass
class C2STResult(MetricResult):
    """A classifier two-sample test: held-out accuracy and its p-value.

    Attributes:
        accuracy: held-out accuracy of the real-vs-fake classifier (0.5: indistinguishable).
        p_value: one-sided binomial p-value of `accuracy` against chance (0.5).
        n_correct: correctly classified held-out samples.
        n_test: held-out samples (over all folds).
        n_per_side: rows per side the classifier saw.
        cv: the scheme, ``"5-fold"`` or ``"holdout-0.3"``.
        seed: the int seed (None when a Generator was passed).
        fold_accuracies: the accuracy of every fold (not in `as_dict`).

    Example:
        >>> import numpy as np
        >>> x = np.random.default_rng(0).normal(size=(40, 2))
        >>> r = classifier_two_sample_test(x, x + 10.0, cv=2)
        >>> r.as_dict()["cv"], r.n_test, r.fold_accuracies.tolist()
        ('2-fold', 80, [1.0, 1.0])
    """
    accuracy: float
    p_value: float
    n_correct: int
    n_test: int
    n_per_side: int
    cv: str            # "5-fold" or "holdout-0.3"
    seed: int | None
    fold_accuracies: np.ndarray | None = None

    HIGHER_IS_BETTER = {"accuracy": False, "p_value": None}


def classifier_two_sample_test(real_features, fake_features, *, cv: int | float = C2ST_CV,
                               max_per_side: int | None = None, C: float = 1.0, max_iter: int = 1000,
                               seed: int | np.random.Generator | None = 0) -> C2STResult:
    """Held-out accuracy of a logistic-regression real-vs-fake classifier and its binomial p-value.

    Features are standardised on each training split (scikit-learn's StandardScaler and LogisticRegression).

    Args:
        real_features: real features, N x D.
        fake_features: generated features, M x D.
        cv: an int >= 2 (stratified k-fold) or a float in (0, 1) (held-out fraction).
        max_per_side: rows per side, drawn without replacement (None: min(N, M)).
        C: the logistic regression's inverse regularisation strength.
        max_iter: the solver's iteration limit.
        seed: an int or an np.random.Generator for the row draws and the splits.

    Returns:
        A `C2STResult`.

    Raises:
        InvalidArgumentError: a bad `cv`, `C`, `max_iter` or `max_per_side`.
        ShapeMismatchError: the feature dimensions differ.

    Example:
        >>> import numpy as np
        >>> x = np.random.default_rng(0).normal(size=(40, 2))
        >>> r = classifier_two_sample_test(x, x + 10.0, cv=0.5)
        >>> r.accuracy, r.n_test, r.p_value < 1e-6
        (1.0, 40, True)
        >>> classifier_two_sample_test(x, x, cv=1)
        Traceback (most recent call last):
        ...
        gmeval.errors.InvalidArgumentError: Argument `cv` must be an integer in [2, 40], but got 1. k-fold CV needs at most as many folds as samples per side (40).
    """
    from scipy.stats import binomtest
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, train_test_split
    from sklearn.preprocessing import StandardScaler

    real = as_features(real_features, "real_features", min_rows=2)
    fake = as_features(fake_features, "fake_features", min_rows=2)
    same_dim(real, fake, "real_features", "fake_features")
    C = check_float("C", C, 0.0, np.inf, low_open=True, high_open=True)
    max_iter = check_int("max_iter", max_iter, 1)
    n = min(len(real), len(fake))
    if max_per_side is not None:
        n = min(n, check_int("max_per_side", max_per_side, 2))
    if isinstance(cv, bool) or not isinstance(cv, (int, float, np.integer, np.floating)):
        raise InvalidArgumentError("cv", "an int >= 2 (k-fold) or a float in (0, 1) (held-out fraction)", cv)
    if isinstance(cv, (int, np.integer)):
        cv = check_int("cv", int(cv), 2, n, f"k-fold CV needs at most as many folds as samples per side ({n}).")
        scheme = f"{cv}-fold"
    else:
        cv = check_float("cv", float(cv), 0.0, 1.0, low_open=True, high_open=True)
        scheme = f"holdout-{cv:g}"
    rng = as_numpy_generator(seed)
    xr = real[rng.choice(len(real), n, replace=False)] if len(real) > n else real
    xf = fake[rng.choice(len(fake), n, replace=False)] if len(fake) > n else fake
    x = np.concatenate([xr, xf], axis=0).astype(np.float64, copy=False)
    y = np.concatenate([np.zeros(n, np.int64), np.ones(n, np.int64)])
    split_seed = int(rng.integers(0, 2**31 - 1))

    if scheme.endswith("fold"):
        splits = list(StratifiedKFold(n_splits=cv, shuffle=True, random_state=split_seed).split(x, y))
    else:
        idx = np.arange(2 * n)
        tr, te = train_test_split(idx, test_size=cv, stratify=y, random_state=split_seed)
        splits = [(np.sort(tr), np.sort(te))]
    correct, total, fold_acc = 0, 0, []
    for tr, te in splits:
        scaler = StandardScaler().fit(x[tr])
        clf = LogisticRegression(C=C, max_iter=max_iter)
        clf.fit(scaler.transform(x[tr]), y[tr])
        ok = int(np.sum(clf.predict(scaler.transform(x[te])) == y[te]))
        correct += ok
        total += len(te)
        fold_acc.append(ok / len(te))
    p = binomtest(correct, total, 0.5, alternative="greater").pvalue
    return C2STResult(accuracy=correct / total, p_value=float(p), n_correct=correct, n_test=total, n_per_side=n,
                      cv=scheme, seed=seed if isinstance(seed, int) else None, fold_accuracies=np.array(fold_acc))


class C2ST(TwoSampleFeatureMetric):
    """Stateful C2ST: accumulates features ("cat" states); compute() -> C2STResult.

    Args:
        cv: folds or held-out fraction, as `classifier_two_sample_test`.
        max_per_side: rows per side the classifier sees (default 5000, what `evaluate` has always used;
            None: all).
        C: the logistic regression's inverse regularisation strength.
        max_iter: the solver's iteration limit.
        seed: the int seed of the row draws and splits.
        extractor: None (update with features) or an extractor name (update with uint8 images).
        layer: the extractor's layer (see `TwoSampleFeatureMetric`).

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> r = C2ST().update(rng.normal(size=(200, 4)), real=True).update(rng.normal(size=(200, 4)) + 3, real=False).compute()
    >>> r.accuracy > 0.95
    True
    """

    name = "c2st"
    outputs = {"c2st_accuracy": None, "c2st_p_value": None}
    description = "classifier two-sample test (0.5 = indistinguishable)"
    options = ("max_per_side",)
    higher_is_better = False
    primary = "accuracy"

    def __init__(self, cv: int | float = C2ST_CV, max_per_side: int | None = C2ST_MAX_PER_SIDE, C: float = 1.0,
                 max_iter: int = 1000, seed: int = 0, *, extractor: str | None = None, layer: str | None = None):
        check_int("seed", seed, 0)
        super().__init__(cv=cv, max_per_side=max_per_side, C=C, max_iter=max_iter, seed=seed, extractor=extractor,
                         layer=layer)

    def _compute(self, real, fake) -> C2STResult:
        return classifier_two_sample_test(real, fake, **self.formula_config())

    def report(self, result=None) -> MetricReport:
        """``{"c2st_accuracy": ..., "c2st_p_value": ...}`` for `evaluate`, with the CV scheme."""
        r = self.compute() if result is None else result
        return MetricReport({"c2st_accuracy": r.accuracy, "c2st_p_value": r.p_value}, {}, {"cv": r.cv})
