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
from ._common import as_features, check_choice, check_int, parallel_map, same_dim

DEFAULT_BLOCK_SIZE = 1024
COMPUTE_DTYPES = ("float64", "float32")
_EXACT_CHUNK = 256  # pairs per chunk when recomputing distances directly (a 256 x 2048 float64 block: 4 MB)


def block_memory_bytes(block_size: int = DEFAULT_BLOCK_SIZE, dim: int = 2048, workers: int = 2) -> int:
    """Rough peak extra memory of the tile work besides the shifted copies of the inputs: per worker,
    ~4 float64-sized block_size^2 tiles (products / squared distances, masks, transposed copy).

    Args:
        block_size: rows per tile side.
        dim: the feature dimension (kept for the signature; the tiles do not depend on it).
        workers: concurrent tiles.

    Returns:
        The estimate in bytes.

    Example:
        >>> block_memory_bytes(1024) / 2**20   # MiB at the default block size, two workers
        64.0
    """
    return workers * 8 * 4 * block_size * block_size


def _gamma(compute_dtype: str, dim: int) -> float:
    if compute_dtype == "float64":
        return 4.0 * (dim + 2) * np.finfo(np.float64).eps
    # float32 product (probabilistic bound), plus the float32 forming of |x|^2 + |y|^2 - 2 x.y and
    # the rounding of the float64 thresholds to float32 (each <= eps32 (|x|^2 + |y|^2)): + 8 eps32
    return (8.0 * (np.sqrt(dim) + 1.0) + 8.0) * float(np.finfo(np.float32).eps)


def _ranges(n: int, size: int) -> list[tuple[int, int]]:
    return [(i, min(i + size, n)) for i in range(0, n, size)]


def _mean(x: np.ndarray, block_size: int) -> np.ndarray:
    s = np.zeros(x.shape[1], np.float64)
    for i0, i1 in _ranges(len(x), block_size):
        s += x[i0:i1].sum(axis=0, dtype=np.float64)
    return s / len(x)


class _Shifted:
    """`x - shift` in the compute dtype (computed once, block by block in float64), with float64 squared norms."""

    def __init__(self, x: np.ndarray, shift: np.ndarray, dtype, block_size: int):
        self.rows = np.empty(x.shape, dtype)
        self.norms = np.empty(len(x), np.float64)

        def fill(r):  # disjoint row ranges: safe to run concurrently
            i0, i1 = r
            self.rows[i0:i1] = x[i0:i1].astype(np.float64) - shift
            b = self.rows[i0:i1]
            self.norms[i0:i1] = np.einsum("ij,ij->i", b, b, dtype=np.float64)

        for _ in parallel_map(fill, _ranges(len(x), min(block_size, 256))):
            pass
        self.norms_c = self.norms.astype(dtype)  # the norms as the tiles use them

    def block(self, i0: int, i1: int) -> np.ndarray:
        return self.rows[i0:i1]


def _sq_dist_tile(qb, qn, rb, rn) -> np.ndarray:
    """|q|^2 + |r|^2 - 2 q.r in the compute dtype, in place on the product (not clipped at 0)."""
    d2 = qb @ rb.T
    d2 *= -2.0
    d2 += qn[:, None]
    d2 += rn[None, :]
    return d2


