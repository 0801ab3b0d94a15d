"""HYPE score formulas, bootstrap intervals, agreement and rank correlation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from gmeval.errors import InvalidArgumentError
from gmeval.human.scoring import (HypeInfinity, HypeTime, _replicate_scores, attention_summary, bootstrap_hype_infinity,
                                  bootstrap_mean, fleiss_kappa, hype_infinity_score, hype_time_score, modal_exposure,
                                  pairwise_agreement, parse_metrics, rank_correlation)

# -- HYPE-infinity -------------------------------------------------------------------------------------


def test_hype_infinity_analytic_cases():
    is_fake = np.array([1, 1, 1, 1, 0, 0, 0, 0], bool)
    assert hype_infinity_score(is_fake, is_fake) == 0.0            # always right
    assert hype_infinity_score(is_fake, ~is_fake) == 100.0         # always wrong
    assert hype_infinity_score(is_fake, np.zeros(8, bool)) == 50.0  # always "real": indistinguishable
    assert hype_infinity_score(is_fake, np.ones(8, bool)) == 50.0   # always "fake"
    # one fake of four judged real, reals all right: error rate 1/8 = 12.5%
    said = is_fake.copy()
    said[0] = False
    assert hype_infinity_score(is_fake, said) == pytest.approx(12.5, abs=1e-12)


def test_hype_infinity_is_mean_of_class_error_rates_when_unbalanced():
    is_fake = np.array([1, 1, 0, 0, 0, 0], bool)
    said = np.array([0, 1, 0, 0, 0, 1], bool)  # fake error 1/2, real error 1/4
    assert hype_infinity_score(is_fake, said) == pytest.approx(50 * (0.5 + 0.25), abs=1e-12)


def test_hype_infinity_needs_both_classes():
    with pytest.raises(InvalidArgumentError, match="answers"):
        hype_infinity_score([True, True], [True, False])
    with pytest.raises(InvalidArgumentError, match="is_fake/said_fake"):
        hype_infinity_score([True, False], [True])


def test_hype_infinity_class_is_batch_independent():
    rng = np.random.default_rng(0)
    is_fake = rng.random(1000) < 0.5
    said = rng.random(1000) < 0.3
    m = HypeInfinity()
    for sl in np.array_split(np.arange(1000), 7):
        m.update(is_fake[sl], said[sl])
    assert HypeInfinity.higher_is_better is True
    assert m.compute() == pytest.approx(hype_infinity_score(is_fake, said), abs=1e-12)


def test_guessing_rater_scores_near_fifty():
    rng = np.random.default_rng(1)
    is_fake = np.repeat([True, False], 5000)
    said = rng.random(10000) < 0.5
    assert abs(hype_infinity_score(is_fake, said) - 50.0) < 2.0  # 4 standard errors of 0.5%


# -- bootstrap -----------------------------------------------------------------------------------------


def _synthetic(n_raters=20, n_images=30, fool_fake=None, fool_real=0.1, seed=0):
    """Every rater judges every image; rater i is fooled by fakes with probability fool_fake[i]."""
    rng = np.random.default_rng(seed)
    fool_fake = np.full(n_raters, 0.3) if fool_fake is None else np.asarray(fool_fake)
    rater, image, is_fake, said = [], [], [], []
    for r in range(n_raters):
        for i in range(n_images):
            f = i % 2 == 0
            wrong = rng.random() < (fool_fake[r] if f else fool_real)
            rater.append(r)
            image.append(f"img{i}")
            is_fake.append(f)
            said.append(f != wrong)
    return np.array(rater), np.array(image), np.array(is_fake), np.array(said)


def test_replicate_weights_equal_explicit_resampling():
    """A replicate's weighted score equals the score of the explicitly expanded (duplicated) answers."""
    rater, image, is_fake, said = _synthetic(n_raters=4, n_images=6, seed=3)
    rng = np.random.default_rng(5)
    r_ids, r_idx = np.unique(rater, return_inverse=True)
    f_ids, f_idx = np.unique(image[is_fake], return_inverse=True)
    q_ids, q_idx = np.unique(image[~is_fake], return_inverse=True)
    wrong = (said != is_fake).astype(float)
    for _ in range(5):
        wr = rng.multinomial(4, [0.25] * 4, size=1).astype(float)
        wf = rng.multinomial(len(f_ids), [1 / len(f_ids)] * len(f_ids), size=1).astype(float)
        wq = rng.multinomial(len(q_ids), [1 / len(q_ids)] * len(q_ids), size=1).astype(float)
        got = _replicate_scores(wr, wf, wq, r_idx[is_fake], f_idx, wrong[is_fake], r_idx[~is_fake], q_idx, wrong[~is_fake])[0]
        # explicit: repeat each answer (times its rater drawn) x (times its image drawn)
        rep = []
        fpos = {k: j for j, k in enumerate(f_ids)}
        qpos = {k: j for j, k in enumerate(q_ids)}
        for a in range(len(rater)):
            mult = wr[0, r_idx[a]] * (wf[0, fpos[image[a]]] if is_fake[a] else wq[0, qpos[image[a]]])
            rep += [a] * int(mult)
        rep = np.array(rep, dtype=int)
        if is_fake[rep].any() and (~is_fake[rep]).any():
            assert got == pytest.approx(hype_infinity_score(is_fake[rep], said[rep]), abs=1e-9)
        else:
            assert math.isnan(got)


