"""HYPE scores, bootstrap intervals, rater agreement and rank correlation with automatic metrics.

Pure formulas first (arrays in, numbers out), then `score_store` which reads a study database.

Definitions (Zhou et al., NeurIPS 2019, "HYPE"; see protocol.py for what is taken from the paper):

- **HYPE-infinity** of a model, in percent: the raters' error rate on a 50/50 mix of its fake
  images and real images, computed as ``50 * (fake_error + real_error)`` where fake_error is
  the fraction of fake images judged real and real_error the fraction of real images judged
  fake. With equal numbers of real and fake answers (as every rater's plan has) this *is* the
  plain error rate; written as the mean of the two rates it stays "50% = indistinguishable"
  when a bootstrap replicate or an excluded rater unbalances the mix. Higher is better;
  above 50% is "hyper-realism" (fakes judged real more often than reals).
- **HYPE-time** of a model, in milliseconds: each rater's modal exposure time on the model's
  staircase (ties: mean of the tied exposures), averaged over raters. Higher is better
  (people need longer looks to tell the model's images from real ones). A HYPE-time study also
  reports the same error-rate formula as `time_limited_error`: measured at the staircase's
  exposures, it is *not* HYPE-infinity and is never labelled so.
- **95% intervals**: percentile bootstrap. HYPE-infinity resamples raters *and* images with
  replacement (images stratified into fake and real), every answer weighted by the product of
  the multiplicities of its rater and its image. HYPE-time resamples raters.
- **Agreement** on scored images rated by at least two included raters: pairwise agreement
  (the fraction of agreeing ordered rater pairs on the same image) and Fleiss' kappa
  (Fleiss 1971) with that pairwise agreement as the observed agreement P_bar and
  P_e = sum_j p_j^2 over the pooled answer proportions; with the same number of raters per
  image this is exactly Fleiss' kappa, with varying numbers every rater pair counts once.
- **Exclusion**: a rater who answered fewer attention checks than the study's `min_checks`
  (by default every check of the plan: a rater who quits early is not scored), or whose accuracy
  on the checks answered is below `min_attention_accuracy`, is excluded from every score (listed
  in the output with the reason; the counts per reason are reported).

Every per-model score (``hype_inf`` / ``time_limited_error``, ``hype_time``) is exported as a
:class:`gmeval.metrics.score.Score` (``{"value", "higher_is_better", "signature", "ci95", ...}``)
whose signature is the study's (`study_signature`).
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Mapping, Sequence

import numpy as np

from .. import __version__
from ..errors import InvalidArgumentError
from ..metrics.score import Score, Signature
from ..utils.seeding import as_numpy_generator

# ------------------------------------------------------------------------------------------
# HYPE-infinity
# ------------------------------------------------------------------------------------------


def _counts(is_fake, said_fake) -> tuple[int, int, int, int]:
    is_fake = np.asarray(is_fake, dtype=bool)
    said_fake = np.asarray(said_fake, dtype=bool)
    if is_fake.shape != said_fake.shape or is_fake.ndim != 1:
        raise InvalidArgumentError("is_fake/said_fake", "two 1-D arrays of the same length",
                                   f"shapes {is_fake.shape} and {said_fake.shape}")
    n_fake = int(is_fake.sum())
    n_real = int((~is_fake).sum())
    return n_fake, int((is_fake & ~said_fake).sum()), n_real, int((~is_fake & said_fake).sum())


def _hype_inf_from_counts(n_fake: int, fake_wrong: int, n_real: int, real_wrong: int) -> float:
    if n_fake == 0 or n_real == 0:
        raise InvalidArgumentError("answers", "at least one answer on a fake and one on a real image",
                                   f"{n_fake} fake and {n_real} real")
    return 50.0 * (fake_wrong / n_fake + real_wrong / n_real)


def hype_infinity_score(is_fake, said_fake) -> float:
    """HYPE-infinity in percent from per-answer truth (`is_fake`) and response (`said_fake`).

    HYPE-infinity = 50 x (share of fakes judged real + share of reals judged fake); 50 % means
    humans cannot tell the model's images from real ones (higher is better for the model).

    Args:
        is_fake: per answer, whether the image was fake (1-D bools).
        said_fake: per answer, whether the rater said fake.

    Returns:
        The score in percent.

    Raises:
        InvalidArgumentError: arrays of different shapes, or no answer on a fake or on a real image.

    Example:
        >>> hype_infinity_score([True, True, False, False], [False, True, False, False])   # one fake of two passed as real
        25.0
    """
    return _hype_inf_from_counts(*_counts(is_fake, said_fake))


class HypeInfinity:
    """Streaming HYPE-infinity: `update(is_fake, said_fake)` per batch of answers, then `compute()`.

    Example:
        >>> m = HypeInfinity()
        >>> m.update([True, False], [False, False]); m.update([True, False], [True, True])
        >>> m.compute(), m.n_fake, m.fake_wrong
        (50.0, 2, 1)
    """

    higher_is_better = True

    def __init__(self):
        self.reset()

    def reset(self) -> None:
        """Forget every answer."""
        self.n_fake = self.fake_wrong = self.n_real = self.real_wrong = 0

    def update(self, is_fake, said_fake) -> None:
        """Add a batch of answers (truth and response per answer)."""
        nf, fw, nr, rw = _counts(is_fake, said_fake)
        self.n_fake += nf
        self.fake_wrong += fw
        self.n_real += nr
        self.real_wrong += rw

    def compute(self) -> float:
        """HYPE-infinity in percent of every answer added (InvalidArgumentError without fakes or reals)."""
        return _hype_inf_from_counts(self.n_fake, self.fake_wrong, self.n_real, self.real_wrong)


def bootstrap_hype_infinity(rater, image, is_fake, said_fake, *, n_boot: int = 2000, seed=0,
                            level: float = 0.95, chunk: int = 250) -> dict:
    """Two-way (raters x images) percentile bootstrap of HYPE-infinity.

    Each replicate draws raters with replacement and, separately, fake and real images with
    replacement; an answer's weight is (times its rater was drawn) x (times its image was drawn).
    Replicates without any weight on fake or on real answers are dropped (`n_valid` says how
    many remain).

    Args:
        rater: per answer, the rater's id.
        image: per answer, the image's id.
        is_fake: per answer, whether the image was fake.
        said_fake: per answer, whether the rater said fake.
        n_boot: replicates.
        seed: an int or an np.random.Generator.
        level: the interval's level.
        chunk: replicates drawn per vectorised step (memory bound).

    Returns:
        {"low", "high", "n_valid", "std"} (None bounds when no replicate is valid).

    Raises:
        InvalidArgumentError: a bad `n_boot` or `level`, or no answers on fake or on real images.

    Example:
        >>> ci = bootstrap_hype_infinity(["a", "a", "b", "b"], ["f1", "r1", "f1", "r1"], [True, False, True, False],
        ...                              [True, False, False, False], n_boot=200)
        >>> ci["n_valid"], 0.0 <= ci["low"] <= 25.0 <= ci["high"] <= 50.0
        (200, True)
    """
    if n_boot < 1:
        raise InvalidArgumentError("n_boot", "a positive integer", n_boot)
    if not 0.0 < level < 1.0:
        raise InvalidArgumentError("level", "a number in (0, 1)", level)
    rng = as_numpy_generator(seed)
    is_fake = np.asarray(is_fake, dtype=bool)
    wrong = (np.asarray(said_fake, dtype=bool) != is_fake).astype(np.float64)
    _, r_idx = np.unique(np.asarray(rater), return_inverse=True)
    img = np.asarray(image)
    fake_ids, f_idx = np.unique(img[is_fake], return_inverse=True)
    real_ids, q_idx = np.unique(img[~is_fake], return_inverse=True)
    n_r, n_f, n_q = int(r_idx.max()) + 1, len(fake_ids), len(real_ids)
    if n_f == 0 or n_q == 0:
        raise InvalidArgumentError("answers", "answers on both fake and real images", f"{n_f} fake, {n_q} real images")
    r_fake, r_real = r_idx[is_fake], r_idx[~is_fake]
    w_fake, w_real = wrong[is_fake], wrong[~is_fake]
    scores = []
    done = 0
    while done < n_boot:
        b = min(chunk, n_boot - done)
        wr = rng.multinomial(n_r, np.full(n_r, 1.0 / n_r), size=b).astype(np.float64)
        wf = rng.multinomial(n_f, np.full(n_f, 1.0 / n_f), size=b).astype(np.float64)
        wq = rng.multinomial(n_q, np.full(n_q, 1.0 / n_q), size=b).astype(np.float64)
        scores.append(_replicate_scores(wr, wf, wq, r_fake, f_idx, w_fake, r_real, q_idx, w_real))
        done += b
    s = np.concatenate(scores)
    s = s[np.isfinite(s)]
    if len(s) == 0:
        return {"low": None, "high": None, "n_valid": 0, "std": None}
    alpha = (1.0 - level) / 2.0
    lo, hi = np.quantile(s, [alpha, 1.0 - alpha])
    return {"low": float(lo), "high": float(hi), "n_valid": int(len(s)), "std": float(s.std(ddof=1)) if len(s) > 1 else 0.0}


def _replicate_scores(wr, wf, wq, r_fake, f_idx, w_fake, r_real, q_idx, w_real) -> np.ndarray:
    """HYPE-infinity of bootstrap replicates from multiplicities of raters (wr: b x R), fake images
    (wf: b x F) and real images (wq: b x Q); answers on fakes/reals given by rater/image indices
    and 0/1 errors. NaN where a replicate has no weight on fakes or on reals."""
    af = wr[:, r_fake] * wf[:, f_idx]  # b x answers on fakes
    aq = wr[:, r_real] * wq[:, q_idx]  # b x answers on reals
    with np.errstate(invalid="ignore", divide="ignore"):
        return 50.0 * ((af @ w_fake) / af.sum(1) + (aq @ w_real) / aq.sum(1))


# ------------------------------------------------------------------------------------------
# HYPE-time
# ------------------------------------------------------------------------------------------


def modal_exposure(exposures_ms: Sequence[float]) -> float:
    """The most frequent exposure time of one staircase (ties: the mean of the tied values).

    Args:
        exposures_ms: the exposures of one rater's staircase trials.

    Returns:
        The modal exposure in ms.

    Raises:
        InvalidArgumentError: an empty or non-1-D input.

    Example:
        >>> modal_exposure([500, 450, 450, 400]), modal_exposure([500, 400])
        (450.0, 450.0)
    """
    x = np.asarray(exposures_ms, dtype=np.float64)
    if x.ndim != 1 or len(x) == 0:
        raise InvalidArgumentError("exposures_ms", "a non-empty 1-D sequence", x.shape)
    values, counts = np.unique(x, return_counts=True)
    return float(values[counts == counts.max()].mean())


def hype_time_score(modal_exposures_ms: Sequence[float]) -> float:
    """HYPE-time in ms: the mean over raters of their modal exposure times.

    Args:
        modal_exposures_ms: one modal exposure per rater.

    Returns:
        The score in ms (higher is better for the model).

    Raises:
        InvalidArgumentError: an empty or non-1-D input.

    Example:
        >>> hype_time_score([450.0, 550.0])
        500.0
    """
    x = np.asarray(modal_exposures_ms, dtype=np.float64)
    if x.ndim != 1 or len(x) == 0:
        raise InvalidArgumentError("modal_exposures_ms", "a non-empty 1-D sequence (one value per rater)", x.shape)
    return float(x.mean())


class HypeTime:
    """Stateful HYPE-time: `update(exposures_ms)` once per rater's staircase, then `compute()`.

    Example:
        >>> m = HypeTime()
        >>> m.update([500, 450, 450]); m.update([600, 600, 550])
        >>> m.modes, m.compute()
        ([450.0, 600.0], 525.0)
    """

    higher_is_better = True

    def __init__(self):
        self.reset()

    def reset(self) -> None:
        """Forget every staircase."""
        self.modes: list[float] = []

    def update(self, exposures_ms: Sequence[float]) -> None:
        """Add one rater's staircase exposures (its mode is kept)."""
        self.modes.append(modal_exposure(exposures_ms))

    def compute(self) -> float:
        """HYPE-time in ms over every staircase added."""
        return hype_time_score(self.modes)


