"""The Frechet distance between two Gaussians (Dowson & Landau 1982; FID: Heusel et al. 2017).

    d^2 = |mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr((S1 S2)^(1/2))

tr((S1 S2)^(1/2)) is computed without a general matrix square root. With any factor S1 = B B^T,
S1 S2 = B (B^T S2 B) B^-1 is similar to the symmetric PSD matrix B^T S2 B, so
tr((S1 S2)^(1/2)) = sum_i sqrt(lambda_i(B^T S2 B)): one symmetric eigenvalue problem
(values only). B is the Cholesky factor L of S1 when S1 is numerically positive definite (the
usual N > D case; cheapest), else the symmetric square root S1^(1/2) from an eigen-decomposition
(singular covariances, N <= D).

With L triangular, L^T S2 L is LAPACK's reduction of the generalized problem S2 S1 x = lambda x
to standard form (``dsygst``, itype 2): it uses the symmetry of S2 and the triangle of L, about
D^3 flops, against 2 D^3 for two triangular products (trmm) and 4 D^3 for two general ones.
Only lower triangles are read and written, so nothing is symmetrised or copied beyond the one
working copy of S2. The eigenvalues then come from ``dsyev`` (values only: tridiagonal reduction +
``dsterf``); the drivers were chosen by timing potrf + sygst + {syev, syevd, syevr}, the one-call
``dsygvd``/``dsygv``, the trmm route and torch's ``linalg.eigvalsh`` (MKL) side by side at
D = 2048 (one-off measurements; benchmarks/bench_anchors.py times the chosen route against the
reference tools). torch's solver is faster once warm (0.27 s against
0.37 s on 2 threads) but its first call in a process costs 0.96-1.46 s in all against 0.58-0.61 s
for this route, and FID is usually computed once per process. The LAPACK calls use the process's
BLAS thread settings (``OMP_NUM_THREADS`` etc.), like any numpy code: on the project's 2-core
machine the whole call takes 0.59 s with 2 threads against 0.94 s with one (fresh processes,
quiet machine). Different thread counts or CPUs may change the last bits (measured: 2e-15
relative between 1 and 2 threads); the tests compare with tolerances (docs/tolerances.md), never
bitwise across thread counts. Dimensions with an all-zero row and column in either
covariance (constant features, e.g. border pixels) are removed first: they contribute exact
zero eigenvalues, and removing them keeps their rounding noise out of the square roots.
Eigenvalues that rounding pushes below zero are clipped to 0
before the square root, so the result is always finite; no complex parts are discarded silently
because none arise. benchmarks/bench_metrics.py times it against scipy.linalg.sqrtm at D = 2048.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import linalg
from scipy.linalg import lapack

from ..errors import InvalidArgumentError, ShapeMismatchError


def _psd_sqrt(s: np.ndarray) -> np.ndarray:
    w, v = linalg.eigh(s)
    w = np.clip(w, 0.0, None)
    return (v * np.sqrt(w)) @ v.T


def _cholesky(s: np.ndarray) -> np.ndarray | None:
    """Lower Cholesky factor (upper triangle left unspecified: only the lower one is read), or None."""
    low, info = lapack.dpotrf(s, lower=1, clean=0)
    return low if info == 0 else None


def _eigvalsh_lower(m: np.ndarray) -> np.ndarray:
    """Eigenvalues of the symmetric matrix whose lower triangle is `m`'s (values only, ``dsyev``; overwrites m)."""
    return linalg.eigvalsh(m, lower=True, driver="ev", overwrite_a=True, check_finite=False)


