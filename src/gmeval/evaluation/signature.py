"""Signatures: every reported number carries the ingredients that produced it, sacreBLEU-style.

    fid|ext:inception|w:7ff4a85c3a63|layer:pool3|pre:tf1|prec:float32|real:mnist:test|nreal:10000|fake:checkpoint:...|nfake:10000|seed:0|v:0.1.0

Any change of extractor, weights, layer, preprocessing, numeric precision, inputs, sample counts, seed, metric
parameters or package version changes the string.
"""

from __future__ import annotations

from .. import __version__
from ..metrics.score import Signature

_ORDER = ("ext", "w", "layer", "pre", "prec", "real", "nreal", "fake", "nfake", "seed")


def make_signature(metric: str, parts: dict, params: dict | None = None) -> Signature:
    """The `Signature` of one value: input parts in the fixed order above, then the metric's parameters
    sorted by name, then the package version.

    Args:
        metric: the value's name, the signature's head.
        parts: input parts (``ext``, ``w``, ``layer``, ``pre``, ``prec``, ``real``, ``nreal``, ``fake``,
            ``nfake``, ``seed``); missing or None ones are left out.
        params: the metric's parameters (``k``, ``subsets`` ...), or None.

    Returns:
        A `Signature`.

    Example:
        >>> str(make_signature("fid", {"ext": "mnist", "nreal": 10, "seed": 0}, {"k": 3}))
        'fid|ext:mnist|nreal:10|seed:0|k:3|v:0.1.0'
    """
    fields = [(k, parts.get(k)) for k in _ORDER]
    fields += [(k, (params or {})[k]) for k in sorted(params or {})]
    return Signature(metric, fields + [("v", __version__)])
