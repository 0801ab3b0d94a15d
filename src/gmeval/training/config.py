"""Training configuration: every knob of a run, its default, its help and its allowed values, declared once.

`TrainConfig` is the one source for the library and the command line. Each field is declared with
`knob(...)`, whose metadata carries the help text and a constraint (gmeval.utils.checks);
`__post_init__` checks every field against its constraint and raises InvalidArgumentError naming
the field, the allowed values and the value given. `gmeval train` builds its options from
`dataclasses.fields(TrainConfig)` (gmeval.cli.train): flag = field name with dashes (plus the
`aliases` kept for older command lines), type from the annotation, help and choices from the
metadata, and the defaults shown are the dataclass's. The CLI passes only the flags given, so a run
started with `gmeval train dcgan` and one built with `TrainConfig(model="dcgan")` are the same run.

Defaults do not depend on the model: every model starts from the same values (Adam, lr 2e-4,
betas (0.5, 0.999), the DCGAN settings of Radford et al. 2016). The zoo's recipes (docs/zoo.md) pass
their own `--lr` where a model trains better with another one (1e-3 for the autoencoders).

Two defaults are resolved from other fields, in `__post_init__`, and stated in their help:
`out` (None: runs/<model>) and `steps` (None with no `epochs`: DEFAULT_STEPS).
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from dataclasses import dataclass

from ..errors import InvalidArgumentError
from ..utils.checks import Constraint, OneOf, Range, Satisfies

#: training length when neither `steps` nor `epochs` is given
DEFAULT_STEPS = 2000

STOP_CONDITION = "a condition like 'fid<=40' or 'd_real>=0.6' (operators <= and >=)"


def knob(default=None, help: str = "", *, check: Constraint | None = None, factory=None, aliases: tuple = (),
         element_flags: tuple = (), metavar: str | None = None, default_text: str | None = None,
         group: str | None = None, path: str | None = None, positional: bool = False):
    """A TrainConfig field and what the CLI needs to offer it.

    Args:
        default: the default value (or `factory` for a mutable one).
        help: one line for `--help` (and the knob's documentation).
        check: the constraint every value (every element, for a tuple or list) must meet.
        aliases: older flag spellings that stay accepted (e.g. "--dataset" for `data`).
        element_flags: for a tuple, one flag per element (e.g. "--beta1", "--beta2" for `betas`).
        metavar: the value's name in `--help`.
        default_text: how `--help` states a default resolved in `__post_init__`.
        group: fields sharing a group are mutually exclusive on the command line.
        path: the name of a path check in gmeval.cli.validate ("output_folder", "existing_folder"),
            applied at the command line only (the library reports a bad path when it opens it).
        positional: a positional CLI argument instead of a flag.

    Returns:
        a dataclasses.field carrying those in its metadata.
    """
    meta = {"help": help, "check": check, "aliases": tuple(aliases), "element_flags": tuple(element_flags), "metavar": metavar, "default_text": default_text,
            "group": group, "path": path, "positional": positional}
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def _model_names():
    from ..models import MODELS

    return MODELS


def _loss_names():
    from .losses import LOSSES

    return LOSSES


def _is_stop_condition(text: str) -> bool:
    try:
        parse_stop_condition(text)
    except InvalidArgumentError:
        return False
    return True


POSITIVE_INT, NON_NEGATIVE_INT, POSITIVE_NUMBER = Range(int, 1), Range(int, 0), Range(float, 0.0, lo_open=True)


@dataclass
class TrainConfig:
    model: str = knob("mlp-gan", "model to train (gmeval.models.MODELS)", check=OneOf(_model_names), positional=True)
    model_options: dict[str, object] = knob(factory=dict, help="extra model constructor option, e.g. latent_dim=64 (value parsed as "
                               "JSON, else text; repeatable)", aliases=("--model-opt",), metavar="KEY=VALUE")
    data: str = knob("mnist:train", "dataset split (mnist:train), image folder or .npy/.npz file", aliases=("--dataset",))
    out: str | None = knob(None, "run folder", aliases=("-o",), default_text="runs/MODEL", path="output_folder")
    steps: int | None = knob(None, "optimizer steps (GAN: generator updates)", check=POSITIVE_INT,
                             default_text=f"{DEFAULT_STEPS} unless --epochs", group="length")
    epochs: float | None = knob(None, "passes over the data (converted to steps)", check=POSITIVE_NUMBER, group="length")
    batch_size: int = knob(64, "images per batch (summed over processes under torchrun)", check=POSITIVE_INT)
    lr: float = knob(2e-4, "Adam learning rate (generator, or the whole model)", check=POSITIVE_NUMBER)
    lr_d: float | None = knob(None, "discriminator learning rate", check=POSITIVE_NUMBER, default_text="--lr")
    betas: tuple[float, float] = knob((0.5, 0.999), "Adam betas (DCGAN's 0.5 for beta1); --beta1/--beta2 set one",
                                      check=Range(float, 0.0, 1.0, hi_open=True), element_flags=("--beta1", "--beta2"),
                                      metavar="BETA")
    loss: str = knob("non-saturating", "GAN loss (docs/training.md)", check=OneOf(_loss_names))
    gp_weight: float = knob(10.0, "gradient-penalty weight for wgan-gp", check=Range(float, 0.0))
    d_steps: int = knob(1, "discriminator updates per generator update", check=POSITIVE_INT)
    seed: int = knob(0, "seed of every random number of the run", check=Range(int, 0, 2**63 - 1))
    log_every: int = knob(50, "JSONL record + progress-bar update interval (steps)", check=POSITIVE_INT)
    sample_every: int = knob(500, "sample grid interval (steps); 0: no grids", check=NON_NEGATIVE_INT)
    checkpoint_every: int = knob(1000, "checkpoint interval (steps); 0: only the final one, which is always written",
                                 check=NON_NEGATIVE_INT)
    eval_every: int = knob(0, "evaluation hook interval (steps); 0: hooks run only at the end", check=NON_NEGATIVE_INT)
    stop_when: list[str] = knob(factory=list, help="stop when logged values reach a target, e.g. 'fid<=30' or 'd_real>=0.6' "
                           "(repeatable: all must hold)", check=Satisfies(STOP_CONDITION, _is_stop_condition),
                           metavar="COND")
    grid_size: int = knob(64, "images in each sample grid", check=POSITIVE_INT)
    monitor_every: int = knob(500, "collapse checks every N steps: pixel std over z and a 500-sample mode count with "
                              "the domain classifier; 0: off", check=NON_NEGATIVE_INT)
    tensorboard: bool = knob(False, "also log scalars, sample grids and alerts to OUT/tensorboard (needs the "
                             "tensorboard package: pip install 'gmeval[tensorboard]')")
    data_root: str | None = knob(None, "folder holding DATASET/FILE.gz", default_text="$GMEVAL_DATA, cache, download",
                                 path="existing_folder")

    def __post_init__(self):
        if self.steps is not None and self.epochs is not None:
            raise InvalidArgumentError("epochs", "None when `steps` is given (one training length)", self.epochs)
        if self.steps is None and self.epochs is None:
            self.steps = DEFAULT_STEPS
        if self.out is None:
            self.out = f"runs/{self.model}"
        if isinstance(self.betas, list):  # as config.json stores it
            self.betas = tuple(self.betas)
        for k in knobs():
            k.check(getattr(self, k.name))

    def to_json(self) -> dict:
        d = dataclasses.asdict(self)
        d["betas"] = list(self.betas)
        return d


@dataclass(frozen=True)
class Knob:
    """A TrainConfig field as the CLI and `__post_init__` read it: its annotation taken apart, and its metadata."""

    field: dataclasses.Field
    #: the value's (or each element's) type: int, float, str or bool
    kind: type
    #: None, or the container annotated: tuple (fixed length), list or dict
    container: type | None
    #: the number of elements of a tuple
    length: int | None
    #: None is allowed (`X | None`)
    optional: bool

    @property
    def name(self) -> str:
        return self.field.name

    @property
    def flag(self) -> str:
        """The command-line flag: the field name with dashes."""
        return "--" + self.name.replace("_", "-")

    @property
    def meta(self):
        return self.field.metadata

    @property
    def default(self):
        f = self.field
        return f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default

    def check(self, value) -> None:
        """InvalidArgumentError naming the field unless `value` has the annotated shape and meets the constraint."""
        if value is None:
            if not self.optional:
                raise InvalidArgumentError(self.name, f"a value ({self.kind.__name__}), not None", value)
            return
        if self.container is not None:
            if not isinstance(value, self.container):
                raise InvalidArgumentError(self.name, f"a {self.container.__name__}", value)
            if self.length is not None and len(value) != self.length:
                raise InvalidArgumentError(self.name, f"{self.length} values", value)
            if self.container is dict:
                return
        elif self.kind is bool and not isinstance(value, bool):
            raise InvalidArgumentError(self.name, "True or False", value)
        check = self.meta["check"]
        if check is not None:
            for v in value if self.container is not None else [value]:
                check.check(self.name, v)


@functools.cache
def knobs() -> tuple[Knob, ...]:
    """Every TrainConfig field with its type taken from the annotation, in declaration order."""
    hints = typing.get_type_hints(TrainConfig)
    out = []
    for f in dataclasses.fields(TrainConfig):
        t, optional, container, length = hints[f.name], False, None, None
        if typing.get_origin(t) is types.UnionType:  # X | None
            args = [a for a in typing.get_args(t) if a is not type(None)]
            t, optional = args[0], True
        if typing.get_origin(t) in (tuple, list, dict):
            container, args = typing.get_origin(t), typing.get_args(t)
            length = len(args) if container is tuple else None
            t = args[-1] if container is dict else args[0]
        out.append(Knob(f, t if t in (int, float, str, bool) else str, container, length, optional))
    return tuple(out)


#: keys that may differ between the run that wrote a checkpoint and the one resuming it
RESUMABLE_OVERRIDES = {"steps", "epochs", "log_every", "sample_every", "checkpoint_every", "eval_every", "stop_when", "out", "data_root",
                       "monitor_every", "tensorboard"}


def parse_stop_condition(text: str) -> tuple[str, str, float]:
    for op in ("<=", ">="):
        if op in text:
            k, v = text.split(op, 1)
            try:
                return k.strip(), op, float(v)
            except ValueError:
                break
    raise InvalidArgumentError("stop_when", STOP_CONDITION, text)
