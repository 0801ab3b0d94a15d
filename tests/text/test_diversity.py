"""distinct-n and repetition rates against hand-computed values.

Tolerances (docs/tolerances.md): exact equalities are B5 (deterministic code on the same input);
float64 comparisons are T1; encoder outputs across batch sizes are T3.
"""

import math

import pytest

from gmeval.errors import InvalidArgumentError
from gmeval.metrics.text import DistinctN, Repetition, distinct_n, repetition_rates

# two sentences, whitespace tokens (13a leaves these alone):
#   "the cat sat on the mat" -> unigrams the cat sat on the mat (6; distinct 5)
#   "the cat ran"            -> unigrams the cat ran (3)
# corpus unigrams: 9 in total, distinct {the, cat, sat, on, mat, ran} = 6          -> 6/9
# bigrams: s1: the-cat cat-sat sat-on on-the the-mat (5), s2: the-cat cat-ran (2)
#          total 7, distinct 6 (the-cat twice)                                       -> 6/7
# trigrams: s1: 4, s2: 1, all distinct                                              -> 5/5
# 4-grams:  s1: 3, s2: 0 (too short)                                                -> 3/3
HYPS = ["the cat sat on the mat", "the cat ran"]


def test_distinct_hand_computed():
    r = distinct_n(HYPS)
    assert r.scores == {1: 6 / 9, 2: 6 / 7, 3: 1.0, 4: 1.0}
    assert r.unique == {1: 6, 2: 6, 3: 5, 4: 3} and r.total == {1: 9, 2: 7, 3: 5, 4: 3}
    assert r.signature == "distinct|tok:13a|case:mixed"
    d = r.to_dict()
    assert d["scores"]["distinct-2"] == d["value"] == 6 / 7 and d["headline"] == "distinct-2"
    assert d["signature"] == r.signature and d["higher_is_better"] is True


def test_distinct_ngrams_do_not_cross_sentences_and_case_option():
    # "a b" + "c d": the bigram "b c" must not exist
    assert distinct_n(["a b", "c d"], 2).total == {2: 2}
    assert distinct_n(["A a"], 1).scores[1] == 1.0
    assert distinct_n(["A a"], 1, lowercase=True).scores[1] == 0.5


def test_distinct_undefined_is_nan_not_zero():
    r = distinct_n(["one", "two"], 3)
    assert math.isnan(r.scores[3]) and r.total[3] == 0
    assert r.to_dict()["scores"]["distinct-3"] is None
    assert r.to_dict()["value"] is None  # headline: distinct-3, the only order asked for


def test_distinct_chinese_uses_the_zh_tokenizer():
    # sacreBLEU's zh tokenizer splits CJK characters: 我爱猫 我爱狗 -> 6 unigrams, distinct 我 爱 猫 狗 = 4
    r = distinct_n(["我爱猫", "我爱狗"], (1, 2), lang="zh")
    assert r.scores == {1: 4 / 6, 2: 3 / 4}
    assert "tok:zh" in r.signature


def test_repetition_hand_computed():
    # seq-rep-2: "a b a b a b" -> bigrams ab ba ab ba ab (5), distinct 2 -> 1 - 2/5 = 0.6
    #            "a c"         -> 1 bigram, distinct 1 -> 0
    #            "z"           -> no bigram: skipped
    # duplicate rate: ["a b a b a b", "a c", "z", "a c"] -> 3 distinct of 4 -> 0.25
    r = repetition_rates(["a b a b a b", "a c", "z", "a c"], n=2)
    assert r.seq_rep == pytest.approx((0.6 + 0.0 + 0.0) / 3)
    assert r.n_skipped == 1 and r.duplicate_rate == 0.25
    d = r.to_dict()
    assert d["value"] == pytest.approx(0.2) and d["headline"] == "seq-rep-2" and d["higher_is_better"] is False


def test_classes_stream_and_errors():
    d = DistinctN((1, 2))
    assert d.higher_is_better is True
    d.update(HYPS[:1]).update(HYPS[1:])
    assert d.compute().scores == {1: 6 / 9, 2: 6 / 7}
    rep = Repetition(2)
    assert rep.higher_is_better is False
    rep.update(["a b a b a b"]).update(["a c", "z", "a c"])
    assert rep.compute().duplicate_rate == 0.25
    with pytest.raises(InvalidArgumentError, match="`n` must be a positive integer"):
        distinct_n(HYPS, 0)
    with pytest.raises(InvalidArgumentError, match="`n` must be a positive integer"):
        Repetition(2.5)
    with pytest.raises(InvalidArgumentError, match="update"):
        DistinctN().compute()
    with pytest.raises(InvalidArgumentError, match="`tokenize` must be one of"):
        distinct_n(HYPS, tokenize="spacy")
