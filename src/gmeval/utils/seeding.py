"""Explicit random state. Nothing in gmeval draws from global random state."""

from __future__ import annotations

import hashlib

import numpy as np


def derive_seed(seed: int, *keys: object) -> int:
    """A deterministic 63-bit seed derived from `seed` and any keys (a rank, an epoch, a chunk index).

    The derivation hashes ``repr((seed, *keys))`` with SHA-256, so it is the same in every process
    and Python version (no hash salt).

    Args:
        seed: the parent seed.
        *keys: values with a stable ``repr`` (ints, strings) naming the child stream.

    Returns:
        An int in [0, 2**63).

    Example:
        >>> derive_seed(0, "sample-chunk", 1) == derive_seed(0, "sample-chunk", 1)
        True
        >>> derive_seed(0, "rank", 0) != derive_seed(0, "rank", 1)
        True
    """
    h = hashlib.sha256(repr((int(seed),) + tuple(keys)).encode()).digest()
    return int.from_bytes(h[:8], "little") & ((1 << 63) - 1)


def as_torch_generator(seed_or_gen=None, default_seed: int = 0):
    """A CPU ``torch.Generator`` from an int seed, an existing generator, or None.

    Args:
        seed_or_gen: an int seed, a ``torch.Generator`` (returned as is), or None for `default_seed`.
        default_seed: the seed used when `seed_or_gen` is None.

    Returns:
        The generator.

    Example:
        >>> import torch
        >>> a = torch.rand(3, generator=as_torch_generator(7))
        >>> torch.equal(a, torch.rand(3, generator=as_torch_generator(7)))
        True
    """
    import torch

    if isinstance(seed_or_gen, torch.Generator):
        return seed_or_gen
    g = torch.Generator()
    g.manual_seed(int(default_seed if seed_or_gen is None else seed_or_gen))
    return g


def as_numpy_generator(seed_or_gen=None, default_seed: int = 0) -> np.random.Generator:
    """A ``numpy.random.Generator`` from an int seed, an existing generator, or None.

    Args:
        seed_or_gen: an int seed, a ``np.random.Generator`` (returned as is), or None for `default_seed`.
        default_seed: the seed used when `seed_or_gen` is None.

    Returns:
        The generator.

    Example:
        >>> as_numpy_generator(3).integers(0, 10, 5).tolist() == as_numpy_generator(3).integers(0, 10, 5).tolist()
        True
    """
    if isinstance(seed_or_gen, np.random.Generator):
        return seed_or_gen
    return np.random.default_rng(int(default_seed if seed_or_gen is None else seed_or_gen))
