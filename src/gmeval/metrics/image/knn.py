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
Tiles use the Gram expansion ``|x|^2 + |y|^2 - 2 x.y`` (one matrix product per tile) on
features shifted by the reference set's mean (translation does not change distances and the
shift reduces cancellation). Its rounding error is bounded by a window per entry (`window`).
A tile only *screens*: every comparison whose outcome the window cannot settle, and every
distance that is returned (k-NN radii, neighbour distances), is recomputed directly as ``sqrt(sum((x - y)^2))`` in float64 from the original rows. So ties are
decided on exactly computed distances, results are bit-identical for every block size and every
compute dtype, and they agree with ``scipy.spatial.distance.cdist`` to rounding (~1e-15 relative).

* ``compute_dtype="float64"``: float64 products, window ``4 (D + 2) eps64 (|x|^2 + |y|^2)``.
* ``"float32"``: float32 products, a probabilistic ``(8 (sqrt(D) + 1) + 8) eps32 (|x|^2 + |y|^2)``.
* ``"bfloat16"``: bfloat16 products with float32 accumulation (AMX / AVX512-BF16 matrix units
  through oneDNN, ~5x the float32 GEMM rate on such CPUs). Its window is a worst-case bound per
  entry built from the exactly known rounding residuals of the rows (`window`); it is wider than
  float32's, so more entries are recomputed directly (about 8 per row instead of 5 for k = 5).
* ``"auto"``: ``"bfloat16"`` on CPUs with native bfloat16 matrix instructions (the same test as
  `gmeval.features.precision`), ``"float32"`` elsewhere.

The k-NN screen keeps, per row, the k smallest *upper* bounds seen so far (threshold T) and every
entry whose *lower* bound is at most T: the k true nearest neighbours are always among them, so
no certification step or fallback is needed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ...errors import InvalidArgumentError
from ._common import as_features, check_choice, check_int, one_torch_thread, parallel_map, same_dim

DEFAULT_BLOCK_SIZE = 1024
COMPUTE_DTYPES = ("float64", "float32", "bfloat16", "auto")
_EXACT_CHUNK = 32  # pairs per chunk when recomputing distances directly (32 x 2048 float64: 0.5 MB, in cache)


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


def resolve_compute_dtype(compute_dtype: str) -> str:
    """"auto" -> "bfloat16" on a CPU with native bfloat16 matrix instructions (AMX-BF16 / AVX512-BF16),
    else "float32"; the other names are checked and returned as they are.

    Args:
        compute_dtype: one of COMPUTE_DTYPES.

    Returns:
        The tile dtype used.

    Raises:
        InvalidArgumentError: an unknown name.

    Example:
        >>> resolve_compute_dtype("float64"), resolve_compute_dtype("auto") in ("bfloat16", "float32")
        ('float64', True)
    """
    check_choice("compute_dtype", compute_dtype, COMPUTE_DTYPES)
    if compute_dtype != "auto":
        return compute_dtype
    from ...features.precision import available_precisions

    return "bfloat16" if "bf16" in available_precisions("cpu")[0] else "float32"


def _gamma(compute_dtype: str, dim: int) -> float:
    """float64 / float32 tiles: bound on |Gram distance^2 - true distance^2| in units of |x|^2 + |y|^2."""
    if compute_dtype == "float64":
        return 4.0 * (dim + 2) * np.finfo(np.float64).eps
    # float32 product (probabilistic bound), plus the float32 forming of |x|^2 + |y|^2 - 2 x.y: + 8 eps32
    return (8.0 * (np.sqrt(dim) + 1.0) + 8.0) * float(np.finfo(np.float32).eps)


_U16 = 2.0 ** -8  # unit roundoff of bfloat16 (8 significant bits)
_U32 = 2.0 ** -24  # unit roundoff of float32


def _ranges(n: int, size: int) -> list[tuple[int, int]]:
    return [(i, min(i + size, n)) for i in range(0, n, size)]


