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
Every subset needs three sums of kernel values: over its pairs i != j of real rows (S_xx), of fake
rows (S_yy) and over all its real-fake pairs (S_xy). They are computed by one mechanism, a *pool*:
a set of real rows and fake rows with a 0/1 membership weight per row and subset, so that

    S_xy[s] = sum_{i, j} w_x[i, s] w_y[j, s] k(x_i, y_j)      (and likewise S_xx, S_yy with i != j).

A pool's inner products are formed in `_TILE` x `_TILE` GEMM tiles; each tile is turned into float64
kernel values `_CHUNK` rows at a time (in cache), weighted and summed in float64; no pool-sized
matrix is stored. The x-x and y-y blocks are symmetric: only their upper triangle of tiles is
computed, off-diagonal tiles counted twice, and each diagonal tile ``a @ a.T`` runs as a symmetric
rank-k update (numpy uses BLAS syrk for a product with its own transpose), so half the work.
Tiles (or pools) run concurrently on the cores, each with a single-threaded BLAS, and their sums
are merged in task order: the values do not depend on the number of workers.

The subsets are grouped into pools in one of two ways, whichever does less work (`_cost`: the
inner products plus `_WEIGHT_COST` per weighted kernel entry and subset):

* one pool per subset (its m real and m fake rows, weight 1): 2 m^2 D multiply-adds per subset;
  the choice at the default 100 subsets x 1000 of 10k rows per side;
* one pool holding every row any subset uses: each distinct pair's inner product is computed once
  however many subsets share it (N^2 D in all), at the price of weighting every kernel entry for
  every subset. For N = 5000 per side it does a quarter of the per-subset inner products.

Both give the same subset sums up to float64 summation order (the tests check both against
brute-force kernel matrices).

``compute_dtype`` chooses the dtype of the inner products only:

