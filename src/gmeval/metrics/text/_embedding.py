"""Shared plumbing of the embedding-based text metrics: texts or features in, validated features out."""

from __future__ import annotations

import os

import numpy as np

from ...errors import InvalidArgumentError, ShapeMismatchError
from ..score import Signature
from .io import as_sentences


def resolve_encoder(encoder):
    """None -> the default offline MiniLM; a path -> that sentence-transformers folder; an object with
    ``encode`` (e.g. :class:`gmeval.features.text_encoder.SentenceEncoder`) -> itself."""
    if encoder is None or isinstance(encoder, (str, os.PathLike)):
        from ...features.text_encoder import load_text_encoder

        return load_text_encoder(encoder)
    if not callable(getattr(encoder, "encode", None)):
        raise InvalidArgumentError("encoder", "None, a model folder path, or an object with an encode(list[str]) method",
                                   type(encoder).__name__)
    return encoder


def encoder_signature(encoder) -> str:
    return getattr(encoder, "signature", None) or f"encoder:{type(encoder).__name__}"


def as_features(x, name: str) -> np.ndarray:
    """Validate an N x D array of finite numbers; returned as float64."""
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    try:
        a = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidArgumentError(name, "an N x D array of numbers", type(x).__name__) from exc
    if a.ndim != 2:
        raise ShapeMismatchError(f"`{name}` must be an N x D array of features, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise InvalidArgumentError(name, "finite values", "NaN or inf entries")
    return a


def texts_or_features(texts, features, texts_name: str, features_name: str, encoder_holder: list) -> tuple[np.ndarray, str]:
    """Exactly one of ``texts`` (encoded) or ``features`` (used as given). Returns (features, source signature).

    ``encoder_holder`` is a one-item list holding the encoder spec; it is resolved (loaded) at most once
    and replaced by the loaded encoder, so the second side reuses it.
    """
    if (texts is None) == (features is None):
        raise InvalidArgumentError(f"{texts_name} / {features_name}",
                                   f"exactly one of `{texts_name}` (a list of strings) or `{features_name}` (an N x D array)",
                                   "both" if texts is not None else "neither")
    if features is not None:
        return as_features(features, features_name), "features:given"
    sentences = as_sentences(texts, texts_name)
    if not callable(getattr(encoder_holder[0], "encode", None)):
        encoder_holder[0] = resolve_encoder(encoder_holder[0])
    enc = encoder_holder[0]
    return as_features(enc.encode(sentences), f"embeddings of {texts_name}"), encoder_signature(enc)


def source_signature(hyp_sig: str, ref_sig: str) -> str:
    return hyp_sig if hyp_sig == ref_sig else f"hyp:{hyp_sig}|ref:{ref_sig}"


def embedding_signature(head: str, source: str, fields) -> str:
    """``head|<source items>|<fields>``: a metric on embeddings, whose `source` (from `source_signature`)
    says which encoder (or given features) produced them."""
    return Signature(head, [*Signature.parse(source, headless=True).fields, *fields]).format()
