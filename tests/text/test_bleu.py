"""BLEU against values that sacreBLEU documents.

Sources:
* README of mjpost/sacrebleu, "Using SacreBLEU from Python" (object-oriented API example):
  BLEU = 48.53 82.4/50.0/45.5/37.5 (BP = 0.943 ratio = 0.944 hyp_len = 17 ref_len = 18),
  signature nrefs:2|case:mixed|eff:no|tok:13a|smooth:exp|version:...; and the "Variable Number of
  References" example (29.44 with the first reference of the first sentence removed).
* sacrebleu test/test_bleu.py (test_corpus_bleu_cases): the README corpus with tokenize none
  49.1919566, 13a 48.530827, intl 43.91623493, tolerance 1e-8.
* sacrebleu test/test_sentence_bleu.py (example from sacrebleu issue #98): sentence BLEU of a
  Romanian pair under several smoothing methods / tokenizers, tolerance 1e-3.

Tolerances (docs/tolerances.md): exact equalities are B5 (deterministic code on the same input);
float64 comparisons are T1; encoder outputs across batch sizes are T3.
"""

import importlib.util

import pytest

from gmeval.errors import InvalidArgumentError, MissingDependencyError, ShapeMismatchError
from gmeval.metrics.text import BLEU, bleu_score, sentence_bleu_score, sentence_bleu_scores

REFS = [
    ["The dog bit the man.", "It was not unexpected.", "The man bit him first."],
    ["The dog had bit the man.", "No one was surprised.", "The man had bitten the dog."],
]
SYS = ["The dog bit the man.", "It wasn't surprising.", "The man had just bitten him."]


def test_readme_corpus_example_and_signature():
    r = bleu_score(SYS, REFS)
    assert abs(r.score - 48.530827) < 1e-6
    assert [round(p, 1) for p in r.precisions] == [82.4, 50.0, 45.5, 37.5]
    assert round(r.bp, 3) == 0.943 and r.sys_len == 17 and r.ref_len == 18
    assert r.signature.startswith("nrefs:2|case:mixed|eff:no|tok:13a|smooth:exp|version:")
    assert r.to_dict()["signature"] == r.signature


def test_readme_variable_number_of_references():
    refs = [["", REFS[0][1], REFS[0][2]], REFS[1]]
    r = bleu_score(SYS, refs)
    assert round(r.score, 2) == 29.44


@pytest.mark.parametrize("tokenize, expected", [("none", 49.1919566), ("13a", 48.530827), ("intl", 43.91623493)])
def test_sacrebleu_suite_tokenizers(tokenize, expected):
    r = bleu_score(SYS, REFS, tokenize=tokenize)
    assert abs(r.score - expected) < 1e-6
    assert f"tok:{tokenize}" in r.signature


REF_98 = "producţia de zahăr brut se exprimă în zahăr alb;"
SYS_98 = "Producția de zahăr primă va fi exprimată în ceea ce privește zahărul alb;"


@pytest.mark.parametrize("smooth_method, smooth_value, lowercase, tok, expected", [
    ("exp", None, False, "13a", 8.493),
    ("none", None, False, "13a", 0.0),
    ("floor", None, False, "13a", 4.51688),
    ("floor", 0.5, False, "13a", 10.10),
    ("add-k", None, False, "13a", 14.882),
    ("add-k", 2, False, "13a", 21.389),
    ("exp", None, False, "none", 7.347),
    ("exp", None, False, "char", 40.8759),
    ("exp", None, True, "char", 42.0267),
])
def test_sacrebleu_suite_sentence_bleu(smooth_method, smooth_value, lowercase, tok, expected):
    r = sentence_bleu_score(SYS_98, [REF_98], smooth_method=smooth_method, smooth_value=smooth_value,
                            lowercase=lowercase, tokenize=tok)
    assert abs(r.score - expected) < 1e-3
    assert "eff:yes" in r.signature and f"tok:{tok}" in r.signature


def test_sentence_scores_match_single_calls_and_references_layouts():
    scores, sig = sentence_bleu_scores(SYS, REFS)
    for i, h in enumerate(SYS):
        assert scores[i] == sentence_bleu_score(h, [REFS[0][i], REFS[1][i]]).score
    assert "nrefs:2" in sig
    # a single stream given as a plain list of strings == one stream in a list
    assert bleu_score(SYS, REFS[0]).score == bleu_score(SYS, [REFS[0]]).score


def test_chinese_tokenizer_changes_the_score():
    hyp = ["猫坐在垫子上。"]
    ref = [["猫在垫子上坐着。"]]
    zh = bleu_score(hyp, ref, tokenize="zh")
    plain = bleu_score(hyp, ref, tokenize="13a")  # no spaces: one token per sentence, no match
    assert zh.score > 10 and plain.score == 0.0
    assert "tok:zh" in zh.signature


def test_stateful_class_equals_function_over_batches():
    metric = BLEU()
    assert metric.higher_is_better is True
    metric.update(SYS[:1], [REFS[0][:1], REFS[1][:1]])
    metric.update(SYS[1:], [REFS[0][1:], REFS[1][1:]])
    assert metric.compute().score == bleu_score(SYS, REFS).score
    metric.reset()
    with pytest.raises(InvalidArgumentError, match="update"):
        metric.compute()


def test_bad_arguments_are_typed_errors():
    with pytest.raises(InvalidArgumentError, match=r"`tokenize` must be one of .*'13a'.*got 'moses'"):
        bleu_score(SYS, REFS, tokenize="moses")
    with pytest.raises(InvalidArgumentError, match="smooth_method"):
        bleu_score(SYS, REFS, smooth_method="laplace")
    with pytest.raises(InvalidArgumentError, match="hypotheses"):
        bleu_score("The dog bit the man.", REFS)
    with pytest.raises(ShapeMismatchError, match=r"references\[1\].*2 lines"):
        bleu_score(SYS, [REFS[0], REFS[1][:2]])
    metric = BLEU()
    metric.update(SYS, REFS)
    with pytest.raises(InvalidArgumentError, match="2 reference streams"):
        metric.update(SYS, [REFS[0]])


@pytest.mark.skipif(importlib.util.find_spec("MeCab") is not None, reason="MeCab is installed: nothing is missing")
def test_mecab_tokenizer_without_its_package_gives_the_install_command():
    with pytest.raises(MissingDependencyError, match=r"pip install sacrebleu\[ja\]"):
        bleu_score(["猫"], [["猫"]], tokenize="ja-mecab")
