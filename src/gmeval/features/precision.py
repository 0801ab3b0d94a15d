"""Numeric precision of a feature extractor's forward pass: canonical float32, or an opt-in faster mode.

- ``"float32"`` (canonical, the default): every convolution and product in IEEE float32. On CUDA,
  PyTorch lets cuDNN convolutions use TF32 by default (``torch.backends.cudnn.allow_tf32 = True``),
  which rounds the inputs of every convolution to a 10-bit mantissa on Ampere and later GPUs and
  silently moves FID; canonical mode therefore switches TF32 off explicitly for the matmul and
  cuDNN back ends while it extracts, and restores the caller's flags afterwards.
- ``"bf16"``: bfloat16 weights and activations (8-bit mantissa), float32 pooled outputs. On a CPU
  only where the hardware computes bf16 natively (Intel AMX-BF16 or AVX512-BF16; emulation would be
  slower than float32); on CUDA where ``torch.cuda.is_bf16_supported()``.
- ``"fp16"``: float16 weights and activations (10-bit mantissa), CUDA only.
- ``"tf32"``: float32 tensors with TF32 matmuls and convolutions, CUDA compute capability >= 8.0.

A reduced precision is never the default; it is recorded in the extractor's signature (hence in
the feature-cache key and next to every reported number). Its measured speed and FID deviation are
in docs/features.md. Asking for a precision the device cannot run raises `PrecisionUnavailableError`.
"""

from __future__ import annotations

import contextlib

import torch

from ..errors import InvalidArgumentError
from ..utils.hardware import cpu_flags as _cpu_flags

PRECISIONS = ("float32", "bf16", "fp16", "tf32")
CANONICAL_PRECISION = "float32"
# the dtype tensors and weights are held in for each precision (tf32 keeps float32 tensors)
TENSOR_DTYPES = {"float32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16, "tf32": torch.float32}


class PrecisionUnavailableError(InvalidArgumentError):
    """The requested precision cannot run on this device.

    Args:
        precision: the precision asked for.
        device: the device.
        available: the precisions the device can run.
        reason: why (what the device has or lacks).

    Example:
        >>> import torch
        >>> err = PrecisionUnavailableError("fp16", torch.device("cpu"), ("float32",), "CPU")
        >>> isinstance(err, InvalidArgumentError), str(err).startswith("Argument `precision` must be one of ('float32',)")
        (True, True)
    """

    def __init__(self, precision: str, device: torch.device, available: tuple[str, ...], reason: str):
        super().__init__("precision", f"one of {available} on device {device.type!r} ({reason})", precision,
                         "Use --precision float32 (the canonical mode), or run on hardware that supports it.")


def check_precision(precision: str) -> str:
    """Validate a precision name (not whether the device can run it: see `require_precision`).

    Args:
        precision: one of `PRECISIONS`.

    Returns:
        `precision`.

    Raises:
        InvalidArgumentError: not a known precision.

    Example:
        >>> check_precision("bf16")
        'bf16'
        >>> check_precision("int8")
        Traceback (most recent call last):
        ...
        gmeval.errors.InvalidArgumentError: Argument `precision` must be one of ('float32', 'bf16', 'fp16', 'tf32'), but got 'int8'.
    """
    if precision not in PRECISIONS:
        raise InvalidArgumentError("precision", f"one of {PRECISIONS}", precision)
    return precision


def available_precisions(device: torch.device | str) -> tuple[tuple[str, ...], str]:
    """The precisions a device can run, and why.

    CPUs offer ``bf16`` only with native bf16 arithmetic (AMX-BF16 or AVX512-BF16, from
    ``/proc/cpuinfo``); CUDA devices by compute capability.

    Args:
        device: a device or its name.

    Returns:
        (precisions, a short description of the device's capability).

    Example:
        >>> precs, why = available_precisions("cpu")
        >>> precs[0], "float32" in precs, why.startswith("CPU")
        ('float32', True, True)
    """
    device = torch.device(device)
    if device.type == "cuda":
        major, _ = torch.cuda.get_device_capability(device)
        out = ["float32", "fp16"]
        if torch.cuda.is_bf16_supported():
            out.append("bf16")
        if major >= 8:
            out.append("tf32")
        return tuple(out), f"CUDA compute capability {major}.x"
    if device.type == "cpu":
        native = sorted(_cpu_flags() & {"amx_bf16", "avx512_bf16"})
        if native:
            return ("float32", "bf16"), f"CPU with {', '.join(native)}"
        return ("float32",), "CPU without AMX-BF16 / AVX512-BF16"
    return ("float32",), f"device type {device.type}"


def require_precision(precision: str, device: torch.device | str) -> None:
    """Check that `device` can run `precision`.

    Args:
        precision: one of `PRECISIONS`.
        device: a device or its name.

    Raises:
        InvalidArgumentError: not a known precision.
        PrecisionUnavailableError: the device cannot run it.

    Example:
        >>> require_precision("float32", "cpu")
        >>> require_precision("fp16", "cpu")
        Traceback (most recent call last):
        ...
        gmeval.features.precision.PrecisionUnavailableError: Argument `precision` must be one of ...
    """
    check_precision(precision)
    avail, why = available_precisions(device)
    if precision not in avail:
        raise PrecisionUnavailableError(precision, torch.device(device), avail, why)


@contextlib.contextmanager
def precision_context(precision: str, device: torch.device | str):
    """Context manager setting the backend flags for one forward pass in `precision`.

    On CUDA, TF32 is on only for ``"tf32"`` (explicitly off otherwise, also in canonical mode); the
    previous flags are restored on exit, even on error. On other devices it does nothing.

    Args:
        precision: one of `PRECISIONS`.
        device: the device the pass runs on.

    Example:
        >>> import torch
        >>> with precision_context("float32", "cpu"):
        ...     (torch.ones(2) * 2).tolist()
        [2.0, 2.0]
    """
    device = torch.device(device)
    if device.type != "cuda":
        yield
        return
    matmul, cudnn = torch.backends.cuda.matmul, torch.backends.cudnn
    saved = (matmul.allow_tf32, cudnn.allow_tf32)
    matmul.allow_tf32 = cudnn.allow_tf32 = precision == "tf32"
    try:
        yield
    finally:
        matmul.allow_tf32, cudnn.allow_tf32 = saved
