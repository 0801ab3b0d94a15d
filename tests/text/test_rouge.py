"""ROUGE against rouge-score's own test suite and README, and the non-Latin-script trap.

Sources:
* rouge_score/rouge_scorer_test.py (google-research/google-research, rouge/; also installed with
  the package): testRouge1/2, testRougeLConsecutive/NonConsecutive, testRougeAllMulti, and
  testRouge1/2/LAgainstRouge155(WithStemming) on rouge/testdata/target.txt and prediction.txt
  (values computed by the original ROUGE-1.5.5 perl script, 5 decimals).
* the rouge-score README example ('The quick brown fox jumps over the lazy dog' vs 'The quick
  brown dog jumps on the log.', use_stemmer=True): rouge1 P=0.75 R=0.6667 F=0.7059,
  rougeL P=0.625 R=0.5556 F=0.5882.

Tolerances (docs/tolerances.md): exact equalities are B5 (deterministic code on the same input);
float64 comparisons are T1; encoder outputs across batch sizes are T3.
"""

import random

import pytest

from gmeval.errors import InvalidArgumentError
from gmeval.metrics.text import ROUGE, UnicodeTokenizer, rouge_score

# rouge/testdata/target.txt and prediction.txt, lines 1-2 (random strings with punctuation)
TARGETS = [
    "ZfbCUIUuePaiLVUlCaUXxkpu XPeWing tUHfPMuZ',-Xd Y BrUgVJing M-HV.-DgdDaY.rFDJCRing Ht-LM EKBDXkME,yz'RBr "
    "q'wtion wIojNbN wL,b .a-'XdQggyFl jB-RPP'iyOIcUxer tKM L",
    "KsJdPByEtAor fE-Qg Dpdbring cw-WeFyu vC MoBL Xdn g wkvcEiGvKtion BDFhrpMtion psing sbKao Q m qiing LMmer "
    "HqqLFXe,XPY,J XsurkMer ,ed nB'wH'bWVHjWFEing tQ.saefZwJtKrTlixYpMMsJing UCAPwNHeYVjDing c T BUySKtion "
    "gMPfJpwGw p'NvxAoping eu pBwMBKV'I DNxqelhu,PHPxDEq,mtion SN",
]
PREDICTIONS = [
    "rFDJCRtion Ht-LM EKtDXkME,yz'RBr q'wer wrojNbN wL,b .a-'XdQggyFl jB-RPP'iyOIcUxi",
    "n cw-WeFyu vC MoBL Xdn g wkvcEiGvKtion BDFhrpMer pstion sbKao Q m qier LMmed HqqLFXe,XPY,J XsurkMeo ,ed "
    "nB'wH'bWVHjWFEer tQ.saefZwJtKrTlixYpMMNJtion UCAPwNHeYVjD",
]


def _prf(result, rouge_type):
    s = result.scores[rouge_type]
    return s["precision"], s["recall"], s["fmeasure"]


@pytest.mark.parametrize("target, prediction, rouge_type, expected", [
    ("testing one two", "testing", "rouge1", (1, 1 / 3, 1 / 2)),
    ("testing one two", "testing one", "rouge2", (1, 1 / 2, 2 / 3)),
    ("testing one two", "testing one", "rougeL", (1, 2 / 3, 4 / 5)),
    ("testing one two", "testing two", "rougeL", (1, 2 / 3, 4 / 5)),
    ("testing one two", "", "rouge1", (0, 0, 0)),
])
def test_rouge_score_suite_simple_cases(target, prediction, rouge_type, expected):
    r = rouge_score([prediction], [target], rouge_types=[rouge_type])
    assert _prf(r, rouge_type) == pytest.approx(expected, abs=1e-12)


def test_rouge_score_suite_multi_reference():
    # testRougeAllMulti: targets ["first text", "first something"], prediction "text first"
    r = rouge_score(["text first"], [["first text"], ["first something"]], rouge_types=["rouge1", "rouge2", "rougeL"])
    assert r.fmeasure("rouge1") == pytest.approx(1.0)
    assert r.fmeasure("rouge2") == pytest.approx(0.0)
    assert r.fmeasure("rougeL") == pytest.approx(0.5)
    assert "nrefs:2" in r.signature and "multi:max-f" in r.signature


@pytest.mark.parametrize("stem, i, rouge_type, expected", [
    (False, 0, "rouge1", (0.68750, 0.40741, 0.51163)),
    (False, 1, "rouge1", (0.65385, 0.40476, 0.50000)),
    (True, 1, "rouge1", (0.69231, 0.42857, 0.52941)),
    (False, 0, "rouge2", (0.53333, 0.30769, 0.39024)),
    (False, 1, "rouge2", (0.48000, 0.29268, 0.36364)),
    (True, 1, "rouge2", (0.48000, 0.29268, 0.36364)),
    (False, 0, "rougeL", (0.68750, 0.40741, 0.51163)),
    (False, 1, "rougeL", (0.65385, 0.40476, 0.50000)),
])
def test_rouge_score_suite_against_rouge155(stem, i, rouge_type, expected):
    r = rouge_score([PREDICTIONS[i]], [TARGETS[i]], rouge_types=[rouge_type], use_stemmer=stem)
    assert _prf(r, rouge_type) == pytest.approx(expected, abs=5e-6)


