"""Process-group set-up from the environment `torchrun` creates, and the rank/world queries.

Single-process use needs nothing from this module: when the process was not started by
`torchrun` (no RANK / WORLD_SIZE / MASTER_ADDR / MASTER_PORT in the environment) or the world has
one process, `rank_world()` is (0, 1) and torch.distributed is never initialised.

Environment read here:
    RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT   set by torchrun (torch.distributed.run)
    GMEVAL_DIST_TIMEOUT    seconds a collective or barrier may wait for the other ranks [1800]
    GMEVAL_DIST_BACKEND    "gloo" or "nccl" [nccl when CUDA is available, else gloo]
"""

from __future__ import annotations

import atexit
import contextlib
import os
import threading
from datetime import timedelta

from ..errors import GmevalError, InvalidArgumentError

DEFAULT_TIMEOUT_S = 1800.0
TORCHRUN_VARS = ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")
BACKENDS = ("gloo", "nccl")


class DistributedError(GmevalError, RuntimeError):
    """A collective operation failed or timed out: usually another rank failed first (see its error).

    Example:
        >>> issubclass(DistributedError, RuntimeError)
        True
    """


_state = threading.local()  # local_only() nesting depth, per thread
_owned = {"initialised_here": False, "cpu_group": None}


def launched_by_torchrun() -> bool:
    """True when torchrun's variables (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT) are set and describe more than one process.

    Returns:
        Whether this process is one rank of a multi-process torchrun launch.

    Raises:
        InvalidArgumentError: WORLD_SIZE is not an integer.

    Example:

        >>> import os
        >>> from unittest import mock
        >>> torchrun_env = {"RANK": "1", "WORLD_SIZE": "2", "LOCAL_RANK": "1", "MASTER_ADDR": "127.0.0.1",
        ...                 "MASTER_PORT": "29500"}
        >>> with mock.patch.dict(os.environ, torchrun_env):
        ...     launched_by_torchrun()
        True
        >>> with mock.patch.dict(os.environ, dict(torchrun_env, WORLD_SIZE="1")):
        ...     launched_by_torchrun()
        False
    """
    if not all(v in os.environ for v in TORCHRUN_VARS):
        return False
    try:
        return int(os.environ["WORLD_SIZE"]) > 1
    except ValueError:
        raise InvalidArgumentError("WORLD_SIZE (environment)", "an integer", os.environ["WORLD_SIZE"]) from None


def timeout_seconds() -> float:
    """``GMEVAL_DIST_TIMEOUT`` in seconds (default 1800): the bound of every collective and barrier.

    Returns:
        The timeout in seconds.

    Raises:
        InvalidArgumentError: the variable is not a positive number.

    Example:
        >>> import os
        >>> from unittest import mock
        >>> with mock.patch.dict(os.environ, {"GMEVAL_DIST_TIMEOUT": "90"}):
        ...     timeout_seconds()
        90.0
    """
    text = os.environ.get("GMEVAL_DIST_TIMEOUT")
    if text is None or text == "":
        return DEFAULT_TIMEOUT_S
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise InvalidArgumentError("GMEVAL_DIST_TIMEOUT (environment)", "a positive number of seconds", text)
    return value


def default_backend() -> str:
    """The process-group backend: ``GMEVAL_DIST_BACKEND``, else nccl when CUDA is available, else gloo.

    Returns:
        ``"gloo"`` or ``"nccl"``.

    Raises:
        InvalidArgumentError: ``GMEVAL_DIST_BACKEND`` names another backend.

    Example:
        >>> import os
        >>> from unittest import mock
        >>> with mock.patch.dict(os.environ, {"GMEVAL_DIST_BACKEND": "gloo"}):
        ...     default_backend()
        'gloo'
    """
    text = os.environ.get("GMEVAL_DIST_BACKEND")
    if text:
        if text not in BACKENDS:
            raise InvalidArgumentError("GMEVAL_DIST_BACKEND (environment)", f"one of {BACKENDS}", text)
        return text
    import torch

    return "nccl" if torch.cuda.is_available() else "gloo"


def _dist():
    import torch.distributed as dist

    return dist


def is_initialized() -> bool:
    """Whether torch.distributed has a default process group (of any size).

    Returns:
        True once a process group is initialised.

    Example:
        >>> is_initialized()
        False
    """
    dist = _dist()
    return dist.is_available() and dist.is_initialized()


def init_distributed(backend: str | None = None, timeout: float | None = None) -> bool:
    """Initialise the default process group from torchrun's environment; idempotent.

    Does nothing (and returns False) when the process was not started by torchrun with
    WORLD_SIZE > 1. With nccl a second, gloo group is created for the CPU collectives of evaluation
    (features and statistics stay in host memory). Called once, at the CLI or torchrun entry.

    Args:
        backend: ``"gloo"`` (CPU) or ``"nccl"`` (one GPU per process, cuda:LOCAL_RANK); default
            `default_backend`.
        timeout: seconds (default `timeout_seconds`).

    Returns:
        True when a process group with more than one rank is active afterwards.

    Raises:
        InvalidArgumentError: an unknown backend, or nccl without CUDA.
        DistributedError: the rendezvous failed (wrong address, port in use, a rank that never came).

    Example:
        >>> init_distributed()  # a plain process: nothing to do
        False
    """
    if is_initialized():
        return _dist().get_world_size() > 1
    if not launched_by_torchrun():
        return False
    import torch

    dist = _dist()
    backend = backend or default_backend()
    if backend not in BACKENDS:
        raise InvalidArgumentError("backend", f"one of {BACKENDS}", backend)
    seconds = float(timeout) if timeout is not None else timeout_seconds()
    if backend == "nccl":
        if not torch.cuda.is_available():
            raise InvalidArgumentError("backend", "'gloo' on a machine without CUDA", backend)
        torch.cuda.set_device(local_rank())
    try:
        dist.init_process_group(backend=backend, timeout=timedelta(seconds=seconds))
        if backend == "nccl":
            _owned["cpu_group"] = dist.new_group(backend="gloo", timeout=timedelta(seconds=seconds))
    except Exception as exc:  # rendezvous failures: wrong address, port in use, a rank that never came
        raise DistributedError(
            f"rank {os.environ.get('RANK')}/{os.environ.get('WORLD_SIZE')}: could not initialise torch.distributed "
            f"({backend}, MASTER_ADDR={os.environ.get('MASTER_ADDR')}, MASTER_PORT={os.environ.get('MASTER_PORT')}, "
            f"timeout {seconds:g} s): {type(exc).__name__}: {exc}") from exc
    _owned["initialised_here"] = True
    atexit.register(shutdown)
    return dist.get_world_size() > 1


