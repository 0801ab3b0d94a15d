"""Model registry: name -> class. Checkpoints store (name, config) and rebuild through here."""

from __future__ import annotations

import inspect

from ..errors import InvalidArgumentError

MODELS: dict[str, type] = {}


def register_model(name: str):
    """Class decorator: register a `GenerativeModel` subclass under `name` (and set its ``name``).

    Args:
        name: the registry key (what ``build_model``, ``gmeval train`` and checkpoints use).

    Returns:
        The decorator, which returns the class unchanged.

    Example:
        >>> from gmeval.models.mlp_gan import MLPGAN
        >>> @register_model("tiny-mlp-gan")
        ... class TinyMLPGAN(MLPGAN):
        ...     pass
        >>> TinyMLPGAN.name, MODELS["tiny-mlp-gan"] is TinyMLPGAN
        ('tiny-mlp-gan', True)
        >>> del MODELS["tiny-mlp-gan"]
    """
    def deco(cls):
        cls.name = name
        MODELS[name] = cls
        return cls

    return deco


def model_options(name: str) -> tuple[str, ...]:
    """The constructor options of a registered model (what ``build_model(name, **options)`` accepts).

    Args:
        name: a key of `MODELS`.

    Returns:
        The option names.

    Raises:
        InvalidArgumentError: unknown model.

    Example:
        >>> model_options("dcgan")
        ('image_shape', 'latent_dim', 'base_width', 'norm', 'slope')
    """
    if name not in MODELS:
        raise InvalidArgumentError("model", f"one of {sorted(MODELS)}", name)
    params = inspect.signature(MODELS[name].__init__).parameters
    return tuple(p for p in params if p != "self")


def build_model(name: str, **config):
    """Build a registered model from keyword options.

    Args:
        name: a key of `MODELS` (``"mlp-gan"``, ``"dcgan"``, ``"cgan"``, ``"ae"``, ``"conv-ae"``, ``"vae"``).
        **config: constructor options (`model_options`).

    Returns:
        The model (a `GenerativeModel`), freshly initialised.

    Raises:
        InvalidArgumentError: unknown model or option, or values the constructor rejects.

    Example:
        >>> build_model("vae", image_shape=(1, 8, 8), latent_dim=2, hidden=[16]).latent_dim
        2
        >>> build_model("vae", latent=2)
        Traceback (most recent call last):
        ...
        gmeval.errors.InvalidArgumentError: Argument `model option` must be one of image_shape, latent_dim, hidden (the options of vae), but got 'latent'.
    """
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
