"""What the CPU offers, as far as gmeval's choices of kernels depend on it."""

from __future__ import annotations

import functools
from pathlib import Path


@functools.lru_cache(maxsize=1)
def cpu_flags() -> frozenset[str]:
    """The CPU feature flags Linux reports in /proc/cpuinfo (``"avx512f"``, ``"amx_bf16"``, ...); empty elsewhere.

    Returns:
        The flags of the first CPU listed, as a frozenset of lowercase names.

    Example:
        >>> isinstance(cpu_flags(), frozenset)
        True
    """
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:  # not Linux: no feature detection
        return frozenset()
    for line in text.splitlines():
        if line.startswith("flags"):
            return frozenset(line.split(":", 1)[1].split())
    return frozenset()