def bootstrap_mean(values: Sequence[float], *, n_boot: int = 2000, seed=0, level: float = 0.95) -> dict:
    """Percentile bootstrap interval of a mean (HYPE-time over raters).

    Args:
        values: the values (one per rater).
        n_boot: replicates.
        seed: an int or an np.random.Generator.
        level: the interval's level.

    Returns:
        {"low", "high", "n_valid", "std"}.

    Raises:
        InvalidArgumentError: no values.

    Example:
        >>> ci = bootstrap_mean([400.0, 500.0, 600.0], n_boot=100)
        >>> ci["n_valid"], 400.0 <= ci["low"] <= ci["high"] <= 600.0
        (100, True)
    """
    x = np.asarray(values, dtype=np.float64)
    if len(x) == 0:
        raise InvalidArgumentError("values", "a non-empty sequence", 0)
    rng = as_numpy_generator(seed)
    idx = rng.integers(0, len(x), size=(n_boot, len(x)))
    m = x[idx].mean(1)
    alpha = (1.0 - level) / 2.0
    lo, hi = np.quantile(m, [alpha, 1.0 - alpha])
    return {"low": float(lo), "high": float(hi), "n_valid": int(n_boot), "std": float(m.std(ddof=1)) if n_boot > 1 else 0.0}


