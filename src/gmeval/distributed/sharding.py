"""Which items and which generator chunks each rank handles.

Two rules, both independent of how many ranks there are in the sense that matters: the union
of the shards is exactly the single-process set, with no item twice and none padded.

- Items of a stored set (dataset, folder, array) are dealt out in blocks of `block` consecutive
  global indices: rank r of W takes blocks r, r + W, r + 2W, ... (`shard_indices`). Feature
  extraction uses its batch size as the block, so every forward pass of every rank sees exactly
  the batch (same items, same shape, ragged last block included) that a single process sees:
  with the same thread count the features are the same bits by construction (float32 kernels
  choose code paths by batch shape, so a strided shard would not be; docs/tolerances.md).
- Generated samples come in fixed chunks of the global index space (`chunk_bounds`); chunk c is
  drawn with its own seed `chunk_seed(seed, c)`, so its images depend on (model, seed, n, c)
  only. Rank r generates chunks r, r + W, ... (`rank_chunks`); one process generates all chunks
  in order. Same chunks, same seeds: 1 and N processes produce identical samples.
"""

from __future__ import annotations

import numpy as np

from ..errors import InvalidArgumentError
from ..utils.seeding import derive_seed

#: generated samples per chunk: the unit of sharded generation (also the default sampling batch)
SAMPLE_CHUNK = 1000


def _check(n: int, rank: int, world: int) -> None:
    if not isinstance(world, (int, np.integer)) or world < 1:
        raise InvalidArgumentError("world", "a positive integer", world)
    if not isinstance(rank, (int, np.integer)) or not 0 <= rank < world:
        raise InvalidArgumentError("rank", f"an integer in [0, {world})", rank)
    if not isinstance(n, (int, np.integer)) or n < 0:
        raise InvalidArgumentError("n", "a non-negative integer", n)


def shard_indices(n: int, rank: int | None = None, world: int | None = None, block: int = 1) -> np.ndarray:
    """Global indices rank `rank` of `world` handles: blocks rank, rank + world, ... of `block` consecutive indices.

    No index is repeated or padded; shard sizes differ by at most one block; the union over ranks is
    0..n-1. block=1 is the strided rule.

    Args:
        n: the number of items.
        rank: the rank (default: this process's).
        world: the world size (default: this process's; (0, 1) when not distributed: all of 0..n-1).
        block: consecutive indices per block (feature extraction uses its batch size).

    Returns:
        int64 array of indices < n, increasing.

    Raises:
        InvalidArgumentError: a bad n, rank, world or block.

    Example:
        >>> shard_indices(10, rank=0, world=2, block=3).tolist(), shard_indices(10, rank=1, world=2, block=3).tolist()
        ([0, 1, 2, 6, 7, 8], [3, 4, 5, 9])
    """
    if rank is None or world is None:
        from .env import rank_world

        r, w = rank_world()
        rank = r if rank is None else rank
        world = w if world is None else world
    _check(n, rank, world)
    if isinstance(block, bool) or not isinstance(block, (int, np.integer)) or block < 1:
        raise InvalidArgumentError("block", "a positive integer", block)
    starts = np.arange(rank * block, n, world * block, dtype=np.int64)
    if not len(starts):
        return np.empty(0, np.int64)
    idx = (starts[:, None] + np.arange(block, dtype=np.int64)).ravel()
    return idx[idx < n]


def chunk_bounds(n: int, chunk: int = SAMPLE_CHUNK) -> list[tuple[int, int]]:
    """[start, stop) of each chunk of n generated samples: (0, chunk), (chunk, 2 chunk), ..., ragged last.

    Args:
        n: the number of samples.
        chunk: samples per chunk (`SAMPLE_CHUNK`).

    Returns:
        The bounds.

    Raises:
        InvalidArgumentError: a bad chunk size.

    Example:
        >>> chunk_bounds(2500)
        [(0, 1000), (1000, 2000), (2000, 2500)]
    """
    if not isinstance(chunk, (int, np.integer)) or chunk < 1:
        raise InvalidArgumentError("chunk", "a positive integer", chunk)
    return [(s, min(s + chunk, n)) for s in range(0, n, chunk)]


def rank_chunks(n_chunks: int, rank: int, world: int) -> list[int]:
    """The chunk numbers rank `rank` of `world` generates: rank, rank + world, ...

    Args:
        n_chunks: the number of chunks.
        rank: the rank.
        world: the world size.

    Returns:
        The chunk numbers.

    Raises:
        InvalidArgumentError: a bad count, rank or world size.

    Example:
        >>> rank_chunks(5, rank=1, world=2)
        [1, 3]
    """
    _check(n_chunks, rank, world)
    return list(range(rank, n_chunks, world))


def chunk_seed(seed: int, chunk_index: int) -> int:
    """The sampling seed of chunk `chunk_index`.

    Chunk 0 uses `seed` itself, so up to `SAMPLE_CHUNK` samples equal ``model.sample(n, seed=seed)``;
    chunk c > 0 uses ``derive_seed(seed, "sample-chunk", c)``.

    Args:
        seed: the global sampling seed.
        chunk_index: the chunk number.

    Returns:
        The chunk's seed.

    Example:
        >>> chunk_seed(7, 0), chunk_seed(7, 1) != 7
        (7, True)
    """
    return int(seed) if chunk_index == 0 else derive_seed(seed, "sample-chunk", int(chunk_index))
