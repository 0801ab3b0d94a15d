"""Collectives on numpy arrays (CPU, through gloo), with typed errors and bounded waits.

Every function here is a no-op or the identity when not distributed (`rank_world() == (0, 1)`),
so library code calls them unconditionally. All of them are *collective*: every rank must call
them in the same order, or the ranks that did wait until GMEVAL_DIST_TIMEOUT and then raise
DistributedError.

- `all_reduce_sum`: float64 sums (GaussianStats state, metric means); summation order is fixed
  by the backend for a given world size, so results are deterministic.
- `all_gather_arrays`: variable-length arrays, returned in rank order; sent in pieces of at most
  `PIECE_BYTES` per rank so a large feature set never needs one huge buffer.
- `gather_in_order`: each rank holds rows at known global indices; every rank gets the full
  array in global order (each index exactly once, checked), i.e. the single-process array.
"""

from __future__ import annotations

import contextlib
import math

import numpy as np

from .env import DistributedError, cpu_group, is_distributed, rank_world, timeout_seconds

#: bytes each rank contributes to one all_gather call (larger arrays go in several pieces)
PIECE_BYTES = 64 * 1024 * 1024


@contextlib.contextmanager
def _collective(what: str):
    """Turn a backend failure into a DistributedError that says which rank, which step and why."""
    try:
        yield
    except DistributedError:
        raise
    except RuntimeError as exc:  # DistBackendError, gloo "Connection closed by peer", timeouts
        rank, world = rank_world()
        raise DistributedError(
            f"rank {rank}/{world}: collective '{what}' failed: {type(exc).__name__}: {str(exc).strip()[:500]}. "
            f"Another rank probably failed first (see its error) or did not arrive within GMEVAL_DIST_TIMEOUT="
            f"{timeout_seconds():g} s.") from exc


def _torch():
    import torch
    import torch.distributed as dist

    return torch, dist


def barrier(name: str = "barrier", timeout: float | None = None) -> None:
    """Wait for every rank, at most `timeout` seconds (default ``GMEVAL_DIST_TIMEOUT``).

    Collective: every rank must call it, in the same order. In a single process it is the identity.

    Uses gloo's monitored_barrier, so a rank that never arrives is named in the error.

    Args:
        name: the step's name, for error messages.
        timeout: seconds.

    Raises:
        DistributedError: a rank failed or did not arrive in time.

    Example:
        >>> barrier("after extraction")  # returns at once in a single process
    """
    if not is_distributed():
        return
    from datetime import timedelta

    _, dist = _torch()
    seconds = timeout_seconds() if timeout is None else float(timeout)
    with _collective(name):
        dist.monitored_barrier(group=cpu_group(), timeout=timedelta(seconds=seconds), wait_all_ranks=True)


def broadcast_object(obj=None, src: int = 0, name: str = "broadcast"):
    """Rank `src`'s picklable `obj` on every rank.

    Collective: every rank must call it, in the same order. In a single process it is the identity.

    Args:
        obj: the object (used on rank `src` only).
        src: the sending rank.
        name: the step's name, for error messages.

    Returns:
        Rank `src`'s object.

    Raises:
        DistributedError: the collective failed.

    Example:
        >>> broadcast_object({"seed": 3})
        {'seed': 3}
    """
    if not is_distributed():
        return obj
    _, dist = _torch()
    box = [obj]
    with _collective(name):
        dist.broadcast_object_list(box, src=src, group=cpu_group())
    return box[0]


def all_gather_object(obj, name: str = "all_gather_object") -> list:
    """Every rank's small picklable `obj`, in rank order.

    Collective: every rank must call it, in the same order. In a single process it is the identity.

    Args:
        obj: this rank's object.
        name: the step's name, for error messages.

    Returns:
        One object per rank.

    Raises:
        DistributedError: the collective failed.

    Example:
        >>> all_gather_object("rank-local value")
        ['rank-local value']
    """
    if not is_distributed():
        return [obj]
    _, dist = _torch()
    out = [None] * rank_world()[1]
    with _collective(name):
        dist.all_gather_object(out, obj, group=cpu_group())
    return out


def all_reduce_sum(x, name: str = "all_reduce_sum"):
    """Elementwise float64 sum over ranks of an array (or of each array in a dict).

    Collective: every rank must call it, in the same order. In a single process it is the identity.

    The summation order is fixed by the backend for a given world size, so results are deterministic.

    Args:
        x: an array-like, or a dict of them (e.g. `GaussianStats.state_arrays`).
        name: the step's name, for error messages.

    Returns:
        A new float64 array (or dict of arrays).

    Raises:
        DistributedError: the collective failed.

    Example:
        >>> all_reduce_sum({"n": [3], "sum": [1, 2]})
        {'n': array([3.]), 'sum': array([1., 2.])}
    """
    if isinstance(x, dict):
        return {k: all_reduce_sum(v, f"{name}[{k}]") for k, v in x.items()}
    arr = np.array(x, dtype=np.float64, copy=True)
    if not is_distributed():
        return arr
    torch, dist = _torch()
    t = torch.from_numpy(arr)
    with _collective(name):
        dist.all_reduce(t, op=dist.ReduceOp.SUM, group=cpu_group())
    return t.numpy()