def _mean(x: np.ndarray, block_size: int) -> np.ndarray:
    s = np.zeros(x.shape[1], np.float64)
    for i0, i1 in _ranges(len(x), block_size):
        s += x[i0:i1].sum(axis=0, dtype=np.float64)
    return s / len(x)


class _Shifted:
    """`x - shift` in the compute dtype (computed once, block by block in float64), with float64 squared
    norms of the float64 shifted rows. bfloat16 rows are held as a torch tensor (numpy has no bfloat16),
    with the exact length of each row's rounding residual (for the rounding window, `window`)."""

    def __init__(self, x: np.ndarray, shift: np.ndarray, compute_dtype: str, block_size: int):
        self.cd, self.dim, self.shift = compute_dtype, x.shape[1], shift
        self.bf16 = compute_dtype == "bfloat16"
        dt = np.float32 if self.bf16 else np.dtype(compute_dtype)
        self.norms = np.empty(len(x), np.float64)
        self.resid = np.zeros(len(x), np.float64)  # |bfloat16 row - float64 row|
        if self.bf16:
            import torch

            self.rows = torch.empty(x.shape, dtype=torch.bfloat16)
        else:
            self.rows = np.empty(x.shape, dt)

        def fill(r):  # disjoint row ranges: safe to run concurrently
            i0, i1 = r
            b = x[i0:i1].astype(np.float64) - shift
            self.norms[i0:i1] = np.einsum("ij,ij->i", b, b)
            if self.bf16:
                self.rows[i0:i1] = torch.from_numpy(b.astype(np.float32)).to(torch.bfloat16)
                b -= self.rows[i0:i1].float().numpy()
                self.resid[i0:i1] = np.sqrt(np.einsum("ij,ij->i", b, b))
            else:
                self.rows[i0:i1] = b

        for _ in parallel_map(fill, _ranges(len(x), min(block_size, 256))):
            pass
        self.length = np.sqrt(self.norms)
        self.norms_c = self.norms.astype(dt)  # the norms as the tiles use them

    def sq_dist_tile(self, i0: int, i1: int, other: "_Shifted", j0: int, j1: int) -> np.ndarray:
        """|q|^2 + |r|^2 - 2 q.r for rows i0:i1 of self and j0:j1 of other (not clipped at 0)."""
        if self.bf16:
            d2 = (self.rows[i0:i1] @ other.rows[j0:j1].T).float().numpy()  # bfloat16 product, float32 sums
        else:
            d2 = self.rows[i0:i1] @ other.rows[j0:j1].T
        d2 *= -2.0
        d2 += self.norms_c[i0:i1, None]
        d2 += other.norms_c[None, j0:j1]
        return d2


def rounding_window(x: _Shifted, ix, y: _Shifted, jy, v=None) -> np.ndarray:
    """Bound on |tile value - true distance^2| for rows ix of x and jy of y (broadcasting index arrays).

    Args:
        x: the prepared (shifted, rounded) rows of one set.
        ix: row indices into `x`.
        y: the prepared rows of the other set.
        jy: row indices into `y` (broadcast against `ix`).
        v: the tile values (bfloat16 only; None: a bound valid for every value).

    Returns:
        The float64 bounds, broadcast shape of `ix` and `jy`.

    float64 / float32: ``gamma (|x|^2 + |y|^2)``. bfloat16, for the tile value v (None: a bound valid
    for every value, used for screening masks): with r = rounding residuals of the rows (known exactly),
    ``|x^.y^ - x.y| <= |x||r_y| + |r_x||y| + |r_x||r_y|`` (Cauchy-Schwarz), the float32 sum of D exact
    products ``<= gamma_D |x^||y^|``, the bfloat16 output ``<= u |x^.y^| / (1 - u)``; doubled in d^2;
    plus 16 eps32 (|x|^2 + |y|^2) for the float32 norms and the forming of the tile value.

    Example:
        >>> import numpy as np
        >>> x = _Shifted(np.eye(3), np.zeros(3), "float64", 8)
        >>> bool((rounding_window(x, np.arange(3), x, np.arange(3)) < 1e-13).all())
        True
    """
    if not x.bf16:
        return _gamma(x.cd, x.dim) * (x.norms[ix] + y.norms[jy])
    lx, ly, rx, ry = x.length[ix], y.length[jy], x.resid[ix], y.resid[jy]
    hat = (lx + rx) * (ly + ry)  # >= |x^||y^|
    gamma_d = x.dim * _U32 / (1.0 - x.dim * _U32)
    if v is None:
        prod = hat * (1.0 + gamma_d)  # >= |product|
    else:  # the product is (|x|^2 + |y|^2 - v) / 2 up to the forming error, which the last term covers
        prod = np.abs(x.norms[ix] + y.norms[jy] - v) / 2.0
    sums = x.norms[ix] + y.norms[jy]
    return (2.0 * (lx * ry + rx * ly + rx * ry + gamma_d * hat) + 2.0 * _U16 / (1.0 - _U16) * prod
            + 16.0 * _U32 * sums + 1e-30)


