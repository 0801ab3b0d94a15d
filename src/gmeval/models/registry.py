"""Model registry: name -> class. Checkpoints store (name, config) and rebuild through here."""

from __future__ import annotations

from ..errors import InvalidArgumentError

MODELS: dict[str, type] = {}


def register_model(name: str):
    def deco(cls):
        cls.name = name
        MODELS[name] = cls
        return cls

    return deco


def build_model(name: str, **config):
    if name not in MODELS:
        raise InvalidArgumentError("model", f"one of {sorted(MODELS)}", name)
    return MODELS[name](**config)