def shutdown() -> None:
    """Destroy the process group if this module created it (clean exit; safe to call twice).

    Example:
        >>> shutdown(); shutdown()
    """
    if _owned["initialised_here"] and is_initialized():
        with contextlib.suppress(Exception):
            _dist().destroy_process_group()
    _owned["initialised_here"] = False
    _owned["cpu_group"] = None


@contextlib.contextmanager
def local_only():
    """Context manager: inside it gmeval acts as a single process even under torchrun (no collectives).

    Use it for work done by one rank alone (rank 0 writing a report); otherwise a collective
    entered by one rank only would wait for the others until the timeout.

    Example:
        >>> with local_only():
        ...     rank_world(), is_distributed()
        ((0, 1), False)
    """
    _state.depth = getattr(_state, "depth", 0) + 1
    try:
        yield
    finally:
        _state.depth -= 1


def is_distributed() -> bool:
    """True when a process group with more than one rank is active (and not inside `local_only`).

    Returns:
        Whether collectives talk to other ranks.

    Example:
        >>> is_distributed()
        False
    """
    if getattr(_state, "depth", 0) > 0 or not is_initialized():
        return False
    return _dist().get_world_size() > 1


def rank_world() -> tuple[int, int]:
    """(rank, world size); (0, 1) when not distributed (no torch.distributed set-up involved).

    Returns:
        The pair.

    Example:
        >>> rank_world()
        (0, 1)
    """
    if not is_distributed():
        return 0, 1
    dist = _dist()
    return dist.get_rank(), dist.get_world_size()


def get_rank() -> int:
    """This process's rank (0 when not distributed).

    Returns:
        The rank.

    Example:
        >>> get_rank()
        0
    """
    return rank_world()[0]


def get_world_size() -> int:
    """The number of ranks (1 when not distributed).

    Returns:
        The world size.

    Example:
        >>> get_world_size()
        1
    """
    return rank_world()[1]


def is_rank_zero() -> bool:
    """Whether this process is rank 0 (always True in a single process).

    Returns:
        True on rank 0.

    Example:
        >>> is_rank_zero()
        True
    """
    return rank_world()[0] == 0


def local_rank() -> int:
    """``LOCAL_RANK`` from torchrun (the process's index on its machine); 0 otherwise.

    Returns:
        The local rank.

    Example:

        >>> import os
        >>> from unittest import mock
        >>> torchrun_env = {"RANK": "1", "WORLD_SIZE": "2", "LOCAL_RANK": "1", "MASTER_ADDR": "127.0.0.1",
        ...                 "MASTER_PORT": "29500"}
        >>> with mock.patch.dict(os.environ, torchrun_env):
        ...     local_rank()
        1
    """
    return int(os.environ.get("LOCAL_RANK", "0"))


def backend() -> str | None:
    """The active backend's name, or None when not distributed.

    Returns:
        ``"gloo"``, ``"nccl"`` or None.

    Example:
        >>> backend() is None
        True
    """
    return _dist().get_backend() if is_distributed() else None


def device():
    """Where this rank computes: cuda:LOCAL_RANK with the nccl backend, else the CPU.

    Returns:
        A ``torch.device``.

    Example:
        >>> device()
        device(type='cpu')
    """
    import torch

    if is_distributed() and _dist().get_backend() == "nccl":
        return torch.device("cuda", local_rank())
    return torch.device("cpu")


def cpu_group():
    """The process group for CPU tensors: None (the default group) with gloo, a gloo subgroup with nccl.

    Returns:
        The group to pass to torch.distributed calls on CPU tensors.

    Example:
        >>> cpu_group() is None
        True
    """
    return _owned["cpu_group"]


def rank_seed(seed: int, *keys, rank: int | None = None) -> int:
    """A seed for this rank derived from a global seed: ``derive_seed(seed, "rank", rank, *keys)``.

    Args:
        seed: the global seed.
        *keys: further keys (an epoch, a purpose).
        rank: the rank (default: this process's).

    Returns:
        A 63-bit int, different per rank.

    Example:
        >>> rank_seed(0) == rank_seed(0, rank=0), rank_seed(0, rank=0) != rank_seed(0, rank=1)
        (True, True)
    """
    from ..utils.seeding import derive_seed

    return derive_seed(seed, "rank", get_rank() if rank is None else int(rank), *keys)


def describe() -> dict:
    """``{world_size, backend}`` for result records (only meaningful when distributed).

    Returns:
        The dict.

    Example:
        >>> describe()
        {'world_size': 1, 'backend': None}
    """
    rank, world = rank_world()
    return {"world_size": world, "backend": backend()}
