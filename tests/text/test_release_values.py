"""Text-metric values and signatures are unchanged from release 0.1.0 on a fixed input (issue 14).

tests/reference/text_human_0.1.0.json was written by tests/reference/make_text_human_values.py on
the 0.1.0 code. Since then each metric's entry is a `Score.to_dict()`: the headline number moved to
``"value"`` (the renames are listed in MOVED), every other field and every signature string is the
same. Tolerances: see `assert_matches` (exact strings; floats T1).
"""

from __future__ import annotations

import json

import pytest

from gmeval.metrics.text import TEXT_METRICS
from tests.reference.make_text_human_values import OUT, assert_matches, moved, text_calls

PINNED = json.loads(OUT.read_text(encoding="utf-8"))["text"]
#: release 0.1.0 key -> key now, per metric
MOVED = {"bleu": {"score": "value"}, "self-bleu": {"score": "value"}, "mauve": {"score": "value"},
         "fd": {"distance": "value"}, "distinct": {"repetition": {"seq-rep-4": "value"}}}
#: headline values that were sub-scores in release 0.1.0
HEADLINE = {"rouge": ("scores", "rougeL", "fmeasure"), "distinct": ("scores", "distinct-2")}


@pytest.fixture(scope="module")
def current():
    return text_calls()


@pytest.mark.parametrize("call", sorted(PINNED))
def test_text_values_and_signatures_unchanged(current, call):
    old, new = PINNED[call], current[call]
    assert set(new["metrics"]) == set(old["metrics"])
    for name, entry in old["metrics"].items():
        assert_matches(moved(entry, MOVED.get(name, {})), new["metrics"][name], f"{call}/{name}")
    assert_matches({k: v for k, v in old.items() if k != "metrics"}, new, call)


@pytest.mark.parametrize("call", sorted(PINNED))
def test_every_entry_is_a_score_with_the_registry_direction(current, call):
    for name, entry in current[call]["metrics"].items():
        assert list(entry)[:3] == ["value", "higher_is_better", "signature"]
        assert entry["higher_is_better"] is TEXT_METRICS[name].higher_is_better
        assert entry["signature"] == PINNED[call]["metrics"][name]["signature"]
        if name in HEADLINE:
            old = PINNED[call]["metrics"][name]
            for key in HEADLINE[name]:
                old = old[key]
            assert entry["value"] == old and entry["headline"] == " ".join(HEADLINE[name][1:])
