"""Negative ELBO and bits per dimension for likelihood-based models (VAE) on a test split.

    bpd = nelbo / (D ln 2)

with nelbo the per-example negative evidence lower bound in nats (an upper bound on the
negative log-likelihood, so bpd is an upper bound on the true bits/dim) and D the number of
data dimensions (C x H x W, e.g. 784 for MNIST). Lower is better.

Discretisation. Bits/dim compares models only when the likelihood is of the same discrete
data:
* Discrete decoders (Bernoulli on binarised MNIST, 256-way categorical or discretised
  logistic on uint8 pixels) give probabilities of the discrete data: use them as they are
  (`num_bins=None`).
* A continuous density on pixels scaled to [0, 1] (Gaussian decoder), evaluated on uniformly
  dequantised data x = (k + u) / B, u ~ U[0, 1), B = 256 bins, bounds the discrete NLL by
  nelbo_cont + D ln B (Theis, van den Oord, Bethge, "A note on the evaluation of generative
  models", ICLR 2016), so bpd = nelbo_cont / (D ln 2) + log2 B. Pass `num_bins=256`.
  Without dequantisation a continuous density on discrete data is unbounded and its
  "bits/dim" is meaningless.
A Bernoulli decoder evaluated on non-binarised grey levels is not a likelihood of the data at
all; report its nelbo but not a bits/dim comparable with the literature.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...errors import InvalidArgumentError
from ._base import Metric
from ._common import MetricResult, check_int, to_numpy


@dataclass
class LikelihoodResult(MetricResult):
    """Mean negative ELBO and bits/dim over examples, with standard errors.

    Attributes:
        nelbo: mean per-example negative ELBO, nats (lower is better).
        nelbo_sem: standard error of that mean (ddof = 1; nan for one example).
        bits_per_dim: the mean in bits per dimension.
        bits_per_dim_sem: its standard error.
        num_dims: D, the number of data dimensions.
        num_bins: quantisation bins added as log2(num_bins) (None: discrete likelihood).
        n: number of examples.

    Example:
        >>> import numpy as np
        >>> r = likelihood_summary(np.full(4, 8 * np.log(2)), num_dims=8)
        >>> round(r.bits_per_dim, 6), r.n, r.num_bins
        (1.0, 4, None)
    """
    nelbo: float            # mean per-example negative ELBO, nats
    nelbo_sem: float        # standard error of that mean (ddof = 1; nan for one example)
    bits_per_dim: float
    bits_per_dim_sem: float
    num_dims: int
    num_bins: int | None
    n: int

    HIGHER_IS_BETTER = {"nelbo": False, "bits_per_dim": False, "nelbo_sem": None, "bits_per_dim_sem": None}


def _check(num_dims, num_bins):
    num_dims = check_int("num_dims", num_dims, 1)
    if num_bins is not None:
        num_bins = check_int("num_bins", num_bins, 2)
    return num_dims, num_bins


def bits_per_dim(nelbo_nats, num_dims: int, *, num_bins: int | None = None):
    """nelbo / (D ln 2) [+ log2(num_bins) for a continuous density on dequantised data]. Scalar or array.

    Args:
        nelbo_nats: negative ELBO (or negative log-likelihood) in nats, a scalar or an array.
        num_dims: D, the number of data dimensions (784 for MNIST).
        num_bins: for a continuous density on data rescaled from `num_bins` levels to [0, 1], the
            log2(num_bins) that turns it into a discrete likelihood (None: already discrete).

    Returns:
        A float for a scalar input, else a float64 array of the same shape.

    Raises:
        InvalidArgumentError: `num_dims` < 1 or `num_bins` < 2.

    Example:
        >>> import numpy as np
        >>> round(bits_per_dim(784 * np.log(2), 784), 6)
        1.0
        >>> round(bits_per_dim(0.0, 784, num_bins=256), 6)
        8.0
    """
    num_dims, num_bins = _check(num_dims, num_bins)
    v = np.asarray(to_numpy(nelbo_nats), np.float64)
    out = v / (num_dims * np.log(2.0)) + (np.log2(num_bins) if num_bins is not None else 0.0)
    return float(out) if out.ndim == 0 else out


def likelihood_summary(nelbo_per_example, num_dims: int, *, num_bins: int | None = None) -> LikelihoodResult:
    """Mean negative ELBO (nats) and bits/dim over examples, with standard errors.

    Args:
        nelbo_per_example: per-example negative ELBO in nats (any shape, flattened).
        num_dims: D, the number of data dimensions.
        num_bins: as `bits_per_dim`.

    Returns:
        A `LikelihoodResult`.

    Raises:
        InvalidArgumentError: an empty input, non-finite values, or bad `num_dims` / `num_bins`.

    Example:
        >>> r = likelihood_summary([1.0, 3.0], num_dims=1)
        >>> r.nelbo, r.nelbo_sem, r.n
        (2.0, 1.0, 2)
    """
    num_dims, num_bins = _check(num_dims, num_bins)
    v = np.asarray(to_numpy(nelbo_per_example), np.float64).ravel()
    if v.size == 0 or not np.isfinite(v).all():
        raise InvalidArgumentError("nelbo_per_example", "a non-empty array of finite values (nats)",
                                   "an empty array" if v.size == 0 else "NaN or inf entries")
    return _summary(v.size, float(v.sum()), float(np.sum((v - v.mean()) ** 2)), num_dims, num_bins)


def _summary(n, total, sq_dev, num_dims, num_bins) -> LikelihoodResult:
    mean = total / n
    sem = float(np.sqrt(sq_dev / (n - 1) / n)) if n > 1 else float("nan")
    scale = num_dims * np.log(2.0)
    return LikelihoodResult(nelbo=mean, nelbo_sem=sem, bits_per_dim=bits_per_dim(mean, num_dims, num_bins=num_bins),
                            bits_per_dim_sem=sem / scale, num_dims=num_dims, num_bins=num_bins, n=n)


class Moments:
    """(n, mean, M2) of a stream, merged with Chan et al.'s parallel formula (a "sum" state whose
    addition is `merge`: exact in n, stable in mean and M2).

    Args:
        n: number of values.
        mean: their mean.
        m2: the sum of squared deviations from the mean.

    Example:
        >>> m = Moments(2, 2.0, 2.0).merge(Moments(1, 5.0, 0.0))   # [1, 3] and [5]
        >>> m.n, m.mean, m.m2
        (3, 3.0, 8.0)
    """

    __slots__ = ("n", "mean", "m2")

    def __init__(self, n: int = 0, mean: float = 0.0, m2: float = 0.0):
        self.n, self.mean, self.m2 = int(n), float(mean), float(m2)

    def copy(self) -> "Moments":
        """An independent copy."""
        return Moments(self.n, self.mean, self.m2)

    def merge(self, other: "Moments") -> "Moments":
        """The moments of both streams together (a new object; neither operand changes)."""
        if other.n == 0:
            return self.copy()
        if self.n == 0:
            return other.copy()
        tot = self.n + other.n
        delta = other.mean - self.mean
        return Moments(tot, self.mean + delta * other.n / tot, self.m2 + other.m2 + delta * delta * self.n * other.n / tot)


class BitsPerDim(Metric):
    """Stateful: update(per-example negative ELBO in nats); compute() -> LikelihoodResult.

    State is one `Moments` (n, mean, M2) merged with Chan et al.'s parallel formula, so batching and
    merging do not change the result beyond rounding.

    Args:
        num_dims: D, the number of data dimensions.
        num_bins: as `bits_per_dim`.

    Raises:
        InvalidArgumentError: bad `num_dims`/`num_bins`, non-finite values, or `compute()` before any update.

    >>> import numpy as np
    >>> BitsPerDim(num_dims=784).update(np.full(10, 784 * np.log(2))).compute().bits_per_dim
    1.0
    >>> m = BitsPerDim(num_dims=1).update([1.0, 3.0]).merge(BitsPerDim(num_dims=1).update([5.0]))
    >>> m.n, m.compute().nelbo
    (3, 3.0)
    """

    higher_is_better = False
    primary = "bits_per_dim"

    def __init__(self, num_dims: int, num_bins: int | None = None):
        _check(num_dims, num_bins)
        super().__init__(num_dims=num_dims, num_bins=num_bins)

    def declare(self) -> None:
        """One sum state, ``moments`` (a `Moments`)."""
        self.add_state("moments", "sum", Moments)

    def update(self, nelbo_per_example):
        """Add per-example negative ELBOs (nats); returns self."""
        v = np.asarray(to_numpy(nelbo_per_example), np.float64).ravel()
        if not np.isfinite(v).all():
            raise InvalidArgumentError("nelbo_per_example", "finite values (nats)", "NaN or inf entries")
        if v.size:
            mu = float(v.mean())
            self.moments = self.moments.merge(Moments(v.size, mu, float(np.sum((v - mu) ** 2))))
        return self

    @property
    def n(self) -> int:
        """Number of examples added so far."""
        return self.moments.n

    def compute(self) -> LikelihoodResult:
        """The `LikelihoodResult` of all examples added so far."""
        m = self.moments
        if m.n == 0:
            raise InvalidArgumentError("nelbo_per_example", "at least one update before compute()", "none")
        return _summary(m.n, m.mean * m.n, m.m2, **self._config)