def _row_window(x: _Shifted, i0: int, i1: int, y: _Shifted, j0: int, j1: int) -> np.ndarray:
    """Per row of x[i0:i1], a window valid for every column of y[j0:j1] (the window grows with each of
    the column's length, residual and squared norm, so their maxima bound it)."""
    top = _Maxima(y, j0, j1)
    return rounding_window(x, slice(i0, i1), top, 0)


class _Maxima:
    """A one-row stand-in for `_Shifted` holding the maxima of a row range (for `_row_window`)."""

    def __init__(self, s: _Shifted, j0: int, j1: int):
        self.cd, self.dim, self.bf16 = s.cd, s.dim, s.bf16
        self.norms = np.array([s.norms[j0:j1].max()])
        self.length = np.sqrt(self.norms)
        self.resid = np.array([s.resid[j0:j1].max()])


def _upper32(t: np.ndarray, dtype) -> np.ndarray:
    """float64 thresholds as `dtype`, never below the float64 value (a screening mask stays a superset)."""
    c = t.astype(dtype)
    if dtype != np.float64:
        low = c < t
        c[low] = np.nextafter(c[low], np.inf)
    return c


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
    buf = np.empty((min(_EXACT_CHUNK, len(ii)), x.shape[1]), np.float64)
    for s in range(0, len(ii), _EXACT_CHUNK):
        d = buf[:len(ii[s:s + _EXACT_CHUNK])]
        np.subtract(x[ii[s:s + _EXACT_CHUNK]], y[jj[s:s + _EXACT_CHUNK]], out=d, dtype=np.float64)
        np.multiply(d, d, out=d)
        out[s:s + _EXACT_CHUNK] = np.sqrt(d.sum(axis=1))
    return out


def _check_common(block_size, compute_dtype) -> str:
    check_int("block_size", block_size, 1)
    return resolve_compute_dtype(compute_dtype)


