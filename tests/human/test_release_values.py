"""HYPE scores and the study signature are unchanged from release 0.1.0 on fixed answers (issue 14).

tests/reference/text_human_0.1.0.json was written by tests/reference/make_text_human_values.py on
the 0.1.0 code. Tolerances: see `assert_matches` (exact strings; floats T1).
"""

from __future__ import annotations

import json
import warnings

import pytest

from tests.reference.make_text_human_values import OUT, assert_matches, human_calls

PINNED = json.loads(OUT.read_text(encoding="utf-8"))["human"]


@pytest.fixture(scope="module")
def current():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy: Spearman's rho of two models (p-value undefined)
        return human_calls()


@pytest.mark.parametrize("protocol", sorted(PINNED))
def test_human_scores_and_signature_unchanged(current, protocol):
    assert_matches(PINNED[protocol], current[protocol], protocol)
