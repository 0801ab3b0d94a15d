"""Model registry: name -> class. Checkpoints store (name, config) and rebuild through here."""

from __future__ import annotations

import inspect

from ..errors import InvalidArgumentError

MODELS: dict[str, type] = {}


def register_model(name: str):
    def deco(cls):
        cls.name = name
        MODELS[name] = cls
        return cls

    return deco


def model_options(name: str) -> tuple[str, ...]:
    """The constructor options of a registered model (what `build_model(name, **options)` accepts)."""
    if name not in MODELS:
        raise InvalidArgumentError("model", f"one of {sorted(MODELS)}", name)
    params = inspect.signature(MODELS[name].__init__).parameters
    return tuple(p for p in params if p != "self")


def build_model(name: str, **config):
    """Build a registered model; unknown options or values the constructor rejects are InvalidArgumentErrors."""
    allowed = model_options(name)
    unknown = [k for k in config if k not in allowed]
    if unknown:
        raise InvalidArgumentError("model option", f"one of {', '.join(allowed)} (the options of {name})",
                                   unknown[0] if len(unknown) == 1 else unknown)
    try:
        return MODELS[name](**config)
    except (TypeError, ValueError, RuntimeError) as exc:
        if isinstance(exc, InvalidArgumentError):
            raise
        raise InvalidArgumentError("model options", f"values {name} accepts ({type(exc).__name__}: {exc})", config) from exc
