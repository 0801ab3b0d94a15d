"""Explicit random state. Nothing in gmeval draws from global random state."""

from __future__ import annotations

import hashlib

import numpy as np


def derive_seed(seed: int, *keys: object) -> int:
    """A deterministic 63-bit seed derived from `seed` and any keys (e.g. a rank, an epoch)."""
    h = hashlib.sha256(repr((int(seed),) + tuple(keys)).encode()).digest()
    return int.from_bytes(h[:8], "little") & ((1 << 63) - 1)


def as_torch_generator(seed_or_gen=None, default_seed: int = 0):
    """Return a CPU torch.Generator from an int seed, an existing generator, or None (default_seed)."""
    import torch

    if isinstance(seed_or_gen, torch.Generator):
        return seed_or_gen
    g = torch.Generator()
    g.manual_seed(int(default_seed if seed_or_gen is None else seed_or_gen))
    return g


def as_numpy_generator(seed_or_gen=None, default_seed: int = 0) -> np.random.Generator:
    if isinstance(seed_or_gen, np.random.Generator):
        return seed_or_gen
    return np.random.default_rng(int(default_seed if seed_or_gen is None else seed_or_gen))
