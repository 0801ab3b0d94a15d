"""One entry point that runs several text metrics on in-memory sentences (used by ``gmeval text``)."""

from __future__ import annotations

import math
from typing import Sequence

from ...errors import InvalidArgumentError
from .io import as_reference_streams, as_sentences
from .registry import DEFAULT_METRICS, TEXT_METRICS, parse_metrics
from .tokenizers import BLEU_TOKENIZERS, bleu_tokenizer_for, check_choice, check_lang, warn_if_unsegmented


def _clean(x):
    """NaN -> None, recursively, so the output is valid JSON."""
    if isinstance(x, float) and math.isnan(x):
        return None
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    return x


def evaluate_text(hypotheses: Sequence[str], references=None, metrics: str | Sequence[str] = DEFAULT_METRICS, *,
                  lang: str = "en", tokenize: str | None = None, lowercase: bool = False, encoder=None,
                  seed=0, mauve_seeds: int = 1, mauve_clusters="auto", hyp_features=None, ref_features=None) -> dict:
    """Run several text metrics and return a JSON-ready dict ``{"metrics": {name: {...}}, ...}``.

    ``references``: a list of reference streams (one per reference file; each with one line per
    hypothesis for BLEU/ROUGE), or None when only reference-free metrics are asked for.
    ``tokenize`` overrides the sacreBLEU tokenizer chosen from ``lang`` (BLEU, self-BLEU, distinct-n).
    Distribution metrics (mauve, fd) pool the lines of all reference streams into one human sample,
    and use ``hyp_features`` / ``ref_features`` instead of encoding when given.
    """
    from . import bleu as _bleu, diversity as _div, embedding_fd as _fd, mauve as _mauve, rouge as _rouge
    from .self_bleu import self_bleu

    names = parse_metrics(metrics)
    check_lang(lang)
    tok = bleu_tokenizer_for(lang) if tokenize is None else check_choice("tokenize", tokenize, BLEU_TOKENIZERS)
    hyps = as_sentences(hypotheses, "hypotheses")
    needs_refs = [m for m in names if TEXT_METRICS[m].needs_references]
    if isinstance(references, (str, bytes)):
        raise InvalidArgumentError("references", "a list of reference streams (lists of strings) or None", "a single string")
    if references is None or len(references) == 0:
        refs = []
        dist_without_refs = [m for m in needs_refs if not (TEXT_METRICS[m].needs_encoder and ref_features is not None)]
        if dist_without_refs:
            raise InvalidArgumentError("references", f"reference text for the metrics {dist_without_refs}", None,
                                       "Give --ref FILE, or choose only self-bleu,distinct.")
    elif any(TEXT_METRICS[m].aligned for m in names):
        refs = as_reference_streams(references, len(hyps))
    else:
        refs = [as_sentences(s, f"references[{j}]") for j, s in enumerate(
            [references] if all(isinstance(r, str) for r in references) else references)]

    if any(m in names for m in ("bleu", "self-bleu", "distinct")):
        warn_if_unsegmented(hyps, tok)
    if "rouge" in names and refs:
        _rouge.check_rouge_lengths(hyps, refs, lang=lang)  # before any metric runs: fail fast, lose nothing
    out: dict = {"n_hypotheses": len(hyps), "n_reference_streams": len(refs), "lang": lang, "metrics": {}}
    res = out["metrics"]

    if any(TEXT_METRICS[m].needs_encoder for m in names):  # embed once, share between mauve and fd
        from ._embedding import source_signature, texts_or_features

        holder = [encoder]
        pooled = [s for stream in refs for s in stream] if refs else None
        q, q_sig = texts_or_features(hyps if hyp_features is None else None, hyp_features, "hypotheses", "hyp_features", holder)
        p, p_sig = texts_or_features(pooled if ref_features is None else None, ref_features, "references", "ref_features", holder)
        src = source_signature(q_sig, p_sig)

    for m in names:
        if m == "bleu":
            corpus = _bleu.bleu_score(hyps, refs, tokenize=tok, lowercase=lowercase)
            sent, sent_sig = _bleu.sentence_bleu_scores(hyps, refs, tokenize=tok, lowercase=lowercase)
            res[m] = {"score": corpus.score, "signature": corpus.signature, "precisions": list(corpus.precisions),
                      "bp": corpus.bp, "sys_len": corpus.sys_len, "ref_len": corpus.ref_len,
                      "sentence_bleu_mean": sum(sent) / len(sent), "sentence_signature": sent_sig}
        elif m == "rouge":
            res[m] = _rouge.rouge_score(hyps, refs, lang=lang).to_dict()
        elif m == "self-bleu":
            if len(hyps) < 2:
                raise InvalidArgumentError("hypotheses", "at least 2 sentences for self-bleu", f"{len(hyps)} sentence(s)")
            res[m] = self_bleu(hyps, tokenize=tok, lowercase=lowercase).to_dict()
        elif m == "distinct":
            d = _div.distinct_n(hyps, (1, 2, 3, 4), lang=lang, tokenize=tok, lowercase=lowercase).to_dict()
            d["repetition"] = _div.repetition_rates(hyps, 4, lang=lang, tokenize=tok, lowercase=lowercase).to_dict()
            res[m] = d
        elif m == "mauve":
            res[m] = _mauve.mauve_from_features(p, q, seed=seed, num_seeds=mauve_seeds, num_clusters=mauve_clusters,
                                                source=src).to_dict()
        elif m == "fd":
            fd = _fd.EmbeddingFrechetDistance()
            fd._add("hyp", q, q_sig)
            fd._add("ref", p, p_sig)
            res[m] = fd.compute().to_dict()
    return _clean(out)