def test_bootstrap_interval_contains_estimate_and_is_seeded():
    rater, image, is_fake, said = _synthetic()
    est = hype_infinity_score(is_fake, said)
    a = bootstrap_hype_infinity(rater, image, is_fake, said, n_boot=500, seed=7)
    b = bootstrap_hype_infinity(rater, image, is_fake, said, n_boot=500, seed=7)
    c = bootstrap_hype_infinity(rater, image, is_fake, said, n_boot=500, seed=8)
    assert a == b and a != c
    assert a["low"] < est < a["high"]
    assert a["n_valid"] == 500


def test_bootstrap_captures_rater_heterogeneity():
    """Raters who differ (half always fooled, half never) give a much wider interval than
    raters who all behave alike at the same mean, because raters are resampled."""
    het = _synthetic(fool_fake=[1.0] * 10 + [0.0] * 10, fool_real=0.0, n_images=120)
    hom = _synthetic(fool_fake=[0.5] * 20, fool_real=0.0, n_images=120, seed=2)
    w_het = np.subtract(*[bootstrap_hype_infinity(*het, n_boot=400, seed=0)[k] for k in ("high", "low")])
    w_hom = np.subtract(*[bootstrap_hype_infinity(*hom, n_boot=400, seed=0)[k] for k in ("high", "low")])
    assert w_het > 2 * w_hom


def test_bootstrap_interval_narrows_with_more_raters():
    few = _synthetic(n_raters=5, seed=4)
    many = _synthetic(n_raters=80, seed=4)
    w = [np.subtract(*[bootstrap_hype_infinity(*d, n_boot=400, seed=1)[k] for k in ("high", "low")]) for d in (few, many)]
    assert w[1] < w[0] / 2  # 16x the raters: about a quarter of the width expected


def test_bootstrap_argument_errors():
    d = _synthetic(n_raters=3)
    with pytest.raises(InvalidArgumentError, match="n_boot"):
        bootstrap_hype_infinity(*d, n_boot=0)
    with pytest.raises(InvalidArgumentError, match="level"):
        bootstrap_hype_infinity(*d, level=1.5)


def test_bootstrap_mean():
    x = np.arange(100.0)
    ci = bootstrap_mean(x, n_boot=2000, seed=0)
    se = x.std(ddof=1) / 10
    assert ci["low"] < 49.5 < ci["high"]
    assert (ci["high"] - ci["low"]) == pytest.approx(2 * 1.96 * se, rel=0.15)


# -- HYPE-time -----------------------------------------------------------------------------------------


def test_modal_exposure_and_ties():
    assert modal_exposure([500, 450, 450, 400]) == 450
    assert modal_exposure([500, 450, 450, 400, 400]) == 425  # tie: mean of the tied exposures
    with pytest.raises(InvalidArgumentError, match="exposures_ms"):
        modal_exposure([])


def test_hype_time_class_and_function():
    m = HypeTime()
    for ex in ([500, 450, 450], [300, 300, 350], [600]):
        m.update(ex)
    assert m.compute() == pytest.approx((450 + 300 + 600) / 3)
    assert hype_time_score([450, 300, 600]) == m.compute()
    assert HypeTime.higher_is_better is True


