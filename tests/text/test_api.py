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
    assert res["metrics"]["fd"]["value"] == pytest.approx(text.frechet_distance_from_features(hf, rf))
    with pytest.raises(InvalidArgumentError, match=r"`metrics` must be names from \['all', 'bleu', .*got 'bertscore'"):
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


def test_registry_has_the_shared_shape_and_dispatches_every_metric():
    from gmeval.metrics.score import Registry, Score

    assert isinstance(text.TEXT_METRICS, Registry)
    assert text.parse_metrics("all") == tuple(text.TEXT_METRICS) == ("bleu", "rouge", "self-bleu", "distinct", "mauve", "fd")
    assert text.parse_metrics(" rouge, bleu,rouge ") == ("rouge", "bleu")
    rng = np.random.default_rng(1)
    ctx = text.TextContext(["a cat sat", "a dog ran", "the cat ran"], [["a cat sat", "a dog sat", "cats ran"]], "en",
                           "13a", False, hyp_features=rng.normal(size=(30, 4)), ref_features=rng.normal(size=(30, 4)))
    for name, spec in text.TEXT_METRICS.items():
        score = spec.compute(ctx)
        assert isinstance(score, Score) and score.name == name and score.higher_is_better is spec.higher_is_better
        assert isinstance(score.value, float) and str(score.signature)


def test_results_export_the_score_shape_with_parsable_signatures():
    from gmeval.metrics.score import Signature

    hyps, refs = ["the cat sat on the mat", "a dog ran home"], ["the cat is on the mat", "a dog ran away"]
    b = text.bleu_score(hyps, refs)
    d = b.to_dict()
    assert d == b.to_score().to_dict() and d["value"] == b.score and "score" not in d
    assert d["signature"] == b.signature and d["counts"] == list(b.counts)
    sig = b.to_score().signature  # sacreBLEU's headless signature, as a Signature with a short form
    assert isinstance(sig, Signature) and sig.get("tok") == "13a" and sig.format(short=True).startswith("nre:1|cas:mixed|")
    r = text.rouge_score(hyps, refs, rouge_types=["rouge2", "rouge1"])
    assert r.to_dict()["value"] == r.fmeasure("rouge2") and r.to_dict()["headline"] == "rouge2 fmeasure"
    assert text.rouge_score(hyps, refs).to_dict()["value"] == text.rouge_score(hyps, refs).fmeasure("rougeL")
    s = text.self_bleu(hyps + ["the cat sat"], return_per_sentence=True).to_dict()
    assert s["higher_is_better"] is False and len(s["per_sentence"]) == 3 and s["signature"].startswith("self-bleu|n:3|")
    rng = np.random.default_rng(2)
    m = text.mauve_from_features(rng.normal(size=(40, 3)), rng.normal(size=(40, 3)), num_clusters=4)
    assert m.to_dict(include_curve=True)["value"] == m.score and len(m.to_dict(include_curve=True)["divergence_curve"]) == 27
    fd = text.embedding_fd_from_features(rng.normal(size=(20, 3)), rng.normal(size=(30, 3)), hyp_source="enc:x")
    assert fd.to_dict()["value"] == fd.distance and fd.signature.startswith("embedding-fd|hyp:enc:x|ref:features:given|")
