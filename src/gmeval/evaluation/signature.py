"""Signatures: every reported number carries the ingredients that produced it, sacreBLEU-style.

    fid|ext:inception|w:7ff4a85c3a63|layer:pool3|pre:tf1|prec:float32|real:mnist:test|nreal:10000|fake:checkpoint:...|nfake:10000|seed:0|v:0.1.0

Any change of extractor, weights, layer, preprocessing, numeric precision, inputs, sample counts, seed, metric
parameters or package version changes the string.
"""

from __future__ import annotations

from .. import __version__

_ORDER = ("ext", "w", "layer", "pre", "prec", "real", "nreal", "fake", "nfake", "seed")


def make_signature(metric: str, parts: dict, params: dict | None = None) -> str:
    items = [metric]
    for k in _ORDER:
        if parts.get(k) is not None:
            items.append(f"{k}:{parts[k]}")
    for k in sorted(params or {}):
        items.append(f"{k}:{params[k]}")
    items.append(f"v:{__version__}")
    return "|".join(items)
