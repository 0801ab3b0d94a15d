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
    """One metric parameter exposed as an option: key ``<metric>_<param>``, its default and type."""

    key: str
    metric: str
    param: str
    default: object
    annotation: str

    @property
    def flag(self) -> str:
        return "--" + self.key.replace("_", "-")


def option_specs() -> dict[str, OptionSpec]:
    """Every metric option, by key (``kid_subset_size``, ``pr_k`` ...)."""
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

    Raises:
        InvalidArgumentError: a key that is no metric option (the message lists the allowed keys).
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
    Metrics whose shape depends on the inputs (mode coverage: the number of classes) read it from `inputs`."""
    cls = IMAGE_METRICS[name]
    kwargs = dict(options or {})
    if "seed" in inspect.signature(cls.__init__).parameters:
        kwargs["seed"] = seed
    factory = getattr(cls, "for_inputs", None)
    return factory(inputs, **kwargs) if factory is not None else cls(**kwargs)
