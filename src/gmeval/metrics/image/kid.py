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

A pool's inner products are formed in GEMM tiles of at most `_TILE` x `_TILE` (equal blocks: 10000 rows
make ten of 1000); each tile is turned into float64 kernel values `_CHUNK` rows at a time, weighted and
summed in float64; no pool-sized matrix is stored. The x-x and y-y blocks are symmetric: only their upper
triangle of tiles is computed, off-diagonal tiles counted twice; with float GEMMs each diagonal tile
``a @ a.T`` runs as a symmetric rank-k update (numpy uses BLAS syrk for a product with its own transpose).
Tiles (or pools) run concurrently on the cores, each with a single-threaded BLAS (and one torch thread),
and their sums are merged in task order: the values do not depend on the number of workers.

The subsets are grouped into pools in one of two ways, and the inner products take one of the routes
`compute_dtype` allows, whichever plan does least work (`_plan`, `_cost`: a work model in float32
multiply-adds whose constants were measured here, module constants below):

* one pool per subset (its m real and m fake rows, weight 1): 2 m^2 D multiply-adds per subset;
  the float32 choice at the default 100 subsets x 1000 of 10k rows per side;
* one pool holding every row any subset uses: each distinct pair's inner product is computed once
  however many subsets share it (N^2 D in all), at the price of weighting every kernel entry for
  every subset. For N = 5000 per side it does a quarter of the per-subset inner products, and it is
  the only layout in which int8x3's packing of the rows pays off.

Both give the same subset sums up to float64 summation order (the tests check both against
brute-force kernel matrices).

``compute_dtype`` chooses the inner products only (kernels and sums are float64 in every route):

* ``"auto"`` (default): ``"int8x3"`` where it is fast (a CPU with AMX, oneDNN not capped below it) and
  the work model prefers it, else ``"float32"``. The result's ``compute_dtype`` names the route taken:
  at the default protocol on 10k vs 10k rows that is int8x3 in one pool on an AMX CPU, float32 in a
  pool per subset elsewhere.
