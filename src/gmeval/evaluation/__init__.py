"""Evaluation: inputs -> one feature pass per extractor -> many metrics, each with a signature.

    from gmeval.evaluation import evaluate
    res = evaluate("mnist:test", "runs/demo/checkpoint.pt", metrics=["fid", "kid", "pr"], extractor="mnist", n=10000)
    res.scores["fid"].value, str(res.scores["fid"].signature), res.to_json()

The metrics are the classes of `gmeval.metrics.image.IMAGE_METRICS` (one engine for `evaluate`,
`compare`, the training hooks and torchrun).
"""

from ..metrics.image import IMAGE_METRICS
from .compare import CompareResult, compare
from .pipeline import EvaluationResult, evaluate
from .signature import make_signature

#: the 0.1 names, kept for one release
METRICS = IMAGE_METRICS


def parse_metrics(metrics) -> list[str]:
    """Metric names from a comma string or a list (aliases expanded; ``prd`` warns, see `IMAGE_METRICS`).

    Args:
        metrics: ``"fid,kid"``, ``["fid", "prdc"]`` or ``"all"``.

    Returns:
        A list of registry names, de-duplicated, order kept.

    Raises:
        InvalidArgumentError: an unknown name or none at all.

    Example:
        >>> parse_metrics("fid,prdc")
        ['fid', 'pr', 'dc']
    """
    return list(IMAGE_METRICS.parse(metrics))


__all__ = ["IMAGE_METRICS", "METRICS", "parse_metrics", "evaluate", "EvaluationResult", "compare", "CompareResult",
           "make_signature"]
