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
mean can be slightly negative for identical distributions.
Subsets come from an explicit np.random.Generator (seed 0 by default), so results are
reproducible; torch-fidelity uses np.random.RandomState(seed) and clean-fid the global RNG,
so their subsets, hence their last digits, differ.

How it is computed
------------------
Per subset, the inner products x.y come from matrix products on row chunks of `_CHUNK` rows; the
kernel values and every sum are formed in float64 from them and no m x m matrix is stored. The
x-x and y-y blocks are symmetric: they are computed as a blocked symmetric rank-k update (rows
halved recursively; each off-diagonal rectangle computed once and counted twice; only diagonal
squares of <= `_LEAF` rows computed in full, minus their diagonal): (1 + _LEAF/m) / 2 of the full
product's work. Subsets
are independent, so they run concurrently on the available cores, each with a single-threaded
BLAS (small GEMMs do not split well across threads, and the float64 kernel work then runs in
parallel too); every subset is computed the same way whatever the number of workers.

``compute_dtype`` chooses the dtype of the inner products only:

* ``"float32"`` (default): float32 GEMMs. Each inner product carries a rounding error of about
  ``sqrt(D) * 2^-24 * |x| |y|`` (random-walk accumulation, Higham "Accuracy and Stability of
  Numerical Algorithms", ch. 3), i.e. a relative error ~3e-6 per kernel entry at D = 2048; the
  errors are independent across the m^2 entries of a subset and largely average out in its sums.
  Measured on 10k vs 10k Inception-like 2048-d features, the KID mean differs from the float64
  route on the same subsets by 4e-9 relative (largest single subset: 4e-7), see
  benchmarks/bench_anchors.py.
* ``"float64"``: float64 GEMMs on float64 copies of the subset rows (the reference route; ~2x
  slower).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...errors import InvalidArgumentError
from ...utils.seeding import as_numpy_generator
from ._base import MetricReport, TwoSampleFeatureMetric
from ._common import MetricResult, as_features, check_choice, check_float, check_int, parallel_map, same_dim

KID_SUBSETS = 100
KID_SUBSET_SIZE = 1000
KID_DEGREE = 3
KID_COEF0 = 1.0
COMPUTE_DTYPES = ("float32", "float64")
_CHUNK = 128  # rows per matrix-product chunk: a 128 x 1000 float64 kernel tile stays in cache
_LEAF = 32  # diagonal squares of at most this many rows are computed in full


@dataclass
class KIDResult(MetricResult):
    """KID over subsets: the mean and std of the per-subset MMD^2 and the protocol that produced them.

    Attributes:
        mean: the KID (mean MMD^2 over the subsets; lower is better).
        std: its standard deviation over the subsets (ddof 0).
        n_subsets: number of subsets.
        subset_size: rows per side in each subset.
        degree: the kernel's degree.
        gamma: the kernel's gamma (1 / D by default).
        coef0: the kernel's constant.
        seed: the int seed, or None when a Generator was passed.
        n_real: number of real rows.
        n_fake: number of generated rows.
        compute_dtype: the dtype of the inner products.
        values: the MMD^2 of every subset (not in `as_dict`).

    Example:
        >>> import numpy as np
        >>> x = np.random.default_rng(0).normal(size=(40, 4))
        >>> r = kid_distance(x, x + 1.0, n_subsets=5, subset_size=20)
        >>> r.values.shape, r.as_dict()["subset_size"], r.as_dict()["gamma"], r.mean > 0
        ((5,), 20, 0.25, True)
    """
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
    compute_dtype: str = "float32"
    values: np.ndarray | None = None  # MMD^2 of every subset (not in as_dict)

    HIGHER_IS_BETTER = {"mean": False, "std": None}


def polynomial_kernel(x: np.ndarray, y: np.ndarray, *, degree: int = KID_DEGREE, gamma: float | None = None,
                      coef0: float = KID_COEF0) -> np.ndarray:
    """(gamma x.y + coef0)^degree in float64; gamma defaults to 1 / D.

    Args:
        x: an m x D matrix.
        y: an n x D matrix.
        degree: the kernel's degree (3 for KID).
        gamma: the scale of the inner product (None: 1 / D).
        coef0: the constant added before the power.

    Returns:
        The m x n float64 kernel matrix.

    Example:
        >>> import numpy as np
        >>> polynomial_kernel(np.array([[1.0, 1.0]]), np.array([[1.0, 0.0], [0.0, 0.0]]))
        array([[3.375, 1.   ]])
    """
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
    """Unbiased MMD^2 from kernel matrices (m x m, n x n, m x n); diagonals of k_xx, k_yy excluded.

    Args:
        k_xx: the kernel among the m x-rows, m x m.
        k_yy: the kernel among the n y-rows, n x n.
        k_xy: the cross kernel, m x n.

    Returns:
        The unbiased estimate of MMD^2 (can be slightly negative).

    Example:
        >>> import numpy as np
        >>> x = np.array([[0.0], [1.0], [2.0]])
        >>> k = polynomial_kernel(x, x)
        >>> round(mmd2_unbiased(k, k, k), 6)   # small integers: exact in float64
        -23.333333
    """
    m, n = k_xx.shape[0], k_yy.shape[0]
    sxx = (k_xx.sum() - np.trace(k_xx)) / (m * (m - 1))
    syy = (k_yy.sum() - np.trace(k_yy)) / (n * (n - 1))
    return float(sxx + syy - 2.0 * k_xy.sum() / (m * n))


class _KernelSums:
    """Float64 sums of (gamma g + coef0)^degree over matrices g of inner products; owns two scratch buffers."""

    def __init__(self, gamma: float, coef0: float, degree: int, size: int):
        self.gamma, self.coef0, self.degree = gamma, coef0, degree
        self.h, self.t = np.empty(size), np.empty(size)

    def total(self, g: np.ndarray) -> float:
        h = self.h[:g.size].reshape(g.shape)
        np.multiply(g, self.gamma, out=h, dtype=np.float64)  # float64 from here on
        h += self.coef0
        if self.degree <= 2:
            return float(h.sum() if self.degree == 1 else np.vdot(h, h))
        t = self.t[:g.size].reshape(g.shape)
        np.multiply(h, h, out=t)
        for _ in range(self.degree - 3):
            t *= h
        return float(np.vdot(t, h))  # sum of h^(degree - 1) * h

    def diagonal(self, g: np.ndarray) -> float:
        return float(_int_power(np.diagonal(g).astype(np.float64) * self.gamma + self.coef0, self.degree).sum())

    def off_diagonal(self, x: np.ndarray) -> float:
        """sum_{i != j} k(x_i, x_j) as a blocked symmetric rank-k update: the rows are halved recursively,
        each off-diagonal rectangle is computed once and counted twice, and only the diagonal squares
        of at most _LEAF rows are computed in full (work: (1 + _LEAF/m)/2 of the full product)."""
        def tri(lo: int, hi: int) -> float:
            if hi - lo <= _LEAF:
                g = x[lo:hi] @ x[lo:hi].T
                return self.total(g) - self.diagonal(g)
            mid = (lo + hi) // 2
            return tri(lo, mid) + tri(mid, hi) + 2.0 * self.cross(x[lo:mid], x[mid:hi])

        return tri(0, len(x))

    def cross(self, x: np.ndarray, y: np.ndarray) -> float:
        return sum(self.total(x[i0:i0 + _CHUNK] @ y.T) for i0 in range(0, len(x), _CHUNK))


def _subset_mmd2(x: np.ndarray, y: np.ndarray, *, degree: int, gamma: float, coef0: float) -> float:
    """Unbiased MMD^2 of one subset pair (equal sizes m), kernel sums in float64 (see module docstring)."""
    m = len(x)
    k = _KernelSums(gamma, coef0, degree, _CHUNK * m)
    return (k.off_diagonal(x) + k.off_diagonal(y)) / (m * (m - 1)) - 2.0 * k.cross(x, y) / (m * m)


def kid_distance(real_features, fake_features, *, n_subsets: int = KID_SUBSETS, subset_size: int = KID_SUBSET_SIZE,
                 degree: int = KID_DEGREE, gamma: float | None = None, coef0: float = KID_COEF0,
                 seed: int | np.random.Generator | None = 0, compute_dtype: str = "float32") -> KIDResult:
    """KID mean and std over `n_subsets` subsets of `subset_size` rows per side (see module docstring).

    Args:
        real_features: real features, N_real x D.
        fake_features: generated features, N_fake x D.
        n_subsets: number of subsets (100).
        subset_size: rows per side in each subset (1000), drawn without replacement.
        degree: the polynomial kernel's degree (3).
        gamma: the kernel's scale (None: 1 / D).
        coef0: the kernel's constant (1).
        seed: an int or an np.random.Generator (used as is, so its state advances).
        compute_dtype: "float32" (default) or "float64" inner products; kernels and sums are float64.

    Returns:
        A `KIDResult` (mean, std, the protocol and every subset's value).

    Raises:
        InvalidArgumentError: `subset_size` exceeds the number of real or fake samples, or an option is out of range.
        ShapeMismatchError: the feature dimensions differ.

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> r = kid_distance(rng.normal(size=(200, 4)), rng.normal(size=(200, 4)), n_subsets=4, subset_size=100)
        >>> r.n_subsets, r.subset_size, abs(r.mean) < 0.1   # same distribution: near 0
        (4, 100, True)
        >>> kid_distance(np.zeros((5, 4)), np.zeros((5, 4)), subset_size=10)
        Traceback (most recent call last):
        ...
        gmeval.errors.InvalidArgumentError: Argument `subset_size` must be at most the number of samples on each side (N real = 5, N fake = 5), but got 10. Pass subset_size <= 5 or provide more samples.
    """
    real = as_features(real_features, "real_features", min_rows=2)
    fake = as_features(fake_features, "fake_features", min_rows=2)
    same_dim(real, fake, "real_features", "fake_features")
    n_subsets = check_int("n_subsets", n_subsets, 1)
    subset_size = check_int("subset_size", subset_size, 2)
    degree = check_int("degree", degree, 1)
    check_choice("compute_dtype", compute_dtype, COMPUTE_DTYPES)
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
    # all subsets are drawn first, in order, so the values do not depend on the number of workers
    draws = [(rng.choice(n_real, subset_size, replace=False), rng.choice(n_fake, subset_size, replace=False))
             for _ in range(n_subsets)]
    dt = np.dtype(compute_dtype)

    def one(ij) -> float:
        x = real[ij[0]].astype(dt, copy=False)
        y = fake[ij[1]].astype(dt, copy=False)
        return _subset_mmd2(x, y, degree=degree, gamma=g, coef0=coef0)

    values = np.fromiter(parallel_map(one, draws), np.float64, count=n_subsets)
    return KIDResult(mean=float(values.mean()), std=float(values.std()), n_subsets=n_subsets, subset_size=subset_size,
                     degree=degree, gamma=g, coef0=coef0, seed=seed if isinstance(seed, int) else None,
                     n_real=n_real, n_fake=n_fake, compute_dtype=compute_dtype, values=values)


class KID(TwoSampleFeatureMetric):
    """Stateful KID: accumulates features ("cat" states); compute() -> KIDResult (same seed -> same subsets).

    Args:
        n_subsets: number of subsets, as `kid_distance`.
        subset_size: rows per side in each subset.
        degree: the polynomial kernel's degree.
        gamma: the kernel's scale (None: 1 / D).
        coef0: the kernel's constant.
        seed: the int seed of the subset draws.
        compute_dtype: "float32" or "float64" inner products.
        fit_subset_size: use min(subset_size, N real, N fake) instead of raising when a side is smaller
            (what `evaluate` does, and records the size used in the signature).
        extractor: None (update with features) or an extractor name (update with uint8 images).
        layer: the extractor's layer (None: its default feature layer).

    Raises:
        InvalidArgumentError: `seed`, `n_subsets` or `subset_size` is not a valid integer.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> m = KID(n_subsets=10, subset_size=50).update(rng.normal(size=(100, 8)), real=True)
    >>> r = m.update(rng.normal(size=(100, 8)), real=False).compute()
    >>> (r.n_subsets, r.subset_size, abs(r.mean) < 0.1)
    (10, 50, True)
    >>> sorted(m.report(r).values)
    ['kid', 'kid_std']
    """

    name = "kid"
    outputs = {"kid": False, "kid_std": None}
    description = "Kernel Inception Distance, unbiased MMD^2, cubic kernel"
    options = ("subset_size", "n_subsets")
    higher_is_better = False
    primary = "mean"

    def __init__(self, n_subsets: int = KID_SUBSETS, subset_size: int = KID_SUBSET_SIZE, degree: int = KID_DEGREE,
                 gamma: float | None = None, coef0: float = KID_COEF0, seed: int = 0, compute_dtype: str = "float32",
                 fit_subset_size: bool = True, *, extractor: str | None = None, layer: str | None = None):
        check_int("seed", seed, 0)
        check_int("n_subsets", n_subsets, 1)
        check_int("subset_size", subset_size, 2)
        super().__init__(n_subsets=n_subsets, subset_size=subset_size, degree=degree, gamma=gamma, coef0=coef0, seed=seed,
                         compute_dtype=compute_dtype, fit_subset_size=fit_subset_size, extractor=extractor, layer=layer)

    def _compute(self, real, fake) -> KIDResult:
        cfg = self.formula_config()
        if cfg.pop("fit_subset_size"):
            cfg["subset_size"] = min(cfg["subset_size"], len(real), len(fake))
        return kid_distance(real, fake, **cfg)

    def report(self, result=None) -> MetricReport:
        """``{"kid": mean, "kid_std": std}`` for `evaluate`, with the subset count and size as signature parameters."""
        r = self.compute() if result is None else result
        return MetricReport({"kid": r.mean, "kid_std": r.std}, {}, {"subsets": r.n_subsets, "size": r.subset_size})