# ------------------------------------------------------------------------------------------
# Agreement and rank correlation
# ------------------------------------------------------------------------------------------


def pairwise_agreement(counts) -> float:
    """Fraction of agreeing ordered rater pairs on the same item; `counts` is items x categories.

    Items with fewer than 2 ratings are left out.

    Args:
        counts: items x categories answer counts.

    Returns:
        The agreement in [0, 1], NaN when no item has 2 ratings.

    Raises:
        InvalidArgumentError: `counts` is not 2-D.

    Example:
        >>> pairwise_agreement([[2, 0], [1, 1], [0, 1]])   # the third item has one rating only
        0.5
    """
    c = np.asarray(counts, dtype=np.float64)
    if c.ndim != 2:
        raise InvalidArgumentError("counts", "an items x categories array of answer counts", c.shape)
    n = c.sum(1)
    c = c[n >= 2]
    n = n[n >= 2]
    total = float((n * (n - 1)).sum())
    if total == 0:
        return float("nan")
    return float((c * (c - 1)).sum() / total)


def fleiss_kappa(counts) -> float:
    """Fleiss' kappa of an items x categories count table (items with < 2 ratings are dropped).

    kappa = (P_bar - P_e) / (1 - P_e), P_bar = pairwise agreement, P_e = sum_j p_j^2 with p_j the
    pooled proportion of category j. Equals Fleiss (1971) when every item has the same number of
    ratings. NaN when undefined (no item with two ratings, or a single category used: P_e = 1).

    Args:
        counts: items x categories answer counts.

    Returns:
        kappa (1: perfect agreement, 0: chance level), or NaN.

    Raises:
        InvalidArgumentError: `counts` is not 2-D.

    Example:
        >>> fleiss_kappa([[2, 0], [0, 2]]), fleiss_kappa([[1, 1], [1, 1]])
        (1.0, -1.0)
    """
    c = np.asarray(counts, dtype=np.float64)
    if c.ndim != 2:
        raise InvalidArgumentError("counts", "an items x categories array of answer counts", c.shape)
    c = c[c.sum(1) >= 2]
    if len(c) == 0:
        return float("nan")
    p_bar = pairwise_agreement(c)
    p = c.sum(0) / c.sum()
    p_e = float((p ** 2).sum())
    if p_e >= 1.0:
        return float("nan")
    return float((p_bar - p_e) / (1.0 - p_e))


