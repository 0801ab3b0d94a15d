"""Inception Score: analytic cases, a reference computation, shuffling, class.

Tolerances (docs/tolerances.md): exact equalities are B4/B5 (same features, same seed, one process);
`approx`/`allclose` bounds are T1 (float64 formulas on well-conditioned input; each states its value).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import softmax
from scipy.stats import entropy

from gmeval.errors import InvalidArgumentError, ShapeMismatchError
from gmeval.metrics.image import InceptionScore, inception_score


def _reference_is(logits, splits):
    """Straightforward reference: scipy softmax + scipy entropy (KL), consecutive splits, no shuffle."""
    p = softmax(logits.astype(np.float64), axis=1)
    n = len(p)
    scores = []
    for i in range(splits):
        part = p[i * n // splits:(i + 1) * n // splits]
        py = part.mean(axis=0)
        scores.append(np.exp(np.mean([entropy(row, py) for row in part])))
    return np.mean(scores), np.std(scores)


def test_uniform_predictions_give_one():
    res = inception_score(np.zeros((100, 10)))
    assert res.mean == pytest.approx(1.0, abs=1e-12) and res.std == pytest.approx(0.0, abs=1e-12)


def test_confident_and_perfectly_diverse_predictions_give_the_number_of_classes():
    c = 10
    logits = np.full((200, c), -50.0)
    logits[np.arange(200), np.arange(200) % c] = 50.0  # each split of 20 holds every class twice
    res = inception_score(logits, shuffle=False)
    assert res.mean == pytest.approx(c, rel=1e-12) and res.std == pytest.approx(0.0, abs=1e-9)
    # shuffled splits are no longer exactly balanced: strictly between 1 and C
    shuffled = inception_score(logits, shuffle=True, seed=0)
    assert 1.0 < shuffled.mean < c


def test_impossible_classes_contribute_zero_and_infinite_logits_are_rejected():
    logits = np.zeros((20, 3))
    logits[:, 2] = -np.inf  # class 2 impossible: 0 log 0 = 0
    with pytest.raises(InvalidArgumentError, match="finite"):
        inception_score(logits)  # non-finite logits are rejected explicitly
    res = inception_score(np.where(np.isinf(logits), -1e300, logits), splits=2)
    assert np.isfinite(res.mean)


def test_matches_reference_computation_without_shuffle():
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((503, 17)) * 3.0  # N not divisible by splits
    res = inception_score(logits, splits=10, shuffle=False)
    mean, std = _reference_is(logits, 10)
    assert res.mean == pytest.approx(mean, rel=1e-12)
    assert res.std == pytest.approx(std, rel=1e-9)


def test_shuffle_is_seeded_and_is_a_permutation():
    rng = np.random.default_rng(1)
    logits = rng.standard_normal((300, 5)) * 2
    a, b = inception_score(logits, seed=4), inception_score(logits, seed=np.random.default_rng(4))
    assert a.mean == b.mean and a.std == b.std
    perm = np.random.default_rng(4).permutation(300)
    ref_mean, _ = _reference_is(logits[perm], 10)
    assert a.mean == pytest.approx(ref_mean, rel=1e-12)
    assert inception_score(logits, seed=5).mean != a.mean


def test_class_matches_function_and_merges():
    rng = np.random.default_rng(2)
    logits = rng.standard_normal((400, 8)) * 2
    ref = inception_score(logits, splits=5, seed=3)
    m = InceptionScore(splits=5, seed=3)
    assert m.higher_is_better is True
    for i in range(0, 200, 64):
        m.update(logits[i:min(i + 64, 200)])
    other = InceptionScore(splits=5, seed=3).update(logits[200:])
    res = m.merge(other).compute()
    assert res.mean == ref.mean and res.std == ref.std


def test_errors():
    with pytest.raises(InvalidArgumentError, match="`splits`.*at most the number of samples"):
        inception_score(np.zeros((5, 3)), splits=10)
    with pytest.raises(ShapeMismatchError, match="at least 2 classes"):
        inception_score(np.zeros((50, 1)))
    with pytest.raises(InvalidArgumentError, match="`logits`"):
        InceptionScore().compute()
