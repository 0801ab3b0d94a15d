"""Memorisation check: how close are generated samples to their nearest TRAINING sample?

For every generated feature vector f_j, d_j = min_i ||f_j - t_i|| over the training features
(exact Euclidean distance, blocked k-NN, see `knn`). The scale of "close" comes from the
training set itself: m = median over training points of the distance to their nearest OTHER
training point (self excluded by index; estimated on `n_train_queries` (10 000) randomly chosen
training points, each searched against the FULL training set, so the estimate is unbiased for
the full-set median, only noisier).

Rule: f_j is a near copy when  d_j < alpha * m,  alpha = 1/3 by default.
(The 1/3 echoes the distance-ratio threshold of Carlini et al. 2023, "Extracting Training Data
from Diffusion Models", though their denominator is different.) Reported: the share of near
copies (lower is better), the median of d_j / m (around or above 1 for a model that generalises;
well below 1 for one that copies), and the `n_closest` closest (fake, train) pairs for the
report's nearest-neighbour panel.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...utils.seeding import as_numpy_generator
from ._base import MetricReport, TwoSampleFeatureMetric
from ._common import MetricResult, as_features, check_float, check_int, same_dim
from .knn import DEFAULT_BLOCK_SIZE, knn_search

MEMO_ALPHA = 1.0 / 3.0
N_TRAIN_QUERIES = 10_000
N_CLOSEST = 16


@dataclass
class MemorizationResult(MetricResult):
    """Nearest-training-neighbour distances of generated samples and the near-copy share.

    Attributes:
        near_copy_share: share of fakes closer to a training sample than `threshold` (lower is better).
        near_copies: their number.
        median_distance_ratio: median over fakes of d / train_nn_median.
        train_nn_median: median nearest-neighbour distance within the training set.
        threshold: alpha * train_nn_median.
        alpha: the threshold's factor.
        n_fake: number of generated samples.
        n_train: number of training samples.
        n_train_queries: training samples used for the median.
        seed: the int seed of that subset (None when a Generator was passed).
        nn_distances: (M,) distance of each fake to its nearest training sample (not in `as_dict`).
        nn_indices: (M,) index of that training sample.
        closest_fake: (n_closest,) fake indices, closest pair first.
        closest_train: (n_closest,) the matching training indices.
        closest_distances: (n_closest,) their distances.

    Example:
        >>> import numpy as np
        >>> train = np.array([[0.0], [10.0], [20.0], [30.0]])
        >>> r = memorization_check(np.array([[10.5], [25.0]]), train, n_closest=1)
        >>> r.near_copies, r.train_nn_median, r.nn_indices.tolist(), r.closest_fake.tolist()
        (1, 10.0, [1, 2], [0])
    """
    near_copy_share: float          # share of fakes with d < alpha * train_nn_median
    near_copies: int
    median_distance_ratio: float    # median over fakes of d / train_nn_median
    train_nn_median: float
    threshold: float                # alpha * train_nn_median
    alpha: float
    n_fake: int
    n_train: int
    n_train_queries: int
    seed: int | None
    nn_distances: np.ndarray | None = None   # (M,) distance of each fake to its nearest training sample
    nn_indices: np.ndarray | None = None     # (M,) index of that training sample
    closest_fake: np.ndarray | None = None   # (n_closest,) fake indices, closest pair first
    closest_train: np.ndarray | None = None  # (n_closest,) matching training indices
    closest_distances: np.ndarray | None = None

    HIGHER_IS_BETTER = {"near_copy_share": False, "near_copies": False, "median_distance_ratio": True}


def memorization_check(fake_features, train_features, *, alpha: float = MEMO_ALPHA,
                       n_train_queries: int | None = N_TRAIN_QUERIES, n_closest: int = N_CLOSEST,
                       seed: int | np.random.Generator | None = 0, block_size: int = DEFAULT_BLOCK_SIZE,
                       compute_dtype: str = "float64") -> MemorizationResult:
    """Nearest-training-neighbour distances of generated samples and the near-copy share (module docstring).

    Args:
        fake_features: generated features, M x D.
        train_features: training features, N x D (N >= 2).
        alpha: a fake is a near copy when its distance is below alpha x the training set's median
            nearest-neighbour distance (1/3).
        n_train_queries: training points used for that median (a seeded subset); None uses every
            training point (N_train^2 work).
        n_closest: how many closest (fake, train) pairs to return.
        seed: an int or an np.random.Generator for the subset.
        block_size: rows per distance tile.
        compute_dtype: "float64" or "float32" tile products.

    Returns:
        A `MemorizationResult`.

    Raises:
        InvalidArgumentError: a bad `alpha`, `n_closest` or `n_train_queries`.
        ShapeMismatchError: the feature dimensions differ.

    Example:
        >>> import numpy as np
        >>> train = np.array([[0.0], [10.0], [20.0], [30.0]])
        >>> r = memorization_check(np.array([[10.5], [25.0]]), train)
        >>> r.near_copy_share, r.threshold > 3.3, r.median_distance_ratio
        (0.5, True, 0.275)
    """
    fake = as_features(fake_features, "fake_features")
    train = as_features(train_features, "train_features", min_rows=2)
    same_dim(fake, train, "fake_features", "train_features")
    alpha = check_float("alpha", alpha, 0.0, np.inf, low_open=True, high_open=True)
    n_closest = check_int("n_closest", n_closest, 0)
    kw = dict(block_size=block_size, compute_dtype=compute_dtype)
    n_train = len(train)
    if n_train_queries is None or n_train_queries >= n_train:
        q_idx = np.arange(n_train)
    else:
        q_idx = np.sort(as_numpy_generator(seed).choice(n_train, check_int("n_train_queries", n_train_queries, 1),
                                                        replace=False))
    t_d, _ = knn_search(train[q_idx], train, 1, exclude=q_idx, **kw)
    m = float(np.median(t_d[:, 0]))
    d, idx = knn_search(fake, train, 1, **kw)
    d, idx = d[:, 0], idx[:, 0]
    thr = alpha * m
    near = d < thr
    order = np.lexsort((np.arange(len(d)), d))[:n_closest]
    ratio = float(np.median(d) / m) if m > 0 else float("nan")  # m = 0: over half the training set is duplicated
    return MemorizationResult(
        near_copy_share=float(near.mean()), near_copies=int(near.sum()), median_distance_ratio=ratio,
        train_nn_median=m, threshold=thr, alpha=alpha, n_fake=len(fake), n_train=n_train, n_train_queries=len(q_idx),
        seed=seed if isinstance(seed, int) else None, nn_distances=d, nn_indices=idx,
        closest_fake=order, closest_train=idx[order], closest_distances=d[order])


class Memorization(TwoSampleFeatureMetric):
    """Stateful memorisation check: update(train_features, real=True), update(fake_features, real=False).

    Args:
        alpha: the near-copy threshold factor, as `memorization_check`.
        n_train_queries: training points used for the median distance (None: all).
        n_closest: how many closest pairs to report.
        seed: the int seed of the subset.
        block_size: rows per distance tile.
        compute_dtype: "float64" or "float32" tile products.
        extractor: None (update with features) or an extractor name (update with uint8 images).
        layer: the extractor's layer (see `TwoSampleFeatureMetric`).

    >>> import numpy as np
    >>> train = np.random.default_rng(0).normal(size=(300, 8))
    >>> Memorization().update(train, real=True).update(train[:50], real=False).compute().near_copy_share
    1.0
    """

    name = "memorization"
    outputs = {"near_copy_share": False, "median_distance_ratio": True}
    needs = ("features", "train")
    description = "nearest-training-neighbour check"
    higher_is_better = False
    primary = "near_copy_share"

    def __init__(self, alpha: float = MEMO_ALPHA, n_train_queries: int | None = N_TRAIN_QUERIES,
                 n_closest: int = N_CLOSEST, seed: int = 0, block_size: int = DEFAULT_BLOCK_SIZE,
                 compute_dtype: str = "float64", *, extractor: str | None = None, layer: str | None = None):
        check_int("seed", seed, 0)
        super().__init__(alpha=alpha, n_train_queries=n_train_queries, n_closest=n_closest, seed=seed,
                         block_size=block_size, compute_dtype=compute_dtype, extractor=extractor, layer=layer)

    def update_from(self, inputs):
        """Update from an `ImageInputs`: its training features as the real side, its fake features."""
        return (self.update(inputs.require("train_features", self.name), real=True)
                .update(inputs.require("fake_features", self.name), real=False))

    def _compute(self, real, fake) -> MemorizationResult:
        return memorization_check(fake, real, **self.formula_config())

    def report(self, result=None) -> MetricReport:
        """Near-copy share and median distance ratio for `evaluate`, with the closest pairs as details."""
        r = self.compute() if result is None else result
        details = {"closest_fake": list(map(int, r.closest_fake)), "closest_train": list(map(int, r.closest_train)),
                   "closest_distances": [float(r.nn_distances[i]) for i in r.closest_fake], "threshold": r.threshold}
        return MetricReport({"near_copy_share": r.near_copy_share, "median_distance_ratio": r.median_distance_ratio},
                            details, {"alpha": r.alpha, "ntrain": r.n_train})
