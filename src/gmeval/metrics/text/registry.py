"""The registry of text metrics (names, direction, what each needs). Light: imports nothing heavy,
so the CLI can build its argument choices from it without loading numpy/scipy/sacrebleu."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from ...errors import InvalidArgumentError
from .tokenizers import check_choice


@dataclass(frozen=True)
class TextMetricSpec:
    name: str
    description: str
    higher_is_better: bool
    needs_references: bool  # any reference text at all
    aligned: bool  # references matched to hypotheses line by line
    needs_encoder: bool


#: every metric ``evaluate_text`` / ``gmeval text --metrics`` knows, in output order
TEXT_METRICS: dict[str, TextMetricSpec] = {s.name: s for s in (
    TextMetricSpec("bleu", "corpus BLEU (sacreBLEU) and mean sentence BLEU, 0-100", True, True, True, False),
    TextMetricSpec("rouge", "ROUGE-1/2/L/Lsum F-measure, precision, recall (rouge-score, Unicode tokenizer), 0-1", True, True, True, False),
    TextMetricSpec("self-bleu", "mean sentence BLEU of each hypothesis against all others, 0-100 (lower = more diverse)", False, False, False, False),
    TextMetricSpec("distinct", "distinct-1..4 (unique / total n-grams) and seq-rep-4, duplicate rate", True, False, False, False),
    TextMetricSpec("mauve", "MAUVE (Pillutla et al. 2021) on sentence embeddings, 0-1", True, True, False, True),
    TextMetricSpec("fd", "Frechet distance between sentence-embedding sets (lower is better)", False, True, False, True),
)}

DEFAULT_METRICS = ("bleu", "rouge", "self-bleu", "distinct")


def parse_metrics(metrics: str | Sequence[str]) -> tuple[str, ...]:
    """'bleu,rouge' or ['bleu', 'rouge'] -> validated, de-duplicated tuple (order kept)."""
    items = [m.strip() for m in metrics.split(",")] if isinstance(metrics, str) else list(metrics)
    items = [m for m in items if m]
    if not items:
        raise InvalidArgumentError("metrics", "a non-empty list of " + ", ".join(TEXT_METRICS), metrics)
    for m in items:
        check_choice("metrics", m, tuple(TEXT_METRICS))
    return tuple(dict.fromkeys(items))
