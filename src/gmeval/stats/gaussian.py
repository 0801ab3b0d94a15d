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
    def __init__(self, dim: int | None = None):
        self.dim = dim
        self.n = 0
        self.sum = None if dim is None else np.zeros(dim, np.float64)
        self.sum_outer = None if dim is None else np.zeros((dim, dim), np.float64)
        self._fixed: tuple[np.ndarray, np.ndarray] | None = None  # (mu, sigma) loaded without raw sums
        self.meta: dict = {}

    # -- accumulation ---------------------------------------------------------------------
    def update(self, features) -> "GaussianStats":
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
        """Return a new object holding the union of both sample sets."""
        if other.n == 0:
            return self.copy()
        if self.n == 0:
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
        out = GaussianStats(self.dim)
        out.n = self.n
        if self.sum is not None:
            out.sum, out.sum_outer = self.sum.copy(), self.sum_outer.copy()
        out._fixed = self._fixed
        out.meta = dict(self.meta)
        return out

    @classmethod
    def from_features(cls, features) -> "GaussianStats":
        return cls().update(features)

    @classmethod
    def from_mu_sigma(cls, mu, sigma, n: int = 0, meta: dict | None = None) -> "GaussianStats":
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
        if self._fixed is not None:
            return self._fixed[0]
        self._need(1)
        return self.sum / self.n

    @property
    def cov(self) -> np.ndarray:
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
        """Raw float64 state, for all-reduce across processes."""
        return {"n": np.array([self.n], np.float64), "sum": self.sum, "sum_outer": self.sum_outer}

    def load_state_arrays(self, state: dict) -> "GaussianStats":
        """Set the raw state from `state_arrays()`-shaped arrays (e.g. after an all-reduce); returns self."""
        s, so = np.asarray(state["sum"], np.float64), np.asarray(state["sum_outer"], np.float64)
        if s.ndim != 1 or so.shape != (s.size, s.size):
            raise ShapeMismatchError(f"sum must be D and sum_outer D x D, got {s.shape} and {so.shape}")
        self.dim, self.n, self.sum, self.sum_outer = s.size, int(round(float(np.asarray(state["n"]).ravel()[0]))), s, so
        return self

    def __repr__(self) -> str:
        return f"GaussianStats(n={self.n}, dim={self.dim})"


def save_stats(stats: GaussianStats, path: str | os.PathLike, meta: dict | None = None) -> Path:
    """Write mu, sigma (pytorch-fid compatible keys), n and JSON metadata atomically to `.npz`."""
    meta = {**stats.meta, **(meta or {})}
    path = Path(path)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, mu=stats.mean, sigma=stats.cov, n=np.array(stats.n), meta=np.array(json.dumps(meta, sort_keys=True)))
    return path


def load_stats(path: str | os.PathLike) -> GaussianStats:
    """Read a gmeval or pytorch-fid style `.npz` with keys `mu` and `sigma` (and optionally `n`, `meta`)."""
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