def exact_distances(x: np.ndarray, y: np.ndarray, ii: np.ndarray, jj: np.ndarray) -> np.ndarray:
    """``sqrt(sum((x[ii] - y[jj])**2))`` in float64 for index pairs, computed directly, in chunks.

    Args:
        x: an N x D matrix.
        y: an M x D matrix.
        ii: row indices into `x`.
        jj: row indices into `y`, as many as `ii`.

    Returns:
        A float64 vector with one distance per pair.

    Example:
        >>> import numpy as np
        >>> exact_distances(np.array([[0.0, 0.0]]), np.array([[3.0, 4.0], [1.0, 0.0]]), [0, 0], [0, 1])
        array([5., 1.])
    """
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
class _Candidates:
    """The kk smallest (Gram distance^2, index) seen so far for every query row."""

    def __init__(self, n: int, kk: int):
        self.kk = kk
        self.d = np.full((n, kk), np.inf)
        self.i = np.full((n, kk), -1, np.int64)
        # each row's kk-th candidate distance^2, kept apart from `d`: worker threads read it while the
        # main thread merges; every element they can see (old or new) is >= the final value (safe)
        self.thr = np.full(n, np.inf)

    def threshold(self, i0: int, i1: int) -> np.ndarray:
        return self.thr[i0:i1].copy()

    def offer(self, i0: int, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, nrows: int) -> None:
        """Merge candidate entries (local row, global index, distance^2) into rows i0 .. i0 + nrows."""
        if len(rows) == 0:
            return
        counts = np.bincount(rows, minlength=nrows)
        width = int(counts.max())
        order = np.argsort(rows, kind="stable")
        rows, cols, vals = rows[order], cols[order], vals[order]
        slot = np.arange(len(rows)) - np.repeat(np.cumsum(counts) - counts, counts)
        pad_d = np.full((nrows, width), np.inf)
        pad_i = np.full((nrows, width), -1, np.int64)
        pad_d[rows, slot], pad_i[rows, slot] = vals, cols
        cd = np.concatenate([self.d[i0:i0 + nrows], pad_d], axis=1)
        ci = np.concatenate([self.i[i0:i0 + nrows], pad_i], axis=1)
        sel = np.argpartition(cd, self.kk - 1, axis=1)[:, :self.kk]
        self.d[i0:i0 + nrows] = np.take_along_axis(cd, sel, axis=1)
        self.i[i0:i0 + nrows] = np.take_along_axis(ci, sel, axis=1)
        self.thr[i0:i0 + nrows] = self.d[i0:i0 + nrows].max(axis=1)


def _below(d2: np.ndarray, thr: np.ndarray, col0: int, kk: int):
    """A tile's entries that can enter the rows' candidate lists: (local rows, global columns, values).

    Normally those strictly below the row's current threshold (few, once the lists have filled). While
    some row has fewer than kk candidates (threshold inf), the kk smallest entries of every row instead:
    an entry with kk smaller ones in the same tile cannot be among the kk nearest either.
    """
    if np.isinf(thr).any() and d2.shape[1] > kk:
        c = np.argpartition(d2, kk - 1, axis=1)[:, :kk]
        r = np.repeat(np.arange(d2.shape[0]), kk)
        c = c.ravel()
    else:
        r, c = np.nonzero(d2 < thr[:, None])
    return r, c + col0, d2[r, c].astype(np.float64)


