"""Diversity of generated text: distinct-n and repetition rates. No references needed.

* distinct-n (Li et al., NAACL 2016, "A Diversity-Promoting Objective Function for Neural
  Conversation Models"): over the whole set of generated sentences,
  ``distinct-n = |{distinct n-grams}| / (total number of n-grams)``. n-grams never cross a
  sentence boundary. Higher = more diverse. 0/0 (no sentence has n tokens) is reported as NaN
  (JSON null), never as 0 or 1.
* seq-rep-n (Welleck et al., ICLR 2020, "Neural Text Generation with Unlikelihood Training"):
  per sentence, ``1 - |distinct n-grams| / |n-grams|``, averaged over the sentences that have at
  least one n-gram (the others are counted in ``n_skipped``). The share of a sentence's n-grams
  that repeat an earlier n-gram of the same sentence. Lower = less repetitive.
* duplicate rate: the share of sentences that are exact copies (same string) of an earlier
  sentence, ``1 - |distinct sentences| / N``. Lower = better.

Tokenization is a named option (default: the sacreBLEU tokenizer for the language, mixed case,
as for BLEU), recorded in the signature.

Headline values (``to_dict()["value"]``): distinct-2 for `DistinctResult` (the order Li et al. and
most dialogue papers report beside distinct-1; the first order asked for when 2 is not among them),
seq-rep-n for `RepetitionResult`; ``"headline"`` names it, every order stays under ``"scores"``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from ...errors import InvalidArgumentError
from ..score import Score, ScoreResult, Signature
from .io import as_sentences
from .tokenizers import WordTokenizer, bleu_tokenizer_for, check_lang

DEFAULT_ORDERS = (1, 2, 3, 4)


def _check_orders(orders) -> tuple[int, ...]:
    if isinstance(orders, int) and not isinstance(orders, bool):
        orders = (orders,)
    if not isinstance(orders, (tuple, list)) or not orders or any(
            not isinstance(n, int) or isinstance(n, bool) or n < 1 for n in orders):
        raise InvalidArgumentError("n", "a positive integer or a non-empty list of positive integers", orders)
    return tuple(sorted(set(orders)))


def _tokenizer(tokenize: str | None, lang: str, lowercase: bool) -> WordTokenizer:
    check_lang(lang)
    return WordTokenizer(bleu_tokenizer_for(lang) if tokenize is None else tokenize, lowercase)


def _ngrams(tokens: list[str], n: int):
    return zip(*(tokens[k:] for k in range(n)))


@dataclass(frozen=True)
class DistinctResult(ScoreResult):
    """distinct-n per order: distinct n-grams / all n-grams over every sentence.

    Attributes:
        scores: n -> distinct-n (NaN if there are no n-grams of that order).
        unique: n -> number of distinct n-grams.
        total: n -> number of n-grams.
        signature: the signature string.
        n_sentences: number of sentences.

    Example:
        >>> r = distinct_n(["a b a b"], n=[1, 2])
        >>> r.scores, r.unique, r.total, r.headline
        ({1: 0.5, 2: 0.6666666666666666}, {1: 2, 2: 2}, {1: 4, 2: 3}, 2)
    """
    scores: dict  # n -> distinct-n (float, NaN if no n-grams)
    unique: dict  # n -> number of distinct n-grams
    total: dict  # n -> number of n-grams
    signature: str
    n_sentences: int

    @property
    def headline(self) -> int:
        """The order n whose distinct-n is the headline value: 2, else the first order."""
        return 2 if 2 in self.scores else next(iter(self.scores))

    def to_score(self) -> Score:
        """distinct-2 (else the first order) as a `Score` named ``distinct``."""
        extra = {"headline": f"distinct-{self.headline}",
                 "scores": {f"distinct-{n}": v for n, v in self.scores.items()},  # NaN -> None in the export
                 "unique": {str(n): v for n, v in self.unique.items()},
                 "total": {str(n): v for n, v in self.total.items()}, "n_sentences": self.n_sentences}
        return Score("distinct", self.scores[self.headline], Signature.parse(self.signature), True, extra)


@dataclass(frozen=True)
class RepetitionResult(ScoreResult):
    """Within-sentence n-gram repetition and the duplicate-sentence rate.

    Attributes:
        seq_rep: mean within-sentence repetition of n-grams (Welleck et al. 2020); NaN if no sentence qualifies.
        n: the n-gram order.
        n_skipped: sentences with fewer than n tokens.
        duplicate_rate: 1 - distinct sentences / sentences.
        signature: the signature string.
        n_sentences: number of sentences.

    Example:
        >>> r = repetition_rates(["a a a", "a a a", "b"], n=1)
        >>> round(r.seq_rep, 4), round(r.duplicate_rate, 4), r.n_skipped
        (0.4444, 0.3333, 0)
    """
    seq_rep: float  # mean within-sentence repetition of n-grams (Welleck et al. 2020); NaN if no sentence qualifies
    n: int
    n_skipped: int  # sentences with fewer than n tokens
    duplicate_rate: float
    signature: str
    n_sentences: int

    def to_score(self) -> Score:
        """seq-rep-n as a `Score` named ``repetition`` (lower is better)."""
        extra = {"headline": f"seq-rep-{self.n}", "duplicate_rate": self.duplicate_rate, "n_skipped": self.n_skipped,
                 "n_sentences": self.n_sentences}
        return Score("repetition", self.seq_rep, Signature.parse(self.signature), False, extra)


class DistinctN:
    """distinct-n over all sentences seen by ``update``. Higher = more diverse.

    Args:
        n: one order or several (default 1..4).
        lang: the language (BCP-47; picks the default tokenizer).
        tokenize: a word tokenizer name (None: the default for `lang`).
        lowercase: lowercase before counting.

    Raises:
        InvalidArgumentError: bad orders or language, or `compute()` before any update.

    Example:
        >>> m = DistinctN(1).update(["a b"]).update(["a c"])
        >>> m.compute().scores
        {1: 0.75}
    """

    higher_is_better = True

    def __init__(self, n: int | Sequence[int] = DEFAULT_ORDERS, *, lang: str = "en", tokenize: str | None = None,
                 lowercase: bool = False):
        self.orders = _check_orders(n)
        self.tokenizer = _tokenizer(tokenize, lang, lowercase)
        self.reset()

    def reset(self) -> None:
        """Forget every sentence seen so far."""
        self._seen = {n: set() for n in self.orders}
        self._total = {n: 0 for n in self.orders}
        self._count = 0

    def update(self, hypotheses: Sequence[str]) -> "DistinctN":
        """Count the n-grams of more sentences; returns self."""
        for tokens in self.tokenizer.batch(as_sentences(hypotheses, "hypotheses")):
            for n in self.orders:
                grams = list(_ngrams(tokens, n))
                self._seen[n].update(grams)
                self._total[n] += len(grams)
            self._count += 1
        return self

    def compute(self) -> DistinctResult:
        """distinct-n over every sentence seen so far (a `DistinctResult`)."""
        if self._count == 0:
            raise InvalidArgumentError("DistinctN", "at least one update() before compute()", "no sentences")
        unique = {n: len(self._seen[n]) for n in self.orders}
        scores = {n: (unique[n] / self._total[n] if self._total[n] else float("nan")) for n in self.orders}
        sig = Signature("distinct", self.tokenizer.signature_fields).format()
        return DistinctResult(scores, unique, dict(self._total), sig, self._count)


class Repetition:
    """seq-rep-n and the duplicate-sentence rate over all sentences seen by ``update``. Lower = better.

    Args:
        n: the n-gram order (4).
        lang: the language (BCP-47; picks the default tokenizer).
        tokenize: a word tokenizer name (None: the default for `lang`).
        lowercase: lowercase before counting.

    Raises:
        InvalidArgumentError: a bad `n` or language, or `compute()` before any update.

    Example:
        >>> r = Repetition(2).update(["a b a b", "x y"]).compute()
        >>> round(r.seq_rep, 4), r.duplicate_rate
        (0.1667, 0.0)
    """

    higher_is_better = False

    def __init__(self, n: int = 4, *, lang: str = "en", tokenize: str | None = None, lowercase: bool = False):
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise InvalidArgumentError("n", "a positive integer", n)
        self.n = n
        self.tokenizer = _tokenizer(tokenize, lang, lowercase)
        self.reset()

    def reset(self) -> None:
        """Forget every sentence seen so far."""
        self._rep_sum = 0.0
        self._rep_count = 0
        self._skipped = 0
        self._sentences: set[str] = set()
        self._count = 0

    def update(self, hypotheses: Sequence[str]) -> "Repetition":
        """Add sentences; returns self."""
        hyps = as_sentences(hypotheses, "hypotheses")
        for s, tokens in zip(hyps, self.tokenizer.batch(hyps)):
            grams = list(_ngrams(tokens, self.n))
            if grams:
                self._rep_sum += 1.0 - len(set(grams)) / len(grams)
                self._rep_count += 1
            else:
                self._skipped += 1
            self._sentences.add(s)
            self._count += 1
        return self

    def compute(self) -> RepetitionResult:
        """seq-rep-n and the duplicate rate over every sentence seen so far (a `RepetitionResult`)."""
        if self._count == 0:
            raise InvalidArgumentError("Repetition", "at least one update() before compute()", "no sentences")
        seq_rep = self._rep_sum / self._rep_count if self._rep_count else float("nan")
        dup = 1.0 - len(self._sentences) / self._count
        sig = Signature("repetition", [("n", self.n), *self.tokenizer.signature_fields]).format()
        return RepetitionResult(seq_rep, self.n, self._skipped, dup, sig, self._count)


def distinct_n(hypotheses: Sequence[str], n: int | Sequence[int] = DEFAULT_ORDERS, *, lang: str = "en",
               tokenize: str | None = None, lowercase: bool = False) -> DistinctResult:
    """distinct-n for one or several n (default 1..4). Higher = more diverse.

    Args:
        hypotheses: the generated sentences.
        n: one order or several.
        lang: the language (BCP-47; picks the default tokenizer).
        tokenize: a word tokenizer name (None: the default for `lang`).
        lowercase: lowercase before counting.

    Returns:
        A `DistinctResult`.

    Raises:
        InvalidArgumentError: bad orders, language or sentences.

    Example:
        >>> distinct_n(["the cat", "the dog"], n=1).scores
        {1: 0.75}
        >>> distinct_n(["a"], n=0)
        Traceback (most recent call last):
        ...
        gmeval.errors.InvalidArgumentError: Argument `n` must be a positive integer or a non-empty list of positive integers, but got (0,).
    """
    return DistinctN(n, lang=lang, tokenize=tokenize, lowercase=lowercase).update(hypotheses).compute()


def repetition_rates(hypotheses: Sequence[str], n: int = 4, *, lang: str = "en", tokenize: str | None = None,
                     lowercase: bool = False) -> RepetitionResult:
    """seq-rep-n (within-sentence n-gram repetition) and the duplicate-sentence rate. Lower = better.

    Args:
        hypotheses: the generated sentences.
        n: the n-gram order (4).
        lang: the language (BCP-47; picks the default tokenizer).
        tokenize: a word tokenizer name (None: the default for `lang`).
        lowercase: lowercase before counting.

    Returns:
        A `RepetitionResult`.

    Raises:
        InvalidArgumentError: a bad `n`, language or sentences.

    Example:
        >>> r = repetition_rates(["a b c", "a b c"], n=4)
        >>> r.n_skipped, r.duplicate_rate
        (2, 0.5)
    """
    return Repetition(n, lang=lang, tokenize=tokenize, lowercase=lowercase).update(hypotheses).compute()
