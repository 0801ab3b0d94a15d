"""Fast self-BLEU == the naive sacreBLEU loop (tolerance 1e-9 per sentence and for the mean).

Tolerances (docs/tolerances.md): exact equalities are B5 (deterministic code on the same input);
float64 comparisons are T1; encoder outputs across batch sizes are T3.
"""

import pytest
import sacrebleu

from gmeval.errors import InvalidArgumentError
from gmeval.metrics.text import SelfBLEU, self_bleu, self_bleu_naive

from .conftest import random_sentences, topic_sentences

TOL = 1e-9


def _assert_same(fast, naive):
    assert fast.n_sentences == naive.n_sentences
    assert len(fast.per_sentence) == len(naive.per_sentence)
    for i, (a, b) in enumerate(zip(fast.per_sentence, naive.per_sentence)):
        assert abs(a - b) <= TOL, (i, a, b)
    assert abs(fast.score - naive.score) <= TOL
    assert fast.signature == naive.signature


def _varied_corpus():
    hyps = random_sentences(150, seed=1)
    hyps += hyps[:12]  # exact duplicates
    hyps += ["", "w1", "w1 w1 w1 w1 w1", "The w1 , of w2 .", "w3 w4", "w3 w4"]  # empty, 1-token, repeats
    hyps += topic_sentences("food", 20, seed=3)
    return hyps


@pytest.mark.parametrize("options", [
    {},
    {"tokenize": "char"},
    {"tokenize": "intl", "lowercase": True},
    {"tokenize": "none"},
    {"smooth_method": "floor"},
    {"smooth_method": "add-k", "smooth_value": 2},
    {"smooth_method": "none"},
    {"max_ngram_order": 2},
    {"effective_order": False},
])
def test_fast_equals_naive_loop_on_varied_data(options):
    hyps = _varied_corpus()
    _assert_same(self_bleu(hyps, return_per_sentence=True, **options),
                 self_bleu_naive(hyps, return_per_sentence=True, **options))


def test_fast_equals_compat_sentence_bleu_loop():
    """The loop everybody writes: sacrebleu.sentence_bleu(h, others) with its defaults."""
    hyps = random_sentences(60, seed=7) + ["w1 w2", "w1 w2", "a", ""]
    expected = [sacrebleu.sentence_bleu(h, hyps[:i] + hyps[i + 1:]).score for i, h in enumerate(hyps)]
    fast = self_bleu(hyps, return_per_sentence=True)
    assert max(abs(a - b) for a, b in zip(fast.per_sentence, expected)) <= TOL
    assert abs(fast.score - sum(expected) / len(expected)) <= TOL


def test_fast_equals_naive_on_chinese_and_length_ties():
    zh = ["我们今天去公园散步。", "他们明天去公园跑步。", "我们今天在家。", "猫", "猫", "今天天气很好，我们去公园。"]
    _assert_same(self_bleu(zh, tokenize="zh", return_per_sentence=True),
                 self_bleu_naive(zh, tokenize="zh", return_per_sentence=True))
    # lengths 1, 3, 5: for the 3-token sentence both others are 2 away -> sacreBLEU takes the shorter
    ties = ["a", "a b c", "a b c d e"]
    _assert_same(self_bleu(ties, return_per_sentence=True), self_bleu_naive(ties, return_per_sentence=True))


def test_definition_on_hand_cases():
    # identical sentences: each one's references contain itself -> 100 each
    assert self_bleu(["the cat sat on the mat"] * 3).score == pytest.approx(100.0)
    # disjoint vocabularies: no matches at all -> 0
    assert self_bleu(["a b c d", "e f g h", "i j k l"]).score == 0.0
    # never against itself: two different sentences do not score 100 even though each is in the set
    r = self_bleu(["a b c d", "a b c e"], return_per_sentence=True)
    assert all(s < 100 for s in r.per_sentence)
    assert r.signature.startswith("self-bleu|n:2|nrefs:1|case:mixed|eff:yes|tok:13a|smooth:exp|version:")


def test_more_diverse_set_scores_lower():
    repetitive = topic_sentences("food", 80, seed=0)
    diverse = random_sentences(80, seed=0, vocab_size=400, max_len=12)
    assert self_bleu(diverse).score < self_bleu(repetitive).score


def test_class_and_errors():
    hyps = _varied_corpus()
    m = SelfBLEU()
    assert m.higher_is_better is False
    m.update(hyps[:50]).update(hyps[50:])
    assert m.compute().score == self_bleu(hyps).score
    m.reset()
    m.update(["only one"])
    with pytest.raises(InvalidArgumentError, match="at least 2"):
        m.compute()
    with pytest.raises(InvalidArgumentError, match=r"`hypotheses` must be at least 2 sentence"):
        self_bleu(["one"])
    with pytest.raises(InvalidArgumentError, match=r"`hypotheses\[1\]` must be a string"):
        self_bleu(["one", 2])
    with pytest.raises(InvalidArgumentError, match="tokenize"):
        SelfBLEU(tokenize="spm")
