"""Image metrics on the engine (gmeval.metrics.base): the inputs `evaluate` feeds, two-sample feature
metrics, and the image-level wrapper.

Feature level (what `evaluate` does, one extraction shared by many metrics)::

    KID().update(real_features, real=True).update(fake_features, real=False).compute()

Image level (the metric runs its own extractor on uint8 N x C x H x W images)::

    FID(extractor="mnist").update(real_images, real=True).update(fake_images, real=False).compute()
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ...errors import InvalidArgumentError
from ..base import Metric, MetricReport, Rows
from ._common import as_features

__all__ = ["ImageInputs", "Metric", "MetricReport", "Rows", "TwoSampleFeatureMetric", "ExtractorMixin", "LogitsMetric", "check_real"]


@dataclass(frozen=True)
class ImageInputs:
    """What one `evaluate` extraction hands to every metric (None where a metric does not need it).

    real_features / fake_features: the extractor's feature layer; real_stats / fake_stats:
    precomputed `GaussianStats` (statistics files) instead of features; fake_logits: the extractor's
    logits (Inception Score); fake_class_logits / real_labels: the domain classifier's logits and the
    real labels (mode coverage); train_features: the training split (memorisation).
    """

    real_features: np.ndarray | None = None
    fake_features: np.ndarray | None = None
    real_stats: object | None = None
    fake_stats: object | None = None
    fake_logits: np.ndarray | None = None
    fake_class_logits: np.ndarray | None = None
    real_labels: np.ndarray | None = None
    train_features: np.ndarray | None = None

    def rows(self, real_rows=None, fake_rows=None) -> "ImageInputs":
        """A copy restricted to the given real and fake rows (index arrays); training features stay whole."""
        def take(x, rows):
            return x if x is None or rows is None else np.asarray(x)[rows]
        return replace(self, real_features=take(self.real_features, real_rows), real_labels=take(self.real_labels, real_rows),
                       fake_features=take(self.fake_features, fake_rows), fake_logits=take(self.fake_logits, fake_rows),
                       fake_class_logits=take(self.fake_class_logits, fake_rows))

    def require(self, name: str, metric: str):
        v = getattr(self, name)
        if v is None:
            raise InvalidArgumentError(name, f"the {name.replace('_', ' ')} that {metric} needs", None)
        return v


def check_real(real) -> bool:
    if not isinstance(real, (bool, np.bool_)):
        raise InvalidArgumentError("real", "True (real samples) or False (generated samples)", real)
    return bool(real)


class ExtractorMixin:
    """Image-level use: with ``extractor=<name>`` the metric turns uint8 images into the layer it
    consumes (``input_layer``: the extractor's default feature layer, or its logits) before updating."""

    input_layer: str = "features"

    def __init__(self, *, extractor: str | None = None, layer: str | None = None, **config):
        if extractor is not None and not isinstance(extractor, str):
            raise InvalidArgumentError("extractor", "None (features given) or an extractor name such as 'inception'",
                                       extractor)
        self._extractor_name, self._layer, self._extractor = extractor, layer, None
        if extractor is not None:  # part of the configuration (merge compatibility, copies) only when used
            config.update(extractor=extractor, layer=layer)
        super().__init__(**config)

    def formula_config(self) -> dict:
        """The constructor arguments the pure function takes (without the image-level ones)."""
        return {k: v for k, v in self._config.items() if k not in ("extractor", "layer")}

    def _to_rows(self, x, name: str) -> np.ndarray:
        if self._extractor_name is None:
            return as_features(x, name, min_rows=0)  # a rank may hold no rows of a side
        from ...features import extract_features, get_extractor

        if self._extractor is None:
            self._extractor = get_extractor(self._extractor_name)
        ext = self._extractor
        layer = self._layer or (("logits_unbiased" if "logits_unbiased" in ext.layers else "logits")
                                if self.input_layer == "logits" else ext.default_layer)
        return extract_features(ext, x, layers=[layer], progress=False)[layer]


class TwoSampleFeatureMetric(ExtractorMixin, Metric):
    """Accumulates real and fake rows (kept in their float32/float64 dtype) as "cat" states.

    ``update(x, real=True|False, index=None)``: rows are concatenated at `compute()` (in global
    index order when indices are given), so the result does not depend on batching or sharding.
    """

    needs = ("features",)

    def declare(self) -> None:
        self.add_state("real", "cat")
        self.add_state("fake", "cat")

    def _new(self):
        return type(self)(**self._config)

    def update(self, features, *, real: bool, index=None):
        side = "real" if check_real(real) else "fake"
        x = self._to_rows(features, "features")
        dims = {r.dim for r in (self.real, self.fake) if r.dim is not None}
        if dims and x.shape[1:] not in dims:
            from ...errors import ShapeMismatchError
            raise ShapeMismatchError(f"features have dimension {x.shape[1]}, earlier updates had {dims.pop()[0]}")
        getattr(self, side).append(x, index, f"{side} features")
        return self

    def num_samples(self, real: bool) -> int:
        return len(self.real if real else self.fake)

    def features(self, real: bool) -> np.ndarray:
        side = "real" if real else "fake"
        x = getattr(self, side).array()
        if x is None:
            raise InvalidArgumentError(f"{side} features", f"at least one update(..., real={bool(real)}) before compute()",
                                       "none")
        return x

    def update_from(self, inputs: ImageInputs):
        return (self.update(inputs.require("real_features", self.name), real=True)
                .update(inputs.require("fake_features", self.name), real=False))

    def compute(self):
        return self._compute(self.features(True), self.features(False))

    def _compute(self, real: np.ndarray, fake: np.ndarray):  # pragma: no cover - abstract
        raise NotImplementedError


class LogitsMetric(ExtractorMixin, Metric):
    """One-sample metrics on generated logits (Inception Score, IS-infinity): one "cat" state.

    ``update(logits, index=None)``; with ``extractor=<name>`` the update takes uint8 images and
    uses the extractor's logits.
    """

    needs = ("logits",)
    input_layer = "logits"

    def declare(self) -> None:
        self.add_state("logits", "cat")

    def update(self, logits, index=None):
        self.logits.append(self._to_rows(logits, "logits"), index, "logits")
        return self

    def update_from(self, inputs: ImageInputs):
        return self.update(inputs.require("fake_logits", self.name))

    def compute(self):
        z = self.logits.array()
        if z is None:
            raise InvalidArgumentError("logits", "at least one update(logits) before compute()", "none")
        return self._compute(z)

    def _compute(self, logits: np.ndarray):  # pragma: no cover - abstract
        raise NotImplementedError