# --------------------------------------------------------------------------------------------
# k nearest neighbours
# --------------------------------------------------------------------------------------------
class _Screen:
    """Per query row: the k smallest upper bounds on distance^2 seen so far (their max is the row's
    threshold T), and every (column, lower bound) offered while the lower bound was <= T."""

    def __init__(self, n: int, k: int):
        self.k = k
        self.up = np.full((n, k), np.inf)
        # each row's threshold, kept apart from `up`: worker threads read it while the main thread
        # merges; every element they can see (old or new) is >= the final value (safe)
        self.thr = np.full(n, np.inf)
        self.rows, self.cols, self.low = [], [], []

    def threshold(self, i0: int, i1: int) -> np.ndarray:
        return self.thr[i0:i1].copy()

    def offer(self, i0: int, nrows: int, rows, cols, low, up) -> None:
        """Merge one tile's screened entries (local rows, global columns, lower and upper bounds)."""
        if len(rows) == 0:
            return
        self.rows.append(rows + i0)
        self.cols.append(cols)
        self.low.append(low)
        counts = np.bincount(rows, minlength=nrows)
        order = np.argsort(rows, kind="stable")
        slot = np.arange(len(rows)) - np.repeat(np.cumsum(counts) - counts, counts)
        pad = np.full((nrows, int(counts.max())), np.inf)
        pad[rows[order], slot] = up[order]
        cand = np.concatenate([self.up[i0:i0 + nrows], pad], axis=1)
        self.up[i0:i0 + nrows] = np.partition(cand, self.k - 1, axis=1)[:, :self.k]
        self.thr[i0:i0 + nrows] = self.up[i0:i0 + nrows].max(axis=1)

    def candidates(self):
        """(global rows, columns) whose lower bound is within the final threshold, in row order."""
        if not self.rows:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        rows, cols, low = (np.concatenate(v) for v in (self.rows, self.cols, self.low))
        keep = low <= self.thr[rows]
        rows, cols = rows[keep], cols[keep]
        order = np.argsort(rows, kind="stable")
        return rows[order], cols[order]


def _screen_tile(d2: np.ndarray, x: _Shifted, i0: int, i1: int, y: _Shifted, j0: int, j1: int, thr: np.ndarray,
                 k: int):
    """Entries of one tile (rows x[i0:i1], columns y[j0:j1]) that may matter for its rows:
    (local rows, global columns, lower bounds, upper bounds on the true distance^2).

    An entry is kept when its lower bound is at most the row's threshold. Rows without a threshold
    yet (inf) get one from this tile first: the k-th smallest upper bound among its entries.
    """
    w = _row_window(x, i0, i1, y, j0, j1)  # >= every entry's window in its row
    fresh = np.isinf(thr)
    if fresh.any() and d2.shape[1] >= k:
        kth = np.partition(d2[fresh], k - 1, axis=1)[:, k - 1].astype(np.float64)
        thr[fresh] = np.minimum(thr[fresh], kth + w[fresh])  # inf when the row has < k real entries here
    r, c = np.nonzero(d2 <= _upper32(thr + w, d2.dtype)[:, None])
    v = d2[r, c].astype(np.float64)
    we = rounding_window(x, r + i0, y, c + j0, v)
    return r, c + j0, v - we, v + we


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
    cd = _check_common(block_size, compute_dtype)
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

    with one_torch_thread(cd == "bfloat16"):
        R = _Shifted(r, _mean(r, block_size), cd, block_size)
        Q = R if within else _Shifted(q, R.shift, cd, block_size)
        return _knn_pass(q, Q, r, R, k, exclude, within, block_size)


