"""Generative models (one sampling contract, see base.py) and the project's MNIST classifiers."""

from .base import GenerativeModel
from .registry import MODELS, build_model, register_model
from . import mlp_gan  # noqa: F401  (registers "mlp-gan")

for _mod in ("dcgan", "cgan", "autoencoder", "vae"):
    try:
        __import__(f"{__name__}.{_mod}")
    except ModuleNotFoundError as _exc:  # a model family not built yet
        if _exc.name != f"{__name__}.{_mod}":
            raise

__all__ = ["GenerativeModel", "MODELS", "build_model", "register_model"]
