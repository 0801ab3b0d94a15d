"""HYPE trial plans: which images a rater sees, in which order, and (HYPE-time) for how long.

Reference: S. Zhou, M. L. Gordon, R. Krishna, A. Narcomey, L. Fei-Fei, M. S. Bernstein,
"HYPE: A Benchmark for Human eYe Perceptual Evaluation of Generative Models", NeurIPS 2019
(arXiv:1904.01121). What this module takes from the paper (abstract and figure captions):

- HYPE-infinity "measures human error rate on fake and real images sans time constraints";
  "a score of 50% represents indistinguishable results from real, while a score above 50%
  represents hyper-realism" (Figure 1). So each rater judges a 50/50 mix of real and fake
  images one at a time with unlimited time, and the score is the error rate.
- HYPE-time "measures visual perception under adaptive time constraints": "the adaptive
  staircase method shows images to evaluators at different time exposures, decreasing when
  correct and increasing when incorrect. The modal exposure measures their perceptual
  threshold" (Figure 3).

What is *our* choice (the exact ladder of the paper could not be checked here; every value is
a field of `StaircaseConfig`, stored with the study and printed in the score's signature):

- a transformed up-down staircase (Levitt 1971, J. Acoust. Soc. Am. 49:467): `down` correct
  answers in a row shorten the exposure by one step, `up` wrong answers lengthen it by one
  step. With down=3, up=1 the staircase converges to the exposure at which
  P(correct)^3 = 1/2, i.e. 79.4% correct;
- exposures on a ladder from 100 ms to 1000 ms in 50 ms steps, starting at 500 ms;
- one staircase per generative model (its own fake images interleaved with its own share of
  real images), all staircases of a rater interleaved in one shuffled sequence.

Both protocols start with a short tutorial (answers are followed by feedback, not scored) and
mix in attention checks with known answers: uniform-noise images (obviously fake) and real
images of a pool of their own, never used in the tutorial nor in scored trials. Their answers
are known only to the server; to a client a check looks like any other trial (same API fields,
same page, and in HYPE-time the exposure of the rater's latest scored trial).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Sequence

import numpy as np

from ..errors import InvalidArgumentError

PROTOCOLS = ("hype-inf", "hype-time")
PHASES = ("tutorial", "scored", "check")
ANSWERS = ("real", "fake")


@dataclass(frozen=True)
class StaircaseConfig:
    """A transformed up-down staircase over a ladder of exposure times (milliseconds).

    Attributes:
        start_ms: the first exposure (a rung of the ladder).
        step_ms: the ladder's step.
        min_ms: the shortest exposure.
        max_ms: the longest exposure.
        down: consecutive correct answers that shorten the exposure by one step.
        up: consecutive wrong answers that lengthen it by one step.

    Raises:
        InvalidArgumentError: a non-positive value, min_ms > max_ms, a step that does not divide the
            range, or a start off the ladder.

    Example:
        >>> c = StaircaseConfig(start_ms=300, step_ms=100, min_ms=100, max_ms=500)
        >>> c.ladder(), round(c.target_accuracy, 3)
        ((100, 200, 300, 400, 500), 0.794)
        >>> StaircaseConfig(start_ms=250, step_ms=100, min_ms=100, max_ms=500)
        Traceback (most recent call last):
        ...
        gmeval.errors.InvalidArgumentError: Argument `staircase.start_ms` must be a rung of the ladder 100..500 step 100, but got 250.
    """

    start_ms: int = 500
    step_ms: int = 50
    min_ms: int = 100
    max_ms: int = 1000
    down: int = 3  # consecutive correct answers that shorten the exposure by one step
    up: int = 1    # consecutive wrong answers that lengthen it by one step

    def __post_init__(self):
        for name in ("start_ms", "step_ms", "min_ms", "max_ms", "down", "up"):
            v = getattr(self, name)
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 1:
                raise InvalidArgumentError(f"staircase.{name}", "a positive integer", v)
        if self.min_ms > self.max_ms:
            raise InvalidArgumentError("staircase.min_ms", f"at most max_ms={self.max_ms}", self.min_ms)
        if (self.max_ms - self.min_ms) % self.step_ms:
            raise InvalidArgumentError("staircase.step_ms", f"a divisor of max_ms - min_ms = {self.max_ms - self.min_ms}",
                                       self.step_ms)
        if self.start_ms not in self.ladder():
            raise InvalidArgumentError("staircase.start_ms", f"a rung of the ladder {self.min_ms}..{self.max_ms} step "
                                       f"{self.step_ms}", self.start_ms)

    def ladder(self) -> tuple[int, ...]:
        """Every exposure of the ladder, from min_ms to max_ms."""
        return tuple(range(self.min_ms, self.max_ms + 1, self.step_ms))

    @property
    def target_accuracy(self) -> float | None:
        """Accuracy the staircase converges to (Levitt 1971), for up=1 or down=1, else None.

        With up=1 a step down needs `down` correct answers in a row and any error steps up, so
        the staircase is balanced where p**down = 1/2 (3-down/1-up: 0.794). With down=1 it
        is balanced where (1 - p)**up = 1/2.
        """
        if self.up == 1:
            return 0.5 ** (1.0 / self.down)
        if self.down == 1:
            return 1.0 - 0.5 ** (1.0 / self.up)
        return None


def staircase_exposures(correct: Sequence[bool], config: StaircaseConfig) -> list[int]:
    """Exposure (ms) of each trial of one staircase, followed by the exposure of the next trial.

    Pure function: the server replays it from the stored answers, so the staircase state is never
    kept anywhere but in the database.

    Args:
        correct: `correct[i]` is whether trial i (shown at the returned exposure i) was answered correctly.
        config: the `StaircaseConfig`.

    Returns:
        len(correct) + 1 exposures in ms.

    Example:
        >>> staircase_exposures([True, True, True, False, True], StaircaseConfig())   # 3-down/1-up from 500 ms
        [500, 500, 500, 450, 500, 500]
    """
    ladder = config.ladder()
    level = ladder.index(config.start_ms)
    run_ok = run_bad = 0
    out = [ladder[level]]
    for ok in correct:
        if ok:
            run_ok, run_bad = run_ok + 1, 0
            if run_ok >= config.down:
                level, run_ok = max(level - 1, 0), 0
        else:
            run_ok, run_bad = 0, run_bad + 1
            if run_bad >= config.up:
                level, run_bad = min(level + 1, len(ladder) - 1), 0
        out.append(ladder[level])
    return out


class Staircase:
    """Stateful wrapper over `staircase_exposures`: `update(correct)` returns the next exposure.

    Args:
        config: the `StaircaseConfig` (None: the default 3-down/1-up from 500 ms).

    Example:
        >>> s = Staircase()
        >>> s.exposure_ms, [s.update(True) for _ in range(3)], s.update(False)
        (500, [500, 500, 450], 500)
    """

    def __init__(self, config: StaircaseConfig | None = None):
        self.config = config or StaircaseConfig()
        self.history: list[bool] = []

    @property
    def exposure_ms(self) -> int:
        """The exposure of the next trial."""
        return staircase_exposures(self.history, self.config)[-1]

    def update(self, correct: bool) -> int:
        """Record one answer (correct or not) and return the next exposure."""
        self.history.append(bool(correct))
        return self.exposure_ms


@dataclass(frozen=True)
class StudyDesign:
    """Everything that decides the trial plans of a study (stored in the database as JSON).

    Attributes:
        protocol: ``"hype-inf"`` or ``"hype-time"``.
        models: the fake sources' names (not "real" or "noise").
        per_model: scored fake images of each model per rater (and as many real images).
        pool_size: distinct scored fake images per model (real pool: pool_size * n_models).
        n_tutorial: tutorial trials with feedback (half real, half fake).
        n_checks: attention checks (half uniform noise = fake, half fresh reals = real).
        seed: the study's seed (images and rater plans derive from it).
        staircase: the HYPE-time `StaircaseConfig` (a dict is converted).
        min_attention_accuracy: raters below this on attention checks are excluded from scores.
        min_checks: raters with fewer answered checks are excluded (None: all n_checks).

    Raises:
        InvalidArgumentError: an unknown protocol, bad model names, or sizes out of range.

    Example:
        >>> d = StudyDesign("hype-inf", ("dcgan", "vae"), per_model=10, pool_size=20, n_tutorial=5, n_checks=3)
        >>> d.trials_per_rater, d.n_real_pool, d.n_tutorial_real, d.n_tutorial_fake, d.n_check_real, d.n_check_noise
        (48, 40, 3, 2, 1, 2)
        >>> StudyDesign.from_dict(d.to_dict()) == d
        True
    """

    protocol: str
    models: tuple[str, ...]
    per_model: int = 50        # scored fake images of each model per rater (and as many real images)
    pool_size: int = 100       # distinct scored fake images per model (real pool: pool_size * n_models)
    n_tutorial: int = 6        # tutorial trials with feedback (half real, half fake)
    n_checks: int = 4          # attention checks (half uniform noise = fake, half fresh reals = real)
    seed: int = 0
    staircase: StaircaseConfig = field(default_factory=StaircaseConfig)
    min_attention_accuracy: float = 0.75  # raters below this on attention checks are excluded from scores
    min_checks: int | None = None  # raters with fewer answered checks are excluded (None: all n_checks)

    def __post_init__(self):
        if self.protocol not in PROTOCOLS:
            raise InvalidArgumentError("protocol", f"one of {PROTOCOLS}", self.protocol)
        models = tuple(self.models)
        object.__setattr__(self, "models", models)
        if not models:
            raise InvalidArgumentError("models", "at least one fake source", models)
        if len(set(models)) != len(models):
            raise InvalidArgumentError("models", "distinct model names", models)
        for m in models:
            if not isinstance(m, str) or not m or m in ("real", "noise") or len(m) > 100 or not m.isprintable():
                raise InvalidArgumentError("models", "names of 1-100 printable characters other than 'real' and "
                                           "'noise'", m)
        for name in ("per_model", "pool_size"):
            v = getattr(self, name)
            if not isinstance(v, int) or v < 1:
                raise InvalidArgumentError(name, "a positive integer", v)
        for name in ("n_tutorial", "n_checks"):
            v = getattr(self, name)
            if not isinstance(v, int) or v < 0:
                raise InvalidArgumentError(name, "a non-negative integer", v)
        if self.min_checks is None:
            object.__setattr__(self, "min_checks", self.n_checks)
        if not isinstance(self.min_checks, int) or isinstance(self.min_checks, bool) or \
                not 0 <= self.min_checks <= self.n_checks:
            raise InvalidArgumentError("min_checks", f"an integer in [0, n_checks={self.n_checks}]", self.min_checks)
        if self.per_model > self.pool_size:
            raise InvalidArgumentError("per_model", f"at most pool_size={self.pool_size}", self.per_model)
        if not 0.0 <= float(self.min_attention_accuracy) <= 1.0:
            raise InvalidArgumentError("min_attention_accuracy", "a number in [0, 1]", self.min_attention_accuracy)
        if isinstance(self.staircase, dict):
            object.__setattr__(self, "staircase", StaircaseConfig(**self.staircase))

    # -- pool sizes --------------------------------------------------------------------------
    @property
    def n_real_pool(self) -> int:
        """Distinct scored real images: pool_size * number of models."""
        return self.pool_size * len(self.models)

    @property
    def n_tutorial_real(self) -> int:
        """Real tutorial trials (the larger half)."""
        return (self.n_tutorial + 1) // 2

    @property
    def n_tutorial_fake(self) -> int:
        """Fake tutorial trials."""
        return self.n_tutorial // 2

    @property
    def n_check_real(self) -> int:
        """Attention checks showing a fresh real image."""
        return self.n_checks // 2

    @property
    def n_check_noise(self) -> int:
        """Attention checks showing uniform noise."""
        return self.n_checks - self.n_check_real

    @property
    def trials_per_rater(self) -> int:
        """Tutorial + scored (2 per_model per model) + attention-check trials of one rater."""
        return self.n_tutorial + 2 * self.per_model * len(self.models) + self.n_checks

    def to_dict(self) -> dict:
        """The design as a JSON-ready dict."""
        d = asdict(self)
        d["models"] = list(self.models)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "StudyDesign":
        """The design back from `to_dict`'s output."""
        d = dict(d)
        d["models"] = tuple(d["models"])
        d["staircase"] = StaircaseConfig(**d.get("staircase", {}))
        return cls(**d)


