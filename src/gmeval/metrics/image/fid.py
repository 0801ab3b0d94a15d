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
from ._base import ExtractorMixin, Metric, MetricReport, check_real
from ._common import as_features, same_dim


def fid_features_to_stats(features) -> GaussianStats:
    """Streaming-compatible float64 statistics of one feature matrix (N x D).

    Args:
        features: an N x D array or tensor, N >= 2, finite.

    Returns:
        A `GaussianStats` (n, mean, covariance with N-1), mergeable with other batches' statistics.

    Raises:
        ShapeMismatchError: `features` is not 2-D.
        InvalidArgumentError: fewer than 2 rows, or NaN/inf entries.

    Example:
        >>> import numpy as np
        >>> s = fid_features_to_stats(np.array([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]))
        >>> s.n, s.mean.tolist(), s.cov.tolist()
        (3, [2.0, 3.0], [[4.0, 4.0], [4.0, 4.0]])
    """
    return GaussianStats.from_features(as_features(features, "features", min_rows=2))


def fid_distance_from_stats(real_stats: GaussianStats, fake_stats: GaussianStats) -> float:
    """FID between two GaussianStats (e.g. cached real statistics and fresh fake ones).

    Args:
        real_stats: the real side's `GaussianStats`.
        fake_stats: the generated side's `GaussianStats`, of the same dimension.

    Returns:
        The FID as a float (lower is better); a RuntimeWarning when a side has N <= D samples.

    Raises:
        InvalidArgumentError: an argument is not a `GaussianStats`.
        ShapeMismatchError: the dimensions differ.

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> real = fid_features_to_stats(rng.normal(size=(200, 3)))
        >>> abs(fid_distance_from_stats(real, real)) < 1e-9
        True
        >>> fid_distance_from_stats(real, "fake.npz")
        Traceback (most recent call last):
        ...
        gmeval.errors.InvalidArgumentError: Argument `fake_stats` must be a gmeval.stats.GaussianStats, but got 'str'.
    """
    for name, s in (("real_stats", real_stats), ("fake_stats", fake_stats)):
        if not isinstance(s, GaussianStats):
            raise InvalidArgumentError(name, "a gmeval.stats.GaussianStats", type(s).__name__)
    if real_stats.dim != fake_stats.dim:
        raise ShapeMismatchError(f"real and fake statistics have dimensions {real_stats.dim} and {fake_stats.dim}")
    return frechet_distance_from_stats(real_stats, fake_stats)


def fid_distance(real_features, fake_features) -> float:
    """FID between two feature matrices (N_real x D and N_fake x D).

    Args:
        real_features: the real features, N_real x D (N_real >= 2).
        fake_features: the generated features, N_fake x D.

    Returns:
        The FID as a float (lower is better).

    Raises:
        ShapeMismatchError: an input is not 2-D, or the feature dimensions differ.
        InvalidArgumentError: fewer than 2 rows, or NaN/inf entries.

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=(1000, 2))
        >>> round(fid_distance(x, x + 3.0), 6)   # a shift by (3, 3): |mu1 - mu2|^2 = 18
        18.0
    """
    real = as_features(real_features, "real_features", min_rows=2)
    fake = as_features(fake_features, "fake_features", min_rows=2)
    same_dim(real, fake, "real_features", "fake_features")
    return fid_distance_from_stats(GaussianStats.from_features(real), GaussianStats.from_features(fake))


