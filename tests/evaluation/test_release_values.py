"""Values and signatures are unchanged from release 0.1.0 on a fixed input (issue 14).

tests/reference/release_0.1.0.json was written by tests/reference/make_release_values.py on the
0.1.0 code (before the metric engine was rebuilt). Signatures must match exactly (they are strings
of the inputs and parameters). Values cross CPUs and kernel paths, so each kind of value gets the
tolerance row of tests/tolerances.py that covers it:
- FID, KID, FID-inf, IS, IS-inf and their intervals: T4 (FID_F32_RTOL of the value's scale);
- counts of samples (precision, recall, density, coverage, mode shares, C2ST accuracy, near-copy
  share): T5, at most PRDC_FLIPS samples on the other side of a boundary, i.e. PRDC_FLIPS / n
  (density counts balls, up to k = 5 per flipped sample);
- the C2ST p-value is a function of the accuracy: equal when the accuracy is equal.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gmeval.evaluation import evaluate
from tests.reference.make_release_values import CALL, OUT
from tests.tolerances import FID_F32_RTOL, PRDC_FLIPS

PINNED = json.loads(Path(OUT).read_text())
COUNT_SHARES = {"precision": CALL["n"], "recall": CALL["n_real"], "coverage": CALL["n_real"],
                "density": CALL["n"] / 5, "confident_share": CALL["n"], "c2st_accuracy": CALL["n"] + CALL["n_real"],
                "near_copy_share": CALL["n"], "modes_covered": 1 / 1, "kl_fake_real": CALL["n"] / 10}


@pytest.fixture(scope="module")
def current():
    args = dict(CALL)
    r = evaluate(args.pop("real"), args.pop("fake"), args.pop("metrics"), progress=False, **args)
    return r.to_json()["metrics"]


def test_same_value_names(current):
    assert set(current) == set(PINNED["metrics"])


@pytest.mark.parametrize("name", sorted(PINNED["metrics"]))
def test_signature_and_value_unchanged(current, name):
    old, new = PINNED["metrics"][name], current[name]
    assert new["signature"] == old["signature"]
    for field in ("value", "ci_low", "ci_high", "ci_std"):
        if field not in old:
            assert field not in new
            continue
        a, b = old[field], new[field]
        if name == "c2st_p_value":
            if current["c2st_accuracy"]["value"] == PINNED["metrics"]["c2st_accuracy"]["value"]:
                assert b == pytest.approx(a, rel=1e-9)
        elif name in COUNT_SHARES:  # T5
            assert abs(b - a) <= PRDC_FLIPS / COUNT_SHARES[name] + 1e-12, (field, a, b)
        else:  # T4, relative to the value's scale (fit bounds and slopes can sit near 0)
            scale = max(abs(old["value"]), abs(a), 1.0)
            assert abs(b - a) <= FID_F32_RTOL * scale, (field, a, b)