@dataclass(frozen=True)
class Pools:
    """Image ids available to the planner, by role (see `StudyDesign` for the sizes).

    Attributes:
        real: scored real image ids.
        fake: {model: scored fake image ids}.
        tutorial_real: real tutorial image ids.
        tutorial_fake: {model: fake tutorial image ids}.
        noise: attention checks, answer fake.
        check_real: attention checks, answer real (never in the tutorial or scored pools).

    Example:
        >>> p = Pools(real=["r1", "r2"], fake={"gan": ["f1", "f2"]}, tutorial_real=[], tutorial_fake={"gan": []}, noise=[])
        >>> p.fake["gan"], p.check_real
        (['f1', 'f2'], ())
    """

    real: Sequence[str]
    fake: dict[str, Sequence[str]]
    tutorial_real: Sequence[str]
    tutorial_fake: dict[str, Sequence[str]]
    noise: Sequence[str]         # attention checks, answer fake
    check_real: Sequence[str] = ()  # attention checks, answer real (never in the tutorial or scored pools)


@dataclass(frozen=True)
class PlannedTrial:
    """One trial of a rater's plan.

    Attributes:
        phase: ``"tutorial"``, ``"scored"`` or ``"check"``.
        image_id: the image shown.
        truth: ``"real"`` or ``"fake"``.
        stream: the model whose score this trial counts for (scored trials), else None.
        exposure_ms: a fixed exposure (HYPE-time tutorial/checks); scored: set when served.

    Example:
        >>> PlannedTrial("scored", "f1", "fake", "gan")
        PlannedTrial(phase='scored', image_id='f1', truth='fake', stream='gan', exposure_ms=None)
    """
    phase: str            # tutorial | scored | check
    image_id: str
    truth: str            # real | fake
    stream: str | None    # model whose score this trial counts for (scored trials), else None
    exposure_ms: int | None = None  # fixed exposure (HYPE-time tutorial/checks); scored: set when served


