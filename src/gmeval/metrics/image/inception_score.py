"""Inception Score (Salimans, Goodfellow, Zaremba, Cheung, Radford, Chen. "Improved Techniques for
Training GANs", NeurIPS 2016).

    IS = exp( E_x KL( p(y|x) || p(y) ) ),   p(y) = E_x p(y|x)

computed from classifier logits (Inception-v3's 1008-way fc, or a domain classifier such as the
project's MNIST classifier). The N samples are cut into `splits` (10) consecutive parts
[i N // splits, (i + 1) N // splits); IS is computed on each part with p(y) estimated within
the part, and the mean and standard deviation (ddof = 0) over parts are reported, as the
original code and torch-fidelity do. Softmax is taken in float64 via log-softmax;
0 log 0 = 0.

Shuffling: the original implementation splits the samples in the order given (no shuffle).
By default the order is shuffled first with a seeded np.random.Generator (like torch-fidelity,
which shuffles with RandomState(2020)): a sample order that correlates with class (e.g. a
class-conditional generator sampled class by class) would otherwise make each part
single-class and the score meaningless. `shuffle=False` reproduces the original order.
Higher is better; 1 <= IS <= number of classes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...errors import InvalidArgumentError, ShapeMismatchError
from ...utils.seeding import as_numpy_generator
from ._base import LogitsMetric, MetricReport
from ._common import MetricResult, as_features, check_int

IS_SPLITS = 10


@dataclass
class ISResult(MetricResult):
    """Inception Score over splits: the mean and std of the per-split scores and the protocol.

    Attributes:
        mean: the Inception Score (mean over splits; higher is better).
        std: the standard deviation over splits (ddof 0).
        splits: number of splits.
        shuffle: whether the rows were shuffled before splitting.
        seed: the int seed of the shuffle (None when not shuffled or a Generator was passed).
        n: number of rows.
        num_classes: number of classes (logit columns).
        values: the score of every split (not in `as_dict`).

    Example:
        >>> import numpy as np
        >>> r = inception_score(np.zeros((6, 3)), splits=2)   # uniform predictions: IS = 1
        >>> round(r.mean, 6), round(r.std, 6), r.values.shape
        (1.0, 0.0, (2,))
        >>> {k: v for k, v in r.as_dict().items() if k not in ("mean", "std")}
        {'splits': 2, 'shuffle': True, 'seed': 0, 'n': 6, 'num_classes': 3}
    """
    mean: float
    std: float
    splits: int
    shuffle: bool
    seed: int | None
    n: int
    num_classes: int
    values: np.ndarray | None = None  # IS of every split (not in as_dict)

    HIGHER_IS_BETTER = {"mean": True, "std": None}


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise log-softmax in float64 (max-subtracted, stable).

    Args:
        logits: an N x C array.

    Returns:
        N x C float64 log-probabilities.

    Example:
        >>> import numpy as np
        >>> np.exp(log_softmax(np.array([[0.0, 0.0], [1000.0, 1000.0]])))
        array([[0.5, 0.5],
               [0.5, 0.5]])
    """
    z = np.asarray(logits, np.float64)
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def _split_scores(logp: np.ndarray, splits: int) -> np.ndarray:
    n = len(logp)
    scores = np.empty(splits, np.float64)
    for i in range(splits):
        part = logp[i * n // splits:(i + 1) * n // splits]
        p = np.exp(part)
        with np.errstate(divide="ignore", invalid="ignore"):  # classes never predicted: 0 log 0 = 0
            log_py = np.log(p.mean(axis=0))
            terms = np.where(p > 0, p * (part - log_py), 0.0)
        scores[i] = np.exp(terms.sum(axis=1).mean())
    return scores


def inception_score(logits, *, splits: int = IS_SPLITS, shuffle: bool = True,
                    seed: int | np.random.Generator | None = 0) -> ISResult:
    """IS mean and std over `splits` parts of the (shuffled) N x C logits. See the module docstring.

    Args:
        logits: N x C classifier logits (C >= 2), any float dtype.
        splits: number of consecutive parts (10); at most N.
        shuffle: shuffle the rows first (seeded) so that a class-ordered input does not bias the splits.
        seed: an int or an np.random.Generator for the shuffle.

    Returns:
        An `ISResult`.

    Raises:
        ShapeMismatchError: `logits` is not 2-D or has fewer than 2 columns.
        InvalidArgumentError: `splits` exceeds N, or `shuffle` is not a bool.

    Example:
        >>> import numpy as np
        >>> logits = np.eye(4)[np.arange(8) % 4] * 30.0   # confident, 4 classes equally often
        >>> r = inception_score(logits, splits=1)
        >>> round(r.mean, 4), r.n, r.num_classes
        (4.0, 8, 4)
        >>> inception_score(logits, splits=9)
        Traceback (most recent call last):
        ...
        gmeval.errors.InvalidArgumentError: Argument `splits` must be at most the number of samples (8), but got 9.
    """
    z = as_features(logits, "logits", min_rows=1)
    if z.shape[1] < 2:
        raise ShapeMismatchError(f"`logits` must have at least 2 classes (columns), got {z.shape[1]}")
    splits = check_int("splits", splits, 1)
    if len(z) < splits:
        raise InvalidArgumentError("splits", f"at most the number of samples ({len(z)})", splits)
    if shuffle not in (True, False):
        raise InvalidArgumentError("shuffle", "True or False", shuffle)
    if shuffle:
        z = z[as_numpy_generator(seed).permutation(len(z))]
    scores = _split_scores(log_softmax(z), splits)
    return ISResult(mean=float(scores.mean()), std=float(scores.std()), splits=splits, shuffle=bool(shuffle),
                    seed=seed if (shuffle and isinstance(seed, int)) else None, n=len(z), num_classes=z.shape[1],
                    values=scores)


class InceptionScore(LogitsMetric):
    """Stateful IS: accumulates logits (a "cat" state; the splits need them all); compute() -> ISResult.

    Args:
        splits: number of parts, as `inception_score`.
        shuffle: shuffle the rows before splitting.
        seed: the int seed of the shuffle.
        extractor: None (update with logits) or an extractor name, e.g.
            ``InceptionScore(extractor="inception").update(images)``.
        layer: the extractor's logits layer (None: its default).

    >>> import numpy as np
    >>> logits = np.eye(10)[np.arange(1000) % 10] * 20   # confident and uniform over 10 classes
    >>> round(InceptionScore(splits=2).update(logits).compute().mean, 3)
    10.0
    """

    name = "is"
    outputs = {"is": True, "is_std": None}
    description = "Inception Score (Salimans et al. 2016), 10 splits"
    options = ("splits",)
    higher_is_better = True
    primary = "mean"

    def __init__(self, splits: int = IS_SPLITS, shuffle: bool = True, seed: int = 0, *, extractor: str | None = None,
                 layer: str | None = None):
        check_int("splits", splits, 1)
        check_int("seed", seed, 0)
        super().__init__(splits=splits, shuffle=shuffle, seed=seed, extractor=extractor, layer=layer)

    def _compute(self, logits) -> ISResult:
        return inception_score(logits, **self.formula_config())

    def report(self, result=None) -> MetricReport:
        """``{"is": mean, "is_std": std}`` for `evaluate`, with the number of splits."""
        r = self.compute() if result is None else result
        return MetricReport({"is": r.mean, "is_std": r.std}, {}, {"splits": r.splits})