def _knn_pass(q, Q: _Shifted, r, R: _Shifted, k: int, exclude, within: bool, block_size: int):
    """knn_search on prepared shifted rows (within: Q is R and q is r)."""
    nq, nr = len(q), len(r)
    screen = _Screen(nq, k)
    blocks_q, blocks_r = _ranges(nq, block_size), _ranges(nr, block_size)
    # within one set the distance matrix is symmetric: tile (i, j) also serves the rows of block j
    tasks = [(i0, i1, j0, j1) for bq, (i0, i1) in enumerate(blocks_q)
             for (j0, j1) in (blocks_r[bq:] if within else blocks_r)]

    def tile(t):
        i0, i1, j0, j1 = t
        d2 = Q.sq_dist_tile(i0, i1, R, j0, j1)
        if exclude is not None:
            ex = exclude[i0:i1]
            hit = np.nonzero((ex >= j0) & (ex < j1))[0]
            d2[hit, ex[hit] - j0] = np.inf
        # thresholds are read while other tiles may still be merging: they can only be larger than
        # the final ones, which keeps more entries (safe)
        out = [_screen_tile(d2, Q, i0, i1, R, j0, j1, screen.threshold(i0, i1), k)]
        if within and j0 != i0:
            out.append(_screen_tile(d2.T, R, j0, j1, Q, i0, i1, screen.threshold(j0, j1), k))
        return out

    for (i0, i1, j0, j1), found in zip(tasks, parallel_map(tile, tasks)):
        screen.offer(i0, i1 - i0, *found[0])
        if len(found) > 1:
            screen.offer(j0, j1 - j0, *found[1])

    # the k true nearest neighbours of every row are among the candidates: exact distances, then the k
    # smallest by (distance, index)
    rows, cols = screen.candidates()
    e = np.empty(len(rows), np.float64)

    def exact(span):
        s0, s1 = span
        e[s0:s1] = exact_distances(q, r, rows[s0:s1], cols[s0:s1])

    for _ in parallel_map(exact, _ranges(len(rows), 4096)):
        pass
    order = np.lexsort((cols, e, rows))
    rows, cols, e = rows[order], cols[order], e[order]
    start = np.searchsorted(rows, np.arange(nq))
    take = (start[:, None] + np.arange(k)[None, :]).ravel()
    return e[take].reshape(nq, k), cols[take].reshape(nq, k)


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

    One screening mask per tile (entries possibly inside any of the balls, few) is refined entry by
    entry: clearly inside or outside on the tile's value, otherwise on the directly computed distance.

    Args:
        a: N_a x D features (the ball centres for `a_radii`).
        b: N_b x D features (the ball centres for `b_radii`).
        a_radii: radii sets for the balls around `a`, each a length-N_a vector.
        b_radii: radii sets for the balls around `b`, each a length-N_b vector.
        inclusive: True: inside means d <= r (default, see module docstring); False: d < r.
        block_size: rows per tile.
        compute_dtype: "float64", "float32", "bfloat16" or "auto" tile products (results equal float64's).

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
    cd = _check_common(block_size, compute_dtype)
    a = as_features(a, "a")
    b = as_features(b, "b")
    same_dim(a, b, "a", "b")
    a_radii = [np.asarray(v, np.float64) for v in a_radii]
    b_radii = [np.asarray(v, np.float64) for v in b_radii]
    for name, rs, n in (("a_radii", a_radii, len(a)), ("b_radii", b_radii, len(b))):
        for v in rs:
            if v.shape != (n,) or not np.all(v >= 0):
                raise InvalidArgumentError(name, f"arrays of {n} non-negative radii", f"an array of shape {v.shape}")
    with one_torch_thread(cd == "bfloat16"):
        A = _Shifted(a, _mean(a, block_size), cd, block_size)
        B = _Shifted(b, A.shift, cd, block_size)
        return _ball_pass(a, A, b, B, a_radii, b_radii, inclusive, block_size)


def _ball_pass(a, A: _Shifted, b, B: _Shifted, a_radii, b_radii, inclusive: bool, block_size: int) -> BallStatistics:
    """ball_statistics on prepared shifted rows and checked float64 radii."""
    a_sq = [v * v for v in a_radii]
    b_sq = [v * v for v in b_radii]
    a_max = np.max(a_sq, axis=0) if a_sq else np.full(len(a), -np.inf)
    b_max = np.max(b_sq, axis=0) if b_sq else np.full(len(b), -np.inf)
    tasks = [(i0, i1, j0, j1) for i0, i1 in _ranges(len(a), block_size) for j0, j1 in _ranges(len(b), block_size)]

    def tile(t):
        i0, i1, j0, j1 = t
        d2 = A.sq_dist_tile(i0, i1, B, j0, j1)
        # screening mask: entries possibly inside a ball of their row (a) or of their column (b)
        mask = d2 <= _upper32(a_max[i0:i1] + _row_window(A, i0, i1, B, j0, j1), d2.dtype)[:, None]
        if b_sq:
            mask |= d2 <= _upper32(b_max[j0:j1] + _row_window(B, j0, j1, A, i0, i1), d2.dtype)[None, :]
        ii, jj = np.nonzero(mask)
        v = d2[ii, jj].astype(np.float64)
        w = rounding_window(A, ii + i0, B, jj + j0, v)  # every entry's own rounding window
        tests = [(sq[i0 + ii], w) for sq in a_sq] + [(sq[j0 + jj], w) for sq in b_sq]
        sure = [v < r2 - w for r2, w in tests]  # certainly inside (either convention)
        unsure = np.zeros(len(v), bool)
        for (r2, w), s in zip(tests, sure):
            unsure |= ~s & (v <= r2 + w)
        e = np.full(len(v), np.inf)
        e[unsure] = exact_distances(a, b, ii[unsure] + i0, jj[unsure] + j0)
        # undecided entries: the directly computed distance against the given radius
        radii = [rad[i0 + ii] for rad in a_radii] + [rad[j0 + jj] for rad in b_radii]
        inside = [s | (((e <= rad) if inclusive else (e < rad)) & unsure) for s, rad in zip(sure, radii)]
        na = len(a_sq)
        a_part = [(np.bincount(jj[m], minlength=j1 - j0), np.bincount(ii[m], minlength=i1 - i0) > 0)
                  for m in inside[:na]]
        b_part = [np.bincount(ii[m], minlength=i1 - i0) for m in inside[na:]]
        return (a_part, b_part), int(unsure.sum())

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


def radii_and_ball_statistics(real, fake, real_ks=(), fake_ks=(), *, inclusive: bool = True,
                              block_size: int = DEFAULT_BLOCK_SIZE, compute_dtype: str = "float64"):
    """The k-NN radii within each set and the ball memberships between them, with the shifted rows of
    each set prepared once (one shift, the real mean) for all three passes:
    ``kth_neighbour_distances(real, ks=real_ks)``, the same for fake, then
    ``ball_statistics(real, fake, real radii in real_ks order, fake radii in fake_ks order)``.
    Empty `fake_ks` skips the fake pass.

    Args:
        real: N x D real features.
        fake: M x D generated features.
        real_ks: neighbour counts of the real radii.
        fake_ks: neighbour counts of the fake radii.
        inclusive: closed (True) or open balls.
        block_size: rows per tile.
        compute_dtype: tile product dtype (COMPUTE_DTYPES; results equal float64's).

    Returns:
        ({k: real radii}, {k: fake radii}, BallStatistics).

    Raises:
        InvalidArgumentError: a neighbour count out of range, or a bad option.
        ShapeMismatchError: the dimensions differ.

    Example:
        >>> import numpy as np
        >>> real, fake = np.array([[0.0], [1.0], [3.0]]), np.array([[0.5], [9.0]])
        >>> rr, fr, st = radii_and_ball_statistics(real, fake, real_ks=[1], fake_ks=[1])
        >>> rr[1].tolist(), fr[1].tolist(), st.b_in_a_counts[0].tolist()
        ([1.0, 1.0, 2.0], [8.5, 8.5], [2, 0])
    """
    cd = _check_common(block_size, compute_dtype)
    real, fake = as_features(real, "real"), as_features(fake, "fake")
    same_dim(real, fake, "real", "fake")
    real_ks = [check_int("real_ks", int(v), 1, len(real) - 1) for v in real_ks]
    fake_ks = [check_int("fake_ks", int(v), 1, len(fake) - 1) for v in fake_ks]
    with one_torch_thread(cd == "bfloat16"):
        A = _Shifted(real, _mean(real, block_size), cd, block_size)
        B = _Shifted(fake, A.shift, cd, block_size)
        radii = []
        for x, X, ks in ((real, A, real_ks), (fake, B, fake_ks)):
            d = _knn_pass(x, X, x, X, max(ks), np.arange(len(x)), True, block_size)[0] if ks else None
            radii.append({kv: d[:, kv - 1].copy() for kv in ks})
        stats = _ball_pass(real, A, fake, B, [radii[0][kv] for kv in real_ks], [radii[1][kv] for kv in fake_ks],
                           inclusive, block_size)
    return radii[0], radii[1], stats