def rank_correlation(human: Mapping[str, float], metric: Mapping[str, float]) -> dict:
    """Spearman's rho and Kendall's tau between per-model human scores and an automatic metric.

    The sign is raw: a lower-is-better metric (FID, KID) that agrees with a higher-is-better
    human score (HYPE) gives a *negative* correlation.

    Args:
        human: {model: human score}.
        metric: {model: metric value} for (at least) the same models.

    Returns:
        {"n_models", "models", "human", "metric", "spearman": {"rho", "p_value"}, "kendall": {"tau", "p_value"}}.

    Raises:
        InvalidArgumentError: a model without a metric value, or fewer than 2 models.

    Example:
        >>> r = rank_correlation({"a": 40.0, "b": 20.0, "c": 10.0}, {"a": 5.0, "b": 9.0, "c": 30.0})   # FIDs
        >>> round(r["spearman"]["rho"], 6), round(r["kendall"]["tau"], 6), r["models"]
        (-1.0, -1.0, ['a', 'b', 'c'])
    """
    from scipy import stats

    missing = sorted(set(human) - set(metric))
    if missing:
        raise InvalidArgumentError("metrics", f"a value for every model of the study {sorted(human)}",
                                   f"no value for {missing}")
    models = sorted(human)
    if len(models) < 2:
        raise InvalidArgumentError("models", "at least 2 models for a rank correlation", models)
    h = np.array([human[m] for m in models], dtype=np.float64)
    a = np.array([float(metric[m]) for m in models], dtype=np.float64)
    rho, p_rho = stats.spearmanr(h, a)
    tau, p_tau = stats.kendalltau(h, a)
    return {"n_models": len(models), "models": models, "human": dict(zip(models, h.tolist())),
            "metric": dict(zip(models, a.tolist())),
            "spearman": {"rho": _num(rho), "p_value": _num(p_rho)},
            "kendall": {"tau": _num(tau), "p_value": _num(p_tau)}}


