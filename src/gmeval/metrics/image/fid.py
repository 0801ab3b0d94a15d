"""Frechet Inception Distance (Heusel et al. 2017) on any feature matrix (Inception pool3, classifier features).

    FID = |mu_r - mu_f|^2 + tr(S_r) + tr(S_f) - 2 tr((S_r S_f)^(1/2))

Three pure steps, each usable alone:
features --(GaussianStats: float64 n, sum, sum of outer products; covariance with N-1)--> statistics
--(gmeval.metrics.frechet: symmetric eigen-decomposition, no scipy.linalg.sqrtm)--> distance.
Lower is better; 0 for identical statistics. A RuntimeWarning is emitted when a side has N <= D
samples (singular covariance: rank <= N - 1 < D; strongly biased FID).

- Heusel, Ramsauer, Unterthiner, Nessler, Hochreiter. "GANs Trained by a Two Time-Scale Update
  Rule Converge to a Local Nash Equilibrium", NeurIPS 2017.
"""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgumentError, ShapeMismatchError
from ...stats import GaussianStats
from ..frechet import frechet_distance_from_stats
from ._base import Metric
from ._common import as_features, same_dim


def fid_features_to_stats(features) -> GaussianStats:
    """Streaming-compatible float64 statistics of one feature matrix (N x D)."""
    return GaussianStats.from_features(as_features(features, "features", min_rows=2))


def fid_distance_from_stats(real_stats: GaussianStats, fake_stats: GaussianStats) -> float:
    """FID between two GaussianStats (e.g. cached real statistics and fresh fake ones)."""
    for name, s in (("real_stats", real_stats), ("fake_stats", fake_stats)):
        if not isinstance(s, GaussianStats):
            raise InvalidArgumentError(name, "a gmeval.stats.GaussianStats", type(s).__name__)
    if real_stats.dim != fake_stats.dim:
        raise ShapeMismatchError(f"real and fake statistics have dimensions {real_stats.dim} and {fake_stats.dim}")
    return frechet_distance_from_stats(real_stats, fake_stats)


def fid_distance(real_features, fake_features) -> float:
    """FID between two feature matrices (N_real x D and N_fake x D)."""
    real = as_features(real_features, "real_features", min_rows=2)
    fake = as_features(fake_features, "fake_features", min_rows=2)
    same_dim(real, fake, "real_features", "fake_features")
    return fid_distance_from_stats(GaussianStats.from_features(real), GaussianStats.from_features(fake))


class FID(Metric):
    """Stateful FID: two streaming GaussianStats; memory O(D^2) whatever the number of samples.

    FID() accumulates both sides with update(features, real=True|False). FID(real_stats=S) uses
    S as a fixed reference (e.g. loaded with gmeval.stats.load_stats): only fake updates are
    accepted and `merge` (batches, shards, processes) sums the fake statistics, keeping the
    reference once. Merging needs the same reference (equal n, mean and covariance).
    """

    higher_is_better = False
    primary = "fid"

    def __init__(self, real_stats: GaussianStats | None = None):
        if real_stats is not None and not isinstance(real_stats, GaussianStats):
            raise InvalidArgumentError("real_stats", "None or a gmeval.stats.GaussianStats", type(real_stats).__name__)
        self.reference = real_stats
        super().__init__()

    def reset(self) -> None:
        self.real = self.reference if self.reference is not None else GaussianStats()
        self.fake = GaussianStats()

    def update(self, features, *, real: bool):
        if not isinstance(real, (bool, np.bool_)):
            raise InvalidArgumentError("real", "True (real features) or False (generated features)", real)
        if real and self.reference is not None:
            raise InvalidArgumentError("real", "False for an FID built with fixed real_stats", real,
                                       "Create FID() without real_stats to accumulate real features.")
        x = as_features(features, "features")
        (self.real if real else self.fake).update(x)
        return self

    def compute(self) -> float:
        return fid_distance_from_stats(self.real, self.fake)

    def copy(self) -> "FID":
        out = FID(self.reference)
        self._copy_state(out)
        return out

    def _copy_state(self, out) -> None:
        out.real = self.reference if self.reference is not None else self.real.copy()
        out.fake = self.fake.copy()

    def merge(self, other) -> "FID":
        if not isinstance(other, FID):
            raise InvalidArgumentError("other", "an FID", type(other).__name__)
        if (self.reference is None) != (other.reference is None) or (
                self.reference is not None and not _same_stats(self.reference, other.reference)):
            raise InvalidArgumentError("other", "an FID with the same real reference statistics",
                                       "an FID with a different (or no) reference")
        out = self.copy()
        if self.reference is None:
            out.real = self.real.merge(other.real)
        out.fake = self.fake.merge(other.fake)
        return out

    __add__ = merge


def _same_stats(a: GaussianStats, b: GaussianStats) -> bool:
    if a is b:
        return True
    return a.n == b.n and a.dim == b.dim and np.array_equal(a.mean, b.mean) and np.array_equal(a.cov, b.cov)
