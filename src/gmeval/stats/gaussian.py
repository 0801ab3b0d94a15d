"""First and second moments of a feature set, accumulated in float64.

State is (n, sum x, sum x x^T). Merging two states is elementwise addition, so batches,
shards and processes can be reduced in any order (torch.distributed all_reduce SUM works
directly on the arrays). The covariance uses the unbiased N-1 convention, as numpy.cov,
pytorch-fid, torch-fidelity and clean-fid do:

    mu    = sum / n
    sigma = (sum_outer - n mu mu^T) / (n - 1)
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from ..errors import DataError, InvalidArgumentError, ShapeMismatchError
from ..utils.io import NPY_READ_ERRORS, atomic_path


class GaussianStats:
    """Streaming first and second moments of a feature set, in float64, mergeable by summation.

    State is (n, sum x, sum x x^T); `mean` and `cov` (unbiased, N-1) are computed from it on demand.
    Statistics loaded from (mu, sigma) alone (``n < 2``) are *fixed*: usable for FID, not mergeable.

    Args:
        dim: the feature dimension; None takes it from the first `update`.

    Raises:
        ShapeMismatchError: features that are not N x D, or of another dimension.
        InvalidArgumentError: updating or merging fixed statistics; `mean`/`cov` with too few samples.

    Example:
        >>> import numpy as np
        >>> x = np.arange(12.0).reshape(6, 2)
        >>> s = GaussianStats().update(x[:4]).merge(GaussianStats().update(x[4:]))
        >>> s, s.mean.tolist(), bool(np.allclose(s.cov, np.cov(x, rowvar=False)))
        (GaussianStats(n=6, dim=2), [5.0, 6.0], True)
    """
    def __init__(self, dim: int | None = None):
        self.dim = dim
        self.n = 0
        self.sum = None if dim is None else np.zeros(dim, np.float64)
        self.sum_outer = None if dim is None else np.zeros((dim, dim), np.float64)
        self._fixed: tuple[np.ndarray, np.ndarray] | None = None  # (mu, sigma) loaded without raw sums
        self.meta: dict = {}

    # -- accumulation ---------------------------------------------------------------------
    def update(self, features) -> "GaussianStats":
        """Add a batch of features to the sums.

        Args:
            features: N x D array or tensor (converted to float64 on the CPU).

        Returns:
            self, for chaining.

        Raises:
            ShapeMismatchError: not N x D, or D differs from `dim`.
            InvalidArgumentError: these statistics are fixed (loaded from mu/sigma only).

        Example:
            >>> import numpy as np
            >>> GaussianStats(3).update(np.ones((5, 3))).n
            5
        """
        x = np.asarray(features.detach().cpu().numpy() if hasattr(features, "detach") else features, dtype=np.float64)
        if x.ndim != 2:
            raise ShapeMismatchError(f"features must be N x D, got shape {x.shape}")
        if self._fixed is not None:
            raise InvalidArgumentError("stats", "statistics with raw sums (not loaded from mu/sigma only)", "fixed stats")
        if self.dim is None:
            self.__init__(x.shape[1])
        if x.shape[1] != self.dim:
            raise ShapeMismatchError(f"features have dimension {x.shape[1]}, these statistics have {self.dim}")
        self.n += x.shape[0]
        self.sum += x.sum(axis=0)
        self.sum_outer += x.T @ x
        return self

    def merge(self, other: "GaussianStats") -> "GaussianStats":
        """A new object holding the union of both sample sets (``a + b`` does the same).

        Merging is exact up to float64 rounding and independent of how the samples were split.

        Args:
            other: statistics of the same dimension.

        Returns:
            The merged statistics (the metadata is `self`'s).

        Raises:
            InvalidArgumentError: fixed statistics (loaded from mu/sigma only) would be combined with samples
                or with other fixed statistics.
            ShapeMismatchError: the dimensions differ.

        Example:
            >>> import numpy as np
            >>> (GaussianStats().update(np.ones((2, 3))) + GaussianStats().update(np.zeros((1, 3)))).sum.tolist()
            [2.0, 2.0, 2.0]
        """
        if other.n == 0 and other._fixed is None:
            return self.copy()
        if self.n == 0 and self._fixed is None:
            return other.copy()
        if self._fixed is not None or other._fixed is not None:
            raise InvalidArgumentError("stats", "statistics with raw sums to merge", "fixed (mu, sigma) statistics")
        if self.dim != other.dim:
            raise ShapeMismatchError(f"cannot merge statistics of dimension {self.dim} and {other.dim}")
        out = GaussianStats(self.dim)
        out.n = self.n + other.n
        out.sum = self.sum + other.sum
        out.sum_outer = self.sum_outer + other.sum_outer
        out.meta = dict(self.meta)
        return out

    __add__ = merge

    def copy(self) -> "GaussianStats":
        """An independent copy (arrays and metadata copied).

        Returns:
            The copy.

        Example:
            >>> import numpy as np
            >>> a = GaussianStats().update(np.ones((2, 2))); b = a.copy(); _ = b.update(np.ones((1, 2)))
            >>> a.n, b.n
            (2, 3)
        """
        out = GaussianStats(self.dim)
        out.n = self.n
        if self.sum is not None:
            out.sum, out.sum_outer = self.sum.copy(), self.sum_outer.copy()
        out._fixed = self._fixed
        out.meta = dict(self.meta)
        return out

    @classmethod
    def from_features(cls, features) -> "GaussianStats":
        """Statistics of one feature array.

        Args:
            features: N x D array or tensor.

        Returns:
            New statistics.

        Raises:
            ShapeMismatchError: not N x D.

        Example:
            >>> import numpy as np
            >>> GaussianStats.from_features(np.zeros((4, 8))).dim
            8
        """
        return cls().update(features)

    @classmethod
    def from_mu_sigma(cls, mu, sigma, n: int = 0, meta: dict | None = None) -> "GaussianStats":
        """Statistics from a mean and covariance (e.g. a pytorch-fid ``.npz``).

        With ``n >= 2`` the raw sums are recovered (up to rounding), so the result can be merged and
        updated again; otherwise it is fixed.

        Args:
            mu: the mean, D.
            sigma: the covariance, D x D (N-1 convention).
            n: the sample count, 0 if unknown.
            meta: metadata to keep.

        Returns:
            New statistics.

        Raises:
            ShapeMismatchError: mu is not 1-D or sigma is not D x D.

        Example:
            >>> import numpy as np
            >>> s = GaussianStats.from_mu_sigma([0.0, 1.0], np.eye(2), n=10)
            >>> s.mean.tolist(), bool(np.allclose(s.cov, np.eye(2)))
            ([0.0, 1.0], True)
        """
        mu = np.asarray(mu, np.float64)
        sigma = np.asarray(sigma, np.float64)
        if mu.ndim != 1 or sigma.shape != (mu.size, mu.size):
            raise ShapeMismatchError(f"mu must be D and sigma D x D, got {mu.shape} and {sigma.shape}")
        out = cls(mu.size)
        out.n = int(n)
        if n >= 2:  # raw sums are recoverable exactly (up to rounding): mergeable again
            out.sum = mu * n
            out.sum_outer = sigma * (n - 1) + n * np.outer(mu, mu)
        else:
            out._fixed = (mu, sigma)
        out.meta = dict(meta or {})
        return out

    # -- results --------------------------------------------------------------------------
    @property
    def mean(self) -> np.ndarray:
        """The mean, D (float64).

        Raises:
            InvalidArgumentError: no samples.

        Example:
            >>> import numpy as np
            >>> GaussianStats().update(np.array([[1.0], [3.0]])).mean.tolist()
            [2.0]
        """
        if self._fixed is not None:
            return self._fixed[0]
        self._need(1)
        return self.sum / self.n

    @property
    def cov(self) -> np.ndarray:
        """The unbiased covariance (N-1), D x D (float64), exactly symmetric.

        Raises:
            InvalidArgumentError: fewer than 2 samples.

        Example:
            >>> import numpy as np
            >>> GaussianStats().update(np.array([[1.0], [3.0]])).cov.tolist()
            [[2.0]]
        """
        if self._fixed is not None:
            return self._fixed[1]
        self._need(2)
        mu = self.sum / self.n
        sigma = (self.sum_outer - self.n * np.outer(mu, mu)) / (self.n - 1)
        return (sigma + sigma.T) / 2.0  # exact symmetry despite rounding

    def _need(self, k: int):
        if self.n < k:
            raise InvalidArgumentError("stats", f"at least {k} samples", f"{self.n} samples")

    def state_arrays(self) -> dict[str, np.ndarray]:
        """The raw float64 state, for an all-reduce (SUM) across processes.

        Returns:
            ``{"n": [n], "sum": D, "sum_outer": D x D}``.

        Example:
            >>> sorted(GaussianStats(2).state_arrays())
            ['n', 'sum', 'sum_outer']
        """
        return {"n": np.array([self.n], np.float64), "sum": self.sum, "sum_outer": self.sum_outer}

    def load_state_arrays(self, state: dict) -> "GaussianStats":
        """Set the raw state from `state_arrays()`-shaped arrays (e.g. after an all-reduce).

        Args:
            state: ``{"n": [n], "sum": D, "sum_outer": D x D}``.

        Returns:
            self.

        Raises:
            ShapeMismatchError: sum is not 1-D or sum_outer is not D x D.

        Example:
            >>> import numpy as np
            >>> a = GaussianStats().update(np.ones((2, 3)))
            >>> GaussianStats().load_state_arrays(a.state_arrays()).n
            2
        """
        s, so = np.asarray(state["sum"], np.float64), np.asarray(state["sum_outer"], np.float64)
        if s.ndim != 1 or so.shape != (s.size, s.size):
            raise ShapeMismatchError(f"sum must be D and sum_outer D x D, got {s.shape} and {so.shape}")
        self.dim, self.n, self.sum, self.sum_outer = s.size, int(round(float(np.asarray(state["n"]).ravel()[0]))), s, so
        return self

    def __repr__(self) -> str:
        return f"GaussianStats(n={self.n}, dim={self.dim})"


def save_stats(stats: GaussianStats, path: str | os.PathLike, meta: dict | None = None) -> Path:
    """Write mu, sigma (pytorch-fid compatible keys), n and JSON metadata to a ``.npz``, atomically.

    Args:
        stats: the statistics (at least 2 samples, or fixed).
        path: the ``.npz`` file.
        meta: metadata added to ``stats.meta`` in the file.

    Returns:
        `path` as a Path.

    Raises:
        StorageError: the file cannot be written.
        InvalidArgumentError: fewer than 2 samples.

    Example:
        >>> import tempfile
        >>> import numpy as np
        >>> with tempfile.TemporaryDirectory() as d:
        ...     p = save_stats(GaussianStats().update(np.eye(3)), d + "/real.npz", meta={"extractor": "mnist"})
        ...     sorted(np.load(p).keys())
        ['meta', 'mu', 'n', 'sigma']
    """
    meta = {**stats.meta, **(meta or {})}
    path = Path(path)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, mu=stats.mean, sigma=stats.cov, n=np.array(stats.n), meta=np.array(json.dumps(meta, sort_keys=True)))
    return path


def load_stats(path: str | os.PathLike) -> GaussianStats:
    """Read a gmeval or pytorch-fid style ``.npz`` with keys ``mu`` and ``sigma`` (optionally ``n``, ``meta``).

    Args:
        path: the ``.npz`` file.

    Returns:
        `GaussianStats` (mergeable when the file records n >= 2, else fixed).

    Raises:
        DataError: the file cannot be read, lacks mu/sigma, or their shapes do not fit (names the file).

    Example:
        >>> import tempfile
        >>> import numpy as np
        >>> with tempfile.TemporaryDirectory() as d:
        ...     s = load_stats(save_stats(GaussianStats().update(np.eye(3)), d + "/s.npz", meta={"k": 1}))
        >>> s.n, s.mean.tolist(), s.meta
        (3, [0.3333333333333333, 0.3333333333333333, 0.3333333333333333], {'k': 1})
    """
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as f:
            keys = set(f.keys())
            if not {"mu", "sigma"} <= keys:
                raise DataError(f"statistics file needs arrays 'mu' and 'sigma', found {sorted(keys)}", path)
            mu, sigma = f["mu"], f["sigma"]
            n = int(f["n"]) if "n" in keys else 0
            meta = json.loads(str(f["meta"])) if "meta" in keys else {}
    except NPY_READ_ERRORS as exc:
        raise DataError(f"cannot read statistics file ({exc})", path) from exc
    try:
        return GaussianStats.from_mu_sigma(mu, sigma, n, meta)
    except ShapeMismatchError as exc:
        raise DataError(str(exc), path) from exc