def parse_metrics(obj) -> dict[str, dict[str, float]]:
    """Accept {model: value} (one metric called "metric") or {metric: {model: value}}.

    Args:
        obj: the parsed JSON object.

    Returns:
        {metric name: {model: float}}.

    Raises:
        InvalidArgumentError: anything else (non-numeric or non-finite values, an empty object).

    Example:
        >>> parse_metrics({"a": 1, "b": 2.5})
        {'metric': {'a': 1.0, 'b': 2.5}}
        >>> parse_metrics({"fid": {"a": 3}, "kid": {"a": 0.1}})
        {'fid': {'a': 3.0}, 'kid': {'a': 0.1}}
    """
    if not isinstance(obj, dict) or not obj:
        raise InvalidArgumentError("metrics", "a JSON object {model: value} or {metric: {model: value}}", type(obj).__name__)
    if all(_is_number(v) for v in obj.values()):
        return {"metric": {str(k): float(v) for k, v in obj.items()}}
    if all(isinstance(v, dict) and v and all(_is_number(x) for x in v.values()) for v in obj.values()):
        return {str(name): {str(k): float(x) for k, x in vals.items()} for name, vals in obj.items()}
    raise InvalidArgumentError("metrics", "a JSON object {model: number} or {metric: {model: number}}",
                               {k: type(v).__name__ for k, v in obj.items()})


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _num(x):
    x = float(x)
    return None if not math.isfinite(x) else x


# ------------------------------------------------------------------------------------------
# Scoring a study
# ------------------------------------------------------------------------------------------


EXCLUSION_REASONS = ("too_few_checks", "low_check_accuracy")


def attention_summary(answers: Sequence[dict], min_accuracy: float, min_checks: int = 0) -> dict[str, dict]:
    """Per rater: attention checks answered, passed, accuracy, and the exclusion reason (None: included).

    Reasons: "too_few_checks" (fewer than `min_checks` answered), "low_check_accuracy" (accuracy
    below `min_accuracy` on the checks answered).

    Args:
        answers: joined answer rows (see `Store.answers`).
        min_accuracy: the least attention-check accuracy kept.
        min_checks: the fewest answered checks kept.

    Returns:
        {rater_id: {"checks", "passed", "accuracy", "reason", "excluded"}}.

    Example:
        >>> rows = [{"rater_id": "a", "rater_serial": 1, "nickname": None, "phase": "scored", "stream": "gan",
        ...          "image_id": f"img{i}", "truth": t, "response": r, "correct": int(t == r), "position": i, "exposure_ms": None}
        ...         for i, (t, r) in enumerate([("fake", "real"), ("fake", "fake"), ("real", "real"), ("real", "real")])]
        >>> rows.append({**rows[0], "phase": "check", "image_id": "noise0", "correct": 0, "stream": None})
        >>> attention_summary(rows, 0.75, 1)
        {'a': {'checks': 1, 'passed': 0, 'accuracy': 0.0, 'reason': 'low_check_accuracy', 'excluded': True}}
    """
    out: dict[str, dict] = {}
    for a in answers:
        r = out.setdefault(a["rater_id"], {"checks": 0, "passed": 0})
        if a["phase"] == "check":
            r["checks"] += 1
            r["passed"] += int(a["correct"])
    for r in out.values():
        r["accuracy"] = r["passed"] / r["checks"] if r["checks"] else None
        r["reason"] = ("too_few_checks" if r["checks"] < min_checks else
                       "low_check_accuracy" if r["checks"] > 0 and r["accuracy"] < min_accuracy else None)
        r["excluded"] = r["reason"] is not None
    return out


