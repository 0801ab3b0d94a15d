"""The image metrics `evaluate`, `compare` and the CLI know: one `Registry` of metric classes.

Every entry is a `Metric` subclass that declares its name, its output values (with direction),
what it needs extracted (``needs``), its bootstrap scheme and the constructor parameters exposed
as options (``options``). An option is addressed as ``<metric>_<parameter>`` in the API
(``evaluate(..., options={"kid_subset_size": 500})``) and as ``--<metric>-<parameter>`` on the
command line (``--kid-subset-size 500``); an unknown key is an error.

>>> IMAGE_METRICS.parse("fid,prdc")
('fid', 'pr', 'dc')
>>> sorted(option_specs())[:2]
['c2st_max_per_side', 'dc_k']
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass

from ...errors import InvalidArgumentError
from ..score import Registry
from .c2st import C2ST
from .fid import FID
from .inception_score import InceptionScore
from .infinity import FIDInfinity, ISInfinity
from .kid import KID
from .memorization import Memorization
from .modes import ModeCoverage
from .prdc import DensityCoverage, PrecisionRecall

#: every image metric, in output order; "prd" (the 0.1 name of improved precision/recall, which is
#: not PRD of Sajjadi et al. 2018) still parses, with a FutureWarning, until the next release
IMAGE_METRICS: Registry = Registry(
    "metrics", [FID, FIDInfinity, KID, InceptionScore, ISInfinity, PrecisionRecall, DensityCoverage, ModeCoverage, C2ST,
                Memorization],
    aliases={"prdc": ("pr", "dc")}, deprecated={"prd": "pr"})


@dataclass(frozen=True)
class OptionSpec:
    """One metric parameter exposed as an option: key ``<metric>_<param>``, its default and type.

    Attributes:
        key: the option's key (``kid_subset_size``).
        metric: the metric's registry name (``kid``).
        param: the constructor parameter (``subset_size``).
        default: its default value.
        annotation: its type annotation, as a string.

    Example:
        >>> spec = option_specs()["kid_subset_size"]
        >>> spec.metric, spec.param, spec.default, spec.flag
        ('kid', 'subset_size', 1000, '--kid-subset-size')
    """

    key: str
    metric: str
    param: str
    default: object
    annotation: str

    @property
    def flag(self) -> str:
        """The CLI flag of the option (``--kid-subset-size``)."""
        return "--" + self.key.replace("_", "-")


def option_specs() -> dict[str, OptionSpec]:
    """Every metric option, by key (``kid_subset_size``, ``pr_k`` ...).

    Returns:
        A dict of key -> `OptionSpec`, in registry order.

    Example:
        >>> sorted(option_specs())[:3]
        ['c2st_max_per_side', 'dc_k', 'fid_inf_points']
    """
    out = {}
    for name, cls in IMAGE_METRICS.items():
        sig = inspect.signature(cls.__init__)
        for p in cls.options:
            key = f"{name.replace('-', '_')}_{p}"
            par = sig.parameters[p]
            out[key] = OptionSpec(key, name, p, par.default, str(par.annotation))
    return out


def split_options(options: dict | None) -> dict[str, dict]:
    """``{"kid_subset_size": 500}`` -> ``{"kid": {"subset_size": 500}}``; unknown keys raise.

    Args:
        options: option keys and values (None values are dropped), or None.

    Returns:
        The constructor arguments per metric name.

    Raises:
        InvalidArgumentError: a key that is no metric option (the message lists the allowed keys).

    Example:
        >>> split_options({"kid_subset_size": 500, "pr_k": 5, "dc_k": None})
        {'kid': {'subset_size': 500}, 'pr': {'k': 5}}
        >>> split_options({"kid_size": 5})
        Traceback (most recent call last):
        ...
        gmeval.errors.InvalidArgumentError: Argument `options` must be keys from [...], but got 'kid_size'.
    """
    specs = option_specs()
    out: dict[str, dict] = {}
    for key, value in (options or {}).items():
        if key not in specs:
            raise InvalidArgumentError("options", f"keys from {sorted(specs)}", key)
        if value is not None:
            out.setdefault(specs[key].metric, {})[specs[key].param] = value
    return out


def build_metric(name: str, inputs=None, options: dict | None = None, seed: int = 0):
    """A fresh metric `name` with its options (``{"subset_size": 500}``) and, when it takes one, the seed.

    Metrics whose shape depends on the inputs (mode coverage: the number of classes) read it from `inputs`.

    Args:
        name: a registry name (``"kid"``, ``"pr"`` ...; deprecated names warn).
        inputs: an `ImageInputs` (needed by mode coverage), or None.
        options: constructor arguments of the metric.
        seed: the seed, for metrics that take one.

    Returns:
        A new `Metric`.

    Raises:
        InvalidArgumentError: an unknown name.

    Example:
        >>> build_metric("kid", options={"subset_size": 50}, seed=3)
        KID(n_subsets=100, subset_size=50, degree=3, gamma=None, coef0=1.0, seed=3, compute_dtype='auto', fit_subset_size=True)
        >>> import numpy as np
        >>> from gmeval.metrics.image import ImageInputs
        >>> build_metric("modes", ImageInputs(fake_class_logits=np.zeros((4, 10)))).config["num_classes"]
        10
    """
    cls = IMAGE_METRICS[name]
    kwargs = dict(options or {})
    if "seed" in inspect.signature(cls.__init__).parameters:
        kwargs["seed"] = seed
    factory = getattr(cls, "for_inputs", None)
    return factory(inputs, **kwargs) if factory is not None else cls(**kwargs)