# -- agreement -----------------------------------------------------------------------------------------


FLEISS_TABLE = [  # the worked example of Fleiss' kappa (10 subjects, 14 raters, 5 categories): kappa = 0.210
    [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
]


def test_fleiss_kappa_reference_value():
    assert fleiss_kappa(FLEISS_TABLE) == pytest.approx(0.210, abs=5e-4)
    assert pairwise_agreement(FLEISS_TABLE) == pytest.approx(0.378, abs=5e-4)


def test_fleiss_kappa_equals_textbook_formula_for_equal_raters():
    rng = np.random.default_rng(0)
    n = 7
    counts = np.array([rng.multinomial(n, [0.6, 0.4]) for _ in range(40)])
    p_i = ((counts ** 2).sum(1) - n) / (n * (n - 1))
    p_j = counts.sum(0) / counts.sum()
    p_e = (p_j ** 2).sum()
    textbook = (p_i.mean() - p_e) / (1 - p_e)
    assert fleiss_kappa(counts) == pytest.approx(textbook, abs=1e-12)


def test_agreement_extremes():
    assert fleiss_kappa([[3, 0], [0, 3], [3, 0]]) == pytest.approx(1.0)
    assert pairwise_agreement([[3, 0], [0, 3]]) == 1.0
    assert pairwise_agreement([[1, 1], [1, 1]]) == 0.0
    assert math.isnan(fleiss_kappa([[1, 0], [0, 1]]))  # no item with two ratings
    assert math.isnan(fleiss_kappa([[2, 0], [3, 0]]))  # a single category: chance agreement 1


def test_pairwise_agreement_with_varying_raters_counts_every_pair():
    # item 1: 3 raters, 2 agree (2 agreeing ordered pairs of 6); item 2: 2 raters agree (2 of 2)
    assert pairwise_agreement([[2, 1], [0, 2]]) == pytest.approx(4 / 8)


# -- attention and rank correlation ----------------------------------------------------------------------


def test_attention_summary_excludes_below_threshold():
    rows = ([{"rater_id": "a", "phase": "check", "correct": c} for c in (1, 1, 1, 0)] +
            [{"rater_id": "b", "phase": "check", "correct": c} for c in (1, 0, 0, 1)] +
            [{"rater_id": "c", "phase": "scored", "correct": 0}])
    s = attention_summary(rows, 0.75)
    assert (s["a"]["excluded"], s["b"]["excluded"], s["c"]["excluded"]) == (False, True, False)
    assert s["b"]["accuracy"] == 0.5 and s["c"]["accuracy"] is None


def test_rank_correlation_matches_scipy_and_sign_convention():
    human = {"a": 10.0, "b": 25.0, "c": 40.0, "d": 35.0}
    fid = {"a": 90.0, "b": 50.0, "c": 20.0, "d": 30.0}  # lower is better: agreeing ranks -> negative rho
    r = rank_correlation(human, fid)
    h = [human[m] for m in "abcd"]
    f = [fid[m] for m in "abcd"]
    assert r["spearman"]["rho"] == pytest.approx(stats.spearmanr(h, f)[0]) == pytest.approx(-1.0)
    assert r["kendall"]["tau"] == pytest.approx(stats.kendalltau(h, f)[0])
    assert r["n_models"] == 4


def test_rank_correlation_errors():
    with pytest.raises(InvalidArgumentError, match="no value for \\['b'\\]"):
        rank_correlation({"a": 1.0, "b": 2.0}, {"a": 3.0})
    with pytest.raises(InvalidArgumentError, match="at least 2 models"):
        rank_correlation({"a": 1.0}, {"a": 3.0})


def test_parse_metrics_forms():
    assert parse_metrics({"a": 1, "b": 2.5}) == {"metric": {"a": 1.0, "b": 2.5}}
    assert parse_metrics({"fid": {"a": 1, "b": 2}, "kid": {"a": 0.1, "b": 0.2}})["kid"] == {"a": 0.1, "b": 0.2}
    for bad in ([1, 2], {}, {"a": "x"}, {"a": True}, {"a": float("nan")}):
        with pytest.raises(InvalidArgumentError, match="metrics"):
            parse_metrics(bad)
