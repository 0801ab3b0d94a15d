"""Name -> extractor factory. `get_extractor(name, **options)` is the one way to build an extractor."""

from __future__ import annotations

import functools
import inspect
from typing import Callable

from ..errors import InvalidArgumentError
from .base import FeatureExtractor
from .classifier import build_classifier
from .inception import build_inception

EXTRACTORS: dict[str, Callable[..., FeatureExtractor]] = {
    "inception": build_inception,
    "mnist": functools.partial(build_classifier, "mnist"),
    "fashion-mnist": functools.partial(build_classifier, "fashion-mnist"),
}


def register_extractor(name: str, factory: Callable[..., FeatureExtractor]) -> None:
    """Add an extractor factory under `name`; re-registering a name replaces it.

    Args:
        name: the registry key (what ``get_extractor(name)`` and ``--extractor`` take).
        factory: a callable taking keyword options only and returning a `FeatureExtractor`.

    Example:
        >>> register_extractor("mnist-copy", lambda path=None: build_classifier("mnist", path))
        >>> get_extractor("mnist-copy").layers
        {'features': 128, 'logits': 10}
        >>> del EXTRACTORS["mnist-copy"]
    """
    EXTRACTORS[name] = factory


def extractor_options(name: str) -> list[str]:
    """The keyword options ``get_extractor(name, ...)`` accepts.

    Args:
        name: a registered extractor.

    Returns:
        The option names.

    Raises:
        InvalidArgumentError: unknown extractor.

    Example:
        >>> extractor_options("mnist")
        ['path']
        >>> extractor_options("inception")
        ['preprocess', 'weights', 'download', 'allow_unverified', 'precision']
    """
    factory = _factory(name)
    return [p.name for p in inspect.signature(factory).parameters.values()
            if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)]


def _factory(name: str):
    if name not in EXTRACTORS:
        raise InvalidArgumentError("extractor", f"one of {sorted(EXTRACTORS)}", name)
    return EXTRACTORS[name]


def get_extractor(name: str, **options) -> FeatureExtractor:
    """Build the extractor `name` (``"inception"``, ``"mnist"``, ``"fashion-mnist"``, ...).

    Options are strict: a misspelt option is an error listing the accepted ones.
    inception: ``preprocess="tf1"|"pytorch-fid"|"clean"``, ``weights=None|path``, ``download=False``,
    ``allow_unverified=False``, ``precision="float32"`` (see `build_inception`).
    mnist / fashion-mnist: ``path=None`` (classifier weights file).

    Args:
        name: a key of `EXTRACTORS`.
        **options: the factory's keyword options (`extractor_options`).

    Returns:
        The `FeatureExtractor`.

    Raises:
        InvalidArgumentError: unknown extractor or option.
        WeightsError: the weights cannot be found or verified.

    Example:
        >>> get_extractor("mnist").name
        'mnist'
        >>> get_extractor("mnist", preprocess="tf1")
        Traceback (most recent call last):
        ...
        gmeval.errors.InvalidArgumentError: Argument `mnist option` must be among ['path'], but got 'preprocess'.
    """
    factory = _factory(name)
    allowed = extractor_options(name)
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise InvalidArgumentError(f"{name} option", f"among {allowed}", unknown[0])
    return factory(**options)
