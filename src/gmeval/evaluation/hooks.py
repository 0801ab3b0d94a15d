"""Evaluation during training: Trainer hooks returning metric values.

Real features are extracted once and then served from the feature cache; generated samples use
a fixed seed (their own generator), so evaluation never disturbs the training RNG and
resumed runs stay bitwise identical to uninterrupted ones. Both hooks choose their extractor /
classifier from the data's domain by the rule every evaluation shares (evaluation/domain.py).
"""

from __future__ import annotations

from ..metrics.image import IMAGE_METRICS
from .domain import choose_classifier, choose_extractor
from .pipeline import evaluate


def metric_keys(metrics) -> list[str]:
    """The value names `EvaluationHook(metrics)` returns (those with a direction: stop-condition targets).

    Args:
        metrics: metric names or aliases.

    Returns:
        The value names, in metric order.

    Example:
        >>> metric_keys("fid,kid,c2st")
        ['fid', 'kid']
    """
    return [k for m in IMAGE_METRICS.parse(metrics) for k, hib in IMAGE_METRICS[m].outputs.items() if hib is not None]


def metrics_for_keys(keys) -> list[str]:
    """The metric names whose evaluation produces `keys` (keys no metric produces are left out).

    Args:
        keys: value names (``fid``, ``precision``, ``coverage`` ...).

    Returns:
        The metric names, in the order of `keys`.

    Example:
        >>> metrics_for_keys(["recall", "fid", "precision", "loss"])
        ['pr', 'fid']
    """
    out = []
    for key in keys:
        for name, cls in IMAGE_METRICS.items():
            if cls.outputs.get(key) is not None and name not in out:
                out.append(name)
    return out


class EvaluationHook:
    """Periodic evaluation of `metrics` against `real`; extractor: explicit, else the domain rule.

    Calling the hook with a trainer evaluates ``trainer.model`` (n samples, fixed seed) with `evaluate`
    and returns the values that have a direction.

    Args:
        metrics: metric names or aliases.
        real: the real data spec.
        n: generated samples per evaluation.
        n_real: real samples (None: all).
        extractor: the extractor (None: the domain rule).
        data_root: dataset folder.
        seed: the sampling and metric seed.

    Raises:
        InvalidArgumentError: unknown metric names.

    Example:
        >>> hook = EvaluationHook("fid,pr", "mnist:test")
        >>> hook.extractor, hook.keys
        ('mnist', ('fid', 'precision', 'recall'))
    """

    def __init__(self, metrics, real: str, n: int = 2000, n_real: int | None = None, extractor: str | None = None,
                 data_root=None, seed: int = 0):
        self.metrics, self.real, self.n, self.n_real = IMAGE_METRICS.parse(metrics), real, n, n_real
        self.extractor, self.data_root, self.seed = choose_extractor(real, extractor), data_root, seed
        self.keys = tuple(metric_keys(self.metrics))

    def __call__(self, trainer) -> dict:
        """Evaluate ``trainer.model``; returns {value name: float} for the values with a direction."""
        res = evaluate(self.real, trainer.model, self.metrics, extractor=self.extractor, n=self.n, n_real=self.n_real,
                       seed=self.seed, data_root=self.data_root, progress=False)
        return {k: float(s.value) for k, s in res.scores.items() if s.higher_is_better is not None}


class ModeCheckHook:
    """The training monitor's cheap mode-coverage check: n samples of a fixed seed through the domain
    classifier; returns the number of classes holding >= 1 % of them (`monitor_modes`) and that
    number's share of all classes (`monitor_mode_share`, what the mode_collapse alert reads). No
    real data is read: the reference is uniform. 500 samples take ~0.1 s with the MNIST classifier.

    Args:
        data: the training data spec (its domain picks the classifier).
        n: samples per check.
        seed: the sampling seed.
        classifier: an explicit classifier, or None.

    Raises:
        InvalidArgumentError: the data has no domain classifier and none is given.

    Example:
        >>> from types import SimpleNamespace
        >>> from gmeval.models import build_model
        >>> gan = build_model("mlp-gan", image_shape=(1, 8, 8), latent_dim=4, hidden=16)
        >>> out = ModeCheckHook("digits:train", n=50, classifier="mnist")(SimpleNamespace(model=gan))
        >>> sorted(out), 0 < out["monitor_mode_share"] <= 1
        (['monitor_mode_share', 'monitor_modes'], True)
        >>> ModeCheckHook("digits:train")
        Traceback (most recent call last):
        ...
        gmeval.errors.InvalidArgumentError: Argument `classifier` must be a domain classifier (mnist, fashion-mnist) for the mode check: the data 'digits:train' has none, but got None.
    """

    keys = ("monitor_modes", "monitor_mode_share")

    def __init__(self, data: str, n: int = 500, seed: int = 0, classifier: str | None = None):
        from ..errors import InvalidArgumentError

        self.classifier = choose_classifier(data, classifier)
        if self.classifier is None:
            raise InvalidArgumentError("classifier", "a domain classifier (mnist, fashion-mnist) for the mode check: "
                                       f"the data {data!r} has none", classifier)
        self.n, self.seed = n, seed
        self._ext = None

    def __call__(self, trainer) -> dict:
        """Sample ``trainer.model`` and return ``monitor_modes`` and ``monitor_mode_share``."""
        from ..features import extract_features, get_extractor
        from ..metrics.image import ModeCoverage
        from ..sources import sample_images

        if self._ext is None:
            self._ext = get_extractor(self.classifier)
        data = sample_images(trainer.model, self.n, seed=self.seed)
        logits = extract_features(self._ext, data, layers=["logits"], batch_size=self._ext.default_batch_size,
                                  progress=False)["logits"]
        r = ModeCoverage(num_classes=logits.shape[1]).update(logits).compute()
        return {"monitor_modes": float(r.modes_covered), "monitor_mode_share": r.modes_covered / logits.shape[1]}
