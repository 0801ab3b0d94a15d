"""Running gmeval under `torchrun`: process group, rank helpers, sharding, numpy collectives.

    torchrun --nproc-per-node 2 -m gmeval evaluate --real mnist:test --fake run/checkpoint.pt -n 10000
    torchrun --nproc-per-node 2 -m gmeval train mlp-gan --steps 2000 --out runs/gan

Nothing here is needed in a single process: `rank_world()` is (0, 1) and every collective is the
identity when the process was not launched by torchrun (see docs/distributed.md).
"""

from .collectives import (PIECE_BYTES, all_gather_arrays, all_gather_object, all_reduce_mean, all_reduce_sum, barrier,
                          broadcast_array, broadcast_object, broadcast_tensors, gather_in_order, rank_zero_first,
                          run_on_rank_zero)
from .env import (DistributedError, backend, cpu_group, describe, device, get_rank, get_world_size, init_distributed,
                  is_distributed, is_initialized, is_rank_zero, launched_by_torchrun, local_only, local_rank,
                  rank_seed, rank_world, shutdown, timeout_seconds)
from .sharding import SAMPLE_CHUNK, chunk_bounds, chunk_seed, rank_chunks, shard_indices

__all__ = [
    "DistributedError", "PIECE_BYTES", "SAMPLE_CHUNK",
    "init_distributed", "shutdown", "launched_by_torchrun", "is_initialized", "is_distributed", "local_only",
    "rank_world", "get_rank", "get_world_size", "is_rank_zero", "local_rank", "backend", "device", "cpu_group",
    "describe", "timeout_seconds", "rank_seed",
    "shard_indices", "chunk_bounds", "rank_chunks", "chunk_seed",
    "barrier", "broadcast_object", "broadcast_array", "broadcast_tensors", "all_gather_object", "all_reduce_sum",
    "all_reduce_mean",
    "all_gather_arrays", "gather_in_order", "run_on_rank_zero", "rank_zero_first",
]
