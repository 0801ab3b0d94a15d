"""Self-BLEU: how much the generated sentences resemble each other (Zhu et al., Texygen, SIGIR 2018).

Definition used here (precisely):

    self-BLEU(h_1..h_N) = (1/N) * sum_i  sentenceBLEU(h_i ; references = {h_j : j != i})

where sentenceBLEU is sacreBLEU's sentence-level BLEU with sacreBLEU's defaults for
``sacrebleu.sentence_bleu``: tokenizer ``13a``, mixed case, max n-gram order 4, smoothing
``exp`` (NIST geometric sequence smoothing, Chen & Cherry 2014 "method 3": the k-th n-gram
order with zero matches gets precision 100 / (2^k * total)), ``use_effective_order=True``
(orders the hypothesis is too short to have are left out). Each hypothesis is scored against all
the others as N-1 references and never against itself; duplicates of a hypothesis elsewhere in the
set DO count as references (a model that repeats a sentence gets 100 for it). Scale 0-100; lower
means more diverse. Needs N >= 2.

(Texygen's original self-BLEU uses NLTK's BLEU with other smoothing and tokenization, so its
numbers differ from these; compare self-BLEU values only under the same signature.)

Fast and exact. The naive loop re-tokenizes and re-counts the N-1 references for every
hypothesis: O(N^2) n-gram work. Here every sentence is tokenized and its n-grams counted once.
For sentence BLEU only two reference quantities are needed:

* the clipped match count of each hypothesis n-gram g: min(c_i(g), max_{j != i} c_j(g)). Keeping,
  for every n-gram, the largest and second-largest count over all sentences (top1 >= top2, equal
  when two sentences share the maximum) gives max_{j != i} c_j(g) = top2 if c_i(g) == top1 else
  top1, hence the clip is c_i(g) if c_i(g) < top1 else top2: O(1) per hypothesis n-gram;
* the closest reference length among the other sentences (sacreBLEU: smallest |len_ref - len_hyp|,
  ties to the shorter reference): from the sorted distinct lengths and their multiplicities, the
  candidates are len_i itself (if another sentence has it) and its two neighbours.

The statistics are then turned into a score by sacreBLEU's own ``BLEU.compute_bleu`` (same
smoothing, effective order, brevity penalty), so each per-sentence value equals the naive loop's
(tested to 1e-9; in practice bit-identical).
"""

from __future__ import annotations

import bisect
import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Sequence

from ...errors import InvalidArgumentError
from ..score import Score, ScoreResult, Signature
from .bleu import make_sacrebleu_metric, sacrebleu_signature
from .io import as_sentences


@dataclass(frozen=True)
class SelfBLEUResult(ScoreResult):
    """Self-BLEU of a set of sentences (0-100; lower = more diverse).

    Attributes:
        score: mean sentence BLEU of each sentence against all the others.
        signature: the signature string.
        n_sentences: number of sentences.
        per_sentence: each sentence's BLEU (with ``return_per_sentence=True``), else None.

    Example:
        >>> r = self_bleu(["the cat sat on the mat"] * 3)
        >>> round(r.score, 2), r.n_sentences, r.to_dict()["higher_is_better"]
        (100.0, 3, False)
    """
    score: float  # mean sentence BLEU, 0-100, lower = more diverse
    signature: str
    n_sentences: int
    per_sentence: tuple[float, ...] | None = field(default=None, repr=False)

    def to_score(self) -> Score:
        """The score as a `Score` named ``self-bleu`` (lower is better)."""
        extra = {"n_sentences": self.n_sentences}
        if self.per_sentence is not None:
            extra["per_sentence"] = list(self.per_sentence)
        return Score("self-bleu", self.score, Signature.parse(self.signature), False, extra)


def _preprocess(metric, sentence: str) -> str:
    # identical to sacreBLEU's BLEU._preprocess_segment: optional lower-casing, then the tokenizer
    # on the right-stripped line (applied to hypotheses and references alike)
    if metric.lowercase:
        sentence = sentence.lower()
    return metric.tokenizer(sentence.rstrip())


def _signature(metric, n: int) -> str:
    metric.num_refs = n - 1  # what sacreBLEU sets when it caches N-1 references
    return sacrebleu_signature(metric, "self-bleu", [("n", n)]).format()


