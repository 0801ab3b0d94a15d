"""k-NN primitives, precision/recall (k=3) and density/coverage (k=5) against full-matrix references.

Tolerances (docs/tolerances.md): exact equalities are B4/B5 (same features, same seed, one process);
`approx`/`allclose` bounds are T1 (float64 formulas on well-conditioned input; each states its value).
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from gmeval.errors import InvalidArgumentError, ShapeMismatchError
from gmeval.metrics.image import (PRDC, DensityCoverage, PrecisionRecall, ball_statistics, density_coverage_score,
                                  knn_search, kth_neighbour_distances, prdc_score, precision_recall_score)


def _reference_prdc(real, fake, k_pr=3, k_dc=5, inclusive=True):
    """Straightforward reference: full distance matrices with scipy cdist (the self-distance 0 sits
    at sorted position 0, so the k-th other neighbour is at position k)."""
    le = np.less_equal if inclusive else np.less
    rr, ff, rf = cdist(real, real), cdist(fake, fake), cdist(real, fake)
    kth = lambda d, k: np.sort(d, axis=1)[:, k]  # noqa: E731
    r_pr, f_pr, r_dc = kth(rr, k_pr), kth(ff, k_pr), kth(rr, k_dc)
    return dict(
        precision=le(rf, r_pr[:, None]).any(axis=0).mean(),
        recall=le(rf, f_pr[None, :]).any(axis=1).mean(),
        density=le(rf, r_dc[:, None]).sum(axis=0).mean() / k_dc,
        coverage=le(rf.min(axis=1), r_dc).mean(),
    )


def _gauss(n, d, seed, scale=1.0, shift=0.0):
    return np.random.default_rng(seed).standard_normal((n, d)) * scale + shift


# --- k-NN primitives --------------------------------------------------------------------------------
def test_knn_search_matches_cdist():
    x, q = _gauss(300, 20, 0), _gauss(120, 20, 1)
    d, i = knn_search(q, x, 4, block_size=37)
    full = cdist(q, x)
    order = np.argsort(full, axis=1, kind="stable")[:, :4]
    np.testing.assert_array_equal(i, order)
    np.testing.assert_allclose(d, np.take_along_axis(full, order, axis=1), rtol=1e-12, atol=0)


def test_within_set_radii_exclude_the_point_itself_but_count_duplicates():
    x = _gauss(200, 8, 2)
    x[5] = x[6]  # an exact duplicate pair
    r = kth_neighbour_distances(x, 3, block_size=64)
    ref = np.sort(cdist(x, x), axis=1)[:, 3]
    np.testing.assert_allclose(r, ref, rtol=1e-12, atol=0)
    assert kth_neighbour_distances(x, 1)[5] == 0.0  # its duplicate is its nearest other point
    both = kth_neighbour_distances(x, 0, ks=[3, 5])
    np.testing.assert_array_equal(both[3], r)


def test_results_are_identical_for_any_block_size():
    real, fake = _gauss(257, 16, 3), _gauss(190, 16, 4, 1.1, 0.2)
    ref = prdc_score(real, fake, block_size=4096, details=True, compute_dtype="float32")
    for bs, dt in ((1, "float32"), (7, "float32"), (64, "float32"), (256, "float32"), (7, "bfloat16"),
                   (64, "bfloat16")):
        res = prdc_score(real, fake, block_size=bs, details=True, compute_dtype=dt)
        assert res.as_dict() == ref.as_dict()
        np.testing.assert_array_equal(res.real_radii_pr, ref.real_radii_pr)
        np.testing.assert_array_equal(res.fake_density_counts, ref.fake_density_counts)


def test_blocked_pass_never_holds_a_full_distance_matrix():
    real, fake = _gauss(2000, 16, 5), _gauss(2000, 16, 6)
    full_matrix = 2000 * 2000 * 8  # 32 MB
    tracemalloc.start()
    prdc_score(real, fake, block_size=256, compute_dtype="float32")  # numpy tiles (tracemalloc does not see torch's)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < full_matrix / 8  # measured: 2.9 MB (tiles of 256 x 256)


# --- metrics against references ------------------------------------------------------------------
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_prdc_equals_full_matrix_reference(seed):
    real, fake = _gauss(300, 16, seed), _gauss(250, 16, seed + 10, 1.1, 0.2)
    res = prdc_score(real, fake, block_size=64)
    ref = _reference_prdc(real, fake)
    for key, val in ref.items():
        assert getattr(res, key) == pytest.approx(val, abs=1e-12), key


@pytest.mark.parametrize("inclusive", [True, False])
def test_ties_on_discrete_data_follow_the_stated_convention(inclusive):
    """Integer lattice points: many exact distance ties, so <= and < give different values."""
    rng = np.random.default_rng(7)
    real = rng.integers(0, 3, (200, 5)).astype(np.float64)
    fake = rng.integers(0, 3, (150, 5)).astype(np.float32)  # float32 input is accepted as is
    res = prdc_score(real, fake, inclusive=inclusive, block_size=32)
    ref = _reference_prdc(real, fake.astype(np.float64), inclusive=inclusive)
    for key, val in ref.items():
        assert getattr(res, key) == pytest.approx(val, abs=1e-12), key
    if not inclusive:  # the conventions really differ on this data
        incl = prdc_score(real, fake)
        assert incl.precision > res.precision and incl.coverage > res.coverage


def test_float32_products_agree_with_float64():
    real, fake = _gauss(400, 64, 8), _gauss(400, 64, 9, 1.0, 0.1)
    a = prdc_score(real, fake, compute_dtype="float64")
    b = prdc_score(real.astype(np.float32), fake.astype(np.float32), compute_dtype="float32")
    assert a.as_dict() == b.as_dict()


def test_split_functions_agree_with_prdc_and_identical_sets_are_perfect():
    real, fake = _gauss(200, 10, 11), _gauss(180, 10, 12, 1.2)
    both = prdc_score(real, fake)
    pr, dc = precision_recall_score(real, fake), density_coverage_score(real, fake)
    assert (pr.precision, pr.recall) == (both.precision, both.recall) and pr.density is None
    assert (dc.density, dc.coverage) == (both.density, both.coverage) and dc.precision is None
    same = prdc_score(real, real)
    assert same.precision == same.recall == same.coverage == 1.0
    assert same.density >= 1.0  # every real point lies in its own ball and in k others' on average


def test_ball_statistics_counts():
    a, b = _gauss(50, 3, 13), _gauss(40, 3, 14)
    ra, rb = np.full(50, 0.8), np.full(40, 0.5)
    st = ball_statistics(a, b, [ra], [rb], block_size=16)
    d = cdist(a, b)
    np.testing.assert_array_equal(st.b_in_a_counts[0], (d <= 0.8).sum(axis=0))
    np.testing.assert_array_equal(st.a_has_b[0], (d <= 0.8).any(axis=1))
    np.testing.assert_array_equal(st.a_in_b_counts[0], (d <= 0.5).sum(axis=1))


def test_classes_are_batch_size_independent():
    real, fake = _gauss(220, 12, 15), _gauss(210, 12, 16, 1.1)
    for cls, fn in ((PRDC, prdc_score), (PrecisionRecall, precision_recall_score),
                    (DensityCoverage, density_coverage_score)):
        m = cls()
        assert m.higher_is_better is True
        for i in range(0, 220, 50):
            m.update(real[i:i + 50], real=True)
        m.update(fake[:100], real=False)
        res = m.merge(cls().update(fake[100:], real=False)).compute()
        assert res.as_dict() == fn(real, fake).as_dict()


def test_errors_name_the_argument():
    with pytest.raises(InvalidArgumentError, match=r"`k`.*\[1, 3\].*got 5"):
        precision_recall_score(_gauss(10, 2, 0), _gauss(4, 2, 1), k=5)
    with pytest.raises(InvalidArgumentError, match="`k_dc`"):
        prdc_score(_gauss(5, 2, 0), _gauss(50, 2, 1))
    with pytest.raises(InvalidArgumentError, match="`compute_dtype`.*'float64', 'float32'.*got 'float16'"):
        prdc_score(_gauss(20, 2, 0), _gauss(20, 2, 1), compute_dtype="float16")
    with pytest.raises(InvalidArgumentError, match="`block_size`"):
        prdc_score(_gauss(20, 2, 0), _gauss(20, 2, 1), block_size=0)
    with pytest.raises(ShapeMismatchError, match="same feature dimension"):
        prdc_score(_gauss(20, 2, 0), _gauss(20, 3, 1))
    with pytest.raises(InvalidArgumentError, match="update"):
        PRDC().update(_gauss(20, 2, 0), real=True).compute()


def test_results_do_not_depend_on_the_number_of_workers(monkeypatch):
    import gmeval.metrics.image._common as common

    real, fake = _gauss(700, 24, 21), _gauss(650, 24, 22, 1.1, 0.1)
    many = prdc_score(real, fake, block_size=128, details=True)
    monkeypatch.setattr(common, "cpu_workers", lambda n: 1)
    one = prdc_score(real, fake, block_size=128, details=True)
    assert many.as_dict() == one.as_dict()
    np.testing.assert_array_equal(many.real_radii_pr, one.real_radii_pr)  # exact float64 distances either way
    np.testing.assert_array_equal(many.fake_density_counts, one.fake_density_counts)


# --- bfloat16 screening tiles (compute_dtype="bfloat16" / "auto") -------------------------------------
def test_bfloat16_tiles_give_the_exact_values():
    """bfloat16 products only screen: every undecided comparison and every returned radius is recomputed
    in float64, so values and radii equal the float64 route exactly (continuous data, and lattice data
    full of exact ties under both conventions)."""
    real, fake = _gauss(500, 96, 30).astype(np.float32), _gauss(450, 96, 31, 1.05, 0.1).astype(np.float32)
    a = prdc_score(real, fake, compute_dtype="float64", block_size=128, details=True)
    b = prdc_score(real, fake, compute_dtype="bfloat16", block_size=128, details=True)
    assert a.as_dict() == b.as_dict()
    for key in ("real_radii_pr", "fake_radii_pr", "real_radii_dc", "fake_density_counts", "real_covered"):
        np.testing.assert_array_equal(getattr(a, key), getattr(b, key))
    rng = np.random.default_rng(32)
    lat_r, lat_f = rng.integers(0, 3, (200, 5)).astype(np.float64), rng.integers(0, 3, (150, 5)).astype(np.float64)
    for inclusive in (True, False):
        ref = _reference_prdc(lat_r, lat_f, inclusive=inclusive)
        res = prdc_score(lat_r, lat_f, inclusive=inclusive, block_size=32, compute_dtype="bfloat16")
        for key, val in ref.items():
            assert getattr(res, key) == pytest.approx(val, abs=1e-12), key


@pytest.mark.parametrize("compute_dtype", ["bfloat16", "float32"])
def test_rounding_window_bounds_every_tile_entry(compute_dtype):
    """The window the screen relies on really bounds |tile value - distance^2| (against float64 cdist),
    here on features with a large common offset (cancellation) and uneven norms."""
    from gmeval.metrics.image import knn

    rng = np.random.default_rng(33)
    x = (rng.standard_normal((300, 256)) * rng.uniform(0.2, 3.0, (300, 1)) + 5.0).astype(np.float32)
    y = (rng.standard_normal((200, 256)) * rng.uniform(0.2, 3.0, (200, 1)) + 5.2).astype(np.float32)
    X = knn._Shifted(x, x.astype(np.float64).mean(0), compute_dtype, 64)
    Y = knn._Shifted(y, X.shift, compute_dtype, 64)
    d2 = X.sq_dist_tile(0, 300, Y, 0, 200).astype(np.float64)
    true = cdist(x.astype(np.float64), y.astype(np.float64), "sqeuclidean")
    ii, jj = np.meshgrid(np.arange(300), np.arange(200), indexing="ij")
    w = knn.rounding_window(X, ii, Y, jj, d2)
    assert np.all(np.abs(d2 - true) <= w)
    assert np.all(w <= knn.rounding_window(X, ii, Y, jj))  # the value-free bound used for screening masks is wider
    assert np.all(w <= knn._row_window(X, 0, 300, Y, 0, 200)[:, None])  # and so is the per-row one


def test_auto_compute_dtype_follows_the_cpu(monkeypatch):
    import gmeval.features.precision as precision
    from gmeval.metrics.image.knn import resolve_compute_dtype

    monkeypatch.setattr(precision, "available_precisions", lambda device: (("float32", "bf16"), "AMX"))
    assert resolve_compute_dtype("auto") == "bfloat16"
    monkeypatch.setattr(precision, "available_precisions", lambda device: (("float32",), "no bf16"))
    assert resolve_compute_dtype("auto") == "float32"
    assert resolve_compute_dtype("float64") == "float64"
