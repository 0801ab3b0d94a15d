"""Evaluation: inputs -> one feature pass per extractor -> many metrics, each with a signature.

    from gmeval.evaluation import evaluate
    res = evaluate("mnist:test", "runs/demo/checkpoint.pt", metrics=["fid", "kid", "prd"], extractor="mnist", n=10000)
    res["metrics"]["fid"]["value"], res["metrics"]["fid"]["signature"]
"""

from .metric_specs import METRICS, parse_metrics
from .pipeline import evaluate
from .signature import make_signature

__all__ = ["METRICS", "parse_metrics", "evaluate", "make_signature"]
