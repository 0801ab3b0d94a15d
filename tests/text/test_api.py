"""The public API: every exported name resolves, the CLI's import stays light, evaluate_text options.

Tolerances (docs/tolerances.md): exact equalities are B5 (deterministic code on the same input);
float64 comparisons are T1; encoder outputs across batch sizes are T3.
"""

import subprocess
import sys

import numpy as np
import pytest

import gmeval.metrics.text as text
from gmeval.errors import InvalidArgumentError


def test_every_exported_name_resolves_and_classes_declare_direction():
    for name in text.__all__:
        assert getattr(text, name) is not None, name
    assert callable(text.self_bleu)  # the function, not the submodule of the same name
    for cls, hib in ((text.BLEU, True), (text.ROUGE, True), (text.SelfBLEU, False), (text.DistinctN, True),
                     (text.Repetition, False), (text.MAUVE, True), (text.EmbeddingFrechetDistance, False)):
        assert cls.higher_is_better is hib
        assert all(callable(getattr(cls, m)) for m in ("update", "compute", "reset"))
    for name, spec in text.TEXT_METRICS.items():
        assert spec.name == name


def test_cli_registration_does_not_import_heavy_libraries():
    code = "import sys, gmeval.cli.text; print(sorted(m for m in ('numpy', 'scipy', 'sacrebleu', 'torch') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"


def test_evaluate_text_with_given_features_and_errors():
    rng = np.random.default_rng(0)
    hf, rf = rng.normal(size=(60, 8)), rng.normal(size=(80, 8))
    hyps = [f"sentence number {i}" for i in range(60)]
    res = text.evaluate_text(hyps, None, "mauve,fd,distinct", hyp_features=hf, ref_features=rf, seed=1, mauve_seeds=2)
    assert res["metrics"]["mauve"]["n_hypotheses"] == 60 and res["metrics"]["mauve"]["n_references"] == 80
    assert "features:given" in res["metrics"]["fd"]["signature"]
    assert res["metrics"]["fd"]["distance"] == pytest.approx(text.frechet_distance_from_features(hf, rf))
    with pytest.raises(InvalidArgumentError, match="`metrics` must be one of"):
        text.evaluate_text(hyps, None, "bleu,bertscore")
    with pytest.raises(InvalidArgumentError, match=r"reference text for the metrics \['rouge'\]"):
        text.evaluate_text(hyps, None, ["rouge"])
    with pytest.raises(InvalidArgumentError, match="self-bleu"):
        text.evaluate_text(["only one"], None, ["self-bleu"])


def test_language_codes_with_subtags_use_the_primary_language():
    assert text.distinct_n(["我爱猫"], 1, lang="zh-Hant").signature == "distinct|tok:zh|case:mixed"
    assert "tok:unicode-chars" in text.rouge_score(["แมว"], ["แมว"], lang="th-TH").signature
    with pytest.raises(InvalidArgumentError, match="`lang` must be an ISO 639 code"):
        text.distinct_n(["a"], 1, lang="zh_CN")
