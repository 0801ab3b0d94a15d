"""HYPE trial plans and the HYPE-time staircase."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from gmeval.errors import InvalidArgumentError
from gmeval.human.protocol import Pools, Staircase, StaircaseConfig, StudyDesign, plan_trials, staircase_exposures


def test_staircase_steps_down_after_three_correct_and_up_after_one_error():
    cfg = StaircaseConfig(start_ms=500, step_ms=50, min_ms=100, max_ms=1000, down=3, up=1)
    ex = staircase_exposures([True, True, True, True, True, True, False, True], cfg)
    # three correct -> 450; three more -> 400; one error -> 450; then one correct stays
    assert ex == [500, 500, 500, 450, 450, 450, 400, 450, 450]


def test_staircase_clamps_at_both_ends_of_the_ladder():
    cfg = StaircaseConfig(start_ms=200, step_ms=100, min_ms=100, max_ms=300, down=1, up=1)
    assert staircase_exposures([True] * 4, cfg) == [200, 100, 100, 100, 100]
    assert staircase_exposures([False] * 4, cfg) == [200, 300, 300, 300, 300]


def test_staircase_class_matches_function():
    cfg = StaircaseConfig()
    rng = np.random.default_rng(0)
    answers = (rng.random(60) < 0.8).tolist()
    s = Staircase(cfg)
    seen = [s.exposure_ms]
    for a in answers:
        seen.append(s.update(a))
    assert seen == staircase_exposures(answers, cfg)


def test_staircase_target_accuracy_is_levitt_value():
    assert StaircaseConfig(down=3, up=1).target_accuracy == pytest.approx(0.7937, abs=1e-4)
    assert StaircaseConfig(down=2, up=1).target_accuracy == pytest.approx(0.7071, abs=1e-4)
    assert StaircaseConfig(down=2, up=2).target_accuracy is None


def test_staircase_converges_near_the_observers_threshold():
    """A simulated observer whose accuracy rises with exposure: the staircase's modal exposure lands
    where the observer is ~79% correct (3-down/1-up), within two rungs (100 ms)."""
    cfg = StaircaseConfig(start_ms=500, step_ms=50, min_ms=100, max_ms=1000)

    c = 400 - 60 * np.log((0.794 - 0.5) / (1 - 0.794))  # 0.5 + 0.5 * sigmoid((400 - c) / 60) = 0.794

    def p_correct(ms):  # logistic from 50% (chance) to 100%, 79.4% correct at 400 ms
        return 0.5 + 0.5 / (1 + np.exp(-(ms - c) / 60))

    assert p_correct(400) == pytest.approx(0.794, abs=1e-3)
    rng = np.random.default_rng(1)
    modes = []
    for _ in range(40):
        s = Staircase(cfg)
        shown = []
        for _ in range(200):
            shown.append(s.exposure_ms)
            s.update(rng.random() < p_correct(s.exposure_ms))
        vals, counts = np.unique(shown[50:], return_counts=True)
        modes.append(vals[counts.argmax()])
    assert abs(np.mean(modes) - 400) <= 100


@pytest.mark.parametrize("kw, match", [
    (dict(start_ms=130), "start_ms"),
    (dict(step_ms=70), "step_ms"),
    (dict(min_ms=600, max_ms=500), "min_ms"),
    (dict(down=0), "down"),
])
def test_staircase_config_validation(kw, match):
    with pytest.raises(InvalidArgumentError, match=match):
        StaircaseConfig(**kw)


def _pools(design: StudyDesign) -> Pools:
    m = design.models
    return Pools(real=[f"r{i}" for i in range(design.n_real_pool)],
                 fake={k: [f"{k}{i}" for i in range(design.pool_size)] for k in m},
                 tutorial_real=[f"tr{i}" for i in range(design.n_tutorial_real)],
                 tutorial_fake={k: [f"t{k}{i}" for i in range(-(-design.n_tutorial_fake // len(m)))] for k in m},
                 noise=[f"n{i}" for i in range(design.n_check_noise)],
                 check_real=[f"cr{i}" for i in range(design.n_check_real)])


def test_plan_is_balanced_and_ordered():
    d = StudyDesign("hype-inf", ("a", "b"), per_model=10, pool_size=30, n_tutorial=6, n_checks=4, seed=3)
    plan = plan_trials(d, _pools(d), np.random.default_rng(7))
    assert len(plan) == d.trials_per_rater == 6 + 40 + 4
    phases = [t.phase for t in plan]
    assert phases[:6] == ["tutorial"] * 6 and "tutorial" not in phases[6:]
    assert phases[6] == "scored"  # an attention check is never the first scored trial
    scored = [t for t in plan if t.phase == "scored"]
    per = Counter((t.stream, t.truth) for t in scored)
    assert per == {("a", "fake"): 10, ("a", "real"): 10, ("b", "fake"): 10, ("b", "real"): 10}
    assert len({t.image_id for t in scored}) == 40  # every scored image at most once per rater
    assert all(t.image_id.startswith(t.stream) for t in scored if t.truth == "fake")
    tut = [t for t in plan if t.phase == "tutorial"]
    assert Counter(t.truth for t in tut) == {"real": 3, "fake": 3}
    checks = [t for t in plan if t.phase == "check"]
    assert Counter(t.truth for t in checks) == {"fake": 2, "real": 2}
    assert all(t.image_id.startswith("n") for t in checks if t.truth == "fake")
    # real attention checks are fresh: from their own pool, never in the tutorial nor among scored trials
    real_checks = {t.image_id for t in checks if t.truth == "real"}
    assert real_checks == {"cr0", "cr1"}
    assert not real_checks & {t.image_id for t in tut + scored}
    assert all(t.exposure_ms is None for t in plan)


def test_plan_is_seeded():
    d = StudyDesign("hype-inf", ("a",), per_model=10, pool_size=20)
    p1 = plan_trials(d, _pools(d), np.random.default_rng(11))
    p2 = plan_trials(d, _pools(d), np.random.default_rng(11))
    p3 = plan_trials(d, _pools(d), np.random.default_rng(12))
    assert p1 == p2
    assert [t.image_id for t in p1] != [t.image_id for t in p3]


def test_hype_time_plan_fixes_only_tutorial_exposures():
    """Scored trials and checks get their exposure when served (staircase; a check copies it)."""
    d = StudyDesign("hype-time", ("a",), per_model=5, pool_size=5, n_tutorial=2, n_checks=2)
    plan = plan_trials(d, _pools(d), np.random.default_rng(0))
    for t in plan:
        assert t.exposure_ms == (d.staircase.start_ms if t.phase == "tutorial" else None)


def test_checks_without_tutorial_still_have_both_answers():
    d = StudyDesign("hype-inf", ("a",), per_model=3, pool_size=3, n_tutorial=0, n_checks=3)
    plan = plan_trials(d, _pools(d), np.random.default_rng(0))
    checks = [t for t in plan if t.phase == "check"]
    assert sorted(t.truth for t in checks) == ["fake", "fake", "real"]


@pytest.mark.parametrize("kw, match", [
    (dict(protocol="hype-xyz"), "protocol"),
    (dict(models=()), "models"),
    (dict(models=("a", "a")), "models"),
    (dict(models=("real",)), "models"),
    (dict(per_model=20, pool_size=10), "per_model"),
    (dict(n_checks=-1), "n_checks"),
    (dict(min_attention_accuracy=1.5), "min_attention_accuracy"),
])
def test_design_validation(kw, match):
    args = dict(protocol="hype-inf", models=("a",), per_model=5, pool_size=10)
    args.update(kw)
    with pytest.raises(InvalidArgumentError, match=match):
        StudyDesign(**args)


def test_design_roundtrips_through_dict():
    d = StudyDesign("hype-time", ("a", "b"), staircase=StaircaseConfig(start_ms=400, step_ms=100, max_ms=900))
    assert StudyDesign.from_dict(d.to_dict()) == d
