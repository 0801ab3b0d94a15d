"""MAUVE: analytic cases of the frontier formula, behaviour on synthetic features, and the real encoder.

Tolerances (docs/tolerances.md): exact equalities are B5 (deterministic code on the same input);
float64 comparisons are T1; encoder outputs across batch sizes are T3.
"""

import math

import numpy as np
import pytest

from gmeval.errors import InvalidArgumentError, ShapeMismatchError
from gmeval.metrics.text import MAUVE, divergence_curve, mauve_from_features, mauve_from_histograms, mauve_score

from .conftest import needs_minilm, topic_sentences


# -- the formula on histograms --------------------------------------------------------------------
def test_identical_histograms_give_one():
    p = np.array([0.1, 0.2, 0.3, 0.4])
    assert mauve_from_histograms(p, p) == pytest.approx(1.0, abs=1e-12)
    assert mauve_from_histograms([3, 1], [6, 2]) == pytest.approx(1.0, abs=1e-12)  # counts are normalised


def test_disjoint_supports_analytic_area():
    # p, q disjoint: KL(q|R) = -log(1 - lambda), KL(p|R) = -log(lambda), so the frontier is
    # x = (1 - lambda)^c, y = lambda^c and its area is  int_0^1 (1 - x^(1/c))^c dx = (c!)^2 / (2c)!
    for c in (1, 2, 5):
        exact = math.factorial(c) ** 2 / math.factorial(2 * c)
        assert mauve_from_histograms([1, 0], [0, 1], scaling=c, num_mixtures=4001) == pytest.approx(exact, rel=1e-5)
    # with c = 1 the frontier is the straight line x + y = 1: exact for any grid
    assert mauve_from_histograms([1, 0], [0, 1], scaling=1, num_mixtures=25) == pytest.approx(0.5, abs=1e-12)


def test_symmetry_range_and_curve_shape():
    rng = np.random.default_rng(0)
    for _ in range(10):
        p, q = rng.dirichlet(np.ones(8)), rng.dirichlet(np.ones(8))
        a, b = mauve_from_histograms(p, q), mauve_from_histograms(q, p)
        assert a == pytest.approx(b, abs=1e-12) and 0 < a < 1
    curve = divergence_curve([0.5, 0.5], [0.9, 0.1], num_mixtures=25)
    assert curve.shape == (27, 2)  # 25 mixtures + the closing points (0, 1) and (1, 0)
    assert np.all(np.diff(curve[:, 0]) >= 0) and np.all((curve >= 0) & (curve <= 1))


def test_larger_gap_lower_mauve():
    p = np.array([0.25, 0.25, 0.25, 0.25])
    values = [mauve_from_histograms(p, q) for q in ([0.3, 0.2, 0.25, 0.25], [0.5, 0.1, 0.2, 0.2], [0.85, 0.05, 0.05, 0.05])]
    assert values[0] > values[1] > values[2]


# -- features -> quantisation -> MAUVE ------------------------------------------------------------
def _gauss(n, d, shift, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d))
    x[:, 0] += shift
    return x


def test_same_distribution_near_one_shifted_clearly_lower():
    p = _gauss(500, 16, 0.0, 1)
    same = mauve_from_features(p, _gauss(500, 16, 0.0, 2), seed=0)
    small = mauve_from_features(p, _gauss(500, 16, 1.0, 3), seed=0)
    large = mauve_from_features(p, _gauss(500, 16, 3.0, 4), seed=0)
    assert same.score > 0.9
    assert large.score < 0.3 < same.score
    assert same.score > small.score > large.score
    assert same.num_clusters == 50  # n / 10
    assert 1 <= same.pca_components <= 16
    assert "kmeans:k=50" in same.signature and "c:5" in same.signature


def test_seeded_and_spread_over_seeds():
    p, q = _gauss(300, 8, 0.0, 5), _gauss(300, 8, 0.5, 6)
    a = mauve_from_features(p, q, seed=123, num_seeds=3)
    b = mauve_from_features(p, q, seed=123, num_seeds=3)
    assert a.scores == b.scores and a.seeds == b.seeds  # reproducible
    assert len(a.scores) == 3 and len(set(a.seeds)) == 3
    assert a.score == pytest.approx(np.mean(a.scores)) and a.std == pytest.approx(np.std(a.scores, ddof=1))
    single = mauve_from_features(p, q, seed=123)
    assert single.std is None and single.scores == a.scores[:1]
    g = mauve_from_features(p, q, seed=np.random.default_rng(123))  # a Generator object works too
    assert g.seeds == single.seeds
    d = a.to_dict()
    assert d["std"] == a.std and d["seeds"] == list(a.seeds) and "divergence_curve" not in d


def test_class_and_text_level_function_with_features():
    p, q = _gauss(200, 8, 0.0, 7), _gauss(200, 8, 0.0, 8)
    m = MAUVE(seed=1)
    assert m.higher_is_better is True
    m.update(hyp_features=q[:100], ref_features=p[:50]).update(hyp_features=q[100:]).update(ref_features=p[50:])
    r = m.compute()
    assert r.score == mauve_score(hyp_features=q, ref_features=p, seed=1).score
    assert r.n_p == 200 and r.n_q == 200


def test_bad_mauve_inputs():
    p = _gauss(50, 4, 0, 0)
    with pytest.raises(ShapeMismatchError, match="same dimension"):
        mauve_from_features(p, _gauss(50, 5, 0, 0))
    with pytest.raises(InvalidArgumentError, match="at least 2 samples"):
        mauve_from_features(p, p[:1])
    with pytest.raises(InvalidArgumentError, match=r"`num_clusters` must be 'auto' or an integer in \[2, 100\]"):
        mauve_from_features(p, p, num_clusters=1000)
    with pytest.raises(InvalidArgumentError, match="finite"):
        mauve_from_features(p, np.full((50, 4), np.nan))
    with pytest.raises(InvalidArgumentError, match="exactly one of `hypotheses`"):
        mauve_score(["a", "b"], hyp_features=p, ref_features=p)
    with pytest.raises(InvalidArgumentError, match="options"):
        mauve_score(hyp_features=p, ref_features=p, n_clusters=5)


# -- the real offline encoder ---------------------------------------------------------------------
@needs_minilm
def test_real_encoder_same_topic_near_one_other_topic_low(minilm):
    human = topic_sentences("food", 60, seed=10)
    same = topic_sentences("food", 60, seed=11)
    other = topic_sentences("sport", 60, seed=12)
    a = mauve_score(same, human, encoder=minilm, num_seeds=2)
    b = mauve_score(other, human, encoder=minilm, num_seeds=2)
    assert a.score > 0.85
    assert b.score < 0.3
    assert "encoder:all-MiniLM-L6-v2|sha256:" in a.signature
