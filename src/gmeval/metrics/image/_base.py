"""Stateful metric classes: update / compute / reset / merge around the pure formula functions.

Every class keeps its constructor arguments in `self._config`; `merge` only accepts another
instance of the same class with the same configuration and returns a NEW object holding the
union of both states (neither operand changes), like `GaussianStats.merge`.
"""

from __future__ import annotations

import numpy as np

from ...errors import InvalidArgumentError, ShapeMismatchError
from ._common import as_features


class Metric:
    """Base class. Subclasses set `higher_is_better` (for `primary`, the headline value) and `primary`."""

    higher_is_better: bool | None = None
    primary: str = "value"

    def __init__(self, **config):
        self._config = dict(config)
        self.reset()

    # -- to implement ---------------------------------------------------------------------
    def reset(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def compute(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def _merge_state(self, out: "Metric", other: "Metric") -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _copy_state(self, out: "Metric") -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    # -- shared ---------------------------------------------------------------------------
    @property
    def config(self) -> dict:
        return dict(self._config)

    def copy(self):
        out = type(self)(**self._config)
        self._copy_state(out)
        return out

    def merge(self, other):
        if type(other) is not type(self):
            raise InvalidArgumentError("other", f"a {type(self).__name__}", type(other).__name__)
        if other._config != self._config:
            raise InvalidArgumentError("other", f"a {type(self).__name__} with configuration {self._config}", other._config)
        out = self.copy()
        self._merge_state(out, other)
        return out

    __add__ = merge

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._config.items())
        return f"{type(self).__name__}({args})"


class TwoSampleFeatureMetric(Metric):
    """Accumulates real and fake feature matrices (kept in their float32/float64 dtype).

    `update(features, real=True|False)`; chunks are concatenated at `compute()`, so the result
    does not depend on how the features were batched.
    """

    def reset(self) -> None:
        self._chunks: dict[bool, list[np.ndarray]] = {True: [], False: []}
        self._dim: int | None = None

    def update(self, features, *, real: bool):
        if not isinstance(real, (bool, np.bool_)):
            raise InvalidArgumentError("real", "True (real features) or False (generated features)", real)
        x = as_features(features, "features")
        if self._dim is None:
            self._dim = x.shape[1]
        elif x.shape[1] != self._dim:
            raise ShapeMismatchError(f"features have dimension {x.shape[1]}, earlier updates had {self._dim}")
        self._chunks[bool(real)].append(x)
        return self

    def num_samples(self, real: bool) -> int:
        return sum(len(c) for c in self._chunks[bool(real)])

    def features(self, real: bool) -> np.ndarray:
        chunks = self._chunks[bool(real)]
        side = "real" if real else "fake"
        if not chunks:
            raise InvalidArgumentError(f"{side} features", "at least one update(..., real=%s) before compute()" % bool(real), "none")
        if len(chunks) == 1:
            return chunks[0]
        dtype = np.result_type(*[c.dtype for c in chunks])
        return np.concatenate(chunks, axis=0).astype(dtype, copy=False)

    def _copy_state(self, out) -> None:
        out._chunks = {k: list(v) for k, v in self._chunks.items()}
        out._dim = self._dim

    def _merge_state(self, out, other) -> None:
        if out._dim is not None and other._dim is not None and out._dim != other._dim:
            raise ShapeMismatchError(f"cannot merge metrics on features of dimension {out._dim} and {other._dim}")
        for k in (True, False):
            out._chunks[k].extend(other._chunks[k])
        out._dim = out._dim if out._dim is not None else other._dim

    def compute(self):
        return self._compute(self.features(True), self.features(False))

    def _compute(self, real: np.ndarray, fake: np.ndarray):  # pragma: no cover - abstract
        raise NotImplementedError