def _reduced_eigvals(low: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Eigenvalues of L^T S L (L lower triangular) via dsygst(itype=2) + a values-only solver, lower triangles only."""
    m, info = lapack.dsygst(s, low, itype=2, lower=1)
    if info != 0:  # pragma: no cover - dsygst only fails on illegal arguments
        raise np.linalg.LinAlgError(f"dsygst failed with info={info}")
    return _eigvalsh_lower(m)


def trace_sqrt_product(sigma1: np.ndarray, sigma2: np.ndarray) -> float:
    """tr((sigma1 sigma2)^(1/2)) for symmetric PSD matrices (see module docstring).

    Args:
        sigma1: a symmetric positive semi-definite D x D float64 matrix (only its lower triangle is read).
        sigma2: another one, of the same size.

    Returns:
        The trace as a Python float (>= 0; eigenvalues that rounding pushes below zero count as 0).

    Example:
        >>> import numpy as np
        >>> round(trace_sqrt_product(np.diag([4.0, 9.0]), np.eye(2)), 6)
        5.0
    """
    # (B, S) = (chol(sigma1), sigma2), else (chol(sigma2), sigma1) (S1 S2 and S2 S1 have the same
    # eigenvalues), else (sigma1^(1/2), sigma2) when neither is numerically positive definite.
    # Dimensions whose row and column are exactly zero in either matrix (e.g. pixels that are
    # constant over a data set) only add exact zero eigenvalues to sigma1 sigma2: drop them
    # (exact block-triangular reduction), so their rounding noise does not enter the sqrt.
    keep = (sigma1.any(axis=0) | sigma1.any(axis=1)) & (sigma2.any(axis=0) | sigma2.any(axis=1))
    if not keep.all():
        if not keep.any():
            return 0.0
        sigma1, sigma2 = sigma1[np.ix_(keep, keep)], sigma2[np.ix_(keep, keep)]
    for factor, other in ((sigma1, sigma2), (sigma2, sigma1)):
        low = _cholesky(factor)
        if low is not None:
            lam = _reduced_eigvals(low, other)
            break
    else:
        b = _psd_sqrt(sigma1)  # symmetric, not triangular: two general products
        lam = _eigvalsh_lower(b @ sigma2 @ b)
    return float(np.sqrt(np.clip(lam, 0.0, None)).sum())


def frechet_distance(mu1, sigma1, mu2, sigma2) -> float:
    """Squared Frechet distance between N(mu1, sigma1) and N(mu2, sigma2), in float64. Lower is better.

    Args:
        mu1: the first mean, a length-D vector.
        sigma1: the first covariance, D x D, symmetric PSD.
        mu2: the second mean.
        sigma2: the second covariance.

    Returns:
        The squared distance as a Python float (0 for identical Gaussians).

    Raises:
        ShapeMismatchError: the means are not vectors of equal length, or a covariance is not D x D.
        InvalidArgumentError: an input has NaN or inf entries.

    Example:
        >>> import numpy as np
        >>> round(frechet_distance(np.zeros(2), np.eye(2), np.ones(2), np.eye(2)), 6)  # equal covariances: |mu1 - mu2|^2
        2.0
        >>> frechet_distance(np.zeros(2), np.eye(2), np.zeros(3), np.eye(3))
        Traceback (most recent call last):
        ...
        gmeval.errors.ShapeMismatchError: mu1 and mu2 must be vectors of equal length, got (2,) and (3,)
    """
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    sigma1, sigma2 = np.atleast_2d(np.asarray(sigma1, np.float64)), np.atleast_2d(np.asarray(sigma2, np.float64))
    if mu1.shape != mu2.shape or mu1.ndim != 1:
        raise ShapeMismatchError(f"mu1 and mu2 must be vectors of equal length, got {mu1.shape} and {mu2.shape}")
    d = mu1.size
    if sigma1.shape != (d, d) or sigma2.shape != (d, d):
        raise ShapeMismatchError(f"sigma1 and sigma2 must be {d} x {d}, got {sigma1.shape} and {sigma2.shape}")
    for name, arr in (("mu1", mu1), ("mu2", mu2), ("sigma1", sigma1), ("sigma2", sigma2)):
        if not np.all(np.isfinite(arr)):
            raise InvalidArgumentError(name, "finite values", "NaN or inf entries")
    diff = mu1 - mu2
    tr_covmean = trace_sqrt_product(sigma1, sigma2)
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * tr_covmean)


def frechet_distance_from_stats(stats1, stats2) -> float:
    """FD between two GaussianStats; warns when a side has N <= D samples (singular covariance).

    Args:
        stats1: the first `GaussianStats` (mean and N-1 covariance).
        stats2: the second one, of the same dimension.

    Returns:
        The squared Frechet distance, as `frechet_distance`.

    Raises:
        ShapeMismatchError: the statistics have different dimensions.

    Example:
        >>> import numpy as np
        >>> from gmeval.stats import GaussianStats
        >>> x = np.random.default_rng(0).normal(size=(100, 3))
        >>> a = GaussianStats.from_features(x)
        >>> abs(frechet_distance_from_stats(a, a)) < 1e-9
        True
    """
    for name, s in (("first", stats1), ("second", stats2)):
        if 0 < s.n <= s.dim:  # rank(cov) <= N - 1 < D: singular
            warnings.warn(
                f"the {name} statistics have N={s.n} samples for D={s.dim} dimensions: the covariance is singular "
                "and the Frechet distance is strongly biased; use N > D (FID papers use N = 50000).",
                RuntimeWarning, stacklevel=2,
            )
    return frechet_distance(stats1.mean, stats1.cov, stats2.mean, stats2.cov)
