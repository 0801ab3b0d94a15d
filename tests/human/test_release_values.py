"""HYPE scores and the study signature are unchanged from release 0.1.0 on fixed answers (issue 14).

tests/reference/text_human_0.1.0.json was written by tests/reference/make_text_human_values.py on
the 0.1.0 code. Since then each per-model score is a `Score.to_dict()`: the number moved from
``"score"`` to ``"value"`` and the study's signature was added beside it; every other field and the
study signature string are the same. Tolerances: see `assert_matches` (exact strings; floats T1).
"""

from __future__ import annotations

import json
import warnings

import pytest

from tests.reference.make_text_human_values import OUT, assert_matches, human_calls, moved

PINNED = json.loads(OUT.read_text(encoding="utf-8"))["human"]
SCORES = ("hype_inf", "time_limited_error", "hype_time")


@pytest.fixture(scope="module")
def current():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy: Spearman's rho of two models (p-value undefined)
        return human_calls()


@pytest.mark.parametrize("protocol", sorted(PINNED))
def test_human_scores_and_signature_unchanged(current, protocol):
    old, new = PINNED[protocol], current[protocol]
    renames = {"models": {m: {k: {"score": "value"} for k in SCORES} for m in old["models"]}}
    assert_matches(moved(old, renames), new, protocol)


@pytest.mark.parametrize("protocol", sorted(PINNED))
def test_every_model_score_has_the_score_shape(current, protocol):
    res = current[protocol]
    found = [e[k] for e in res["models"].values() for k in SCORES if e.get(k)]
    assert len(found) == 2 * (2 if protocol == "hype-time" else 1)
    for s in found:
        assert list(s)[:3] == ["value", "higher_is_better", "signature"] and "score" not in s
        assert s["signature"] == res["signature"] and s["higher_is_better"] is True
