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

    Attributes:
        real_features: the extractor's feature layer on the real images, N x D.
        fake_features: the same on the generated images, M x D.
        real_stats: a precomputed `GaussianStats` (statistics file) instead of real features.
        fake_stats: the same for the generated side.
        fake_logits: the extractor's logits on the generated images (Inception Score).
        fake_class_logits: the domain classifier's logits on the generated images (mode coverage).
        real_labels: the real images' labels (mode coverage).
        train_features: features of the training split (memorisation).

    Example:
        >>> import numpy as np
        >>> x = ImageInputs(real_features=np.arange(8.0).reshape(4, 2), fake_features=np.zeros((3, 2)))
        >>> x.rows(real_rows=[0, 2]).real_features.tolist()
        [[0.0, 1.0], [4.0, 5.0]]
        >>> x.require("fake_logits", "is")
        Traceback (most recent call last):
        ...
        gmeval.errors.InvalidArgumentError: Argument `fake_logits` must be the fake logits that is needs, but got None.
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
        """The input called `name`, or a typed error naming `metric` when it is missing.

        Raises:
            InvalidArgumentError: the input is None.
        """
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
    Subclasses implement ``_compute(real, fake)``.

    Args:
        extractor: None when `update` is given N x D features, or an extractor name (``"mnist"``,
            ``"inception"``) to give it uint8 N x C x H x W images instead.
        layer: the extractor's layer (None: its default feature layer).
        **config: the subclass's formula options (recorded in `config`).

    Raises:
        InvalidArgumentError: `real` is not a bool, or `compute()` comes before an update of a side.
        ShapeMismatchError: an update's feature dimension differs from earlier updates.

    Example:
        >>> import numpy as np
        >>> class MeanGap(TwoSampleFeatureMetric):
        ...     name = "mean_gap"
        ...     def _compute(self, real, fake):
        ...         return float(real.mean() - fake.mean())
        >>> m = MeanGap().update(np.ones((4, 2)), real=True).update(np.zeros((3, 2)), real=False)
        >>> m.num_samples(real=True), m.num_samples(real=False), m.features(True).shape, m.compute()
        (4, 3, (4, 2), 1.0)
        >>> m.update(np.zeros((2, 5)), real=False)
        Traceback (most recent call last):
        ...
        gmeval.errors.ShapeMismatchError: features have dimension 5, earlier updates had 2
    """

    needs = ("features",)

    def declare(self) -> None:
        """Two cat states, ``real`` and ``fake``."""
        self.add_state("real", "cat")
        self.add_state("fake", "cat")

    def _new(self):
        return type(self)(**self._config)

    def update(self, features, *, real: bool, index=None):
        """Add real (``real=True``) or generated rows (features, or images with an extractor); returns self."""
        side = "real" if check_real(real) else "fake"
        x = self._to_rows(features, "features")
        dims = {r.dim for r in (self.real, self.fake) if r.dim is not None}
        if dims and x.shape[1:] not in dims:
            from ...errors import ShapeMismatchError
            raise ShapeMismatchError(f"features have dimension {x.shape[1]}, earlier updates had {dims.pop()[0]}")
        getattr(self, side).append(x, index, f"{side} features")
        return self

    def num_samples(self, real: bool) -> int:
        """How many real (or generated) rows have been added."""
        return len(self.real if real else self.fake)

    def features(self, real: bool) -> np.ndarray:
        """All real (or generated) rows as one matrix; InvalidArgumentError when there are none."""
        side = "real" if real else "fake"
        x = getattr(self, side).array()
        if x is None:
            raise InvalidArgumentError(f"{side} features", f"at least one update(..., real={bool(real)}) before compute()",
                                       "none")
        return x

    def update_from(self, inputs: ImageInputs):
        """Update both sides from an `ImageInputs` (its real and fake features)."""
        return (self.update(inputs.require("real_features", self.name), real=True)
                .update(inputs.require("fake_features", self.name), real=False))

    def compute(self):
        """The metric on all rows added so far (the subclass's ``_compute``)."""
        return self._compute(self.features(True), self.features(False))

    def _compute(self, real: np.ndarray, fake: np.ndarray):  # pragma: no cover - abstract
        raise NotImplementedError


class LogitsMetric(ExtractorMixin, Metric):
    """One-sample metrics on generated logits (Inception Score, IS-infinity): one "cat" state.

    ``update(logits, index=None)``; with ``extractor=<name>`` the update takes uint8 images and
    uses the extractor's logits. Subclasses implement ``_compute(logits)``.

    Args:
        extractor: None when `update` is given N x C logits, or an extractor name to give it images.
        layer: the extractor's logits layer (None: ``logits_unbiased`` if it has one, else ``logits``).
        **config: the subclass's formula options.

    Raises:
        InvalidArgumentError: `compute()` before any update.

    Example:
        >>> import numpy as np
        >>> class Rows_(LogitsMetric):
        ...     def _compute(self, logits):
        ...         return logits.shape
        >>> Rows_().update(np.zeros((5, 10))).update(np.zeros((2, 10))).compute()
        (7, 10)
    """

    needs = ("logits",)
    input_layer = "logits"

    def declare(self) -> None:
        """One cat state, ``logits``."""
        self.add_state("logits", "cat")

    def update(self, logits, index=None):
        """Add generated logits (or images, with an extractor); returns self."""
        self.logits.append(self._to_rows(logits, "logits"), index, "logits")
        return self

    def update_from(self, inputs: ImageInputs):
        """Update from an `ImageInputs` (its fake logits)."""
        return self.update(inputs.require("fake_logits", self.name))

    def compute(self):
        """The metric on all logits added so far (the subclass's ``_compute``)."""
        z = self.logits.array()
        if z is None:
            raise InvalidArgumentError("logits", "at least one update(logits) before compute()", "none")
        return self._compute(z)

    def _compute(self, logits: np.ndarray):  # pragma: no cover - abstract
        raise NotImplementedError
