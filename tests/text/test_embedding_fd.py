"""Embedding Frechet distance: analytic cases, a reference computation, streaming, the real encoder.

Tolerances (docs/tolerances.md): exact equalities are B5 (deterministic code on the same input);
float64 comparisons are T1; encoder outputs across batch sizes are T3.
"""

import numpy as np
import pytest
from scipy import linalg

from gmeval.errors import InvalidArgumentError, ShapeMismatchError
from gmeval.metrics.text import EmbeddingFrechetDistance, embedding_frechet_distance, frechet_distance_from_features

from .conftest import needs_minilm, topic_sentences


def _feats(n, d, seed, shift=0.0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)) @ rng.normal(size=(d, d)) * 0.3 + shift


def test_identical_sets_give_zero():
    x = _feats(400, 16, 0)
    assert frechet_distance_from_features(x, x) == pytest.approx(0.0, abs=1e-9)
    r = embedding_frechet_distance(hyp_features=x, ref_features=x.copy())
    assert r.distance == pytest.approx(0.0, abs=1e-9) and r.n_hypotheses == r.n_references == 400 and r.dim == 16


def test_against_a_scipy_sqrtm_reference_and_pure_shift():
    a, b = _feats(500, 8, 1), _feats(300, 8, 2, shift=0.7)
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = linalg.sqrtm(s1 @ s2).real
    ref = float((mu1 - mu2) @ (mu1 - mu2) + np.trace(s1 + s2 - 2 * covmean))
    assert frechet_distance_from_features(b, a) == pytest.approx(ref, rel=1e-7)
    # equal covariances (same points, shifted): FD = |mu1 - mu2|^2
    shift = np.array([0.5, -1.0, 0, 0, 0, 0, 0, 2.0])
    assert frechet_distance_from_features(a + shift, a) == pytest.approx(float(shift @ shift), rel=1e-7)


def test_streaming_batches_equal_one_shot_and_class_contract():
    a, b = _feats(600, 12, 3), _feats(500, 12, 4, shift=0.2)
    m = EmbeddingFrechetDistance()
    assert m.higher_is_better is False
    for i in range(0, 600, 128):
        m.update(hyp_features=a[i:i + 128])
    for i in range(0, 500, 97):
        m.update(ref_features=b[i:i + 97])
    streamed = m.compute()
    assert streamed.distance == pytest.approx(frechet_distance_from_features(a, b), rel=1e-9)
    assert "cov:n-1|n_hyp:600|n_ref:500" in streamed.signature
    m.reset()
    with pytest.raises(InvalidArgumentError, match="at least 2 embedded sentences"):
        m.compute()


def test_bad_fd_inputs():
    with pytest.raises(ShapeMismatchError, match="dimension"):
        embedding_frechet_distance(hyp_features=_feats(20, 4, 0), ref_features=_feats(20, 5, 0))
    with pytest.raises(ShapeMismatchError, match="N x D"):
        embedding_frechet_distance(hyp_features=np.zeros(5), ref_features=np.zeros((5, 1)))
    with pytest.raises(InvalidArgumentError, match="exactly one of `references`"):
        embedding_frechet_distance(hyp_features=_feats(20, 4, 0))
    with pytest.raises(InvalidArgumentError, match="encoder"):
        embedding_frechet_distance(["a", "b"], ["c", "d"], encoder=42)


@needs_minilm
def test_real_encoder_identical_texts_zero_and_topic_gap(minilm):
    food = topic_sentences("food", 40, seed=1)
    sport = topic_sentences("sport", 40, seed=2)
    with pytest.warns(RuntimeWarning, match="N=40 samples for D=384"):
        same = embedding_frechet_distance(food, list(food), encoder=minilm)
    assert same.distance == pytest.approx(0.0, abs=1e-6)
    assert same.dim == 384 and "encoder:all-MiniLM-L6-v2|sha256:" in same.signature
    with pytest.warns(RuntimeWarning):
        gap = embedding_frechet_distance(sport, food, encoder=minilm)
    assert gap.distance > 0.3
