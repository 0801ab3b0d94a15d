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
        factory: a function returning the default, for a mutable one (list, dict).

    Returns:
        a dataclasses.field carrying those in its metadata.

    Example:
        >>> import dataclasses
        >>> f = knob(3, "repetitions", check=Range(int, 1))
        >>> f.default, f.metadata["help"], f.metadata["check"].allowed
        (3, 'repetitions', 'an integer >= 1')
        >>> knob(factory=list, help="tags").default_factory()
        []
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
    """Every knob of a training run; each field is checked when the config is built.

    The fields are declared with `knob` (help text and constraint in their metadata; `gmeval train
    --help` lists them with the same defaults). `steps` and `epochs` are exclusive; with neither,
    `steps` is DEFAULT_STEPS. `out` defaults to runs/<model>.

    Attributes:
        model: model to train, a name in gmeval.models.MODELS.
        model_options: extra keyword arguments of the model's constructor.
        data: dataset split ("mnist:train", "digits:"), image folder or .npy/.npz file.
        out: run folder (None: runs/<model>).
        steps: optimizer steps (GAN: generator updates).
        epochs: passes over the data, converted to steps (exclusive with `steps`).
        batch_size: images per batch (summed over processes under torchrun).
        lr: Adam learning rate (generator, or the whole model).
        lr_d: discriminator learning rate (None: `lr`).
        betas: Adam's (beta1, beta2), each in [0, 1).
        loss: GAN loss, a name in gmeval.training.losses.LOSSES.
        gp_weight: gradient-penalty weight for "wgan-gp".
        d_steps: discriminator updates per generator update.
        seed: seed of every random number of the run.
        log_every: JSONL record interval (steps).
        sample_every: sample grid interval (steps); 0: no grids.
        checkpoint_every: checkpoint interval (steps); 0: only the final one.
        eval_every: evaluation hook interval (steps); 0: hooks run only at the end.
        stop_when: conditions like "fid<=30" that end the run when all hold.
        grid_size: images in each sample grid.
        monitor_every: collapse-check interval (steps); 0: off.
        tensorboard: also log to OUT/tensorboard (needs the tensorboard package).
        data_root: folder holding the dataset files (None: $GMEVAL_DATA, cache, download).

    Raises:
        InvalidArgumentError: naming the field, the allowed values and the value given.

    Example:
        >>> cfg = TrainConfig("dcgan", data="digits:", lr=1e-3)
        >>> cfg.steps, cfg.out, cfg.betas
        (2000, 'runs/dcgan', (0.5, 0.999))
        >>> TrainConfig(batch_size=0)
        Traceback (most recent call last):
        ...
        gmeval.errors.InvalidArgumentError: Argument `batch_size` must be an integer >= 1, but got 0.
        >>> TrainConfig(steps=10, epochs=1.0)
        Traceback (most recent call last):
        ...
        gmeval.errors.InvalidArgumentError: Argument `epochs` must be None when `steps` is given (one training length), but got 1.0.
    """

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
        """The config as JSON-ready plain data (what config.json and checkpoints store).

        Returns:
            A dict of every field, with `betas` as a list.

        Example:
            >>> d = TrainConfig(steps=5).to_json()
            >>> d["steps"], d["betas"], TrainConfig(**d) == TrainConfig(steps=5)
            (5, [0.5, 0.999], True)
        """
        d = dataclasses.asdict(self)
        d["betas"] = list(self.betas)
        return d


@dataclass(frozen=True)
class Knob:
    """A TrainConfig field as the CLI and `__post_init__` read it: its annotation taken apart, and its metadata.

    Attributes:
        field: the dataclass field.
        kind: the value's (or each element's) type: int, float, str or bool.
        container: None, or the container annotated: tuple (fixed length), list or dict.
        length: the number of elements of a tuple (else None).
        optional: whether None is allowed (`X | None`).

    Example:
        >>> betas = {k.name: k for k in knobs()}["betas"]
        >>> betas.flag, betas.kind, betas.container, betas.length, betas.optional, betas.default
        ('--betas', <class 'float'>, <class 'tuple'>, 2, False, (0.5, 0.999))
        >>> betas.check((0.5, 1.0))
        Traceback (most recent call last):
        ...
        gmeval.errors.InvalidArgumentError: Argument `betas` must be a finite number in [0, 1), but got 1.0.
    """

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
        """The field's name (`batch_size`).

        Example:
            >>> knobs()[0].name
            'model'
        """
        return self.field.name

    @property
    def flag(self) -> str:
        """The command-line flag: the field name with dashes."""
        return "--" + self.name.replace("_", "-")

    @property
    def meta(self):
        """The field's metadata: help, check, aliases, element_flags, metavar, default_text, group, path, positional.

        Example:
            >>> {k.name: k for k in knobs()}["data"].meta["aliases"]
            ('--dataset',)
        """
        return self.field.metadata

    @property
    def default(self):
        """The field's default (a fresh one for a `factory` default).

        Example:
            >>> {k.name: k for k in knobs()}["stop_when"].default
            []
        """
        f = self.field
        return f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default

    def check(self, value) -> None:
        """InvalidArgumentError naming the field unless `value` has the annotated shape and meets the constraint.

        Args:
            value: the value to check.

        Raises:
            InvalidArgumentError: naming the field, what it allows and `value`.

        Example:
            >>> {k.name: k for k in knobs()}["tensorboard"].check(1)
            Traceback (most recent call last):
            ...
            gmeval.errors.InvalidArgumentError: Argument `tensorboard` must be True or False, but got 1.
        """
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
    """Every TrainConfig field with its type taken from the annotation, in declaration order.

    Returns:
        A tuple of Knob, one per field (cached).

    Example:
        >>> len(knobs()) == len(dataclasses.fields(TrainConfig))
        True
        >>> [(k.name, k.kind.__name__, k.optional) for k in knobs()[3:5]]
        [('out', 'str', True), ('steps', 'int', True)]
    """
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
    """Split a stop condition like "fid<=40" into its key, operator and target.

    Args:
        text: "KEY<=NUMBER" or "KEY>=NUMBER" (spaces around the parts allowed).

    Returns:
        (key, "<=" or ">=", target as a float).

    Raises:
        InvalidArgumentError: if the text is not such a condition.

    Example:
        >>> parse_stop_condition("fid <= 40")
        ('fid', '<=', 40.0)
        >>> parse_stop_condition("fid<forty")
        Traceback (most recent call last):
        ...
        gmeval.errors.InvalidArgumentError: Argument `stop_when` must be a condition like 'fid<=40' or 'd_real>=0.6' (operators <= and >=), but got 'fid<forty'.
    """
    for op in ("<=", ">="):
        if op in text:
            k, v = text.split(op, 1)
            try:
                return k.strip(), op, float(v)
            except ValueError:
                break
    raise InvalidArgumentError("stop_when", STOP_CONDITION, text)