def _mean(values: Sequence[float]) -> float:
    return float(sum(values) / len(values))


def _prepare(hypotheses, tokenize, lowercase, smooth_method, smooth_value, max_ngram_order, effective_order):
    """Validated sentences and the sacreBLEU metric object shared by the fast and the reference routes."""
    hyps = as_sentences(hypotheses, "hypotheses", min_count=2)
    metric = make_sacrebleu_metric(tokenize=tokenize, lowercase=lowercase, smooth_method=smooth_method,
                                   smooth_value=smooth_value, max_ngram_order=max_ngram_order,
                                   effective_order=effective_order)
    return hyps, metric


def self_bleu(hypotheses: Sequence[str], *, tokenize: str = "13a", lowercase: bool = False,
              smooth_method: str = "exp", smooth_value: float | None = None, max_ngram_order: int = 4,
              effective_order: bool = True, return_per_sentence: bool = False) -> SelfBLEUResult:
    """Self-BLEU of a set of generated sentences (definition in the module docstring). Lower = more diverse.

    Args:
        hypotheses: at least 2 generated sentences.
        tokenize: sacreBLEU's tokenizer.
        lowercase: lowercase before matching.
        smooth_method: sacreBLEU's smoothing (``"exp"``).
        smooth_value: its value (None: sacreBLEU's default).
        max_ngram_order: the largest n-gram order (4).
        effective_order: sacreBLEU's sentence-level effective order (True).
        return_per_sentence: also keep each sentence's score.

    Returns:
        A `SelfBLEUResult`, equal to `self_bleu_naive`'s.

    Raises:
        InvalidArgumentError: fewer than 2 sentences, or a bad option.

    Example:
        >>> r = self_bleu(["the cat sat on the mat", "the cat sat on the mat", "a completely different line"],
        ...               return_per_sentence=True)
        >>> [round(s, 2) for s in r.per_sentence], r.signature.split("|")[:2]
        ([100.0, 100.0, 0.0], ['self-bleu', 'n:3'])
    """
    from sacrebleu.metrics.helpers import extract_all_word_ngrams

    hyps, metric = _prepare(hypotheses, tokenize, lowercase, smooth_method, smooth_value, max_ngram_order, effective_order)
    order = metric.max_ngram_order
    n = len(hyps)

    # 1. tokenize once, count n-grams once (sacreBLEU's own n-gram extraction)
    grams: list[Counter] = []
    lengths: list[int] = []
    for h in hyps:
        c, length = extract_all_word_ngrams(_preprocess(metric, h), 1, order)
        grams.append(c)
        lengths.append(length)

    # 2. per n-gram: largest and second-largest count over all sentences
    top1: dict[tuple, int] = {}
    top2: dict[tuple, int] = {}
    for c in grams:
        for g, k in c.items():
            t1 = top1.get(g, 0)
            if k > t1:
                top1[g] = k
                if t1:
                    top2[g] = t1
            elif k > top2.get(g, 0):
                top2[g] = k

    # 3. reference lengths: multiplicities and sorted distinct values
    len_count = Counter(lengths)
    distinct = sorted(len_count)

    def closest_other_length(length: int) -> int:
        if len_count[length] >= 2:
            return length
        pos = bisect.bisect_left(distinct, length)  # distinct[pos] == length (only this sentence has it)
        below = distinct[pos - 1] if pos > 0 else None
        above = distinct[pos + 1] if pos + 1 < len(distinct) else None
        if below is None:
            return above
        if above is None or length - below <= above - length:  # ties go to the shorter reference
            return below
        return above

    compute = metric.compute_bleu
    scores: list[float] = []
    for c, length in zip(grams, lengths):
        correct = [0] * order
        total = [0] * order
        for g, k in c.items():
            o = len(g) - 1
            total[o] += k
            t1 = top1[g]
            correct[o] += k if k < t1 else top2.get(g, 0)
        s = compute(correct=correct, total=total, sys_len=length, ref_len=closest_other_length(length),
                    smooth_method=metric.smooth_method, smooth_value=metric.smooth_value,
                    effective_order=metric.effective_order, max_ngram_order=order)
        scores.append(float(s.score))

    return SelfBLEUResult(_mean(scores), _signature(metric, n), n, tuple(scores) if return_per_sentence else None)