def study_signature(design, *, n_included: int, n_raters: int, n_answers: int, n_boot: int, seed) -> Signature:
    """What a study's scores depend on: protocol, sample sizes, exclusion rule, bootstrap, staircase, version.

    Args:
        design: the `StudyDesign`.
        n_included: raters kept after the attention checks.
        n_raters: all raters.
        n_answers: scored answers used.
        n_boot: bootstrap replicates.
        seed: the bootstrap seed.

    Returns:
        A `Signature`.

    Example:
        >>> from gmeval.human.protocol import StudyDesign
        >>> str(study_signature(StudyDesign("hype-inf", ("a", "b")), n_included=9, n_raters=10, n_answers=900,
        ...                     n_boot=2000, seed=0))  # doctest: +ELLIPSIS
        'gmeval-human|protocol:hype-inf|models:2|raters:9/10|answers:900|attention>=0.75,checks>=4|ci:percentile95,...'
    """
    resample = "raters+images" if design.protocol == "hype-inf" else "raters"
    sc = design.staircase
    staircase = (f"{sc.down}down{sc.up}up,start:{sc.start_ms},ladder:{sc.min_ms}-{sc.max_ms}/{sc.step_ms}ms"
                 if design.protocol == "hype-time" else None)
    return Signature("gmeval-human", [
        ("protocol", design.protocol), ("models", len(design.models)), ("raters", f"{n_included}/{n_raters}"),
        ("answers", n_answers), ("", f"attention>={design.min_attention_accuracy:g},checks>={design.min_checks}"),
        ("ci", f"percentile95,boot:{n_boot},resample:{resample}"),
        ("seed", str(seed)),  # str: an unset seed is written "None", as in 0.1.0, rather than left out
        ("staircase", staircase), ("version", __version__)])


