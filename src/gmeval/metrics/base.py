"""The metric engine: a metric declares its state once; reset, copy, merge and distributed sync follow.

After torchmetrics' `Metric` (state declared with its reduction), with gmeval's strictness: numpy
float64 sums, no implicit process-group initialisation, typed errors.

Two reductions cover every metric:

- ``"sum"``: an array (float64 moments, int64 counts), an object with ``state_arrays()`` /
  ``load_state_arrays()`` such as `GaussianStats` (merge adds; sync all-reduces SUM in float64), or
  an object with an associative ``merge`` (e.g. Chan's mean/variance moments; sync gathers and folds
  in rank order).
- ``"cat"``: rows (features, logits, labels) kept as chunks. Merge appends; sync gathers every
  rank's rows. Chunks may carry their global row ``index`` (``update(..., index=...)``): the rows
  are then put in that order, so a sharded run sees exactly the single-process matrix.

`sync()` only acts when `torch.distributed` is already initialised with more than one rank (the
CLI or the torchrun entry point initialises it; a metric never does).

Subclasses implement ``declare()`` (calls to `add_state`), ``update(...)``, ``compute()`` and, for
`evaluate`, ``update_from(inputs)`` and ``report(result)``.

>>> import numpy as np
>>> class Mean(Metric):
...     name = "mean"
...     def declare(self):
...         self.add_state("total", "sum", np.zeros(1))
...         self.add_state("count", "sum", np.zeros(1, np.int64))
...     def update(self, x):
...         self.total = self.total + np.sum(x); self.count = self.count + np.size(x); return self
...     def compute(self):
...         return float(self.total[0] / self.count[0])
>>> a, b = Mean().update([1.0, 2.0]), Mean().update([6.0])
>>> a.merge(b).compute()
3.0
"""

from __future__ import annotations

import copy as _copy
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from ..errors import InvalidArgumentError, ShapeMismatchError

REDUCTIONS = ("sum", "cat")


@dataclass
class MetricReport:
    """What a metric hands to `evaluate`: named values, JSON-ready details and signature parameters.

    Attributes:
        values: the reported numbers, keyed by the names in the metric's ``outputs``.
        details: JSON-ready extras (per-class counts, intervals, diagnostics).
        params: the parameters that go into the result's signature (``k``, ``subset_size`` ...).

    Example:
        >>> r = MetricReport({"fid": 1.5}, params={"layer": "logits"})
        >>> r.values, r.details, r.params
        ({'fid': 1.5}, {}, {'layer': 'logits'})
    """

    values: dict
    details: dict = field(default_factory=dict)
    params: dict = field(default_factory=dict)


class Rows:
    """A "cat" state: row chunks (each optionally with global row indices), concatenated on demand.

    Example:
        >>> import numpy as np
        >>> rows = Rows()
        >>> rows.append(np.array([[3.0], [4.0]]), index=[2, 3])
        >>> rows.append(np.array([[1.0], [2.0]]), index=[0, 1])
        >>> len(rows), rows.array().ravel().tolist()
        (4, [1.0, 2.0, 3.0, 4.0])
        >>> rows.append(np.zeros((1, 2)), index=[4])
        Traceback (most recent call last):
        ...
        gmeval.errors.ShapeMismatchError: rows have shape (2,) per row, earlier updates had (1,)
    """

    __slots__ = ("chunks", "indices", "dim")

    def __init__(self):
        self.chunks: list[np.ndarray] = []
        self.indices: list[np.ndarray | None] = []
        self.dim: tuple | None = None

    def append(self, x: np.ndarray, index=None, name: str = "rows") -> None:
        """Add a chunk of rows (same shape per row as earlier chunks), with its global row indices or None.

        Raises:
            ShapeMismatchError: the rows' shape differs from earlier chunks, or `index` has another length.
            InvalidArgumentError: some chunks carry indices and others do not.
        """
        tail = tuple(x.shape[1:])
        if self.dim is not None and tail != self.dim:
            raise ShapeMismatchError(f"{name} have shape {tail} per row, earlier updates had {self.dim}")
        if index is not None:
            index = np.asarray(index, np.int64).ravel()
            if len(index) != len(x):
                raise ShapeMismatchError(f"{name}: {len(index)} indices for {len(x)} rows")
        if self.indices and (index is None) != (self.indices[0] is None):
            raise InvalidArgumentError("index", f"indices for every update of {name} or for none", "a mix")
        self.dim = tail
        self.chunks.append(x)
        self.indices.append(index)

    def __len__(self) -> int:
        return sum(len(c) for c in self.chunks)

    def copy(self) -> "Rows":
        """A new `Rows` holding the same chunks (the arrays are shared, the lists are not)."""
        out = Rows()
        out.chunks, out.indices, out.dim = list(self.chunks), list(self.indices), self.dim
        return out

    def extend(self, other: "Rows", name: str = "rows") -> None:
        """Append every chunk of `other` (with its indices) to these rows."""
        for c, i in zip(other.chunks, other.indices):
            self.append(c, i, name)

    def array(self) -> np.ndarray | None:
        """All rows (None when empty): in global index order when indices were given, else in update order."""
        if not self.chunks:
            return None
        x = self.chunks[0] if len(self.chunks) == 1 else np.concatenate(
            self.chunks, axis=0).astype(np.result_type(*self.chunks), copy=False)
        if self.indices[0] is None:
            return x
        idx = np.concatenate(self.indices)
        if len(np.unique(idx)) != len(idx):
            raise InvalidArgumentError("index", "distinct global row indices", "repeated indices")
        return x[np.argsort(idx, kind="stable")]