def test_readme_example_with_stemmer():
    r = rouge_score(["The quick brown dog jumps on the log."], ["The quick brown fox jumps over the lazy dog"],
                    rouge_types=["rouge1", "rougeL"], use_stemmer=True)
    assert _prf(r, "rouge1") == pytest.approx((0.75, 0.6666666666666666, 0.7058823529411765), abs=1e-12)
    assert _prf(r, "rougeL") == pytest.approx((0.625, 0.5555555555555556, 0.5882352941176471), abs=1e-12)


def test_unicode_tokenizer_equals_rouge_score_default_on_ascii():
    from rouge_score import tokenizers

    rng = random.Random(0)
    alphabet = "abcXYZ019 ,.'-_!?\t"
    for stem in (False, True):
        ours, theirs = UnicodeTokenizer(use_stemmer=stem), tokenizers.DefaultTokenizer(use_stemmer=stem)
        for _ in range(300):
            text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
            assert ours.tokenize(text) == theirs.tokenize(text), text
        assert ours.tokenize("Running runners ran") == theirs.tokenize("Running runners ran")


def test_chinese_rouge_is_nonzero_for_overlapping_sentences():
    hyp, ref = ["猫坐在垫子上"], ["猫在垫子上坐着"]
    r = rouge_score(hyp, ref, lang="zh")
    # characters: hyp 猫坐在垫子上 (6), ref 猫在垫子上坐着 (7), all 6 hyp chars occur in ref
    assert _prf(r, "rouge1") == pytest.approx((1.0, 6 / 7, 12 / 13))
    # bigrams: hyp has 5, ref has 6, shared: 在垫 垫子 子上 -> 3
    assert _prf(r, "rouge2") == pytest.approx((3 / 5, 3 / 6, 2 * (3 / 5) * (3 / 6) / (3 / 5 + 3 / 6)))
    assert r.fmeasure("rougeL") > 0.5
    # the trap this module avoids: rouge-score's default tokenizer drops every Chinese character
    trap = rouge_score(hyp, ref, lang="zh", tokenizer="rouge-score")
    assert trap.fmeasure("rouge1") == 0.0 and trap.fmeasure("rougeL") == 0.0
    assert UnicodeTokenizer().tokenize("GPU运行在2024年") == ["gpu", "运", "行", "在", "2024", "年"]


def test_other_scripts_keep_their_words():
    r = rouge_score(["кошка сидит на ковре"], ["кошка сидела на ковре"], lang="ru", rouge_types=["rouge1"])
    assert _prf(r, "rouge1") == pytest.approx((0.75, 0.75, 0.75))
    # Devanagari vowel signs (combining marks) stay inside their word
    assert UnicodeTokenizer().tokenize("हिन्दी भाषा") == ["हिन्दी", "भाषा"]
    # Thai has no spaces: character tokens by default for lang='th'
    th = rouge_score(["แมวนั่ง"], ["แมวนอน"], lang="th", rouge_types=["rouge1"])
    assert 0 < th.fmeasure("rouge1") < 1 and "tok:unicode-chars" in th.signature


def test_lsum_splits_on_newlines():
    hyp, ref = ["Second sentence.\nFirst Sentence."], ["First sentence.\nSecond Sentence."]
    r = rouge_score(hyp, ref, rouge_types=["rougeL", "rougeLsum"])
    assert r.fmeasure("rougeLsum") == pytest.approx(1.0)
    assert r.fmeasure("rougeL") == pytest.approx(0.5)


def test_mean_over_sentences_and_class_batches():
    hyps = ["testing", "testing one", "nothing"]
    refs = ["testing one two", "testing one two", "testing one two"]
    r = rouge_score(hyps, refs, rouge_types=["rouge1"], return_per_sentence=True)
    assert r.per_sentence["rouge1"] == pytest.approx([0.5, 0.8, 0.0])
    assert r.fmeasure("rouge1") == pytest.approx((0.5 + 0.8 + 0.0) / 3)
    m = ROUGE(rouge_types=["rouge1"])
    assert m.higher_is_better is True
    m.update(hyps[:2], refs[:2]).update(hyps[2:], refs[2:])
    assert m.compute().scores == r.scores


def test_bad_rouge_arguments():
    with pytest.raises(InvalidArgumentError, match="rouge_types"):
        rouge_score(["a"], ["a"], rouge_types=["rougeX"])
    with pytest.raises(InvalidArgumentError, match="use_stemmer.*English"):
        rouge_score(["a"], ["a"], lang="de", use_stemmer=True)
    with pytest.raises(InvalidArgumentError, match="`tokenizer` must be one of"):
        rouge_score(["a"], ["a"], tokenizer="nltk")
    with pytest.raises(InvalidArgumentError, match="`lang` must be an ISO 639 code"):
        rouge_score(["a"], ["a"], lang="English")
