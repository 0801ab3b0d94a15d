"""The project's MNIST / Fashion-MNIST classifiers as feature extractors (domain FID, IS, modes).

Wraps `gmeval.models.classifier.load_classifier(dataset)`, whose module takes float
N x 1 x 28 x 28 in [0, 1] and has ``features(x) -> N x 128`` and ``forward(x) -> N x 10`` logits.

Preprocessing ("gray-mean+bilinear-aa-28"): uint8 N x C x H x W -> float / 255 -> mean over the
channels (RGB becomes gray; replicated gray stays exactly itself) -> if H x W is not 28 x 28,
``F.interpolate(mode="bilinear", antialias=True, align_corners=False)`` to 28 x 28.
Layers: ``features`` (128, the penultimate layer: the default, for FID/KID/PR) and ``logits`` (10).
"""

from __future__ import annotations

from typing import Iterable

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import InvalidArgumentError
from .base import FeatureExtractor

CLASSIFIER_SIZE = 28
CLASSIFIER_PREPROCESS = "gray-mean+bilinear-aa-28"


def to_classifier_input(x: torch.Tensor, size: int = CLASSIFIER_SIZE) -> torch.Tensor:
    """uint8 N x C x H x W -> float32 N x 1 x size x size in [0, 1], the classifiers' input.

    Pixels / 255, mean over the channels (replicated gray stays bit-identical to the 1-channel
    original), then a bilinear antialiased resize when H x W is not `size` x `size`.

    Args:
        x: uint8 tensor N x C x H x W.
        size: the output side (28 for the shipped classifiers).

    Returns:
        float32 tensor N x 1 x size x size.

    Example:
        >>> import torch
        >>> gray = torch.full((1, 1, 8, 8), 255, dtype=torch.uint8)
        >>> y = to_classifier_input(gray)
        >>> tuple(y.shape), torch.equal(to_classifier_input(gray.expand(-1, 3, -1, -1)), y)
        ((1, 1, 28, 28), True)
    """
    # channel sum of integers is exact in float32, and 3u / 765 rounds to the same float as u / 255:
    # replicated gray gives bit-identical input to the 1-channel original
    g = x.to(torch.float32).sum(1, keepdim=True) / (255.0 * x.shape[1])  # N x 1 x H x W
    if tuple(g.shape[-2:]) != (size, size):
        g = F.interpolate(g, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    return g  # N x 1 x 28 x 28


class ClassifierExtractor(FeatureExtractor):
    """Adapter: a classifier with ``features(x) -> N x D`` and ``forward(x) -> N x K`` as a `FeatureExtractor`.

    The classifier takes float N x 1 x 28 x 28 in [0, 1] (`to_classifier_input`). Layers:
    ``features`` (D, the default, for FID/KID/precision-recall) and ``logits`` (K, for IS and modes).
    Build the shipped ones with ``get_extractor("mnist")`` / ``get_extractor("fashion-mnist")``.

    Args:
        module: the classifier (put in eval mode); its ``weights_sha256`` attribute, if any, goes
            into the signature.
        name: the extractor's name.
        feature_dim: D.
        num_classes: K.

    Raises:
        InvalidArgumentError: `module` has no ``features`` method.

    Example:
        >>> import torch
        >>> from gmeval.models.classifier import MNISTClassifier
        >>> ext = ClassifierExtractor(MNISTClassifier(), "untrained")
        >>> {k: tuple(v.shape) for k, v in ext(torch.zeros(3, 1, 28, 28, dtype=torch.uint8)).items()}
        {'features': (3, 128), 'logits': (3, 10)}
        >>> ext.signature()["preprocess"]
        'gray-mean+bilinear-aa-28'
    """

    default_layer = "features"

    def __init__(self, module: nn.Module, name: str, feature_dim: int = 128, num_classes: int = 10):
        super().__init__()
        if not callable(getattr(module, "features", None)):
            raise InvalidArgumentError("module", "a classifier with a `features(x)` method", type(module).__name__)
        self.name = name
        self.net = module.eval()
        self.layers = {"features": feature_dim, "logits": num_classes}
        self.weights_sha256 = getattr(module, "weights_sha256", None) or "unknown"

    @torch.no_grad()
    def forward(self, x: torch.Tensor, layers: Iterable[str] | None = None) -> dict[str, torch.Tensor]:
        """The ``features`` and/or ``logits`` of a uint8 batch (one network pass for both).

        Args:
            x: uint8 tensor N x C x H x W, C in (1, 3), any H x W (resized to 28 x 28).
            layers: layer names; None for both.

        Returns:
            Layer name -> float32 tensor N x dim.

        Raises:
            InvalidArgumentError: an unknown layer or a non-uint8 input.
            ShapeMismatchError: input that is not N x C x H x W.
        """
        names = self.resolve_layers(layers)
        x = to_classifier_input(self.check_input(x).to(self.device))  # N x 1 x 28 x 28
        out: dict[str, torch.Tensor] = {}
        if "features" in names:
            out["features"] = self.net.features(x).to(torch.float32)  # N x 128
            head = getattr(self.net, "head", None)
            if "logits" in names and isinstance(head, nn.Module):  # reuse the features: one pass
                out["logits"] = head(out["features"]).to(torch.float32)  # N x 10
        if "logits" in names and "logits" not in out:
            out["logits"] = self.net(x).to(torch.float32)  # N x 10
        return {k: out[k] for k in names}

    def signature(self) -> dict:
        """The extractor's name, weights SHA-256, layers and preprocessing.

        Returns:
            A dict with keys ``extractor``, ``weights``, ``layers``, ``preprocess``.
        """
        return {"extractor": self.name, "weights": self.weights_sha256, "layers": list(self.layers),
                "preprocess": CLASSIFIER_PREPROCESS}


def build_classifier(dataset: str, path=None) -> ClassifierExtractor:
    """Registry factory for ``get_extractor("mnist")`` / ``get_extractor("fashion-mnist")``.

    Args:
        dataset: ``"mnist"`` or ``"fashion-mnist"``.
        path: a weights file for the classifier (default: the shipped, hash-checked weights).

    Returns:
        The `ClassifierExtractor`.

    Raises:
        InvalidArgumentError: no classifier for `dataset`.
        WeightsError: the weights file is missing, tampered with, or does not fit.

    Example:
        >>> ext = build_classifier("mnist")
        >>> ext.name, len(ext.signature()["weights"])
        ('mnist', 64)
    """
    from ..models.classifier import load_classifier

    return ClassifierExtractor(load_classifier(dataset, path=path), dataset)
