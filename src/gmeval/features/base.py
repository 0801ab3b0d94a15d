"""The one contract every feature extractor follows.

    extractor = get_extractor("inception")          # a FeatureExtractor (torch.nn.Module)
    out = extractor(images_uint8)                  # images: uint8 N x 3 x H x W (1 channel allowed)
    out["pool3"]                                   # float32 N x 2048

- `name`: short identifier (also the registry key it was built from).
- `layers`: every layer the extractor can return, name -> feature dimension.
- `default_layer`: what FID/KID/precision-recall use unless told otherwise.
- `default_batch_size`: images per forward pass when the caller does not choose (299x299 Inception
  batches are memory-bound; the 28x28 classifiers like large ones).
- `forward(x, layers=None)`: uint8 in, a dict of float32 N x dim tensors out. `layers=None`
  returns every available layer; naming a subset lets the extractor stop early.
- `signature()`: what a reported number must carry: extractor, weights (full SHA-256 of the
  weights file), layers, preprocess.

Grayscale: single-channel input is replicated to three channels by
`gmeval.features.preprocess.to_rgb`, which `extract_features` applies to every batch and each
extractor's `forward` applies again (idempotent), so direct calls on 1-channel tensors work too.
"""

from __future__ import annotations

from typing import Iterable

import torch
from torch import nn

from ..errors import InvalidArgumentError, ShapeMismatchError


class FeatureExtractor(nn.Module):
    """Base class of every feature extractor: uint8 N x 3 x H x W in, named float32 layers out.

    Subclasses set `name`, `layers` (name -> dimension), `default_layer` and `default_batch_size`,
    and implement `forward` and `signature` (the contract is in this module's docstring). Build
    them with `gmeval.features.get_extractor`.

    Example:
        >>> import torch
        >>> from gmeval.features import get_extractor
        >>> ext = get_extractor("mnist")
        >>> isinstance(ext, FeatureExtractor), ext.layers, ext.default_layer
        (True, {'features': 128, 'logits': 10}, 'features')
        >>> out = ext(torch.zeros(2, 1, 28, 28, dtype=torch.uint8), ["features"])
        >>> out["features"].shape, out["features"].dtype
        (torch.Size([2, 128]), torch.float32)
    """

    name: str = "base"
    layers: dict[str, int] = {}
    default_layer: str = ""
    default_batch_size: int = 500

    def forward(self, x: torch.Tensor, layers: Iterable[str] | None = None) -> dict[str, torch.Tensor]:  # pragma: no cover
        """Features of a batch.

        Args:
            x: uint8 tensor N x 3 x H x W (N x 1 x H x W is replicated to 3 channels).
            layers: layer names to return; None returns every layer.

        Returns:
            Layer name -> float32 tensor N x dim, in the order asked.

        Raises:
            InvalidArgumentError: an unknown layer, or input that is not a uint8 tensor.
            ShapeMismatchError: input that is not N x C x H x W with C in (1, 3).
        """
        raise NotImplementedError

    def signature(self) -> dict:  # pragma: no cover
        """What a reported number must carry about the extractor.

        Returns:
            A dict with at least ``extractor``, ``weights`` (SHA-256 of the weights file), ``layers`` and
            ``preprocess``.
        """
        raise NotImplementedError

    # ------------------------------------------------------------------ helpers shared by subclasses
    def resolve_layers(self, layers: Iterable[str] | str | None) -> list[str]:
        """Validate requested layer names (duplicates dropped, order kept).

        Args:
            layers: a name, names, or None for every layer.

        Returns:
            The layer names.

        Raises:
            InvalidArgumentError: an empty list or an unknown name (the message lists the available ones).

        Example:
            >>> from gmeval.features import get_extractor
            >>> get_extractor("mnist").resolve_layers(["logits", "features", "logits"])
            ['logits', 'features']
        """
        if layers is None:
            return list(self.layers)
        if isinstance(layers, str):
            layers = [layers]
        names = list(dict.fromkeys(layers))
        if not names:
            raise InvalidArgumentError("layers", f"a non-empty subset of {sorted(self.layers)}", [])
        for layer in names:
            if layer not in self.layers:
                raise InvalidArgumentError("layers", f"names from {sorted(self.layers)} (extractor {self.name!r})", layer)
        return names

    @staticmethod
    def check_input(x: torch.Tensor) -> torch.Tensor:
        """Check that `x` is a uint8 tensor N x C x H x W with C in {1, 3}.

        Args:
            x: the input batch.

        Returns:
            `x` unchanged.

        Raises:
            InvalidArgumentError: not a tensor, or not uint8.
            ShapeMismatchError: not 4-D with 1 or 3 channels.

        Example:
            >>> import torch
            >>> FeatureExtractor.check_input(torch.zeros(2, 3, 8, 8))
            Traceback (most recent call last):
            ...
            gmeval.errors.InvalidArgumentError: Argument `x` must be a torch.uint8 tensor (pixels 0..255), but got 'dtype torch.float32'. Convert with gmeval.data.as_uint8_nchw first.
        """
        if not isinstance(x, torch.Tensor):
            raise InvalidArgumentError("x", "a torch.uint8 tensor N x 3 x H x W", type(x).__name__)
        if x.dtype != torch.uint8:
            raise InvalidArgumentError("x", "a torch.uint8 tensor (pixels 0..255)", f"dtype {x.dtype}",
                                       hint="Convert with gmeval.data.as_uint8_nchw first.")
        if x.ndim != 4 or x.shape[1] not in (1, 3):
            raise ShapeMismatchError(f"extractor input must be N x 3 x H x W (or N x 1 x H x W), got shape {tuple(x.shape)}", "x")
        return x

    @property
    def device(self) -> torch.device:
        """The device of the extractor's weights (CPU when it has none).

        Example:
            >>> from gmeval.features import get_extractor
            >>> get_extractor("mnist").device
            device(type='cpu')
        """
        for t in self.buffers():
            return t.device
        for t in self.parameters():
            return t.device
        return torch.device("cpu")

    def extra_repr(self) -> str:
        """The name, layers and default layer, shown in ``repr(extractor)``."""
        return f"name={self.name!r}, layers={self.layers}, default_layer={self.default_layer!r}"