class Metric:
    """Base class of every stateful metric (see the module docstring).

    Args:
        **config: the metric's configuration (the subclass's keyword arguments); kept for `copy`,
            `merge` compatibility checks and `repr`.

    Raises:
        InvalidArgumentError: from `merge` when the other metric has another type or configuration.

    Example:
        >>> import numpy as np
        >>> class Count(Metric):
        ...     def declare(self):
        ...         self.add_state("n", "sum", np.zeros(1, np.int64))
        ...         self.add_state("rows", "cat")
        ...     def update(self, x):
        ...         self.n = self.n + len(x); self.rows.append(np.asarray(x)); return self
        ...     def compute(self):
        ...         return int(self.n[0]), self.rows.array().shape
        >>> m = Count(k=3).update(np.zeros((4, 2)))
        >>> m.state_reductions(), m.config
        ({'n': 'sum', 'rows': 'cat'}, {'k': 3})
        >>> (m + m.copy()).compute()
        (8, (8, 2))
        >>> m.reset(); int(m.n[0]), len(m.rows)
        (0, 0)
        >>> m.merge(Count(k=5))
        Traceback (most recent call last):
        ...
        gmeval.errors.InvalidArgumentError: Argument `other` must be a Count with configuration {'k': 3}, but got {'k': 5}.
    """

    #: registry name (``"fid"``) and the values `report` returns, with their direction
    name: ClassVar[str] = ""
    outputs: ClassVar[dict] = {}
    #: what `evaluate` must extract for it: "features", "logits", "classes", "train"
    needs: ClassVar[tuple] = ()
    #: whether `evaluate(..., bootstrap=B)` gives this metric intervals, and how rows are resampled
    #: ("replacement"; k-NN metrics "half": duplicated rows would sit at distance 0 and shrink the radii)
    intervals: ClassVar[bool] = False
    bootstrap_scheme: ClassVar[str] = "replacement"
    description: ClassVar[str] = ""
    #: constructor parameters exposed as evaluate options and CLI flags (``--kid-subset-size``)
    options: ClassVar[tuple] = ()
    #: direction of `primary` (the headline field of `compute()`'s result)
    higher_is_better: ClassVar[bool | None] = None
    primary: ClassVar[str] = "value"

    def __init__(self, **config):
        self._config = dict(config)
        self._states: dict[str, tuple[str, object]] = {}
        self.declare()
        self.reset()

    # -- declared state -------------------------------------------------------------------
    def declare(self) -> None:  # pragma: no cover - abstract
        """Declare the metric's states with `add_state` (subclasses implement it; called by `__init__`)."""
        raise NotImplementedError

    def add_state(self, name: str, reduce: str, default=None) -> None:
        """Declare a state: ``"sum"`` with its zero value (array or ``state_arrays`` object, or a
        factory returning one) or ``"cat"`` (rows)."""
        if reduce not in REDUCTIONS:
            raise InvalidArgumentError("reduce", f"one of {REDUCTIONS}", reduce)
        if reduce == "sum" and default is None:
            raise InvalidArgumentError("default", "the zero value of a 'sum' state", None)
        self._states[name] = (reduce, default)

    def state_reductions(self) -> dict[str, str]:
        """Each declared state's name and reduction (``"sum"`` or ``"cat"``)."""
        return {k: r for k, (r, _) in self._states.items()}

    def reset(self) -> None:
        """Put every state back to its declared zero value (an empty `Rows` for cat states)."""
        for name, (reduce, default) in self._states.items():
            if reduce == "cat":
                setattr(self, name, Rows())
            else:
                setattr(self, name, default() if callable(default) else _copy.deepcopy(default))

    # -- shared ---------------------------------------------------------------------------
    @property
    def config(self) -> dict:
        """A copy of the configuration the metric was built with."""
        return dict(self._config)

    def _new(self):
        return type(self)(**self._config)

    def copy(self):
        """An independent metric with the same configuration and a copy of every state."""
        out = self._new()
        for name, (reduce, _) in self._states.items():
            v = getattr(self, name)
            setattr(out, name, v.copy() if hasattr(v, "copy") else _copy.deepcopy(v))
        return out

    def _check_compatible(self, other) -> None:
        if type(other) is not type(self):
            raise InvalidArgumentError("other", f"a {type(self).__name__}", type(other).__name__)
        if not _same_config(other._config, self._config):
            raise InvalidArgumentError("other", f"a {type(self).__name__} with configuration {self._config}", other._config)

    def merge(self, other):
        """A NEW metric holding the union of both states (neither operand changes)."""
        self._check_compatible(other)
        out = self.copy()
        for name, (reduce, _) in self._states.items():
            a, b = getattr(out, name), getattr(other, name)
            if reduce == "cat":
                a.extend(b, name)
            elif hasattr(a, "merge"):
                setattr(out, name, a.merge(b))
            else:
                setattr(out, name, a + b)
        return out

    __add__ = merge

    def sync(self):
        """Reduce the state over all ranks of an initialised process group (in place; returns self).

        Sum states are all-reduced in float64; cat states are gathered from every rank (in global
        index order when the updates carried indices, else in rank order). Outside torchrun, or
        with one rank, nothing happens.
        """
        from ..distributed import all_gather_object, all_reduce_sum, is_distributed

        if not is_distributed():
            return self
        for name, (reduce, _) in self._states.items():
            v = getattr(self, name)
            what = f"{type(self).__name__}.{name}"
            if reduce == "cat":
                parts = all_gather_object((v.chunks, v.indices, v.dim), what)
                rows = Rows()
                for chunks, indices, _dim in parts:
                    for c, i in zip(chunks, indices):
                        rows.append(c, i, name)
                setattr(self, name, rows)
            elif hasattr(v, "state_arrays"):  # float64 sums (GaussianStats): all-reduce SUM
                v.load_state_arrays(all_reduce_sum(_state_arrays(v, parts_dim(self, name)), what))
            elif hasattr(v, "merge"):  # an associative merge that is not a plain sum: fold in rank order
                parts = all_gather_object(v, what)
                out = parts[0]
                for p in parts[1:]:
                    out = out.merge(p)
                setattr(self, name, out)
            else:
                arr = np.asarray(v)
                setattr(self, name, np.asarray(all_reduce_sum(arr.astype(np.float64), what)).astype(arr.dtype))
        return self

    # -- to implement ---------------------------------------------------------------------
    def update(self, *args, **kwargs):  # pragma: no cover - abstract
        """Accumulate a batch into the states and return self (subclasses implement it)."""
        raise NotImplementedError

    def compute(self):  # pragma: no cover - abstract
        """The result from the accumulated states (subclasses implement it; the states do not change)."""
        raise NotImplementedError

    def update_from(self, inputs) -> "Metric":
        """Feed what `evaluate` extracted (an `ImageInputs`); metrics used by evaluate implement it."""
        raise NotImplementedError(f"{type(self).__name__} is not an evaluate metric")

    def report(self, result=None) -> MetricReport:
        """Values (the names in `outputs`), details and signature parameters of `compute()`'s result."""
        raise NotImplementedError(f"{type(self).__name__} is not an evaluate metric")

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._config.items())
        return f"{type(self).__name__}({args})"


