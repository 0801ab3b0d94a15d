"""Input validation and small shared helpers for the image-metric formulas.

Features are N x D matrices. They are kept in their floating dtype (float32 features from an
extractor are not copied to float64 wholesale: 50k x 2048 would double to 800 MB); every formula
casts the blocks it works on to float64.
"""

from __future__ import annotations

import contextlib
import dataclasses
import numbers
import os
from collections import deque
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from threadpoolctl import threadpool_limits

from ...errors import InvalidArgumentError, ShapeMismatchError


def to_numpy(x) -> np.ndarray:
    """numpy view of an array-like or a torch tensor (detached, on the CPU)."""
    if hasattr(x, "detach") and hasattr(x, "cpu"):
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def as_features(x, name: str, *, min_rows: int = 1) -> np.ndarray:
    """Validate a feature matrix: 2-D, at least `min_rows` rows, finite. float32/float64 kept, others -> float64."""
    a = to_numpy(x)
    if a.ndim != 2:
        raise ShapeMismatchError(f"`{name}` must be an N x D feature matrix, got an array of shape {a.shape}")
    if a.dtype not in (np.float32, np.float64):
        a = a.astype(np.float64)
    if a.shape[0] < min_rows:
        raise InvalidArgumentError(name, f"a feature matrix with at least {min_rows} rows", f"{a.shape[0]} rows")
    if a.shape[1] < 1:
        raise InvalidArgumentError(name, "a feature matrix with at least 1 column", "0 columns")
    if a.size and not (np.isfinite(a.min()) and np.isfinite(a.max())):  # NaN propagates through min/max
        raise InvalidArgumentError(name, "finite feature values", "NaN or inf entries")
    return a


def same_dim(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> None:
    if a.shape[1] != b.shape[1]:
        raise ShapeMismatchError(
            f"`{name_a}` and `{name_b}` must have the same feature dimension, got {a.shape[1]} and {b.shape[1]}"
        )


def check_int(name: str, value, minimum: int = 1, maximum: int | None = None, hint: str = "") -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InvalidArgumentError(name, "an integer", value, hint)
    if value < minimum or (maximum is not None and value > maximum):
        allowed = f"an integer >= {minimum}" if maximum is None else f"an integer in [{minimum}, {maximum}]"
        raise InvalidArgumentError(name, allowed, value, hint)
    return int(value)


def check_float(name: str, value, low: float, high: float, *, low_open: bool = False, high_open: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise InvalidArgumentError(name, "a finite real number", value)
    v = float(value)
    bad = (v <= low if low_open else v < low) or (v >= high if high_open else v > high)
    if bad:
        lb, hb = ("(" if low_open else "["), (")" if high_open else "]")
        raise InvalidArgumentError(name, f"a number in {lb}{low}, {high}{hb}", value)
    return v


def check_choice(name: str, value, choices) -> str:
    if value not in choices:
        raise InvalidArgumentError(name, "one of " + ", ".join(repr(c) for c in choices), value)
    return value


class MetricResult:
    """Mixin for result dataclasses: `as_dict()` gives the scalar fields (JSON-ready; arrays are left out).

    Example:
        >>> import dataclasses
        >>> import numpy as np
        >>> @dataclasses.dataclass
        ... class R(MetricResult):
        ...     score: float
        ...     n: int
        ...     per_sample: np.ndarray
        >>> R(np.float64(0.5), np.int64(3), np.zeros(3)).as_dict()
        {'score': 0.5, 'n': 3}
    """

    #: direction of each scalar field: True = higher is better, False = lower is better, None = not a quality.
    HIGHER_IS_BETTER: dict = {}

    def as_dict(self) -> dict:
        """The scalar fields as plain Python values (None kept, numpy arrays left out)."""
        out = {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            v = getattr(self, f.name)
            if "ndarray" in str(f.type) or isinstance(v, np.ndarray):
                continue  # per-sample details stay attributes
            if v is None:
                out[f.name] = None
            elif isinstance(v, (bool, np.bool_)):
                out[f.name] = bool(v)
            elif isinstance(v, numbers.Integral):
                out[f.name] = int(v)
            elif isinstance(v, numbers.Real):
                out[f.name] = float(v)
            elif isinstance(v, str):
                out[f.name] = v
        return out


def cpu_workers(n_tasks: int) -> int:
    """Threads for `n_tasks` independent tasks: the cores this process may use, at most one per task."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(cpus, n_tasks))


def parallel_map(fn, tasks):
    """`fn` over `tasks` concurrently, each call with a single-threaded BLAS (small GEMMs do not split
    well across threads, and the elementwise work then runs in parallel too). Results come back in
    task order, so every merge is deterministic whatever the number of workers; at most 2 x workers
    tasks are in flight, which bounds the memory held by pending results."""
    workers = cpu_workers(len(tasks))
    with threadpool_limits(1, user_api="blas"), ThreadPoolExecutor(workers) as pool:
        pending = deque()
        for t in tasks:
            pending.append(pool.submit(fn, t))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


@contextlib.contextmanager
def one_torch_thread(active: bool = True):
    """Inside, torch ops run on one intra-op thread (restored afterwards): for work that `parallel_map`
    already spreads over the cores as concurrent tasks. torch's thread count is process-wide."""
    if not active:
        yield
        return
    import torch

    saved = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(saved)
