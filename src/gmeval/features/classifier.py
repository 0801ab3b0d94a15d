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
    """uint8 N x C x H x W -> float32 N x 1 x size x size in [0, 1] (see module docstring)."""
    # channel sum of integers is exact in float32, and 3u / 765 rounds to the same float as u / 255:
    # replicated gray gives bit-identical input to the 1-channel original
    g = x.to(torch.float32).sum(1, keepdim=True) / (255.0 * x.shape[1])  # N x 1 x H x W
    if tuple(g.shape[-2:]) != (size, size):
        g = F.interpolate(g, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    return g  # N x 1 x 28 x 28


class ClassifierExtractor(FeatureExtractor):
    """Adapter: any module with ``features(x) -> N x D`` and ``forward(x) -> N x K`` on N x 1 x 28 x 28."""

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
        return {"extractor": self.name, "weights": self.weights_sha256, "layers": list(self.layers),
                "preprocess": CLASSIFIER_PREPROCESS}


def build_classifier(dataset: str, path=None) -> ClassifierExtractor:
    """Registry factory for ``get_extractor("mnist")`` / ``get_extractor("fashion-mnist")``.

    `path`: optional weights file for the classifier (default: the shipped, hash-checked weights).
    """
    from ..models.classifier import load_classifier

    return ClassifierExtractor(load_classifier(dataset, path=path), dataset)