* ``"float32"``: float32 GEMMs. Each inner product carries a rounding error of about
  ``sqrt(D) * 2^-24 * |x| |y|`` (random-walk accumulation, Higham "Accuracy and Stability of
  Numerical Algorithms", ch. 3), i.e. a relative error ~3e-6 per kernel entry at D = 2048; the
  errors are independent across the m^2 entries of a subset and largely average out in its sums.
  Measured on 10k vs 10k Inception-like 2048-d features, the KID mean differs from the float64
  route on the same subsets by 3.4e-8 relative (`make bench`: ``kid_float32_rel_diff_vs_float64_route``).
* ``"int8x3"``: each row is cut into three int8 slices with a power-of-two scale (``_sliced``), which
  hold it to 2^-23 of its largest magnitude (float32's precision for that feature), and the six slice
  products that matter run as exact int8 GEMMs on oneDNN's AMX kernels, about 2 TOP/s per core here.
  An inner product is off by at most 1.1e-6 D max|x| max|y| (worst case, derived in ``_sliced``); measured,
  4e-8 relative on average against float64 (float32 GEMMs: 1.1e-7), and the KID mean on the bench's
  10k vs 10k features 7.6e-9 from the float64 route (``kid_rel_diff_vs_float64_route``).
  It needs PyTorch's oneDNN int8 ops with exact integer results (checked once per process; capped at
  AVX2, oneDNN saturates and the check fails, and asking for int8x3 then raises). Without AMX it is
  exact but slow, so "auto" does not take it there.
* ``"float64"``: float64 GEMMs on float64 copies of the subset rows (the reference route; ~2x
  slower than float32).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from ...errors import InvalidArgumentError
from ...utils.seeding import as_numpy_generator
from ._base import MetricReport, TwoSampleFeatureMetric
from ._common import (MetricResult, as_features, check_choice, check_float, check_int, one_torch_thread,
                      parallel_map, same_dim)
from ._sliced import SlicedRows
from ._sliced import available as int8x3_available

KID_SUBSETS = 100
KID_SUBSET_SIZE = 1000
KID_DEGREE = 3
KID_COEF0 = 1.0
COMPUTE_DTYPES = ("auto", "float32", "float64", "int8x3")
_TILE = 1024  # GEMM tiles are at most _TILE x _TILE inner products (float32: 4 MB); the default subsets fit in one
_CHUNK = 256  # rows of a tile turned into float64 kernel values and weighted at a time (2 MB per float64 buffer;
#               the one-pool weighting GEMMs run faster than with 64: 2.87 s against 3.05 s at 10k, int8x3)
# The work model (`_cost`), in units of one float32 GEMM multiply-add (15 ps here: a subset's three float32
# products, 4.1e9 MACs, take 61 ms on one thread). Each constant was measured by timing that part of a 10k vs 10k
# KID at the default protocol (2048-d, 2 threads) and dividing by its count:
_WEIGHT_COST = 4.0  # weighting one kernel entry for one subset in float64 (0.05 ns)
_KERNEL_COST = 220.0  # forming one float64 kernel entry from its inner product (3.3 ns)
_INT8X3_COST = 0.49  # int8x3's six int8 GEMMs, per feature of an inner product (15.6 ms per 1024 x 1024 x 2048 tile)
_SLICE_COST = 1600.0  # slicing and packing one feature of one row for int8x3 (24 ns; oneDNN's prepack is 3/4)


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
        compute_dtype: the route the inner products took ("float32", "int8x3" or "float64").
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

    def __call__(self, g: np.ndarray, scales: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
        """The kernel of the inner products `g` (float32 or float64), first multiplied by the row and column
        `scales` (float64) when given (int8x3 leaves its power-of-two scales to this float64 product)."""
        bufs = getattr(self._local, "bufs", None)
        if bufs is None or bufs[0].size < g.size:
            bufs = self._local.bufs = (np.empty(g.size), np.empty(g.size))
        h, t = (b[:g.size].reshape(g.shape) for b in bufs)
        if scales is None:
            np.multiply(g, self.gamma, out=h, dtype=np.float64)  # float64 from here on
        else:
            np.multiply(g, (self.gamma * scales[0])[:, None], out=h, dtype=np.float64)
            h *= scales[1]
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
    x: np.ndarray | SlicedRows  # u_x x D, in the compute dtype (int8x3: sliced)
    y: np.ndarray | SlicedRows  # u_y x D
    wx: np.ndarray  # u_x x S float64
    wy: np.ndarray  # u_y x S float64


def _blocks(n: int) -> list[tuple[int, int]]:
    """n rows cut into the fewest blocks of at most _TILE rows, of equal size up to one row (10000 rows: ten
    blocks of 1000), so that a pool's GEMMs have one or two shapes (oneDNN builds a kernel per shape)."""
    k = -(-n // _TILE)
    return [(i * n // k, (i + 1) * n // k) for i in range(k)]


def _tiles(n_rows: int, n_cols: int, symmetric: bool) -> list[tuple[int, int, int, int]]:
    """(r0, r1, c0, c1) GEMM tiles covering the n_rows x n_cols block, or, when `symmetric`, its upper triangle of
    tiles: the diagonal tiles are squares (r0, r1) = (c0, c1), which numpy computes as a symmetric rank-k update."""
    cols = _blocks(n_cols)
    return [(r0, r1, c0, c1) for i, (r0, r1) in enumerate(_blocks(n_rows)) for c0, c1 in cols[i if symmetric else 0:]]


def _pool_tiles(ux: int, uy: int) -> list[tuple[str, tuple[int, int, int, int]]]:
    return [(part, t) for part, (n, k, sym) in (("xx", (ux, ux, True)), ("yy", (uy, uy, True)),
                                                ("xy", (ux, uy, False))) for t in _tiles(n, k, sym)]


def _cost(ux: int, uy: int, n_subsets: int, dim: int, route: str = "float32") -> float:
    """Work of a pool in float32 multiply-adds: the inner products (float: half for a diagonal tile, a syrk;
    int8x3: six int8 GEMMs on every tile, plus slicing and packing every row), the float64 kernel of every
    entry and its weighting for every subset."""
    work = (ux + uy) * dim * _SLICE_COST if route == "int8x3" else 0.0
    for part, (r0, r1, c0, c1) in _pool_tiles(ux, uy):
        entries = (r1 - r0) * (c1 - c0)
        syrk = part != "xy" and r0 == c0  # a diagonal tile of a symmetric block
        gram = _INT8X3_COST * dim if route == "int8x3" else (dim / 2 if syrk else dim)
        work += entries * (gram + _KERNEL_COST + _WEIGHT_COST * n_subsets)
    return work


def _plan(draws, n_used_x: int, n_used_y: int, dim: int, routes) -> tuple[str, bool]:
    """The (route, one pool?) of least work among `routes` and the two groupings of subsets into pools."""
    m_x, m_y = len(draws[0][0]), len(draws[0][1])  # every subset has the same size
    costs = {(r, one): _cost(n_used_x, n_used_y, len(draws), dim, r) if one else len(draws) * _cost(m_x, m_y, 1, dim, r)
             for r in routes for one in (True, False)}
    return min(costs, key=costs.get)


def _routes(compute_dtype: str) -> tuple[str, ...]:
    """The inner-product routes `compute_dtype` allows: "auto" adds int8x3 where it is fast here (AMX)."""
    if compute_dtype == "int8x3" and not int8x3_available():
        raise InvalidArgumentError(
            "compute_dtype", "a route this machine can run", compute_dtype,
            "int8x3 needs PyTorch's oneDNN int8 kernels computing exact integer products (an x86 build, oneDNN not "
            "capped at AVX2); use \"float32\" or \"auto\".")
    if compute_dtype != "auto":
        return (compute_dtype,)
    return ("float32", "int8x3") if int8x3_available(fast=True) else ("float32",)


def _tile_sums(pool: _Pool, part: str, tile: tuple[int, int, int, int], kernel: _Kernel) -> np.ndarray:
    """Per-subset weighted kernel sums of one tile: sum_{i in rows, j in cols} w_a[i, s] w_b[j, s] k(a_i, b_j), where a
    symmetric part counts each pair i != j of the upper triangle twice and skips i == j."""
    a, wa = (pool.x, pool.wx) if part[0] == "x" else (pool.y, pool.wy)
    b, wb = (pool.x, pool.wx) if part[1] == "x" else (pool.y, pool.wy)
    r0, r1, c0, c1 = tile
    if isinstance(a, SlicedRows):  # float32 inner products over both rows' power-of-two scales
        g, scales = a.gram(r0, r1, b, c0, c1), (a.scale[r0:r1], b.scale[c0:c1])
    else:
        g, scales = a[r0:r1] @ b[c0:c1].T, None  # the inner products, in the compute dtype
    wcols = wb[c0:c1]
    d0, d1 = max(c0, r0), min(c1, r1)  # columns of the diagonal square (symmetric parts only)
    if part[0] == part[1]:
        wcols = 2.0 * wcols  # the upper triangle stands for both (i, j) and (j, i) ...
        if d0 < d1:
            wcols[d0 - c0:d1 - c0] *= 0.5  # ... except in the diagonal square, which is computed in full
    out = np.zeros(wa.shape[1])
    for q0 in range(0, r1 - r0, _CHUNK):
        q1 = min(q0 + _CHUNK, r1 - r0)
        k = kernel(g[q0:q1], None if scales is None else (scales[0][q0:q1], scales[1]))
        if part[0] == part[1]:
            i = np.arange(max(r0 + q0, d0), min(r0 + q1, d1))  # rows whose diagonal entry lies in this chunk
            k[i - r0 - q0, i - c0] = 0.0
        out += np.einsum("is,is->s", wa[r0 + q0:r0 + q1], k @ wcols)
    return out


def _subset_sums(real: np.ndarray, fake: np.ndarray, draws, *, kernel: _Kernel,
                 compute_dtype: str) -> tuple[np.ndarray, str]:
    """(S_xx, S_yy, S_xy) per subset, a 3 x n_subsets float64 array (see "How it is computed"), and the route of
    the inner products ("float32", "float64" or "int8x3")."""
    n_subsets, dim = len(draws), real.shape[1]
    used_x = np.unique(np.concatenate([i for i, _ in draws]))
    used_y = np.unique(np.concatenate([j for _, j in draws]))
    route, pooled = _plan(draws, len(used_x), len(used_y), dim, _routes(compute_dtype))
    with one_torch_thread(route == "int8x3"):  # int8x3 runs in torch, one thread per concurrent task
        return _pooled_sums(real, fake, draws, used_x, used_y, kernel, route, pooled), route


def _pooled_sums(real, fake, draws, used_x, used_y, kernel: _Kernel, route: str, pooled: bool) -> np.ndarray:
    n_subsets = len(draws)

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
        if route == "int8x3":
            return _Pool(SlicedRows(rows_x), SlicedRows(rows_y), wx, wy)
        return _Pool(rows_x.astype(route, copy=False), rows_y.astype(route, copy=False), wx, wy)

    def prepared(pool: _Pool, run) -> _Pool:  # int8x3: slice and pack both sides, in tile blocks, as `run` tasks
        if route == "int8x3":
            blocks = [(side, r0, r1) for side in (pool.x, pool.y) for r0, r1 in _blocks(side.n)]
            lhs = max(r1 - r0 for r0, r1 in _blocks(len(pool.x)))
            for _ in run(lambda b: b[0].prepare(b[1], b[2], lhs_rows=lhs), blocks):
                pass
        return pool

    if pooled:  # one pool; its tiles are the tasks
        pool = prepared(pool_of(list(range(n_subsets))), parallel_map)
        tasks = [(None, part, tile) for part, tile in _pool_tiles(len(used_x), len(used_y))]
    else:  # a pool per subset, built inside its task (bounded memory); its tiles run in that task
        tasks = [(s, None, None) for s in range(n_subsets)]

    def one(task) -> tuple[int | None, np.ndarray]:
        s, part, tile = task
        if s is None:
            return None, _tile_sums(pool, part, tile, kernel)
        p = prepared(pool_of([s]), map)
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
                 seed: int | np.random.Generator | None = 0, compute_dtype: str = "auto") -> KIDResult:
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
        compute_dtype: the inner products' route: "auto" (default: int8x3 on AMX CPUs where cheaper, else
            float32), "float32", "int8x3" or "float64"; kernels and sums are float64 in every route.

    Returns:
        A `KIDResult` (mean, std, the protocol and every subset's value).

    Raises:
        InvalidArgumentError: `subset_size` exceeds the number of real or fake samples, an option is out of range,
            or "int8x3" was asked for where PyTorch's oneDNN int8 kernels are missing or inexact.
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
    sums, route = _subset_sums(real, fake, draws, kernel=_Kernel(g, coef0, degree), compute_dtype=compute_dtype)
    m = subset_size
    values = (sums[0] + sums[1]) / (m * (m - 1)) - 2.0 * sums[2] / (m * m)
    return KIDResult(mean=float(values.mean()), std=float(values.std()), n_subsets=n_subsets, subset_size=subset_size,
                     degree=degree, gamma=g, coef0=coef0, seed=seed if isinstance(seed, int) else None,
                     n_real=n_real, n_fake=n_fake, compute_dtype=route, values=values)


class KID(TwoSampleFeatureMetric):
    """Stateful KID: accumulates features ("cat" states); compute() -> KIDResult (same seed -> same subsets).

    Args:
        n_subsets: number of subsets, as `kid_distance`.
        subset_size: rows per side in each subset.
        degree: the polynomial kernel's degree.
        gamma: the kernel's scale (None: 1 / D).
        coef0: the kernel's constant.
        seed: the int seed of the subset draws.
        compute_dtype: the inner products' route, as `kid_distance` ("auto", "float32", "int8x3", "float64").
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
                 gamma: float | None = None, coef0: float = KID_COEF0, seed: int = 0, compute_dtype: str = "auto",
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