def score_answers(answers: Sequence[dict], design, *, n_boot: int = 2000, seed=0, metrics=None) -> dict:
    """Score a study from its joined answer rows (see `Store.answers`).

    Args:
        answers: joined answer rows.
        design: the `StudyDesign`.
        n_boot: bootstrap replicates of every interval.
        seed: the bootstrap seed.
        metrics: automatic metric values to rank-correlate with the human scores ({model: value} or
            {metric: {model: value}}), or None.

    Returns:
        {"signature", "protocol", "models": {model: scores, counts, intervals}, "raters", "agreement",
        "bootstrap"} (and "rank_correlation" with `metrics`).

    Raises:
        InvalidArgumentError: `metrics` given while a model has no scored answers, or malformed `metrics`.

    Example:
        >>> rows = [{"rater_id": "a", "rater_serial": 1, "nickname": None, "phase": "scored", "stream": "gan",
        ...          "image_id": f"img{i}", "truth": t, "response": r, "correct": int(t == r), "position": i, "exposure_ms": None}
        ...         for i, (t, r) in enumerate([("fake", "real"), ("fake", "fake"), ("real", "real"), ("real", "real")])]
        >>> rows.append({**rows[0], "phase": "check", "image_id": "noise0", "correct": 0, "stream": None})
        >>> from gmeval.human import StudyDesign
        >>> design = StudyDesign("hype-inf", ("gan",), n_checks=1, min_checks=0)
        >>> out = score_answers(rows, design, n_boot=20)
        >>> out["raters"]["included"], out["raters"]["excluded_by_reason"]["low_check_accuracy"], out["models"]["gan"]["n_answers"]
        (0, 1, 0)
        >>> score_answers(rows[:4], design, n_boot=20)["models"]["gan"]["hype_inf"]["value"]
        25.0
    """
    protocol = design.protocol
    att = attention_summary(answers, design.min_attention_accuracy, design.min_checks)
    raters_info: dict[str, dict] = {}
    for a in answers:
        raters_info.setdefault(a["rater_id"], {"serial": a["rater_serial"], "nickname": a["nickname"],
                                               "participant_id": a.get("participant_id")})
    excluded = sorted((rid for rid, s in att.items() if s["excluded"]), key=lambda r: raters_info[r]["serial"])
    keep = [a for a in answers if a["phase"] == "scored" and not att[a["rater_id"]]["excluded"]]
    # In a HYPE-time study the error rate is measured at staircase exposures, not with unlimited
    # time: it is reported under another name so it is never mistaken for HYPE-infinity.
    err_key = "hype_inf" if protocol == "hype-inf" else "time_limited_error"
    all_raters = set(att)
    n_included = len(all_raters) - len(excluded)
    signature = study_signature(design, n_included=n_included, n_raters=len(all_raters), n_answers=len(keep),
                                n_boot=n_boot, seed=seed)
    models_out: dict[str, dict] = {}
    rng_root = as_numpy_generator(seed)
    boot_seeds = {m: int(s) for m, s in zip(design.models, rng_root.integers(0, 2**63 - 1, size=(len(design.models),)))}
    for m in design.models:
        rows = [a for a in keep if a["stream"] == m]
        entry: dict = {"n_answers": len(rows), "n_raters": len({a["rater_id"] for a in rows}),
                       "n_fake_images": len({a["image_id"] for a in rows if a["truth"] == "fake"}),
                       "n_real_images": len({a["image_id"] for a in rows if a["truth"] == "real"})}
        is_fake = np.array([a["truth"] == "fake" for a in rows], dtype=bool)
        said_fake = np.array([a["response"] == "fake" for a in rows], dtype=bool)
        if is_fake.any() and (~is_fake).any():
            nf, fw, nr, rw = _counts(is_fake, said_fake)
            entry["fake_error"] = 100.0 * fw / nf
            entry["real_error"] = 100.0 * rw / nr
            ci = bootstrap_hype_infinity([a["rater_id"] for a in rows], [a["image_id"] for a in rows], is_fake,
                                         said_fake, n_boot=n_boot, seed=boot_seeds[m])
            entry[err_key] = Score(err_key, _hype_inf_from_counts(nf, fw, nr, rw), signature, True, {
                "ci95": [ci["low"], ci["high"]], "bootstrap_std": ci["std"], "n_boot_valid": ci["n_valid"],
                "unit": "%"}).to_dict()
        else:
            entry["fake_error"] = entry["real_error"] = None
            entry[err_key] = None
        if protocol == "hype-time":
            per_rater: dict[str, list] = defaultdict(list)
            for a in sorted(rows, key=lambda a: (a["rater_serial"], a["position"])):
                per_rater[a["rater_id"]].append(a["exposure_ms"])
            modes = {raters_info[r]["serial"]: modal_exposure(v) for r, v in per_rater.items()}
            if modes:
                ci = bootstrap_mean(list(modes.values()), n_boot=n_boot, seed=boot_seeds[m])
                entry["hype_time"] = Score("hype_time", hype_time_score(list(modes.values())), signature, True, {
                    "ci95": [ci["low"], ci["high"]], "bootstrap_std": ci["std"], "unit": "ms",
                    "modal_exposure_by_rater": {str(k): v for k, v in sorted(modes.items())}}).to_dict()
            else:
                entry["hype_time"] = None
        models_out[m] = entry
    # agreement on scored images over included raters
    per_image: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for a in keep:
        per_image[a["image_id"]][a["response"] == "fake"] += 1
    table = np.array(list(per_image.values()), dtype=np.float64).reshape(-1, 2)
    n_multi = int((table.sum(1) >= 2).sum()) if len(table) else 0
    agreement = {"pairwise_agreement": _num(pairwise_agreement(table)) if len(table) else None,
                 "fleiss_kappa": _num(fleiss_kappa(table)) if len(table) else None,
                 "n_images_with_2plus_ratings": n_multi,
                 "definition": "over scored images judged by >= 2 included raters: pairwise agreement = fraction of "
                               "agreeing ordered rater pairs; Fleiss' kappa with that observed agreement and chance "
                               "agreement from the pooled real/fake answer proportions"}
    out = {
        "signature": str(signature),
        "protocol": protocol,
        "models": models_out,
        "raters": {
            "total": len(all_raters), "included": n_included,
            "min_attention_accuracy": design.min_attention_accuracy, "min_checks": design.min_checks,
            "excluded_by_reason": {k: sum(att[r]["reason"] == k for r in excluded) for k in EXCLUSION_REASONS},
            "excluded": [{"rater_serial": raters_info[r]["serial"], "rater_id": r, "nickname": raters_info[r]["nickname"],
                          "participant_id": raters_info[r]["participant_id"], "reason": att[r]["reason"],
                          "checks": att[r]["checks"], "passed": att[r]["passed"]} for r in excluded],
        },
        "agreement": agreement,
        "bootstrap": {"n_boot": n_boot, "seed": seed, "level": 0.95, "method": "percentile"},
    }
    if metrics is not None:
        key = "hype_time" if protocol == "hype-time" else "hype_inf"
        human = {m: e[key]["value"] for m, e in models_out.items() if e.get(key)}
        if len(human) < len(design.models):
            raise InvalidArgumentError("metrics", "a study where every model has scored answers",
                                       f"no {key} for {sorted(set(design.models) - set(human))}")
        out["rank_correlation"] = {name: {"human_score": key, **rank_correlation(human, vals)}
                                   for name, vals in parse_metrics(metrics).items()}
    return out


