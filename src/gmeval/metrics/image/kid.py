"""Kernel Inception Distance (Binkowski, Sutherland, Arbel, Gretton. "Demystifying MMD GANs", ICLR 2018).

KID is the squared maximum mean discrepancy between real and fake features under the cubic
polynomial kernel

    k(x, y) = (gamma x.y + coef0)^degree,   degree = 3, gamma = 1/D, coef0 = 1,

estimated without bias on subsets: for each of `n_subsets` (100) subsets, `subset_size` (1000)
real rows and `subset_size` fake rows are drawn WITHOUT replacement within the subset
(independently across subsets and sides), as torch-fidelity (`rng.choice(n, m, replace=False)`)
and clean-fid do, and

    MMD^2_u = sum_{i != j} k(x_i, x_j) / (m(m-1)) + sum_{i != j} k(y_i, y_j) / (m(m-1))
              - 2 sum_{i, j} k(x_i, y_j) / m^2

(the cross term over all m^2 pairs is unbiased because X and Y are independent; this is the
estimator torch-fidelity calls "unbiased" and clean-fid uses). Reported: mean and standard
deviation (numpy default ddof = 0, as torch-fidelity) over the subsets. Lower is better; the
mean can be slightly negative for identical distributions. Kernels are computed in float64.
Subsets come from an explicit np.random.Generator (seed 0 by default), so results are
reproducible; torch-fidelity uses np.random.RandomState(seed) and clean-fid the global RNG,
so their subsets, hence their last digits, differ.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...errors import InvalidArgumentError
from ...utils.seeding import as_numpy_generator
from ._base import TwoSampleFeatureMetric
from ._common import MetricResult, as_features, check_float, check_int, same_dim

KID_SUBSETS = 100
KID_SUBSET_SIZE = 1000
KID_DEGREE = 3
KID_COEF0 = 1.0


@dataclass
class KIDResult(MetricResult):
    mean: float
    std: float
    n_subsets: int
    subset_size: int
    degree: int
    gamma: float
    coef0: float
    seed: int | None
    n_real: int
    n_fake: int
    values: np.ndarray | None = None  # MMD^2 of every subset (not in as_dict)

    HIGHER_IS_BETTER = {"mean": False, "std": None}


def polynomial_kernel(x: np.ndarray, y: np.ndarray, *, degree: int = KID_DEGREE, gamma: float | None = None,
                      coef0: float = KID_COEF0) -> np.ndarray:
    """(gamma x.y + coef0)^degree in float64; gamma defaults to 1 / D."""
    same = y is x
    x = np.asarray(x, np.float64)
    y = x if same else np.asarray(y, np.float64)  # x @ x.T runs as a symmetric rank-k update
    g = 1.0 / x.shape[1] if gamma is None else gamma
    k = x @ y.T
    k *= g
    k += coef0
    return _int_power(k, degree)


def _int_power(k: np.ndarray, degree: int) -> np.ndarray:
    """k**degree by repeated multiplication (np.power with a scalar exponent calls pow() per element: ~5x slower)."""
    out = k.copy() if degree >= 1 else np.ones_like(k)
    for _ in range(degree - 1):
        out *= k
    return out


def mmd2_unbiased(k_xx: np.ndarray, k_yy: np.ndarray, k_xy: np.ndarray) -> float:
    """Unbiased MMD^2 from kernel matrices (m x m, n x n, m x n); diagonals of k_xx, k_yy excluded."""
    m, n = k_xx.shape[0], k_yy.shape[0]
    sxx = (k_xx.sum() - np.trace(k_xx)) / (m * (m - 1))
    syy = (k_yy.sum() - np.trace(k_yy)) / (n * (n - 1))
    return float(sxx + syy - 2.0 * k_xy.sum() / (m * n))


def kid_distance(real_features, fake_features, *, n_subsets: int = KID_SUBSETS, subset_size: int = KID_SUBSET_SIZE,
                 degree: int = KID_DEGREE, gamma: float | None = None, coef0: float = KID_COEF0,
                 seed: int | np.random.Generator | None = 0) -> KIDResult:
    """KID mean and std over `n_subsets` subsets of `subset_size` rows per side (see module docstring).

    `seed`: an int or an np.random.Generator (used as is, so its state advances). A clear
    InvalidArgumentError is raised when `subset_size` exceeds the number of real or fake samples.
    """
    real = as_features(real_features, "real_features", min_rows=2)
    fake = as_features(fake_features, "fake_features", min_rows=2)
    same_dim(real, fake, "real_features", "fake_features")
    n_subsets = check_int("n_subsets", n_subsets, 1)
    subset_size = check_int("subset_size", subset_size, 2)
    degree = check_int("degree", degree, 1)
    if gamma is not None:
        gamma = check_float("gamma", gamma, 0.0, np.inf, low_open=True, high_open=True)
    coef0 = check_float("coef0", coef0, -np.inf, np.inf)
    n_real, n_fake = len(real), len(fake)
    if subset_size > min(n_real, n_fake):
        raise InvalidArgumentError(
            "subset_size", f"at most the number of samples on each side (N real = {n_real}, N fake = {n_fake})",
            subset_size, f"Pass subset_size <= {min(n_real, n_fake)} or provide more samples.")
    g = 1.0 / real.shape[1] if gamma is None else gamma
    rng = as_numpy_generator(seed)
    values = np.empty(n_subsets, np.float64)
    for s in range(n_subsets):
        x = real[rng.choice(n_real, subset_size, replace=False)].astype(np.float64, copy=False)
        y = fake[rng.choice(n_fake, subset_size, replace=False)].astype(np.float64, copy=False)
        kw = dict(degree=degree, gamma=g, coef0=coef0)
        values[s] = mmd2_unbiased(polynomial_kernel(x, x, **kw), polynomial_kernel(y, y, **kw),
                                  polynomial_kernel(x, y, **kw))
    return KIDResult(mean=float(values.mean()), std=float(values.std()), n_subsets=n_subsets, subset_size=subset_size,
                     degree=degree, gamma=g, coef0=coef0, seed=seed if isinstance(seed, int) else None,
                     n_real=n_real, n_fake=n_fake, values=values)


class KID(TwoSampleFeatureMetric):
    """Stateful KID: accumulates features; compute() -> KIDResult (same seed -> same subsets)."""

    higher_is_better = False
    primary = "mean"

    def __init__(self, n_subsets: int = KID_SUBSETS, subset_size: int = KID_SUBSET_SIZE, degree: int = KID_DEGREE,
                 gamma: float | None = None, coef0: float = KID_COEF0, seed: int = 0):
        check_int("seed", seed, 0)
        super().__init__(n_subsets=n_subsets, subset_size=subset_size, degree=degree, gamma=gamma, coef0=coef0, seed=seed)

    def _compute(self, real, fake) -> KIDResult:
        return kid_distance(real, fake, **self._config)