def knn_search(query, ref=None, k: int = 1, *, exclude=None, block_size: int = DEFAULT_BLOCK_SIZE,
               compute_dtype: str = "float64") -> tuple[np.ndarray, np.ndarray]:
    """The k nearest reference rows of every query row, with exact float64 distances.

    `ref=None` searches `query` within itself, excluding each point itself (by index).

    Args:
        query: N_query x D features.
        ref: N_ref x D reference features, or None to search `query` within itself.
        k: number of neighbours (at most the number of reference rows available).
        exclude: optional, length N_query: for each query row, a reference index to skip (-1 = none),
            e.g. the query's own position when the queries are a subset of `ref`.
        block_size: rows per tile (memory bound; results do not depend on it).
        compute_dtype: "float64" or "float32" tile products (distances returned are float64 either way).

    Returns:
        (distances, indices), both N_query x k, sorted by distance, ties by index.

    Raises:
        InvalidArgumentError: `k` out of range, a bad `exclude`, `block_size` or `compute_dtype`.
        ShapeMismatchError: the dimensions differ.

    Example:
        >>> import numpy as np
        >>> x = np.array([[0.0], [1.0], [3.0], [7.0]])
        >>> d, i = knn_search(x, k=2)
        >>> d.tolist(), i.tolist()
        ([[1.0, 3.0], [1.0, 2.0], [2.0, 3.0], [4.0, 6.0]], [[1, 2], [0, 2], [1, 0], [2, 1]])
        >>> knn_search(x, k=4)
        Traceback (most recent call last):
        ...
        gmeval.errors.InvalidArgumentError: Argument `k` must be an integer in [1, 3], but got 4.
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
    best = _Candidates(nq, kk)

    blocks_q, blocks_r = _ranges(nq, block_size), _ranges(nr, block_size)
    # within one set the distance matrix is symmetric: tile (i, j) also serves the rows of block j
    tasks = [(i0, i1, j0, j1) for bq, (i0, i1) in enumerate(blocks_q)
             for (j0, j1) in (blocks_r[bq:] if within else blocks_r)]

    def tile(t):
        i0, i1, j0, j1 = t
        d2 = _sq_dist_tile(Q.block(i0, i1), Q.norms_c[i0:i1], R.block(j0, j1), R.norms_c[j0:j1])
        if exclude is not None:
            ex = exclude[i0:i1]
            hit = np.nonzero((ex >= j0) & (ex < j1))[0]
            d2[hit, ex[hit] - j0] = np.inf
        # only entries below the row's current kk-th candidate can enter its list: the threshold is read
        # while other tiles may still be merging, so it can only be larger than the final one (safe)
        out = [_below(d2, best.threshold(i0, i1), j0, kk)]
        if within and j0 != i0:
            out.append(_below(d2.T, best.threshold(j0, j1), i0, kk))
        return out

    for t, found in zip(tasks, parallel_map(tile, tasks)):
        i0, i1, j0, j1 = t
        best.offer(i0, *found[0], i1 - i0)
        if len(found) > 1:
            best.offer(j0, *found[1], j1 - j0)

    best_d, best_i = best.d, best.i
    out_d = np.empty((nq, k), np.float64)
    out_i = np.empty((nq, k), np.int64)

    def finish(rows):  # disjoint row ranges: safe to run concurrently
        i0, i1 = rows
        b, bd, bi, qn = i1 - i0, best_d[i0:i1], best_i[i0:i1], Q.norms[i0:i1]
        # exact distances of the candidates, then sort by (distance, index)
        e = exact_distances(q, r, np.repeat(np.arange(i0, i1), kk), bi.ravel()).reshape(b, kk)
        order = np.lexsort((bi, e), axis=1)
        e, bi_sorted = np.take_along_axis(e, order, axis=1), np.take_along_axis(bi, order, axis=1)
        # every point left out has Gram distance^2 >= max(bd) (it was never below a row threshold, which
        # only decreases); it cannot be among the k nearest if that bound minus the rounding window
        # still exceeds the k-th exact distance^2.
        if kk < n_avail:
            safe = bd.max(axis=1) - gamma * (qn + rn_max) > e[:, k - 1] ** 2
        else:
            safe = np.ones(b, bool)
        for row in np.nonzero(~safe)[0]:
            ex_row = -1 if exclude is None else int(exclude[i0 + row])
            e[row, :k], bi_sorted[row, :k] = _exact_row_knn(q[i0 + row], r, k, ex_row, block_size)
        out_d[i0:i1], out_i[i0:i1] = e[:, :k], bi_sorted[:, :k]

    for _ in parallel_map(finish, _ranges(nq, 256)):
        pass
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

    Args:
        x: N x D features.
        k: which neighbour (ignored when `ks` is given).
        block_size: rows per tile.
        compute_dtype: "float64" or "float32" tile products.
        ks: a sequence of k values, to get {k: radii} from one pass.

    Returns:
        A float64 vector of N radii, or with `ks` a dict {k: radii}.

    Example:
        >>> import numpy as np
        >>> x = np.array([[0.0], [1.0], [3.0], [7.0]])
        >>> kth_neighbour_distances(x, 1).tolist()
        [1.0, 1.0, 2.0, 4.0]
        >>> {k: v.tolist() for k, v in kth_neighbour_distances(x, 1, ks=[2, 3]).items()}
        {2: [3.0, 2.0, 3.0, 6.0], 3: [7.0, 6.0, 4.0, 7.0]}
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

    Attributes:
        b_in_a_counts: b_in_a_counts[m][j]: how many balls (a_i, a_radii[m][i]) contain b_j (shape N_b).
        a_has_b: a_has_b[m][i]: whether the ball (a_i, a_radii[m][i]) contains any b_j (shape N_a).
        a_in_b_counts: a_in_b_counts[m][i]: how many balls (b_j, b_radii[m][j]) contain a_i (shape N_a).
        refined_pairs: comparisons decided on directly recomputed distances.

    Example:
        >>> import numpy as np
        >>> s = ball_statistics(np.array([[0.0], [2.0]]), np.array([[1.0], [5.0]]), a_radii=[np.array([1.0, 1.0])])
        >>> s.b_in_a_counts[0].tolist(), s.a_has_b[0].tolist(), s.a_in_b_counts
        ([2, 0], [True, True], [])
    """

    b_in_a_counts: list = field(default_factory=list)
    a_has_b: list = field(default_factory=list)
    a_in_b_counts: list = field(default_factory=list)
    refined_pairs: int = 0  # comparisons decided on directly recomputed distances


