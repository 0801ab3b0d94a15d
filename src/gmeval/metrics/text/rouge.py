"""ROUGE-1/2/L/Lsum (Lin, 2004) through Google's rouge-score, with a tokenizer for every script.

rouge-score's default tokenizer lower-cases and deletes every character outside ``a-z0-9``:
Chinese, Russian, Greek, Arabic... text has no tokens and every ROUGE score is 0. Here
``RougeScorer`` gets a tokenizer object from :mod:`.tokenizers` instead (``unicode-words`` by
default: Unicode letters/marks/digits, CJK split into characters; identical to rouge-score on
ASCII text). rouge-score computes the n-gram and LCS statistics.

* Scores are per sentence pair, then averaged over sentences (precision, recall, F-measure each;
  the plain mean, no bootstrap). Scale 0-1.
* Multiple references: rouge-score's ``score_multi`` -- for each ROUGE type, the reference with
  the highest F-measure is used.
* ``rougeLsum`` splits a text into sentences at ``\\n``; with one sentence per line it equals
  ``rougeL`` (a hypothesis given through the API may contain ``\\n`` to make Lsum differ).
  rouge-score's NLTK sentence splitter is not used (it needs NLTK data that is not shipped).
* ROUGE-L builds rouge-score's full LCS table: memory and time grow with the product of the two
  sentences' token counts (a 200k-token line would need ~10^10 cells). A hypothesis/reference pair
  whose product exceeds ``MAX_LCS_CELLS`` (4 million, e.g. 2000 x 2000 tokens: ~150 MB and ~2 s) is a
  TextInputError naming the line, raised before any score is computed. ROUGE-N has no such limit.
* Headline (``to_dict()["value"]``, what ``gmeval text`` reports first): the mean ROUGE-L F-measure
  (the first type asked for when rougeL is not among them; ``"headline"`` names it). Every type's
  precision, recall and F-measure stay under ``"scores"``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import metadata
from typing import Sequence

import numpy as np

from ...errors import InvalidArgumentError
from ..score import Score, ScoreResult, Signature
from .io import TextInputError, as_reference_streams, as_sentences
from .tokenizers import ROUGE_TOKENIZERS, check_choice, check_lang, rouge_tokenizer, rouge_tokenizer_for

DEFAULT_ROUGE_TYPES = ("rouge1", "rouge2", "rougeL", "rougeLsum")
#: largest LCS table (hypothesis tokens x reference tokens) ROUGE-L may build for one sentence pair
MAX_LCS_CELLS = 4_000_000
_ROUGE_TYPE_RE = re.compile(r"^rouge[1-9]$|^rougeL$|^rougeLsum$")


@dataclass(frozen=True)
class ROUGEResult(ScoreResult):
    """Mean precision / recall / F-measure per ROUGE type (0-1), and the signature.

    Attributes:
        scores: rouge type -> {"precision": float, "recall": float, "fmeasure": float}.
        signature: the signature string.
        n_sentences: number of hypotheses.
        per_sentence: rouge type -> list of F-measures (with ``return_per_sentence=True``), else None.

    Example:
        >>> r = rouge_score(["the cat sat"], ["the cat sat down"], rouge_types=["rouge1", "rougeL"])
        >>> r.headline, round(r.fmeasure("rouge1"), 4), r.scores["rouge1"]["precision"]
        ('rougeL', 0.8571, 1.0)
        >>> r.to_dict()["signature"]
        'rouge|nrefs:1|multi:max-f|tok:unicode-words|case:lc|stem:no|lsum-split:newline|agg:mean|rouge-score:...'
    """

    scores: dict  # rouge type -> {"precision": float, "recall": float, "fmeasure": float}
    signature: str
    n_sentences: int
    per_sentence: dict | None = field(default=None, repr=False)  # rouge type -> list of F-measures

    def fmeasure(self, rouge_type: str) -> float:
        """The mean F-measure of one ROUGE type."""
        return self.scores[rouge_type]["fmeasure"]

    @property
    def headline(self) -> str:
        """The ROUGE type whose F-measure is the headline value: rougeL, else the first type."""
        return "rougeL" if "rougeL" in self.scores else next(iter(self.scores))

    def to_score(self) -> Score:
        """The headline F-measure (rougeL, else the first type) as a `Score` named ``rouge``."""
        extra = {"headline": f"{self.headline} fmeasure", "scores": self.scores, "n_sentences": self.n_sentences}
        if self.per_sentence is not None:
            extra["per_sentence"] = self.per_sentence
        return Score("rouge", self.fmeasure(self.headline), Signature.parse(self.signature), True, extra)


def _check_types(rouge_types) -> tuple[str, ...]:
    if isinstance(rouge_types, str) or not isinstance(rouge_types, Sequence) or not rouge_types:
        raise InvalidArgumentError("rouge_types", "a non-empty list such as ['rouge1', 'rouge2', 'rougeL', 'rougeLsum']", rouge_types)
    for t in rouge_types:
        if not isinstance(t, str) or not _ROUGE_TYPE_RE.match(t):
            raise InvalidArgumentError("rouge_types", "items 'rouge1'..'rouge9', 'rougeL' or 'rougeLsum'", t)
    return tuple(rouge_types)


class _Config:
    """Validated options, the rouge-score scorer, and the signature string."""

    def __init__(self, rouge_types, lang, tokenizer, use_stemmer):
        self.rouge_types = _check_types(rouge_types)
        self.lang = check_lang(lang)  # primary subtag
        self.tokenizer_name = rouge_tokenizer_for(lang) if tokenizer is None else check_choice("tokenizer", tokenizer, ROUGE_TOKENIZERS)
        if use_stemmer and self.lang != "en":
            raise InvalidArgumentError("use_stemmer", "False unless lang='en' (the Porter stemmer is English-only)", use_stemmer)
        self.use_stemmer = bool(use_stemmer)
        from rouge_score import rouge_scorer

        self.tokenizer = rouge_tokenizer(self.tokenizer_name, self.use_stemmer)
        self.scorer = rouge_scorer.RougeScorer(list(self.rouge_types), use_stemmer=self.use_stemmer,
                                               tokenizer=self.tokenizer)

    def signature(self, nrefs: int) -> str:
        return Signature("rouge", [("nrefs", nrefs), ("multi", "max-f"), ("tok", self.tokenizer_name), ("case", "lc"),
                                   ("stem", "yes" if self.use_stemmer else "no"), ("lsum-split", "newline"),
                                   ("agg", "mean"), ("rouge-score", metadata.version("rouge-score"))]).format()

    def check_lengths(self, hyps: list[str], refs: list[list[str]]) -> None:
        """Refuse sentence pairs whose LCS table would exceed MAX_LCS_CELLS (only ROUGE-L/Lsum build one)."""
        if not any(t.startswith("rougeL") for t in self.rouge_types):
            return
        tok = self.tokenizer
        for i, h in enumerate(hyps):
            nh = len(tok.tokenize(h))
            for stream in refs:
                nr = len(tok.tokenize(stream[i]))
                if nh * nr > MAX_LCS_CELLS:
                    raise TextInputError(
                        f"sentence pair too long for ROUGE-L ({nh} x {nr} tokens; at most {MAX_LCS_CELLS:,} "
                        "token pairs, since the LCS table grows with their product): split the line into sentences, "
                        "or leave rouge out of the metrics", "hypotheses/references", i + 1)


def check_rouge_lengths(hypotheses: Sequence[str], references, *, lang: str = "en", tokenizer: str | None = None,
                        rouge_types: Sequence[str] = DEFAULT_ROUGE_TYPES) -> None:
    """Raise TextInputError if a sentence pair is too long for ROUGE-L (see MAX_LCS_CELLS).

    Args:
        hypotheses: the generated sentences.
        references: reference streams, as `rouge_score`.
        lang: the language (picks the tokenizer).
        tokenizer: the tokenizer name (None: the default for `lang`).
        rouge_types: only ROUGE-L types build an LCS table; without them nothing is checked.

    Raises:
        TextInputError: a pair's token-count product exceeds MAX_LCS_CELLS (names the line).

    Example:
        >>> check_rouge_lengths(["a b"], ["a b c"]) is None
        True
        >>> long = " ".join(["w"] * 2001)
        >>> check_rouge_lengths([long], [long])
        Traceback (most recent call last):
        ...
        gmeval.metrics.text.io.TextInputError: hypotheses/references: line 1: sentence pair too long for ROUGE-L (2001 x 2001 tokens; ...
    """
    hyps = as_sentences(hypotheses, "hypotheses")
    _Config(rouge_types, lang, tokenizer, False).check_lengths(hyps, as_reference_streams(references, len(hyps)))


def _score_pairs(cfg: _Config, hyps: list[str], refs: list[list[str]]) -> dict:
    """Per-sentence scores: rouge type -> (N x 3) array of precision, recall, fmeasure."""
    cfg.check_lengths(hyps, refs)
    out = {t: np.empty((len(hyps), 3), np.float64) for t in cfg.rouge_types}
    for i, h in enumerate(hyps):
        targets = [stream[i] for stream in refs]
        s = cfg.scorer.score(targets[0], h) if len(targets) == 1 else cfg.scorer.score_multi(targets, h)
        for t in cfg.rouge_types:
            out[t][i] = (s[t].precision, s[t].recall, s[t].fmeasure)
    return out


def _summarise(cfg: _Config, per: dict, nrefs: int, n: int, return_per_sentence: bool) -> ROUGEResult:
    scores = {t: dict(zip(("precision", "recall", "fmeasure"), (float(v) for v in per[t].mean(axis=0)))) for t in cfg.rouge_types}
    per_sentence = {t: per[t][:, 2].tolist() for t in cfg.rouge_types} if return_per_sentence else None
    return ROUGEResult(scores, cfg.signature(nrefs), n, per_sentence)


def rouge_score(hypotheses: Sequence[str], references, *, rouge_types: Sequence[str] = DEFAULT_ROUGE_TYPES,
                lang: str = "en", tokenizer: str | None = None, use_stemmer: bool = False,
                return_per_sentence: bool = False) -> ROUGEResult:
    """Mean ROUGE of hypotheses against aligned references (one stream, or a list of streams). Higher is better.

    With several streams, each sentence takes the best F-measure over its references (rouge-score's ``score_multi``).

    Args:
        hypotheses: the generated sentences.
        references: one reference per hypothesis, or a list of such streams.
        rouge_types: ROUGE types, from ``rouge1``..``rouge9``, ``rougeL``, ``rougeLsum``.
        lang: the language (BCP-47; picks the default tokenizer).
        tokenizer: None picks the default for ``lang`` (``unicode-words``; ``unicode-chars`` for
            th/lo/km/my); ``"rouge-score"`` selects rouge-score's ASCII-only default tokenizer.
        use_stemmer: Porter stemming (English only).
        return_per_sentence: also keep each sentence's F-measures.

    Returns:
        A `ROUGEResult`.

    Raises:
        InvalidArgumentError: bad ROUGE types, language, tokenizer, stemming outside English, or malformed sentences.
        TextInputError: a sentence pair too long for ROUGE-L.

    Example:
        >>> r = rouge_score(["the cat sat", "a dog"], ["the cat sat", "the dog"], return_per_sentence=True)
        >>> [round(v, 4) for v in r.per_sentence["rouge1"]], r.n_sentences
        ([1.0, 0.5], 2)
    """
    cfg = _Config(rouge_types, lang, tokenizer, use_stemmer)
    hyps = as_sentences(hypotheses, "hypotheses")
    refs = as_reference_streams(references, len(hyps))
    return _summarise(cfg, _score_pairs(cfg, hyps, refs), len(refs), len(hyps), return_per_sentence)


class ROUGE:
    """ROUGE accumulated over batches (per-sentence scores are kept; ``compute`` averages them).

    Args:
        rouge_types: ROUGE types, from ``rouge1``..``rouge9``, ``rougeL``, ``rougeLsum``.
        lang: the language (BCP-47; picks the default tokenizer).
        tokenizer: None picks the default for ``lang`` (``unicode-words``; ``unicode-chars`` for
            th/lo/km/my); ``"rouge-score"`` selects rouge-score's ASCII-only default tokenizer.
        use_stemmer: Porter stemming (English only).

    Raises:
        InvalidArgumentError: bad options, a changing number of reference streams, or `compute()` before any update.

    Example:
        >>> m = ROUGE(rouge_types=["rouge1"]).update(["the cat sat"], ["the cat sat"]).update(["a dog"], ["the dog"])
        >>> round(m.compute().fmeasure("rouge1"), 4)
        0.75
    """

    higher_is_better = True

    def __init__(self, *, rouge_types: Sequence[str] = DEFAULT_ROUGE_TYPES, lang: str = "en",
                 tokenizer: str | None = None, use_stemmer: bool = False):
        self._cfg = _Config(rouge_types, lang, tokenizer, use_stemmer)
        self.reset()

    def reset(self) -> None:
        """Forget every sentence added so far."""
        self._per: dict[str, list[np.ndarray]] = {t: [] for t in self._cfg.rouge_types}
        self._n = 0
        self._nrefs: int | None = None

    def update(self, hypotheses: Sequence[str], references) -> "ROUGE":
        """Score hypotheses against their references and keep the per-sentence values; returns self."""
        hyps = as_sentences(hypotheses, "hypotheses")
        refs = as_reference_streams(references, len(hyps))
        if self._nrefs is not None and len(refs) != self._nrefs:
            raise InvalidArgumentError("references", f"{self._nrefs} reference streams (as in earlier updates)", f"{len(refs)} streams")
        self._nrefs = len(refs)
        for t, arr in _score_pairs(self._cfg, hyps, refs).items():
            self._per[t].append(arr)
        self._n += len(hyps)
        return self

    def compute(self, return_per_sentence: bool = False) -> ROUGEResult:
        """The mean over every sentence added so far (a `ROUGEResult`; per-sentence values on request)."""
        if self._n == 0:
            raise InvalidArgumentError("ROUGE", "at least one update() before compute()", "no sentences")
        per = {t: np.concatenate(v) for t, v in self._per.items()}
        return _summarise(self._cfg, per, self._nrefs, self._n, return_per_sentence)