class FID(ExtractorMixin, Metric):
    """Stateful FID: two streaming GaussianStats ("sum" states); memory O(D^2) whatever the number of samples.

    FID() accumulates both sides with update(features, real=True|False). FID(real_stats=S) uses
    S as a fixed reference (e.g. loaded with gmeval.stats.load_stats): only fake updates are
    accepted and `merge` (batches, shards, processes) sums the fake statistics, keeping the
    reference once. Merging needs the same reference (equal n, mean and covariance).
    FID(extractor="inception") takes uint8 images instead of features.

    Args:
        real_stats: a fixed real reference (`GaussianStats`), or None to accumulate real features.
        extractor: None (update with features) or a feature extractor name (update with images).
        layer: the extractor layer (default: its feature layer).

    Raises:
        InvalidArgumentError: `real_stats` is not a GaussianStats; an update of real features with a fixed reference.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> m = FID().update(rng.normal(size=(500, 4)), real=True).update(rng.normal(size=(500, 4)) + 1, real=False)
    >>> 3.5 < m.compute() < 4.5   # |mu1 - mu2|^2 = 4 plus a small sampling term
    True
    """

    name = "fid"
    outputs = {"fid": False}
    needs = ("features",)
    intervals = True
    description = "Frechet distance of Gaussian fits (Heusel et al. 2017)"
    higher_is_better = False
    primary = "fid"

    def __init__(self, real_stats: GaussianStats | None = None, *, extractor: str | None = None, layer: str | None = None):
        if real_stats is not None and not isinstance(real_stats, GaussianStats):
            raise InvalidArgumentError("real_stats", "None or a gmeval.stats.GaussianStats", type(real_stats).__name__)
        self.reference = real_stats
        super().__init__(real_stats=real_stats, extractor=extractor, layer=layer)

    def declare(self) -> None:
        """Two sum states, ``real`` (a copy of the fixed reference, if any) and ``fake`` (`GaussianStats`)."""
        self.add_state("real", "sum", lambda: self.reference.copy() if self.reference is not None else GaussianStats())
        self.add_state("fake", "sum", GaussianStats)

    def update(self, features, *, real: bool, index=None):
        """Add rows of real (real=True) or generated features (or images, with an extractor).

        `index` (global row numbers) is accepted for the engine's uniform signature; sums do not depend on order.
        """
        real = check_real(real)
        if real and self.reference is not None:
            raise InvalidArgumentError("real", "False for an FID built with fixed real_stats", real,
                                       "Create FID() without real_stats to accumulate real features.")
        x = self._to_rows(features, "features")
        (self.real if real else self.fake).update(x)
        return self

    def update_stats(self, stats: GaussianStats, *, real: bool):
        """Add precomputed statistics (e.g. a statistics file) to one side."""
        side = "real" if check_real(real) else "fake"
        setattr(self, side, getattr(self, side).merge(stats))
        return self

    def update_from(self, inputs):
        """Update both sides from an `ImageInputs` (statistics when given, else features)."""
        for real, feats, stats in ((True, inputs.real_features, inputs.real_stats),
                                   (False, inputs.fake_features, inputs.fake_stats)):
            if stats is not None:
                self.update_stats(stats, real=real)
            else:
                self.update(inputs.require("real_features" if real else "fake_features", self.name), real=real)
        return self

    def compute(self) -> float:
        """The FID of the accumulated statistics."""
        return fid_distance_from_stats(self.real, self.fake)

    def report(self, result=None) -> MetricReport:
        """``{"fid": value}`` for `evaluate`."""
        return MetricReport({"fid": self.compute() if result is None else result})

    def merge(self, other) -> "FID":
        """A new FID holding both states; with a fixed reference, both must share it (it counts once)."""
        if isinstance(other, FID) and ((self.reference is None) != (other.reference is None) or (
                self.reference is not None and not _same_stats(self.reference, other.reference))):
            raise InvalidArgumentError("other", "an FID with the same real reference statistics",
                                       "an FID with a different (or no) reference")
        out = super().merge(other)
        if self.reference is not None:
            out.real = self.real.copy()  # the reference counts once
        return out

    __add__ = merge

    def sync(self):
        """Reduce over the ranks (with a fixed reference only the fake side is reduced)."""
        if self.reference is not None:  # the fixed reference is the same on every rank: reduce only the fake side
            real, self.real = self.real, GaussianStats(self.real.dim)
            super().sync()
            self.real = real
            return self
        return super().sync()


def _same_stats(a: GaussianStats, b: GaussianStats) -> bool:
    if a is b:
        return True
    return a.n == b.n and a.dim == b.dim and np.array_equal(a.mean, b.mean) and np.array_equal(a.cov, b.cov)