def ball_statistics(a, b, a_radii=(), b_radii=(), *, inclusive: bool = True, block_size: int = DEFAULT_BLOCK_SIZE,
                    compute_dtype: str = "float64") -> BallStatistics:
    """Count memberships of points of one set in the k-NN balls of the other (see BallStatistics).

    Args:
        a: N_a x D features (the ball centres for `a_radii`).
        b: N_b x D features (the ball centres for `b_radii`).
        a_radii: radii sets for the balls around `a`, each a length-N_a vector.
        b_radii: radii sets for the balls around `b`, each a length-N_b vector.
        inclusive: True: inside means d <= r (default, see module docstring); False: d < r.
        block_size: rows per tile.
        compute_dtype: "float64" or "float32" tile products.

    Returns:
        A `BallStatistics` with one entry per radii set.

    Raises:
        InvalidArgumentError: a radii vector has the wrong length or negative entries.
        ShapeMismatchError: the dimensions differ.

    Example:
        >>> import numpy as np
        >>> a, b = np.array([[0.0], [2.0]]), np.array([[1.0], [5.0]])
        >>> ones = np.array([1.0, 1.0])
        >>> ball_statistics(a, b, [ones], inclusive=False).b_in_a_counts[0].tolist()   # d = r is outside now
        [0, 0]
        >>> ball_statistics(a, b, b_radii=[np.array([1.0, 3.0])]).a_in_b_counts[0].tolist()
        [1, 2]
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
    tasks = [(i0, i1, j0, j1) for i0, i1 in _ranges(len(a), block_size) for j0, j1 in _ranges(len(b), block_size)]

    def tile(t):
        i0, i1, j0, j1 = t
        an, bn = A.norms[i0:i1], B.norms[j0:j1]
        d2 = _sq_dist_tile(A.block(i0, i1), A.norms_c[i0:i1], B.block(j0, j1), B.norms_c[j0:j1])
        exact = _PairCache(a, b, i0, j0)
        # rounding window of every entry, bounded per row (a-balls) or per column (b-balls)
        tol_rows, tol_cols = gamma * (an + bn.max()), gamma * (an.max() + bn)
        a_part = []
        for rad in a_radii:
            inside = _inside(d2, rad[i0:i1], tol_rows, exact, inclusive, axis=0)
            a_part.append((np.count_nonzero(inside, axis=0), inside.any(axis=1)))
        b_part = [np.count_nonzero(_inside(d2, rad[j0:j1], tol_cols, exact, inclusive, axis=1), axis=1)
                  for rad in b_radii]
        return (a_part, b_part), exact.count

    out = BallStatistics(
        b_in_a_counts=[np.zeros(len(b), np.int64) for _ in a_radii],
        a_has_b=[np.zeros(len(a), bool) for _ in a_radii],
        a_in_b_counts=[np.zeros(len(a), np.int64) for _ in b_radii],
    )
    for (i0, i1, j0, j1), ((a_part, b_part), refined) in zip(tasks, parallel_map(tile, tasks)):
        for m, (counts, has) in enumerate(a_part):
            out.b_in_a_counts[m][j0:j1] += counts
            out.a_has_b[m][i0:i1] |= has
        for m, counts in enumerate(b_part):
            out.a_in_b_counts[m][i0:i1] += counts
        out.refined_pairs += refined
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


def _inside(d2: np.ndarray, radius: np.ndarray, tol: np.ndarray, exact: _PairCache, inclusive: bool,
            axis: int) -> np.ndarray:
    """Ball membership for one tile: the radius (and window) belongs to the rows (axis=0) or the
    columns (axis=1) of the tile. Entries clearly inside or outside are decided on the tile's Gram
    distances; those within the rounding window on directly computed float64 distances."""
    shape = (-1, 1) if axis == 0 else (1, -1)
    r2 = radius * radius
    lo = (r2 - tol).astype(d2.dtype).reshape(shape)
    hi = (r2 + tol).astype(d2.dtype).reshape(shape)
    inside = d2 < lo  # certainly inside (either convention)
    maybe = d2 <= hi  # anything above hi is certainly outside
    if np.count_nonzero(maybe) != np.count_nonzero(inside):
        ii, jj = np.nonzero(maybe & ~inside)
        e = exact(ii, jj)
        t = radius[ii] if axis == 0 else radius[jj]
        inside[ii, jj] = (e <= t) if inclusive else (e < t)
    return inside
