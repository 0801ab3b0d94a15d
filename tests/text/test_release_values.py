"""Text-metric values and signatures are unchanged from release 0.1.0 on a fixed input (issue 14).

tests/reference/text_human_0.1.0.json was written by tests/reference/make_text_human_values.py on
the 0.1.0 code. Tolerances: see `assert_matches` (exact strings; floats T1).
"""

from __future__ import annotations

import json

import pytest

from tests.reference.make_text_human_values import OUT, assert_matches, text_calls

PINNED = json.loads(OUT.read_text(encoding="utf-8"))["text"]


@pytest.fixture(scope="module")
def current():
    return text_calls()


@pytest.mark.parametrize("call", sorted(PINNED))
def test_text_values_and_signatures_unchanged(current, call):
    assert_matches(PINNED[call], current[call], call)