def all_reduce_mean(values: dict[str, float], name: str = "all_reduce_mean") -> dict[str, float]:
    """Mean over ranks of scalar values (float64); every rank must send the same keys.

    Collective: every rank must call it, in the same order. In a single process it is the identity.

    Args:
        values: name -> float.
        name: the step's name, for error messages.

    Returns:
        name -> mean over ranks.

    Raises:
        DistributedError: the ranks sent different keys, or the collective failed.

    Example:
        >>> all_reduce_mean({"loss": 0.5})
        {'loss': 0.5}
    """
    if not is_distributed() or not values:
        return dict(values)
    keys = sorted(values)
    meta = all_gather_object(keys, f"{name} keys")
    if any(m != keys for m in meta):
        raise DistributedError(f"{name}: ranks report different keys: {meta}")
    s = all_reduce_sum(np.array([values[k] for k in keys], np.float64), name)
    world = rank_world()[1]
    return {k: float(v / world) for k, v in zip(keys, s)}


def all_gather_arrays(x: np.ndarray, name: str = "all_gather") -> list[np.ndarray]:
    """Every rank's array (any length along axis 0, same trailing shape and dtype), in rank order.

    Collective: every rank must call it, in the same order. In a single process it is the identity.

    Sent in pieces of at most `PIECE_BYTES` per rank, so a large feature set never needs one huge buffer.

    Args:
        x: this rank's array.
        name: the step's name, for error messages.

    Returns:
        One array per rank.

    Raises:
        DistributedError: trailing shapes or dtypes differ, or the collective failed.

    Example:
        >>> import numpy as np
        >>> [a.shape for a in all_gather_arrays(np.zeros((3, 2)))]
        [(3, 2)]
    """
    x = np.ascontiguousarray(x)
    if not is_distributed():
        return [x]
    torch, dist = _torch()
    rank, world = rank_world()
    metas = all_gather_object((x.shape, x.dtype.str), f"{name} shapes")
    trail, dtype = metas[0][0][1:], metas[0][1]
    for r, (shape, dt) in enumerate(metas):
        if tuple(shape[1:]) != tuple(trail) or dt != dtype:
            raise DistributedError(f"{name}: rank {r} has an array of shape {shape} and dtype {dt}, rank 0 has "
                                   f"{metas[0][0]} and {dtype}; only the first dimension may differ")
    lengths = [int(m[0][0]) for m in metas]
    row_bytes = max(1, int(np.prod(trail, dtype=np.int64)) * np.dtype(dtype).itemsize)
    rows = max(1, PIECE_BYTES // row_bytes)
    n_pieces = math.ceil(max(lengths) / rows) if max(lengths) else 0
    parts: list[list[np.ndarray]] = [[] for _ in range(world)]
    with _collective(name):
        for k in range(n_pieces):
            lo, hi = k * rows, min((k + 1) * rows, max(lengths))
            send = np.zeros((hi - lo,) + tuple(trail), dtype)
            mine = x[lo:min(hi, len(x))]
            send[:len(mine)] = mine
            recv = [torch.empty(send.shape, dtype=torch.from_numpy(send).dtype) for _ in range(world)]
            dist.all_gather(recv, torch.from_numpy(send), group=cpu_group())
            for r in range(world):
                take = max(0, min(hi, lengths[r]) - lo)
                if take:
                    parts[r].append(recv[r].numpy()[:take])
    return [np.concatenate(p) if p else np.empty((0,) + tuple(trail), dtype) for p in parts]


def gather_in_order(local: np.ndarray, indices, n: int, name: str = "gather") -> np.ndarray:
    """The full n-row array on every rank, from each rank's rows `local` at global `indices`.

    Collective: every rank must call it, in the same order. In a single process it is the identity.

    Every index in [0, n) must be held by exactly one rank (checked): the result is then the array a
    single process would have built, with no padded duplicates.

    Args:
        local: this rank's rows.
        indices: their global indices (e.g. from `shard_indices`).
        n: the total number of rows.
        name: the step's name, for error messages.

    Returns:
        The n-row array in global order.

    Raises:
        DistributedError: rows and indices differ in number, or the indices do not cover 0..n-1 once.

    Example:
        >>> import numpy as np
        >>> gather_in_order(np.array([[10], [20]]), [1, 0], 2).ravel().tolist()
        [20, 10]
    """
    local = np.ascontiguousarray(local)
    indices = np.asarray(indices, dtype=np.int64)
    if len(indices) != len(local):
        raise DistributedError(f"{name}: {len(local)} rows but {len(indices)} indices on rank {rank_world()[0]}")
    if not is_distributed():
        if len(indices) == n and np.array_equal(indices, np.arange(n)):
            return local
        out = np.empty((n,) + local.shape[1:], local.dtype)
        out[indices] = local
        return out
    idx_parts = all_gather_arrays(indices, f"{name} indices")
    val_parts = all_gather_arrays(local, name)
    all_idx = np.concatenate(idx_parts)
    if len(all_idx) != n or not np.array_equal(np.sort(all_idx), np.arange(n)):
        raise DistributedError(f"{name}: the ranks hold {len(all_idx)} rows whose indices do not cover 0..{n - 1} "
                               "exactly once")
    out = np.empty((n,) + val_parts[0].shape[1:], val_parts[0].dtype)
    for idx, vals in zip(idx_parts, val_parts):
        out[idx] = vals
    return out


def broadcast_array(x: np.ndarray | None, src: int = 0, name: str = "broadcast_array") -> np.ndarray:
    """Rank `src`'s array on every rank (other ranks pass None).

    Collective: every rank must call it, in the same order. In a single process it is the identity.

    Args:
        x: the array on rank `src`; None elsewhere.
        src: the sending rank.
        name: the step's name, for error messages.

    Returns:
        Rank `src`'s array.

    Raises:
        DistributedError: the collective failed.

    Example:
        >>> import numpy as np
        >>> broadcast_array(np.arange(3)).tolist()
        [0, 1, 2]
    """
    if not is_distributed():
        return x
    torch, dist = _torch()
    meta = broadcast_object((x.shape, x.dtype.str) if rank_world()[0] == src else None, src, f"{name} shape")
    buf = np.ascontiguousarray(x) if rank_world()[0] == src else np.empty(meta[0], np.dtype(meta[1]))
    t = torch.from_numpy(buf)
    with _collective(name):
        dist.broadcast(t, src=src, group=cpu_group())
    return t.numpy()


def broadcast_tensors(tensors, src: int = 0, name: str = "broadcast_tensors") -> None:
    """Overwrite `tensors` (in place, on their own device) with rank `src`'s values, via the default group.

    Collective: every rank must call it, in the same order. In a single process it is the identity.

    Used for module buffers (batch-norm running statistics) so every rank samples with rank 0's model.

    Args:
        tensors: the tensors to overwrite.
        src: the sending rank.
        name: the step's name, for error messages.

    Raises:
        DistributedError: the collective failed.

    Example:
        >>> import torch
        >>> bn = torch.nn.BatchNorm1d(2)
        >>> broadcast_tensors(list(bn.buffers())); bn.running_var.tolist()
        [1.0, 1.0]
    """
    if not is_distributed():
        return
    _, dist = _torch()
    with _collective(name):
        for t in tensors:
            dist.broadcast(t, src=src)


def run_on_rank_zero(fn, name: str = "rank-zero computation"):
    """Run `fn()` on rank 0 only and return its result on every rank (picklable results only).

    Collective: every rank must call it, in the same order. In a single process it just calls `fn`.

    If rank 0 raises, it re-raises there and the other ranks raise DistributedError naming the
    error, instead of waiting for a result that never comes.

    Args:
        fn: a callable without arguments.
        name: the step's name, for error messages.

    Returns:
        `fn`'s result, on every rank.

    Raises:
        DistributedError: on the other ranks, when rank 0 failed.

    Example:
        >>> run_on_rank_zero(lambda: sum(range(4)))
        6
    """
    if not is_distributed():
        return fn()
    if rank_world()[0] == 0:
        try:
            result = fn()
        except BaseException as exc:
            broadcast_object(("error", type(exc).__name__, str(exc)), 0, name)
            raise
        broadcast_object(("ok", result), 0, name)
        return result
    status = broadcast_object(None, 0, name)
    if status[0] != "ok":
        raise DistributedError(f"rank 0 failed in {name}: {status[1]}: {status[2]}")
    return status[1]


@contextlib.contextmanager
def rank_zero_first(name: str = "rank-zero-first"):
    """Context manager: rank 0 runs the block first (downloads, creates caches or weights); the others run it after.

    Collective: every rank must call it, in the same order. In a single process the block just runs.

    If rank 0's block raises, the other ranks raise DistributedError instead of waiting.

    Args:
        name: the step's name, for error messages.

    Raises:
        DistributedError: on the other ranks, when rank 0's block failed.

    Example:
        >>> with rank_zero_first("create cache"):
        ...     print("filled")
        filled
    """
    if not is_distributed():
        yield
        return
    rank = rank_world()[0]
    if rank != 0:
        status = broadcast_object(None, 0, name)
        if status[0] != "ok":
            raise DistributedError(f"rank 0 failed in {name}: {status[1]}: {status[2]}")
        yield
        return
    try:
        yield
    except BaseException as exc:
        broadcast_object(("error", type(exc).__name__, str(exc)), 0, name)
        raise
    broadcast_object(("ok",), 0, name)
