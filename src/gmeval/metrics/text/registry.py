"""The registry of text metrics: names, direction, what each needs, and how each is computed.

`TEXT_METRICS` is a :class:`gmeval.metrics.score.Registry` of `TextMetricSpec` entries, the same
shape as the image metrics' registry (``"all"`` names every metric). Each entry's ``compute`` takes
a `TextContext` (the validated sentences, tokenizer options, embeddings, seed) and returns one
:class:`gmeval.metrics.score.Score`; :func:`gmeval.metrics.text.evaluate_text` builds the context
once and calls the entries in order.

Light: the compute functions import their metric modules when called, so the CLI can build its
argument choices from this module without loading numpy, scipy or sacrebleu.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from ...errors import InvalidArgumentError
from ..score import Registry, Score


@dataclass(frozen=True)
class TextContext:
    """What the text metrics are computed from; built once by ``evaluate_text``.

    Attributes:
        hyps: the hypotheses.
        refs: reference streams; [] when none were given.
        lang: ISO 639 language code (subtags allowed).
        tokenize: sacreBLEU tokenizer for BLEU, self-BLEU and distinct-n.
        lowercase: lowercase before matching.
        seed: MAUVE's k-means seed.
        mauve_seeds: MAUVE's k-means runs.
        mauve_clusters: MAUVE's number of clusters (``"auto"`` or an int).
        hyp_features: N x D embeddings (set when a metric needs the encoder).
        ref_features: the reference embeddings.
        hyp_source: the signature of what produced `hyp_features`.
        ref_source: the signature of what produced `ref_features`.

    Example:
        >>> ctx = TextContext(["a b c d"], [["a b c d"]], "en", "13a", False)
        >>> round(TEXT_METRICS["bleu"].compute(ctx).value, 2)
        100.0
    """

    hyps: list[str]
    refs: list[list[str]]  # reference streams; [] when none were given
    lang: str  # ISO 639 language code (subtags allowed)
    tokenize: str  # sacreBLEU tokenizer for BLEU, self-BLEU and distinct-n
    lowercase: bool
    seed: Any = 0  # MAUVE's k-means
    mauve_seeds: int = 1
    mauve_clusters: Any = "auto"
    hyp_features: Any = None  # N x D embeddings (set when a metric needs the encoder)
    ref_features: Any = None
    hyp_source: str = "features:given"  # signatures of what produced the embeddings
    ref_source: str = "features:given"


def _bleu(ctx: TextContext) -> Score:
    from .bleu import bleu_score, sentence_bleu_scores

    score = bleu_score(ctx.hyps, ctx.refs, tokenize=ctx.tokenize, lowercase=ctx.lowercase).to_score()
    sent, sent_sig = sentence_bleu_scores(ctx.hyps, ctx.refs, tokenize=ctx.tokenize, lowercase=ctx.lowercase)
    return dataclasses.replace(score, extra={**score.extra, "sentence_bleu_mean": sum(sent) / len(sent),
                                             "sentence_signature": sent_sig})


def _rouge(ctx: TextContext) -> Score:
    from .rouge import rouge_score

    return rouge_score(ctx.hyps, ctx.refs, lang=ctx.lang).to_score()


def _rouge_check(ctx: TextContext) -> None:
    from .rouge import check_rouge_lengths

    check_rouge_lengths(ctx.hyps, ctx.refs, lang=ctx.lang)


def _self_bleu(ctx: TextContext) -> Score:
    from .self_bleu import self_bleu

    return self_bleu(ctx.hyps, tokenize=ctx.tokenize, lowercase=ctx.lowercase).to_score()


def _self_bleu_check(ctx: TextContext) -> None:
    if len(ctx.hyps) < 2:
        raise InvalidArgumentError("hypotheses", "at least 2 sentences for self-bleu", f"{len(ctx.hyps)} sentence(s)")


def _distinct(ctx: TextContext) -> Score:
    from .diversity import distinct_n, repetition_rates

    opts = dict(lang=ctx.lang, tokenize=ctx.tokenize, lowercase=ctx.lowercase)
    score = distinct_n(ctx.hyps, (1, 2, 3, 4), **opts).to_score()
    repetition = repetition_rates(ctx.hyps, 4, **opts).to_dict()
    return dataclasses.replace(score, extra={**score.extra, "repetition": repetition})


def _mauve(ctx: TextContext) -> Score:
    from ._embedding import source_signature
    from .mauve import mauve_from_features

    return mauve_from_features(ctx.ref_features, ctx.hyp_features, seed=ctx.seed, num_seeds=ctx.mauve_seeds,
                               num_clusters=ctx.mauve_clusters,
                               source=source_signature(ctx.hyp_source, ctx.ref_source)).to_score()


def _fd(ctx: TextContext) -> Score:
    from .embedding_fd import embedding_fd_from_features

    return embedding_fd_from_features(ctx.hyp_features, ctx.ref_features, hyp_source=ctx.hyp_source,
                                      ref_source=ctx.ref_source).to_score()


@dataclass(frozen=True)
class TextMetricSpec:
    """One text metric: what it reports, what it needs, and how it is computed.

    Attributes:
        name: the registry name (``bleu``).
        description: one line for help texts.
        label: what the headline value is, for printed summaries.
        higher_is_better: the headline value's direction.
        needs_references: needs any reference text.
        aligned: references are matched to hypotheses line by line.
        needs_encoder: needs sentence embeddings (``TextContext.hyp_features`` / ``ref_features``).
        sacrebleu_tokens: tokenized with the sacreBLEU tokenizer (``TextContext.tokenize``).
        compute: the function from a `TextContext` to a `Score`.
        check: validation run on the context before any metric is computed (fail fast), or None.

    Example:
        >>> spec = TEXT_METRICS["self-bleu"]
        >>> spec.label, spec.higher_is_better, spec.needs_references
        ('self-BLEU', False, False)
    """

    name: str
    description: str
    label: str  # what the headline value is, for printed summaries
    higher_is_better: bool
    needs_references: bool  # any reference text at all
    aligned: bool  # references matched to hypotheses line by line
    needs_encoder: bool  # sentence embeddings (``TextContext.hyp_features`` / ``ref_features``)
    sacrebleu_tokens: bool  # tokenized with the sacreBLEU tokenizer (``TextContext.tokenize``)
    compute: Callable[[TextContext], Score] = dataclasses.field(repr=False, compare=False)
    # validation run on the context before any metric is computed (fail fast, lose nothing)
    check: Callable[[TextContext], None] | None = dataclasses.field(default=None, repr=False, compare=False)


#: every metric ``evaluate_text`` / ``gmeval text --metrics`` knows, in output order
TEXT_METRICS: Registry[TextMetricSpec] = Registry("metrics", [
    TextMetricSpec("bleu", "corpus BLEU (sacreBLEU) and mean sentence BLEU, 0-100", "BLEU", higher_is_better=True,
                   needs_references=True, aligned=True, needs_encoder=False, sacrebleu_tokens=True, compute=_bleu),
    TextMetricSpec("rouge", "ROUGE-1/2/L/Lsum F-measure, precision, recall (rouge-score, Unicode tokenizer), 0-1; "
                            "value: ROUGE-L F-measure", "ROUGE-L F", higher_is_better=True, needs_references=True,
                   aligned=True, needs_encoder=False, sacrebleu_tokens=False, compute=_rouge, check=_rouge_check),
    TextMetricSpec("self-bleu", "mean sentence BLEU of each hypothesis against all others, 0-100 (lower = more diverse)",
                   "self-BLEU", higher_is_better=False, needs_references=False, aligned=False, needs_encoder=False,
                   sacrebleu_tokens=True, compute=_self_bleu, check=_self_bleu_check),
    TextMetricSpec("distinct", "distinct-1..4 (unique / total n-grams) and seq-rep-4, duplicate rate; value: distinct-2",
                   "distinct-2", higher_is_better=True, needs_references=False, aligned=False, needs_encoder=False,
                   sacrebleu_tokens=True, compute=_distinct),
    TextMetricSpec("mauve", "MAUVE (Pillutla et al. 2021) on sentence embeddings, 0-1", "MAUVE", higher_is_better=True,
                   needs_references=True, aligned=False, needs_encoder=True, sacrebleu_tokens=False, compute=_mauve),
    TextMetricSpec("fd", "Frechet distance between sentence-embedding sets (lower is better)", "embedding FD",
                   higher_is_better=False, needs_references=True, aligned=False, needs_encoder=True,
                   sacrebleu_tokens=False, compute=_fd),
])

DEFAULT_METRICS = ("bleu", "rouge", "self-bleu", "distinct")


def parse_metrics(metrics: str | Sequence[str]) -> tuple[str, ...]:
    """Text metric names from a string or list: validated, de-duplicated, order kept.

    Args:
        metrics: ``'bleu,rouge'``, ``['bleu', 'rouge']`` or ``'all'``.

    Returns:
        A tuple of registry names.

    Raises:
        InvalidArgumentError: an unknown name or an empty list (names the allowed values).

    Example:
        >>> parse_metrics("rouge,bleu,rouge")
        ('rouge', 'bleu')
        >>> parse_metrics("all")
        ('bleu', 'rouge', 'self-bleu', 'distinct', 'mauve', 'fd')
    """
    return TEXT_METRICS.parse(metrics)
