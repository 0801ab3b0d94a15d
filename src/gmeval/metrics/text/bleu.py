"""BLEU (Papineni et al., ACL 2002) through sacreBLEU (Post, WMT 2018), with its signature.

sacreBLEU does the tokenization, n-gram matching, brevity penalty and smoothing; this module
validates inputs, picks the tokenizer for a language, and returns every score together with
sacreBLEU's reproducibility signature, e.g. ``nrefs:2|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0``
(sacreBLEU's string as it prints it, without a head: it names the metric outside the string).
Exported as a `Score` (``to_dict()``): the corpus score under ``"value"``, the statistics beside it.

Conventions (sacreBLEU's): scores are on a 0-100 scale; multiple references are given as a list
of *streams*, each stream holding one reference per hypothesis. Corpus BLEU defaults to
``smooth_method="exp"``, ``effective_order=False``; sentence BLEU to ``smooth_method="exp"``,
``effective_order=True`` (the defaults of ``sacrebleu.corpus_bleu`` / ``sacrebleu.sentence_bleu``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Sequence

from ...errors import InvalidArgumentError
from ..score import Score, ScoreResult, Signature
from .io import as_reference_streams, as_sentences
from .tokenizers import BLEU_TOKENIZERS, check_choice, sacrebleu_tokenizer

SMOOTH_METHODS = ("exp", "floor", "add-k", "none")


@dataclass(frozen=True)
class BLEUResult(ScoreResult):
    """A BLEU score (0-100) with its sufficient statistics and sacreBLEU signature.

    Attributes:
        score: the BLEU score, 0-100 (higher is better).
        signature: sacreBLEU's signature string.
        counts: matching n-grams per order.
        totals: hypothesis n-grams per order.
        precisions: n-gram precisions per order (0-100).
        bp: the brevity penalty.
        sys_len: hypothesis length in tokens.
        ref_len: effective reference length in tokens.
        n_sentences: number of hypotheses.

    Example:
        >>> r = bleu_score(["the cat sat on the mat"], ["the cat sat on the mat"])
        >>> round(r.score, 2), r.counts, r.bp
        (100.0, (6, 5, 4, 3), 1.0)
        >>> r.to_dict()["signature"]
        'nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:...'
    """

    score: float
    signature: str
    counts: tuple[int, ...]
    totals: tuple[int, ...]
    precisions: tuple[float, ...]
    bp: float
    sys_len: int
    ref_len: int
    n_sentences: int

    @classmethod
    def _from_sacrebleu(cls, s, signature: str, n: int) -> "BLEUResult":
        return cls(float(s.score), signature, tuple(int(c) for c in s.counts), tuple(int(t) for t in s.totals),
                   tuple(float(p) for p in s.precisions), float(s.bp), int(s.sys_len), int(s.ref_len), n)

    def to_score(self) -> Score:
        """The corpus score as a `Score` named ``bleu`` (the statistics as extra fields)."""
        extra = {k: v for k, v in asdict(self).items() if k not in ("score", "signature")}
        return Score("bleu", self.score, Signature.parse(self.signature, headless=True), True, extra)

    def __str__(self) -> str:
        prec = "/".join(f"{p:.1f}" for p in self.precisions)
        return f"BLEU|{self.signature} = {self.score:.2f} {prec} (BP = {self.bp:.3f} hyp_len = {self.sys_len} ref_len = {self.ref_len})"


def _check_options(tokenize, smooth_method, max_ngram_order):
    check_choice("tokenize", tokenize, BLEU_TOKENIZERS)
    check_choice("smooth_method", smooth_method, SMOOTH_METHODS)
    if not isinstance(max_ngram_order, int) or isinstance(max_ngram_order, bool) or max_ngram_order < 1:
        raise InvalidArgumentError("max_ngram_order", "an integer >= 1", max_ngram_order)


def sacrebleu_signature(metric, head: str = "", fields=()) -> Signature:
    """sacreBLEU's signature of a configured (and used) metric as a `Signature`, its items in sacreBLEU's
    order after `head` and `fields`; ``format()`` of it without head or fields is sacreBLEU's own string.

    Args:
        metric: a ``sacrebleu.metrics`` metric object.
        head: the head of the signature ("" for none).
        fields: further ``(key, value)`` pairs put before sacreBLEU's.

    Returns:
        A `Signature`.

    Example:
        >>> m = make_sacrebleu_metric(tokenize="char")
        >>> _ = m.corpus_score(["abc"], [["abc"]])   # sacreBLEU knows the number of references after a use
        >>> sacrebleu_signature(m, "bleu", [("n", 3)]).format()
        'bleu|n:3|nrefs:1|case:mixed|eff:no|tok:char|smooth:exp|version:...'
    """
    return Signature(head, [*fields, *Signature.parse(metric.get_signature().format(), headless=True).fields])


def make_sacrebleu_metric(*, tokenize: str = "13a", lowercase: bool = False, smooth_method: str = "exp",
                          smooth_value: float | None = None, max_ngram_order: int = 4, effective_order: bool = False):
    """A configured ``sacrebleu.metrics.BLEU`` after validating every option (typed errors).

    Args:
        tokenize: as `bleu_score`.
        lowercase: as `bleu_score`.
        smooth_method: as `bleu_score`.
        smooth_value: as `bleu_score`.
        max_ngram_order: as `bleu_score`.
        effective_order: use only the n-gram orders a sentence has (sacreBLEU's sentence-level default).

    Returns:
        A ``sacrebleu.metrics.BLEU``.

    Raises:
        InvalidArgumentError: an unknown tokenizer or smoothing method, a bad order, or malformed sentences.
        MissingDependencyError: a tokenizer whose packages are not installed (mecab).

    Example:
        >>> type(make_sacrebleu_metric()).__name__
        'BLEU'
        >>> make_sacrebleu_metric(smooth_method="laplace")
        Traceback (most recent call last):
        ...
        gmeval.errors.InvalidArgumentError: Argument `smooth_method` must be one of 'exp', 'floor', 'add-k', 'none', but got 'laplace'.
    """
    _check_options(tokenize, smooth_method, max_ngram_order)
    sacrebleu_tokenizer(tokenize)  # raises MissingDependencyError for mecab tokenizers without their packages
    from sacrebleu.metrics import BLEU as _SacreBLEU

    # force=True: do not print sacreBLEU's "looks tokenized" warning; it does not change any score.
    return _SacreBLEU(lowercase=lowercase, force=True, tokenize=tokenize, smooth_method=smooth_method,
                      smooth_value=smooth_value, max_ngram_order=max_ngram_order, effective_order=effective_order)


# -- pure functions -------------------------------------------------------------------------------
def bleu_score(hypotheses: Sequence[str], references, *, tokenize: str = "13a", lowercase: bool = False,
               smooth_method: str = "exp", smooth_value: float | None = None, max_ngram_order: int = 4,
               effective_order: bool = False) -> BLEUResult:
    """Corpus BLEU of ``hypotheses`` against one or more reference streams. Higher is better.

    Args:
        hypotheses: the generated sentences.
        references: a list of streams (``[[ref1 for hyp1, ref1 for hyp2, ...], [ref2 ...]]``), or a
            single list of strings (one reference per hypothesis).
        tokenize: sacreBLEU's tokenizer (``"13a"``, ``"intl"``, ``"zh"``, ``"char"``, ``"none"`` ...).
        lowercase: lowercase before matching.
        smooth_method: ``"exp"``, ``"floor"``, ``"add-k"`` or ``"none"``.
        smooth_value: the smoothing value for ``"floor"`` / ``"add-k"`` (None: sacreBLEU's default).
        max_ngram_order: the largest n-gram order (4).
        effective_order: as `make_sacrebleu_metric` (False for corpus BLEU).

    Returns:
        A `BLEUResult`.

    Raises:
        InvalidArgumentError: an unknown tokenizer or smoothing method, a bad order, or malformed sentences.
        MissingDependencyError: a tokenizer whose packages are not installed (mecab).

    Example:
        >>> hyps = ["the cat sat on the mat", "a dog barked"]
        >>> r = bleu_score(hyps, [["the cat sat on the mat", "the dog barked"], ["a cat sat on a mat", "a dog barked"]])
        >>> round(r.score, 2), r.n_sentences, r.signature.split("|")[0]
        (100.0, 2, 'nrefs:2')
    """
    hyps = as_sentences(hypotheses, "hypotheses")
    refs = as_reference_streams(references, len(hyps))
    metric = make_sacrebleu_metric(tokenize=tokenize, lowercase=lowercase, smooth_method=smooth_method,
                                   smooth_value=smooth_value, max_ngram_order=max_ngram_order,
                                   effective_order=effective_order)
    s = metric.corpus_score(hyps, refs)
    return BLEUResult._from_sacrebleu(s, sacrebleu_signature(metric).format(), len(hyps))


def sentence_bleu_score(hypothesis: str, references: Sequence[str], *, tokenize: str = "13a", lowercase: bool = False,
                        smooth_method: str = "exp", smooth_value: float | None = None, max_ngram_order: int = 4,
                        effective_order: bool = True) -> BLEUResult:
    """BLEU of one sentence against its reference(s) (a list of strings), sacreBLEU's sentence defaults.

    Args:
        hypothesis: one generated sentence.
        references: its references, a list of strings.
        tokenize: as `bleu_score`.
        lowercase: as `bleu_score`.
        smooth_method: as `bleu_score`.
        smooth_value: as `bleu_score`.
        max_ngram_order: as `bleu_score`.
        effective_order: as `make_sacrebleu_metric` (True for sentences).

    Returns:
        A `BLEUResult` with ``n_sentences == 1``.

    Raises:
        InvalidArgumentError: an unknown tokenizer or smoothing method, a bad order, or malformed sentences.
        MissingDependencyError: a tokenizer whose packages are not installed (mecab).

    Example:
        >>> round(sentence_bleu_score("the cat sat", ["the cat sat"]).score, 2)
        100.0
        >>> sentence_bleu_score(["the cat sat"], ["the cat sat"])
        Traceback (most recent call last):
        ...
        gmeval.errors.InvalidArgumentError: Argument `hypothesis` must be a string, but got 'list'.
    """
    if not isinstance(hypothesis, str):
        raise InvalidArgumentError("hypothesis", "a string", type(hypothesis).__name__)
    refs = as_sentences(references, "references")
    metric = make_sacrebleu_metric(tokenize=tokenize, lowercase=lowercase, smooth_method=smooth_method,
                                   smooth_value=smooth_value, max_ngram_order=max_ngram_order,
                                   effective_order=effective_order)
    s = metric.sentence_score(hypothesis, refs)
    return BLEUResult._from_sacrebleu(s, sacrebleu_signature(metric).format(), 1)


def sentence_bleu_scores(hypotheses: Sequence[str], references, *, tokenize: str = "13a", lowercase: bool = False,
                         smooth_method: str = "exp", smooth_value: float | None = None, max_ngram_order: int = 4,
                         effective_order: bool = True) -> tuple[list[float], str]:
    """Sentence BLEU of every hypothesis against its aligned references; returns (scores, signature).

    Args:
        hypotheses: the generated sentences.
        references: reference streams, as `bleu_score`.
        tokenize: as `bleu_score`.
        lowercase: as `bleu_score`.
        smooth_method: as `bleu_score`.
        smooth_value: as `bleu_score`.
        max_ngram_order: as `bleu_score`.
        effective_order: as `make_sacrebleu_metric` (True for sentences).

    Returns:
        (a list of scores, 0-100, one per hypothesis; sacreBLEU's signature string).

    Raises:
        InvalidArgumentError: an unknown tokenizer or smoothing method, a bad order, or malformed sentences.
        MissingDependencyError: a tokenizer whose packages are not installed (mecab).

    Example:
        >>> scores, sig = sentence_bleu_scores(["the cat sat", "xyz"], ["the cat sat", "the dog"])
        >>> [round(s, 2) for s in scores], sig.startswith("nrefs:1|case:mixed|eff:yes")
        ([100.0, 0.0], True)
    """
    hyps = as_sentences(hypotheses, "hypotheses")
    refs = as_reference_streams(references, len(hyps))
    metric = make_sacrebleu_metric(tokenize=tokenize, lowercase=lowercase, smooth_method=smooth_method,
                                   smooth_value=smooth_value, max_ngram_order=max_ngram_order,
                                   effective_order=effective_order)
    scores = [float(metric.sentence_score(h, [stream[i] for stream in refs]).score) for i, h in enumerate(hyps)]
    return scores, sacrebleu_signature(metric).format()


# -- stateful class -------------------------------------------------------------------------------
class BLEU:
    """Corpus BLEU accumulated over batches: ``update(hyps, refs)`` ... ``compute()``.

    Keeps the sentences (not partial statistics) so the result is exactly sacreBLEU's corpus score.

    Args:
        tokenize: as `bleu_score`.
        lowercase: as `bleu_score`.
        smooth_method: as `bleu_score`.
        smooth_value: as `bleu_score`.
        max_ngram_order: as `bleu_score`.
        effective_order: as `bleu_score`.

    Raises:
        InvalidArgumentError: an unknown tokenizer or smoothing method, a bad order, or malformed sentences.
        MissingDependencyError: a tokenizer whose packages are not installed (mecab).

    Example:
        >>> m = BLEU().update(["the cat sat on the mat"], ["the cat sat on the mat"])
        >>> m.update(["a dog barked"], ["a dog barked"]).compute().n_sentences
        2
        >>> m.reset(); m.compute()
        Traceback (most recent call last):
        ...
        gmeval.errors.InvalidArgumentError: Argument `BLEU` must be at least one update() before compute(), but got 'no sentences'.
    """

    higher_is_better = True

    def __init__(self, *, tokenize: str = "13a", lowercase: bool = False, smooth_method: str = "exp",
                 smooth_value: float | None = None, max_ngram_order: int = 4, effective_order: bool = False):
        _check_options(tokenize, smooth_method, max_ngram_order)
        self.options = dict(tokenize=tokenize, lowercase=lowercase, smooth_method=smooth_method,
                            smooth_value=smooth_value, max_ngram_order=max_ngram_order, effective_order=effective_order)
        self.reset()

    def reset(self) -> None:
        """Forget every sentence added so far."""
        self._hyps: list[str] = []
        self._refs: list[list[str]] | None = None

    def update(self, hypotheses: Sequence[str], references) -> "BLEU":
        """Add hypotheses and their reference streams (as many streams as in earlier updates); returns self."""
        hyps = as_sentences(hypotheses, "hypotheses")
        refs = as_reference_streams(references, len(hyps))
        if self._refs is None:
            self._refs = [[] for _ in refs]
        elif len(refs) != len(self._refs):
            raise InvalidArgumentError("references", f"{len(self._refs)} reference streams (as in earlier updates)",
                                       f"{len(refs)} streams")
        self._hyps.extend(hyps)
        for acc, stream in zip(self._refs, refs):
            acc.extend(stream)
        return self

    def compute(self) -> BLEUResult:
        """sacreBLEU's corpus BLEU of every sentence added so far (a `BLEUResult`)."""
        if not self._hyps:
            raise InvalidArgumentError("BLEU", "at least one update() before compute()", "no sentences")
        return bleu_score(self._hyps, self._refs, **self.options)