def parts_dim(metric: Metric, name: str) -> int | None:
    """The dimension of a statistics state, agreed over ranks (a rank without data has none yet).

    Args:
        metric: the metric holding the state.
        name: the state's name (an object with a ``dim`` attribute, such as `GaussianStats`).

    Returns:
        The common dimension, or None when no rank has data yet. In one process it is the state's own.

    Raises:
        ShapeMismatchError: ranks hold statistics of different dimensions.

    Example:
        >>> from gmeval.metrics.image import FID
        >>> import numpy as np
        >>> m = FID().update(np.zeros((3, 5)), real=True)
        >>> parts_dim(m, "real"), parts_dim(FID(), "fake") is None
        (5, True)
    """
    from ..distributed import all_gather_object

    dims = {d for d in all_gather_object(getattr(metric, name).dim, f"{type(metric).__name__}.{name} dim") if d}
    if len(dims) > 1:
        raise ShapeMismatchError(f"{type(metric).__name__}.{name}: ranks hold statistics of dimensions {sorted(dims)}")
    return dims.pop() if dims else None


def _state_arrays(v, dim):
    if getattr(v, "dim", None) is None and dim is not None:
        v.__init__(dim)
    return v.state_arrays()


def _same_config(a: dict, b: dict) -> bool:
    if a.keys() != b.keys():
        return False
    for k in a:
        x, y = a[k], b[k]
        if x is y:
            continue
        if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
            if not (isinstance(x, np.ndarray) and isinstance(y, np.ndarray) and np.array_equal(x, y)):
                return False
        elif hasattr(x, "state_arrays") or hasattr(y, "state_arrays"):
            if not (hasattr(x, "state_arrays") and hasattr(y, "state_arrays") and x.n == y.n
                    and np.array_equal(x.mean, y.mean) and np.array_equal(x.cov, y.cov)):
                return False
        elif x != y:
            return False
    return True
