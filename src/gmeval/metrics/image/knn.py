"""Memory-bounded, blocked exact k-nearest-neighbour primitives in Euclidean feature space.

Used by improved precision/recall (Kynkaanniemi et al. 2019), density/coverage (Naeem et al.
2020) and the memorisation check. No function here materialises an N x M distance matrix: the
work is done on `block_size x block_size` tiles, so peak extra memory is a few tiles and row
blocks (`block_memory_bytes`: ~117 MB at the default 1024 for D = 2048; ~100 MB measured) plus
O(N) vectors, whatever N and M are.

Conventions
-----------
* Distance: Euclidean, in float64.
* Ball membership uses ``<=``: a sample is inside the ball of centre c and radius r when
  ``d(sample, c) <= r`` (closed ball), as in Kynkaanniemi et al.'s reference code
  (NVlabs ``(dist <= kth).any``). Naeem et al.'s `prdc` package writes strict ``<``; the two
  differ only on exact ties, which have probability zero for continuous features but matter
  for discrete or duplicated data (``inclusive=False`` selects ``<``).
* The k-th nearest-neighbour radius of a point within its own set excludes the point itself
  by index (not by distance), so an exact duplicate of the point counts as a neighbour at 0.

How distances are computed (the "care")
---------------------------------------
Tiles use the Gram expansion ``|x|^2 + |y|^2 - 2 x.y`` (one BLAS matrix product per tile) on
features shifted by the reference set's mean (translation does not change distances and the
shift reduces cancellation). Its rounding error is bounded by ``gamma * (|x|^2 + |y|^2)``
(``gamma = 4 (D + 2) eps`` in float64; a probabilistic ``8 (sqrt(D) + 1) eps32`` for the float32
product). Every comparison whose outcome the bound cannot settle, and every distance that is
returned (k-NN radii, neighbour distances), is recomputed directly as ``sqrt(sum((x - y)^2))``
in float64 from the original rows. So ties are decided on exactly computed distances, results
are bit-identical for every block size, and they agree with ``scipy.spatial.distance.cdist``
to rounding (~1e-15 relative). ``compute_dtype="float32"`` runs the tile products in float32,
with the same refinement inside its wider (probabilistic) error window: 3.5x faster for
precision/recall/density/coverage at 10k x 10k, 2048-d, with identical values in
benchmarks/bench_metrics.py (docs/metrics.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ...errors import InvalidArgumentError
from ._common import as_features, check_choice, check_int, same_dim

DEFAULT_BLOCK_SIZE = 1024
COMPUTE_DTYPES = ("float64", "float32")
_EXACT_CHUNK = 2048  # pairs per chunk when recomputing distances directly


def block_memory_bytes(block_size: int = DEFAULT_BLOCK_SIZE, dim: int = 2048) -> int:
    """Rough peak extra memory of the tile work: ~6 float64 block_size^2 tiles (distances, products,
    rounding windows, candidate lists) + ~4 float64 block_size x dim row blocks (shifted copies)."""
    return 8 * (6 * block_size * block_size + 4 * block_size * dim)


def _gamma(compute_dtype: str, dim: int) -> float:
    if compute_dtype == "float64":
        return 4.0 * (dim + 2) * np.finfo(np.float64).eps
    return 8.0 * (np.sqrt(dim) + 1.0) * float(np.finfo(np.float32).eps)


def _ranges(n: int, size: int) -> list[tuple[int, int]]:
    return [(i, min(i + size, n)) for i in range(0, n, size)]


def _mean(x: np.ndarray, block_size: int) -> np.ndarray:
    s = np.zeros(x.shape[1], np.float64)
    for i0, i1 in _ranges(len(x), block_size):
        s += x[i0:i1].sum(axis=0, dtype=np.float64)
    return s / len(x)


class _Shifted:
    """Row blocks of `x - shift` in the compute dtype, with their float64 squared norms."""

    def __init__(self, x: np.ndarray, shift: np.ndarray, dtype, block_size: int):
        self.x, self.shift, self.dtype = x, shift, dtype
        self.norms = np.empty(len(x), np.float64)
        for i0, i1 in _ranges(len(x), block_size):
            b = self.block(i0, i1)
            self.norms[i0:i1] = np.einsum("ij,ij->i", b, b, dtype=np.float64)

    def block(self, i0: int, i1: int) -> np.ndarray:
        return (self.x[i0:i1].astype(np.float64) - self.shift).astype(self.dtype, copy=False)


def _sq_dist_tile(qb, qn, rb, rn) -> np.ndarray:
    g = qb @ rb.T
    d2 = qn[:, None] + rn[None, :]
    d2 -= 2.0 * g.astype(np.float64, copy=False)
    np.maximum(d2, 0.0, out=d2)
    return d2


def exact_distances(x: np.ndarray, y: np.ndarray, ii: np.ndarray, jj: np.ndarray) -> np.ndarray:
    """``sqrt(sum((x[ii] - y[jj])**2))`` in float64 for index pairs, computed directly, in chunks."""
    ii, jj = np.asarray(ii, np.int64).ravel(), np.asarray(jj, np.int64).ravel()
    out = np.empty(len(ii), np.float64)
    for s in range(0, len(ii), _EXACT_CHUNK):
        d = x[ii[s:s + _EXACT_CHUNK]].astype(np.float64) - y[jj[s:s + _EXACT_CHUNK]]
        out[s:s + _EXACT_CHUNK] = np.sqrt((d * d).sum(axis=1))
    return out


def _check_common(block_size, compute_dtype):
    check_int("block_size", block_size, 1)
    check_choice("compute_dtype", compute_dtype, COMPUTE_DTYPES)
    return np.float64 if compute_dtype == "float64" else np.float32


# --------------------------------------------------------------------------------------------
# k nearest neighbours
# --------------------------------------------------------------------------------------------
def knn_search(query, ref=None, k: int = 1, *, exclude=None, block_size: int = DEFAULT_BLOCK_SIZE,
               compute_dtype: str = "float64") -> tuple[np.ndarray, np.ndarray]:
    """The k nearest reference rows of every query row, with exact float64 distances.

    `ref=None` searches `query` within itself, excluding each point itself (by index).
    `exclude` (optional, length N_query): for each query row, a reference index to skip
    (-1 = none), e.g. the query's own position when the queries are a subset of `ref`.
    Returns (distances, indices), both N_query x k, sorted by distance, ties by index.
    """
    dt = _check_common(block_size, compute_dtype)
    within = ref is None
    q = as_features(query, "query")
    r = q if within else as_features(ref, "ref")
    same_dim(q, r, "query", "ref")
    nq, nr = len(q), len(r)
    if within:
        exclude = np.arange(nq)
    elif exclude is not None:
        exclude = np.asarray(exclude, np.int64)
        if exclude.shape != (nq,) or np.any(exclude < -1) or np.any(exclude >= nr):
            raise InvalidArgumentError("exclude", f"{nq} reference indices in [-1, {nr})", f"array of shape {exclude.shape}")
    n_avail = nr - (1 if exclude is not None else 0)
    k = check_int("k", k, 1, n_avail)
    kk = min(k + 2, n_avail)  # a small candidate margin; correctness is verified below

    shift = _mean(r, block_size)
    R = _Shifted(r, shift, dt, block_size)
    Q = R if within else _Shifted(q, shift, dt, block_size)
    gamma = _gamma(compute_dtype, q.shape[1])
    rn_max = float(R.norms.max())
    # running candidates (Gram distance^2 and reference index) for every query row
    best_d = np.full((nq, kk), np.inf)
    best_i = np.full((nq, kk), -1, np.int64)

    def offer(i0, i1, d2, j0):
        cd = np.concatenate([best_d[i0:i1], d2], axis=1)
        ci = np.concatenate([best_i[i0:i1], np.broadcast_to(np.arange(j0, j0 + d2.shape[1]), d2.shape)], axis=1)
        sel = np.argpartition(cd, kk - 1, axis=1)[:, :kk]
        best_d[i0:i1] = np.take_along_axis(cd, sel, axis=1)
        best_i[i0:i1] = np.take_along_axis(ci, sel, axis=1)

    blocks_q, blocks_r = _ranges(nq, block_size), _ranges(nr, block_size)
    for bq, (i0, i1) in enumerate(blocks_q):
        qb, qn = Q.block(i0, i1), Q.norms[i0:i1]
        rows = np.arange(i1 - i0)
        # within one set the distance matrix is symmetric: tile (i, j) also serves rows of block j
        for j0, j1 in (blocks_r[bq:] if within else blocks_r):
            rb = qb if (within and j0 == i0) else R.block(j0, j1)
            d2 = _sq_dist_tile(qb, qn, rb, R.norms[j0:j1])
            if exclude is not None:
                ex = exclude[i0:i1]
                hit = (ex >= j0) & (ex < j1)
                d2[rows[hit], ex[hit] - j0] = np.inf
            offer(i0, i1, d2, j0)
            if within and j0 != i0:
                offer(j0, j1, d2.T, i0)

    out_d = np.empty((nq, k), np.float64)
    out_i = np.empty((nq, k), np.int64)
    for i0, i1 in blocks_q:
        b, bd, bi, qn = i1 - i0, best_d[i0:i1], best_i[i0:i1], Q.norms[i0:i1]
        # exact distances of the candidates, then sort by (distance, index)
        e = exact_distances(q, r, np.repeat(np.arange(i0, i1), kk), bi.ravel()).reshape(b, kk)
        order = np.lexsort((bi, e), axis=1)
        e, bi_sorted = np.take_along_axis(e, order, axis=1), np.take_along_axis(bi, order, axis=1)
        # every point left out has Gram distance^2 >= max(bd); it cannot be among the k nearest if
        # that bound minus the rounding window still exceeds the k-th exact distance^2.
        if kk < n_avail:
            safe = bd.max(axis=1) - gamma * (qn + rn_max) > e[:, k - 1] ** 2
        else:
            safe = np.ones(b, bool)
        for row in np.nonzero(~safe)[0]:
            ex_row = -1 if exclude is None else int(exclude[i0 + row])
            e[row, :k], bi_sorted[row, :k] = _exact_row_knn(q[i0 + row], r, k, ex_row, block_size)
        out_d[i0:i1], out_i[i0:i1] = e[:, :k], bi_sorted[:, :k]
    return out_d, out_i


def _exact_row_knn(x_row: np.ndarray, r: np.ndarray, k: int, exclude: int, block_size: int):
    """Fallback for a row whose candidates could not be certified: direct distances to all of `r`."""
    d = np.empty(len(r), np.float64)
    for j0, j1 in _ranges(len(r), block_size):
        diff = r[j0:j1].astype(np.float64) - x_row.astype(np.float64)
        d[j0:j1] = np.sqrt((diff * diff).sum(axis=1))
    idx = np.arange(len(r))
    if exclude >= 0:
        d[exclude] = np.inf
    order = np.lexsort((idx, d))[:k]
    return d[order], idx[order]


def kth_neighbour_distances(x, k: int, *, block_size: int = DEFAULT_BLOCK_SIZE, compute_dtype: str = "float64",
                            ks=None) -> np.ndarray | dict[int, np.ndarray]:
    """Radius of each point's k-NN ball within its own set: distance to its k-th nearest OTHER point.

    With `ks` (a sequence of k values) returns {k: radii} from one pass (k is ignored then).
    """
    if ks is not None:
        ks = [check_int("ks", int(v), 1) for v in ks]
        d, _ = knn_search(x, None, max(ks), block_size=block_size, compute_dtype=compute_dtype)
        return {kv: d[:, kv - 1].copy() for kv in ks}
    d, _ = knn_search(x, None, k, block_size=block_size, compute_dtype=compute_dtype)
    return d[:, -1].copy()


# --------------------------------------------------------------------------------------------
# ball membership between two sets, in one blocked pass
# --------------------------------------------------------------------------------------------
@dataclass
class BallStatistics:
    """Results of `ball_statistics(a, b, a_radii, b_radii)`; list entry m refers to radii set m.

    b_in_a_counts[m][j]: how many balls (a_i, a_radii[m][i]) contain b_j        (shape N_b)
    a_has_b[m][i]:       whether the ball (a_i, a_radii[m][i]) contains any b_j  (shape N_a)
    a_in_b_counts[m][i]: how many balls (b_j, b_radii[m][j]) contain a_i        (shape N_a)
    """

    b_in_a_counts: list = field(default_factory=list)
    a_has_b: list = field(default_factory=list)
    a_in_b_counts: list = field(default_factory=list)
    refined_pairs: int = 0  # comparisons decided on directly recomputed distances


def ball_statistics(a, b, a_radii=(), b_radii=(), *, inclusive: bool = True, block_size: int = DEFAULT_BLOCK_SIZE,
                    compute_dtype: str = "float64") -> BallStatistics:
    """Count memberships of points of one set in the k-NN balls of the other (see BallStatistics).

    inclusive=True: inside means d <= r (default, see module docstring); False: d < r.
    """
    dt = _check_common(block_size, compute_dtype)
    a = as_features(a, "a")
    b = as_features(b, "b")
    same_dim(a, b, "a", "b")
    a_radii = [np.asarray(v, np.float64) for v in a_radii]
    b_radii = [np.asarray(v, np.float64) for v in b_radii]
    for name, rs, n in (("a_radii", a_radii, len(a)), ("b_radii", b_radii, len(b))):
        for v in rs:
            if v.shape != (n,) or not np.all(v >= 0):
                raise InvalidArgumentError(name, f"arrays of {n} non-negative radii", f"an array of shape {v.shape}")
    shift = _mean(a, block_size)
    A = _Shifted(a, shift, dt, block_size)
    B = _Shifted(b, shift, dt, block_size)
    gamma = _gamma(compute_dtype, a.shape[1])
    out = BallStatistics(
        b_in_a_counts=[np.zeros(len(b), np.int64) for _ in a_radii],
        a_has_b=[np.zeros(len(a), bool) for _ in a_radii],
        a_in_b_counts=[np.zeros(len(a), np.int64) for _ in b_radii],
    )
    for i0, i1 in _ranges(len(a), block_size):
        ab, an = A.block(i0, i1), A.norms[i0:i1]
        for j0, j1 in _ranges(len(b), block_size):
            bn = B.norms[j0:j1]
            d2 = _sq_dist_tile(ab, an, B.block(j0, j1), bn)
            tol = gamma * (an[:, None] + bn[None, :])
            exact = _PairCache(a, b, i0, j0)
            for m, rad in enumerate(a_radii):
                inside = _inside(d2, rad[i0:i1, None], tol, exact, inclusive)
                out.b_in_a_counts[m][j0:j1] += inside.sum(axis=0)
                out.a_has_b[m][i0:i1] |= inside.any(axis=1)
            for m, rad in enumerate(b_radii):
                inside = _inside(d2, rad[None, j0:j1], tol, exact, inclusive)
                out.a_in_b_counts[m][i0:i1] += inside.sum(axis=1)
            out.refined_pairs += exact.count
    return out


class _PairCache:
    """Directly computed distances of the pairs of one tile, computed on demand and remembered."""

    def __init__(self, a, b, i0, j0):
        self.a, self.b, self.i0, self.j0 = a, b, i0, j0
        self.cache: dict[tuple[int, int], float] = {}
        self.count = 0

    def __call__(self, ii: np.ndarray, jj: np.ndarray) -> np.ndarray:
        keys = list(zip(ii.tolist(), jj.tolist()))
        missing = [p for p in keys if p not in self.cache]
        if missing:
            mi = np.array([p[0] for p in missing], np.int64)
            mj = np.array([p[1] for p in missing], np.int64)
            vals = exact_distances(self.a, self.b, mi + self.i0, mj + self.j0)
            self.cache.update(zip(missing, vals.tolist()))
            self.count += len(missing)
        return np.array([self.cache[p] for p in keys], np.float64)


def _inside(d2: np.ndarray, radius: np.ndarray, tol: np.ndarray, exact: _PairCache, inclusive: bool) -> np.ndarray:
    r2 = radius * radius
    inside = d2 <= r2 if inclusive else d2 < r2
    amb = np.abs(d2 - r2) <= tol
    if amb.any():
        ii, jj = np.nonzero(amb)
        e = exact(ii, jj)
        t = np.broadcast_to(radius, d2.shape)[ii, jj]
        inside[ii, jj] = (e <= t) if inclusive else (e < t)
    return inside
