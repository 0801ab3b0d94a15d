"""One entry point that runs several text metrics on in-memory sentences (used by ``gmeval text``).

The metrics are dispatched through the registry (:data:`gmeval.metrics.text.registry.TEXT_METRICS`):
the inputs are validated and embedded once into a `TextContext`, every asked metric's ``check``
runs, then every metric's ``compute``. Each result is exported as a
:class:`gmeval.metrics.score.Score`: ``{"value", "higher_is_better", "signature", ...}``.
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

from ...errors import InvalidArgumentError
from .io import as_reference_streams, as_sentences
from .registry import DEFAULT_METRICS, TEXT_METRICS, TextContext, parse_metrics
from .tokenizers import BLEU_TOKENIZERS, bleu_tokenizer_for, check_choice, check_lang, warn_if_unsegmented


def _reference_streams(references, specs, hyps: list[str], ref_features) -> list[list[str]]:
    """The validated reference streams ([] when none are given and none are needed)."""
    if isinstance(references, (str, bytes)):
        raise InvalidArgumentError("references", "a list of reference streams (lists of strings) or None", "a single string")
    if references is None or len(references) == 0:
        missing = [s.name for s in specs if s.needs_references and not (s.needs_encoder and ref_features is not None)]
        if missing:
            raise InvalidArgumentError("references", f"reference text for the metrics {missing}", None,
                                       "Give --ref FILE, or choose only self-bleu,distinct.")
        return []
    if any(s.aligned for s in specs):
        return as_reference_streams(references, len(hyps))
    return [as_sentences(s, f"references[{j}]") for j, s in enumerate(
        [references] if all(isinstance(r, str) for r in references) else references)]


def evaluate_text(hypotheses: Sequence[str], references=None, metrics: str | Sequence[str] = DEFAULT_METRICS, *,
                  lang: str = "en", tokenize: str | None = None, lowercase: bool = False, encoder=None,
                  seed=0, mauve_seeds: int = 1, mauve_clusters="auto", hyp_features=None, ref_features=None) -> dict:
    """Run several text metrics and return a JSON-ready dict ``{"metrics": {name: Score.to_dict()}, ...}``.

    Distribution metrics (mauve, fd) pool the lines of all reference streams into one human sample,
    and use ``hyp_features`` / ``ref_features`` instead of encoding when given.

    Args:
        hypotheses: the generated sentences.
        references: a list of reference streams (one per reference file; each with one line per
            hypothesis for BLEU/ROUGE), or None when only reference-free metrics are asked for.
        metrics: names or ``"all"`` (default: bleu, rouge, self-bleu, distinct).
        lang: the language (BCP-47); picks the tokenizers.
        tokenize: overrides the sacreBLEU tokenizer chosen from ``lang`` (BLEU, self-BLEU, distinct-n).
        lowercase: lowercase before matching (BLEU, self-BLEU, distinct-n).
        encoder: the sentence encoder for mauve/fd (None: the offline MiniLM).
        seed: MAUVE's k-means seed.
        mauve_seeds: MAUVE's k-means runs.
        mauve_clusters: MAUVE's clusters (``"auto"`` or an int).
        hyp_features: hypothesis embeddings used instead of encoding.
        ref_features: reference embeddings used instead of encoding.

    Returns:
        ``{"n_hypotheses", "n_reference_streams", "lang", "metrics": {name: Score.to_dict()}}``.

    Raises:
        InvalidArgumentError: an unknown metric, language or tokenizer; references missing for a metric
            that needs them; too few sentences for a metric.
        TextInputError: a sentence pair too long for ROUGE-L (checked before any metric runs).

    Example:
        >>> out = evaluate_text(["the cat sat on the mat", "a dog barked"], [["the cat sat on the mat", "a dog barked"]],
        ...                     metrics="bleu,distinct")
        >>> out["n_hypotheses"], round(out["metrics"]["bleu"]["value"], 2), list(out["metrics"])
        (2, 100.0, ['bleu', 'distinct'])
        >>> evaluate_text(["a b"], None, metrics="bleu")
        Traceback (most recent call last):
        ...
        gmeval.errors.InvalidArgumentError: Argument `references` must be reference text for the metrics ['bleu'], but got None. Give --ref FILE, or choose only self-bleu,distinct.
    """
    specs = [TEXT_METRICS[m] for m in parse_metrics(metrics)]
    check_lang(lang)
    tok = bleu_tokenizer_for(lang) if tokenize is None else check_choice("tokenize", tokenize, BLEU_TOKENIZERS)
    hyps = as_sentences(hypotheses, "hypotheses")
    refs = _reference_streams(references, specs, hyps, ref_features)
    ctx = TextContext(hyps, refs, lang, tok, lowercase, seed, mauve_seeds, mauve_clusters)
    for spec in specs:
        if spec.check is not None:
            spec.check(ctx)
    if any(s.sacrebleu_tokens for s in specs):
        warn_if_unsegmented(hyps, tok)
    if any(s.needs_encoder for s in specs):  # embed once, share between mauve and fd
        from ._embedding import texts_or_features

        holder = [encoder]
        pooled = [s for stream in refs for s in stream] if refs else None
        q, q_sig = texts_or_features(hyps if hyp_features is None else None, hyp_features, "hypotheses", "hyp_features", holder)
        p, p_sig = texts_or_features(pooled if ref_features is None else None, ref_features, "references", "ref_features", holder)
        ctx = dataclasses.replace(ctx, hyp_features=q, ref_features=p, hyp_source=q_sig, ref_source=p_sig)
    return {"n_hypotheses": len(hyps), "n_reference_streams": len(refs), "lang": lang,
            "metrics": {s.name: s.compute(ctx).to_dict() for s in specs}}