* ``"float32"`` (default): float32 GEMMs. Each inner product carries a rounding error of about
  ``sqrt(D) * 2^-24 * |x| |y|`` (random-walk accumulation, Higham "Accuracy and Stability of
  Numerical Algorithms", ch. 3), i.e. a relative error ~3e-6 per kernel entry at D = 2048; the
  errors are independent across the m^2 entries of a subset and largely average out in its sums.
  Measured on 10k vs 10k Inception-like 2048-d features, the KID mean differs from the float64
  route on the same subsets by 3.4e-8 relative (largest single subset: 5.4e-7 of the mean), see
  benchmarks/bench_anchors.py (``kid_rel_diff_float32_vs_float64_route``).
* ``"float64"``: float64 GEMMs on float64 copies of the subset rows (the reference route; ~2x
  slower).
"""

from __future__ import annotations

import threading
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
_TILE = 1024  # GEMM tiles are _TILE x _TILE inner products (float32: 4 MB); the default subsets fit in one
_CHUNK = 64  # rows of a tile turned into float64 kernel values at a time (64 x 1024 x 8 bytes = 0.5 MB, in cache)
_WEIGHT_COST = 4.0  # cost of weighting one kernel entry for one subset (float64), in float32 inner-product MACs


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


class _Kernel:
    """(gamma g + coef0)^degree in float64 for a chunk of inner products g; owns two scratch buffers per thread."""

    def __init__(self, gamma: float, coef0: float, degree: int):
        self.gamma, self.coef0, self.degree = gamma, coef0, degree
        self._local = threading.local()

    def __call__(self, g: np.ndarray) -> np.ndarray:
        bufs = getattr(self._local, "bufs", None)
        if bufs is None or bufs[0].size < g.size:
            bufs = self._local.bufs = (np.empty(g.size), np.empty(g.size))
        h, t = (b[:g.size].reshape(g.shape) for b in bufs)
        np.multiply(g, self.gamma, out=h, dtype=np.float64)  # float64 from here on
        h += self.coef0
        if self.degree == 1:
            return h
        np.multiply(h, h, out=t)
        for _ in range(self.degree - 2):
            t *= h
        return t


@dataclass(frozen=True)
class _Pool:
    """Rows of both sides shared by a group of subsets, and each row's membership (0/1, one column per subset)."""
    x: np.ndarray  # u_x x D, in the compute dtype
    y: np.ndarray  # u_y x D
    wx: np.ndarray  # u_x x S float64
    wy: np.ndarray  # u_y x S float64


def _tiles(n_rows: int, n_cols: int, symmetric: bool) -> list[tuple[int, int, int, int]]:
    """(r0, r1, c0, c1) GEMM tiles covering the n_rows x n_cols block, or, when `symmetric`, its upper triangle of
    tiles: the diagonal tiles are squares (r0, r1) = (c0, c1), which numpy computes as a symmetric rank-k update."""
    return [(r0, min(r0 + _TILE, n_rows), c0, min(c0 + _TILE, n_cols))
            for r0 in range(0, n_rows, _TILE) for c0 in range(r0 if symmetric else 0, n_cols, _TILE)]


def _pool_tiles(ux: int, uy: int) -> list[tuple[str, tuple[int, int, int, int]]]:
    return [(part, t) for part, (n, k, sym) in (("xx", (ux, ux, True)), ("yy", (uy, uy, True)),
                                                ("xy", (ux, uy, False))) for t in _tiles(n, k, sym)]


def _cost(ux: int, uy: int, n_subsets: int, dim: int) -> float:
    """Work of a pool in multiply-adds: the inner products (half for a diagonal tile) plus the float64 weighting of
    every kernel entry."""
    work = 0.0
    for _, (r0, r1, c0, c1) in _pool_tiles(ux, uy):
        entries = (r1 - r0) * (c1 - c0)
        work += entries * ((dim / 2 if r0 == c0 else dim) + _WEIGHT_COST * n_subsets)
    return work


def _one_pool_is_cheaper(draws, n_used_x: int, n_used_y: int, dim: int) -> bool:
    """Whether one pool of every used row does less work than a pool per subset (module docstring)."""
    per_subset = len(draws) * _cost(len(draws[0][0]), len(draws[0][1]), 1, dim)  # every subset has the same size
    return _cost(n_used_x, n_used_y, len(draws), dim) <= per_subset


def _tile_sums(pool: _Pool, part: str, tile: tuple[int, int, int, int], kernel: _Kernel) -> np.ndarray:
    """Per-subset weighted kernel sums of one tile: sum_{i in rows, j in cols} w_a[i, s] w_b[j, s] k(a_i, b_j), where a
    symmetric part counts each pair i != j of the upper triangle twice and skips i == j."""
    a, wa = (pool.x, pool.wx) if part[0] == "x" else (pool.y, pool.wy)
    b, wb = (pool.x, pool.wx) if part[1] == "x" else (pool.y, pool.wy)
    r0, r1, c0, c1 = tile
    g = a[r0:r1] @ b[c0:c1].T  # the inner products, in the compute dtype
    wcols = wb[c0:c1]
    d0, d1 = max(c0, r0), min(c1, r1)  # columns of the diagonal square (symmetric parts only)
    if part[0] == part[1]:
        wcols = 2.0 * wcols  # the upper triangle stands for both (i, j) and (j, i) ...
        if d0 < d1:
            wcols[d0 - c0:d1 - c0] *= 0.5  # ... except in the diagonal square, which is computed in full
    out = np.zeros(wa.shape[1])
    for q0 in range(0, r1 - r0, _CHUNK):
        q1 = min(q0 + _CHUNK, r1 - r0)
        k = kernel(g[q0:q1])
        if part[0] == part[1]:
            i = np.arange(max(r0 + q0, d0), min(r0 + q1, d1))  # rows whose diagonal entry lies in this chunk
            k[i - r0 - q0, i - c0] = 0.0
        out += np.einsum("is,is->s", wa[r0 + q0:r0 + q1], k @ wcols)
    return out


def _subset_sums(real: np.ndarray, fake: np.ndarray, draws, *, kernel: _Kernel, dtype) -> np.ndarray:
    """(S_xx, S_yy, S_xy) per subset, a 3 x n_subsets float64 array (see "How it is computed")."""
    n_subsets, dim = len(draws), real.shape[1]
    used_x = np.unique(np.concatenate([i for i, _ in draws]))
    used_y = np.unique(np.concatenate([j for _, j in draws]))
    pooled = _one_pool_is_cheaper(draws, len(used_x), len(used_y), dim)

    def pool_of(members):  # members: the subset numbers sharing one pool
        if pooled:  # every used row; a subset's rows get weight 1 in its column
            ix, iy = used_x, used_y
            wx, wy = np.zeros((len(ix), len(members))), np.zeros((len(iy), len(members)))
            for col, s in enumerate(members):
                wx[np.searchsorted(ix, draws[s][0]), col] = 1.0
                wy[np.searchsorted(iy, draws[s][1]), col] = 1.0
        else:  # one subset: its own rows, all with weight 1
            (ix, iy), = (draws[s] for s in members)
            wx, wy = np.ones((len(ix), 1)), np.ones((len(iy), 1))
        # every row of a side in the pool: use the array as is (one pool: ix is then arange(N); a pool per
        # subset: ix is a permutation with all weights 1, and the sums do not depend on the row order)
        rows_x = real if len(ix) == len(real) else real[ix]
        rows_y = fake if len(iy) == len(fake) else fake[iy]
        return _Pool(rows_x.astype(dtype, copy=False), rows_y.astype(dtype, copy=False), wx, wy)

    if pooled:  # one pool; its tiles are the tasks
        pool = pool_of(list(range(n_subsets)))
        tasks = [(None, part, tile) for part, tile in _pool_tiles(len(used_x), len(used_y))]
    else:  # a pool per subset, built inside its task (bounded memory); its tiles run in that task
        tasks = [(s, None, None) for s in range(n_subsets)]

    def one(task) -> tuple[int | None, np.ndarray]:
        s, part, tile = task
        if s is None:
            return None, _tile_sums(pool, part, tile, kernel)
        p = pool_of([s])
        sums = {pt: 0.0 for pt in ("xx", "yy", "xy")}
        for pt, tile in _pool_tiles(len(p.x), len(p.y)):
            sums[pt] = sums[pt] + _tile_sums(p, pt, tile, kernel)
        return s, np.array([sums["xx"], sums["yy"], sums["xy"]]).reshape(3)

    out = np.zeros((3, n_subsets))
    for task, (s, v) in zip(tasks, parallel_map(one, tasks)):  # task order: the merge is deterministic
        if s is None:
            out[("xx", "yy", "xy").index(task[1])] += v
        else:
            out[:, s] = v
    return out


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
    sums = _subset_sums(real, fake, draws, kernel=_Kernel(g, coef0, degree), dtype=np.dtype(compute_dtype))
    m = subset_size
    values = (sums[0] + sums[1]) / (m * (m - 1)) - 2.0 * sums[2] / (m * m)
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