def score_store(store, *, n_boot: int = 2000, seed=0, metrics=None) -> dict:
    """Score every model of a study database (see module docstring for the definitions).

    Args:
        store: the study's `Store`.
        n_boot: bootstrap replicates.
        seed: the bootstrap seed.
        metrics: automatic metric values to rank-correlate, as `score_answers`.

    Returns:
        `score_answers`'s result plus the database path and the design.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> import numpy as np
        >>> from gmeval.human import Store, StudyDesign, plan_trials
        >>> from gmeval.human.app import pools_from_rows
        >>> design = StudyDesign("hype-inf", ("gan",), per_model=2, pool_size=2, n_tutorial=0, n_checks=0)
        >>> rows = [{"source": s, "idx": i, "truth": t, "pool": "scored", "sha256": "-"}
        ...         for s, t in (("real", "real"), ("gan", "fake")) for i in range(2)]
        >>> tmp = tempfile.TemporaryDirectory()
        >>> store = Store.create(Path(tmp.name) / "study.db", design, rows, sources={})
        >>> pools = pools_from_rows(design, store.images())
        >>> truth = {r["image_id"]: r["truth"] for r in store.images()}
        >>> rater = store.create_rater("ann", None, lambda s: plan_trials(design, pools, np.random.default_rng(s)), int)
        >>> trial = store.next_trial(rater)
        >>> while trial is not None:   # fooled by every fake, right on every real image
        ...     trial = store.submit_answer(rater, trial["trial_id"], f"sub-{trial['position']}", "real")["next"]
        >>> out = score_store(store, n_boot=50)
        >>> out["models"]["gan"]["hype_inf"]["value"], out["models"]["gan"]["fake_error"], out["raters"]["included"]
        (50.0, 100.0, 1)
        >>> store.close(); tmp.cleanup()
    """
    out = score_answers(store.answers(), store.design, n_boot=n_boot, seed=seed, metrics=metrics)
    out["db"] = str(store.path)
    out["design"] = store.design.to_dict()
    return out


def rater_report(store, rater_id: str) -> dict:
    """The rater's own results (end screen): accuracy, per-model fooled rates, attention checks.

    Attention-check answers are left out of everything a rater sees.

    Args:
        store: the study's `Store`.
        rater_id: the rater's token.

    Returns:
        {"n_scored", "accuracy", "per_model": [...], "n_tutorial"} (percentages).

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> import numpy as np
        >>> from gmeval.human import Store, StudyDesign, plan_trials
        >>> from gmeval.human.app import pools_from_rows
        >>> design = StudyDesign("hype-inf", ("gan",), per_model=2, pool_size=2, n_tutorial=0, n_checks=0)
        >>> rows = [{"source": s, "idx": i, "truth": t, "pool": "scored", "sha256": "-"}
        ...         for s, t in (("real", "real"), ("gan", "fake")) for i in range(2)]
        >>> tmp = tempfile.TemporaryDirectory()
        >>> store = Store.create(Path(tmp.name) / "study.db", design, rows, sources={})
        >>> pools = pools_from_rows(design, store.images())
        >>> truth = {r["image_id"]: r["truth"] for r in store.images()}
        >>> rater = store.create_rater("ann", None, lambda s: plan_trials(design, pools, np.random.default_rng(s)), int)
        >>> trial = store.next_trial(rater)
        >>> while trial is not None:   # fooled by every fake, right on every real image
        ...     trial = store.submit_answer(rater, trial["trial_id"], f"sub-{trial['position']}", "real")["next"]
        >>> rep = rater_report(store, rater)
        >>> rep["accuracy"], rep["per_model"][0]["fooled_by_fakes"], rep["per_model"][0]["error_rate"]
        (50.0, 100.0, 50.0)
        >>> store.close(); tmp.cleanup()
    """
    rows = store.answers(rater_id)
    design = store.design
    scored = [a for a in rows if a["phase"] == "scored"]
    per_model = []
    for m in design.models:
        mr = [a for a in scored if a["stream"] == m]
        fakes = [a for a in mr if a["truth"] == "fake"]
        entry = {"model": m, "n": len(mr), "accuracy": _pct(sum(a["correct"] for a in mr), len(mr)),
                 "fooled_by_fakes": _pct(sum(1 - a["correct"] for a in fakes), len(fakes))}
        if mr and any(a["truth"] == "real" for a in mr) and fakes:
            entry["error_rate"] = hype_infinity_score([a["truth"] == "fake" for a in mr],
                                                    [a["response"] == "fake" for a in mr])
        if design.protocol == "hype-time" and mr:
            entry["modal_exposure_ms"] = modal_exposure([a["exposure_ms"] for a in mr])
        per_model.append(entry)
    # attention checks are left out of everything a rater sees: their answers stay on the server
    return {"n_scored": len(scored), "accuracy": _pct(sum(a["correct"] for a in scored), len(scored)),
            "per_model": per_model, "n_tutorial": sum(1 for a in rows if a["phase"] == "tutorial")}


def _pct(k: int, n: int):
    return None if n == 0 else 100.0 * k / n
