"""Pin the text-metric and human-score outputs of release 0.1.0 on a fixed input
(tests/text/test_release_values.py, tests/human/test_release_values.py).

Run once on the release being pinned, from the repository root:

    PYTHONPATH=src python tests/reference/make_text_human_values.py   # writes tests/reference/text_human_0.1.0.json

The input needs no downloaded asset and no encoder: fixed sentences (English with two reference
streams, Chinese with one), seeded Gaussian "embeddings" for MAUVE and FD, and synthetic answer
rows of a HYPE-infinity and a HYPE-time study (one rater excluded by the attention checks). The
whole JSON output of `evaluate_text` and `score_answers` is stored, in the shape of that release.
"""

from __future__ import annotations

import json
import platform
from pathlib import Path

OUT = Path(__file__).with_name("text_human_0.1.0.json")

SYS = ["The dog bit the man.", "It wasn't surprising.", "The man had just bitten him.", "The dog bit the man."]
REF1 = ["The dog bit the man.", "It was not unexpected.", "The man bit him first.", "A dog bit a man today."]
REF2 = ["The dog had bit the man.", "No one was surprised.", "The man had bitten the dog.", "The man was bitten."]
ZH_SYS = ["猫坐在垫子上", "今天天气很好", "我们明天去公园"]
ZH_REF = ["猫在垫子上坐着", "今天的天气很好", "明天我们去公园玩"]
TEXT_METRICS = ("bleu", "rouge", "self-bleu", "distinct", "mauve", "fd")


def text_calls() -> dict:
    """name -> the result of one `evaluate_text` call on the fixed input."""
    import numpy as np

    from gmeval.metrics.text import evaluate_text

    rng = np.random.default_rng(0)
    hf, rf = rng.normal(size=(40, 8)), rng.normal(0.3, 1.0, size=(50, 8))
    return {
        "en": evaluate_text(SYS, [REF1, REF2], list(TEXT_METRICS), hyp_features=hf, ref_features=rf, seed=1,
                            mauve_seeds=2, mauve_clusters=4),
        "zh": evaluate_text(ZH_SYS, [ZH_REF], ["bleu", "rouge", "self-bleu", "distinct"], lang="zh", lowercase=True),
    }


def _answers(protocol: str) -> list[dict]:
    """Answer rows as `Store.answers` returns them: 3 raters, 2 models, 2 attention checks each;
    rater 3 fails both checks (excluded); each rater sees every image of a model once."""
    import numpy as np

    rng = np.random.default_rng(7)
    rows = []
    for serial in (1, 2, 3):
        rid = f"rater{serial}"
        pos = 0

        def add(phase, stream, truth, image, response, exposure):
            nonlocal pos
            rows.append({"rater_id": rid, "rater_serial": serial, "nickname": f"n{serial}", "participant_id": None,
                         "phase": phase, "stream": stream, "truth": truth, "image_id": image, "response": response,
                         "correct": int(response == truth), "position": pos, "exposure_ms": exposure})
            pos += 1

        for k, truth in enumerate(("fake", "real")):
            add("check", None, truth, f"check{k}", truth if serial != 3 else ("real" if truth == "fake" else "fake"), None)
        for model, p_fooled, start_ms in (("gan-a", 0.7, 500.0), ("gan-b", 0.1, 350.0)):
            ladder = [start_ms + 50.0 * serial + d for d in (0, -50, -50, -100, -50, 0)]  # mode: start + 50 serial - 50
            for i in range(6):
                truth = "fake" if i % 2 == 0 else "real"
                wrong = rng.random() < (p_fooled if truth == "fake" else 0.1)
                response = ("real" if truth == "fake" else "fake") if wrong else truth
                add("scored", model, truth, f"{model}-{truth}{i // 2}" if truth == "fake" else f"real{i // 2}",
                    response, ladder[i] if protocol == "hype-time" else None)
    return rows


def human_calls() -> dict:
    """protocol -> the result of `score_answers` on the fixed answers (200 bootstrap replicates, seed 3)."""
    from gmeval.human.protocol import StudyDesign
    from gmeval.human.scoring import score_answers

    out = {}
    for protocol in ("hype-inf", "hype-time"):
        design = StudyDesign(protocol, ("gan-a", "gan-b"), per_model=3, pool_size=3, n_tutorial=0, n_checks=2)
        out[protocol] = score_answers(_answers(protocol), design, n_boot=200, seed=3,
                                      metrics={"fid": {"gan-a": 20.0, "gan-b": 35.0}})
    return out


def main() -> None:
    import gmeval

    out = {"gmeval_version": gmeval.__version__, "machine": platform.processor() or platform.machine(),
           "text": text_calls(), "human": human_calls()}
    OUT.write_text(json.dumps(out, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()


def assert_matches(pinned, current, path: str = "") -> None:
    """Every field of `pinned` is in `current` with the same value (new fields are allowed).

    Strings (signatures), integers, booleans and None must be equal. Floats agree to 1e-9 relative
    (tests/tolerances.py T1): BLEU, ROUGE and the distinct counts are exact Python arithmetic, but
    MAUVE's PCA and k-means, FD's matrix square root and the bootstrap's matrix products run in
    BLAS, whose float64 kernels may round differently on another CPU.
    """
    import math

    if isinstance(pinned, dict):
        assert isinstance(current, dict), f"{path}: {current!r} is not an object"
        missing = sorted(set(pinned) - set(current))
        assert not missing, f"{path}: fields {missing} are gone"
        for k, v in pinned.items():
            assert_matches(v, current[k], f"{path}/{k}")
    elif isinstance(pinned, list):
        assert isinstance(current, (list, tuple)) and len(current) == len(pinned), f"{path}: {current!r}"
        for i, (a, b) in enumerate(zip(pinned, current)):
            assert_matches(a, b, f"{path}[{i}]")
    elif isinstance(pinned, float):
        assert isinstance(current, (int, float)) and not isinstance(current, bool), f"{path}: {current!r}"
        assert math.isclose(current, pinned, rel_tol=1e-9, abs_tol=1e-12), f"{path}: {current!r} != {pinned!r}"
    else:
        assert current == pinned and type(current) is type(pinned), f"{path}: {current!r} != {pinned!r}"


def moved(pinned, renames: dict):
    """`pinned` with keys renamed as in the release after it: ``renames`` maps an old key to its new
    key, or to a dict of renames inside that key's object."""
    out = {}
    for k, v in pinned.items():
        r = renames.get(k)
        if isinstance(r, dict):
            out[k] = moved(v, r) if isinstance(v, dict) else v
        else:
            out[r or k] = v
    return out