def self_bleu_naive(hypotheses: Sequence[str], *, tokenize: str = "13a", lowercase: bool = False,
                    smooth_method: str = "exp", smooth_value: float | None = None, max_ngram_order: int = 4,
                    effective_order: bool = True, return_per_sentence: bool = False) -> SelfBLEUResult:
    """The reference loop: sacreBLEU ``sentence_score(h_i, [h_j for j != i])`` for every i. O(N^2); for tests/benchmarks.

    Args:
        hypotheses: at least 2 generated sentences.
        tokenize: as `self_bleu`.
        lowercase: as `self_bleu`.
        smooth_method: as `self_bleu`.
        smooth_value: as `self_bleu`.
        max_ngram_order: as `self_bleu`.
        effective_order: as `self_bleu`.
        return_per_sentence: as `self_bleu`.

    Returns:
        A `SelfBLEUResult`.

    Raises:
        InvalidArgumentError: fewer than 2 sentences, or a bad option.

    Example:
        >>> hyps = ["the cat sat on the mat", "the dog sat on the mat", "a bird flew"]
        >>> round(self_bleu_naive(hyps).score, 6) == round(self_bleu(hyps).score, 6)
        True
    """
    hyps, metric = _prepare(hypotheses, tokenize, lowercase, smooth_method, smooth_value, max_ngram_order, effective_order)
    logger = logging.getLogger("sacrebleu")  # silence its per-call "enable effective_order" advice
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        scores = [float(metric.sentence_score(h, hyps[:i] + hyps[i + 1:]).score) for i, h in enumerate(hyps)]
    finally:
        logger.setLevel(level)
    n = len(hyps)
    return SelfBLEUResult(_mean(scores), _signature(metric, n), n, tuple(scores) if return_per_sentence else None)


class SelfBLEU:
    """Self-BLEU over sentences gathered with ``update``; ``compute`` scores the whole set. Lower = more diverse.

    Args:
        tokenize: as `self_bleu`.
        lowercase: as `self_bleu`.
        smooth_method: as `self_bleu`.
        smooth_value: as `self_bleu`.
        max_ngram_order: as `self_bleu`.
        effective_order: as `self_bleu`.

    Raises:
        InvalidArgumentError: a bad option, or `compute()` with fewer than 2 sentences.

    Example:
        >>> m = SelfBLEU().update(["the cat sat on the mat"]).update(["the cat sat on the mat"])
        >>> round(m.compute().score, 2)
        100.0
        >>> m.reset(); m.compute()
        Traceback (most recent call last):
        ...
        gmeval.errors.InvalidArgumentError: Argument `SelfBLEU` must be at least 2 sentences gathered with update(), but got '0'.
    """

    higher_is_better = False

    def __init__(self, *, tokenize: str = "13a", lowercase: bool = False, smooth_method: str = "exp",
                 smooth_value: float | None = None, max_ngram_order: int = 4, effective_order: bool = True):
        make_sacrebleu_metric(tokenize=tokenize, lowercase=lowercase, smooth_method=smooth_method,
                              smooth_value=smooth_value, max_ngram_order=max_ngram_order,
                              effective_order=effective_order)  # validate early
        self.options = dict(tokenize=tokenize, lowercase=lowercase, smooth_method=smooth_method,
                            smooth_value=smooth_value, max_ngram_order=max_ngram_order, effective_order=effective_order)
        self.reset()

    def reset(self) -> None:
        """Forget every sentence gathered so far."""
        self._hyps: list[str] = []

    def update(self, hypotheses: Sequence[str]) -> "SelfBLEU":
        """Gather more sentences; returns self."""
        self._hyps.extend(as_sentences(hypotheses, "hypotheses"))
        return self

    def compute(self, return_per_sentence: bool = False) -> SelfBLEUResult:
        """Self-BLEU of every sentence gathered so far (a `SelfBLEUResult`)."""
        if len(self._hyps) < 2:
            raise InvalidArgumentError("SelfBLEU", "at least 2 sentences gathered with update()", f"{len(self._hyps)}")
        return self_bleu(self._hyps, return_per_sentence=return_per_sentence, **self.options)