def plan_trials(design: StudyDesign, pools: Pools, rng: np.random.Generator) -> list[PlannedTrial]:
    """The ordered trials of one rater: tutorial, then scored trials with attention checks mixed in.

    Scored trials: for each model, `per_model` of its fake images and `per_model` real images
    (the model's staircase/stream), drawn without replacement from the pools, so each rater sees
    a 50/50 real/fake mix and every image at most once; all streams shuffled together.

    Args:
        design: the `StudyDesign`.
        pools: the image ids by role.
        rng: the rater's np.random.Generator.

    Returns:
        The list of `PlannedTrial`, in presentation order.

    Raises:
        InvalidArgumentError: the real pool is smaller than per_model x number of models.

    Example:
        >>> import numpy as np
        >>> d = StudyDesign("hype-inf", ("gan",), per_model=2, pool_size=2, n_tutorial=2, n_checks=1)
        >>> p = Pools(real=["r1", "r2"], fake={"gan": ["f1", "f2"]}, tutorial_real=["t1"], tutorial_fake={"gan": ["t2"]},
        ...           noise=["n1"])
        >>> plan = plan_trials(d, p, np.random.default_rng(0))
        >>> len(plan) == d.trials_per_rater, [t.phase for t in plan][:2], sorted(t.truth for t in plan if t.phase == "scored")
        (True, ['tutorial', 'tutorial'], ['fake', 'fake', 'real', 'real'])
    """
    models = design.models
    time = design.protocol == "hype-time"
    if len(pools.real) < design.per_model * len(models):
        raise InvalidArgumentError("pools.real", f"at least {design.per_model * len(models)} images", len(pools.real))
    # tutorial: half real, half fake in a random order, fakes cycling over the models
    t_real = [pools.tutorial_real[i] for i in rng.permutation(len(pools.tutorial_real))]
    t_fake = []
    for k in range(design.n_tutorial_fake):
        m = models[k % len(models)]
        pool = pools.tutorial_fake[m]
        t_fake.append((m, pool[(k // len(models)) % len(pool)]))
    t0 = design.staircase.start_ms if time else None
    tut = [PlannedTrial("tutorial", t_real[i % len(t_real)], "real", None, t0) for i in range(design.n_tutorial_real)]
    tut += [PlannedTrial("tutorial", img, "fake", m, t0) for m, img in t_fake]
    tut = [tut[i] for i in rng.permutation(len(tut))]
    # scored trials
    scored: list[PlannedTrial] = []
    reals = [pools.real[i] for i in rng.choice(len(pools.real), design.per_model * len(models), replace=False)]
    for j, m in enumerate(models):
        fakes = pools.fake[m]
        for i in rng.choice(len(fakes), design.per_model, replace=False):
            scored.append(PlannedTrial("scored", fakes[i], "fake", m))
        for img in reals[j * design.per_model:(j + 1) * design.per_model]:
            scored.append(PlannedTrial("scored", img, "real", m))
    scored = [scored[i] for i in rng.permutation(len(scored))]
    # attention checks at random positions inside the scored block (never first); their images
    # are fresh (own pools), and in HYPE-time their exposure is set when served (see Store)
    checks = [PlannedTrial("check", pools.noise[i % len(pools.noise)], "fake", None) for i in range(design.n_check_noise)]
    checks += [PlannedTrial("check", pools.check_real[i % len(pools.check_real)], "real", None)
               for i in range(design.n_check_real)]
    checks = [checks[i] for i in rng.permutation(len(checks))]
    if checks:
        slots = np.sort(rng.choice(np.arange(1, len(scored) + 1), size=len(checks), replace=len(checks) > len(scored)))
        for offset, (slot, chk) in enumerate(zip(slots, checks)):
            scored.insert(int(slot) + offset, chk)
    return tut + scored
