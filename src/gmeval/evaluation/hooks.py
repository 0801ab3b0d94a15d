"""Periodic evaluation during training: a Trainer hook returning metric values.

Real features are extracted once and then served from the feature cache; generated samples use
a fixed seed (their own generator), so evaluation never disturbs the training RNG and
resumed runs stay bitwise identical to uninterrupted ones.
"""

from __future__ import annotations

from .pipeline import evaluate


class EvaluationHook:
    def __init__(self, metrics, real: str, n: int = 2000, n_real: int | None = None, extractor: str = "mnist",
                 data_root=None, seed: int = 0):
        self.metrics, self.real, self.n, self.n_real = metrics, real, n, n_real
        self.extractor, self.data_root, self.seed = extractor, data_root, seed

    def __call__(self, trainer) -> dict:
        res = evaluate(self.real, trainer.model, self.metrics, extractor=self.extractor, n=self.n, n_real=self.n_real,
                       seed=self.seed, data_root=self.data_root, progress=False)
        return {k: v["value"] for k, v in res["metrics"].items() if v.get("higher_is_better") is not None}
