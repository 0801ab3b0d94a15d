"""`sanity(...)`: which metric catches which failure, measured on controlled degradations of real data.

A clean reference (the first n_real images of the real split) is compared with a "generated" set
built from held-out real images (the images of the train split after the first `n_train`, which the
memorisation check uses as its training set), degraded at several strengths, one family at a time:

  gaussian-noise    additive N(0, (255 s)^2) pixel noise, s = strength
  blur              Gaussian blur, sigma = strength pixels
  salt-pepper       a share `strength` of the pixels set to 0 or 255
  drop-classes      only the images of 10 - k classes (k = strength; k = 9 is a single class: mode collapse)
  memorize-exact    a share `strength` replaced by exact training images (from the memorisation set)
  memorize-noisy    the same, copies perturbed by N(0, (0.03 * 255)^2) noise
  mix-dataset       a share `strength` replaced by images of another dataset (MNIST <-> Fashion-MNIST)

Each family is one `compare` (the levels are its models, strength 0 the clean baseline), so every
value has a paired-bootstrap interval and every level's difference from the baseline has a
Bonferroni-corrected one. A metric *detects* a failure when its value at the strongest level
differs from the baseline significantly, in the direction "worse" (for the memorisation families:
`near_copy_share` up, the rest fooled when they move towards "better"), and its response is
monotone (Spearman correlation of value and strength of magnitude >= 0.9). The effect size is the
difference divided by its bootstrap standard deviation.
"""

from __future__ import annotations

import time

import numpy as np

from ..data import ImageData
from ..errors import InvalidArgumentError
from ..sources import load_images
from ..utils.seeding import as_numpy_generator
from .compare import compare

FAMILIES = {
    "gaussian-noise": (0.0, 0.05, 0.1, 0.2, 0.4),
    "blur": (0.0, 0.5, 1.0, 1.5, 2.0),
    "salt-pepper": (0.0, 0.02, 0.05, 0.1, 0.2),
    "drop-classes": (0, 2, 4, 6, 8, 9),
    "memorize-exact": (0.0, 0.25, 0.5, 1.0),
    "memorize-noisy": (0.0, 0.25, 0.5, 1.0),
    "mix-dataset": (0.0, 0.1, 0.25, 0.5),
}
OTHER = {"mnist": "fashion-mnist", "fashion-mnist": "mnist"}
SANITY_METRICS = "fid,fid-inf,kid,is,is-inf,pr,dc,modes,c2st,memorization"
NOISY_COPY_SIGMA = 0.03
MONOTONE_RHO = 0.9
#: one adjacent swap among 5 levels gives rho = 0.9 exactly, which scipy returns as 0.8999999999999998
_RHO_ROUNDING = 1e-12
#: the two presets (`quick` and full). n: images per case (reference and degraded); bootstrap: paired
#: replicates; n_train: the memorisation check's training set (train[:n_train]; its nearest-neighbour
#: median is recomputed in every replicate, ~n_train^2 distances, which made it half of --quick's CPU
#: time at 10000); inf_points: sample sizes of the FID-/IS-infinity fits (each point is a FID, and the
#: fits run in every replicate); c2st_max: rows per side of the C2ST (5-fold logistic regression, a
#: third of --quick's CPU time at 1000: degraded sets are separable and lbfgs runs long). docs/sanity.md
#: gives the measured time of --quick and what it detects.
PRESETS = {"quick": {"n": 1000, "bootstrap": 10, "n_train": 2000, "inf_points": 8, "c2st_max": 500},
           "full": {"n": 5000, "bootstrap": 50, "n_train": 10000, "inf_points": 15, "c2st_max": 5000}}
#: KID subsets of the point value (the bootstrap replicates use at most compare.BOOT_KID_SUBSETS)
KID_SUBSETS = 20
KID_SUBSET_SIZE = 1000


def degraded_cases(dataset: str, n: int, n_train: int, seed: int, data_root=None) -> dict[str, dict[str, ImageData]]:
    """{family: {level name: ImageData}} built as in the module docstring.

    Args:
        dataset: ``"mnist"`` or ``"fashion-mnist"`` (the other one gives the mix-dataset images).
        n: images per level.
        n_train: the leading train images kept as the memorisation set (the held-out pool starts after them).
        seed: the degradation seed.
        data_root: dataset folder.

    Returns:
        {family: {``"<family>-<level>"``: ImageData}}, levels as in FAMILIES.

    Raises:
        InvalidArgumentError: fewer than ``n_train + n`` training images.

    Example:
        >>> degraded_cases("digits", n=1000, n_train=1000, seed=0)
        Traceback (most recent call last):
        ...
        gmeval.errors.InvalidArgumentError: Argument `n` must be at most 437 (held-out train images), but got 1000.
    """
    from ..data import degrade

    rng = as_numpy_generator(seed)
    train = load_images(f"{dataset}:train", data_root=data_root)
    if len(train) < n_train + n:
        raise InvalidArgumentError("n", f"at most {len(train) - n_train} (held-out train images)", n)
    memo = train.images[:n_train]
    pool = train.subset(slice(n_train, len(train)))
    base = pool.images[:n]
    other = load_images(f"{OTHER[dataset]}:test", data_root=data_root).images
    fns = {"gaussian-noise": lambda s: degrade.gaussian_noise(base, s, rng),
           "blur": lambda s: degrade.gaussian_blur(base, s),
           "salt-pepper": lambda s: degrade.salt_and_pepper(base, s, rng),
           "drop-classes": lambda k: degrade.keep_classes(pool.images, pool.labels, range(10 - int(k)), n),
           "memorize-exact": lambda s: degrade.replace_share(base, memo, s, rng),
           "memorize-noisy": lambda s: degrade.replace_share(
               base, degrade.gaussian_noise(memo, NOISY_COPY_SIGMA, rng), s, rng),
           "mix-dataset": lambda s: degrade.replace_share(base, other, s, rng)}
    return {fam: {f"{fam}-{lvl:g}": ImageData(fns[fam](lvl), None, f"sanity:{dataset}:{fam}-{lvl:g}")
                  for lvl in levels} for fam, levels in FAMILIES.items()}


def _spearman(x, y) -> float:
    from scipy.stats import spearmanr

    if np.ptp(y) == 0:
        return 0.0
    return float(spearmanr(x, y).statistic)


def detection_table(families: dict) -> dict:
    """{family: {value: {effect, direction, significant, monotone, detects}}} from per-family compare results.

    Args:
        families: {family: a `compare` JSON export whose models are that family's levels, in order}.

    Returns:
        Per family and value: ``effect`` (difference / its bootstrap std), ``direction`` ("worse" or
        "better"), ``significant``, ``spearman``, ``monotone`` and ``detects``.

    Example:
        >>> levels = [f"blur-{s:g}" for s in FAMILIES["blur"]]
        >>> res = {"models": dict.fromkeys(levels),
        ...        "metrics": {m: {"fid": {"value": v, "higher_is_better": False}} for m, v in zip(levels, [1, 2, 4, 6, 9])},
        ...        "differences": {"fid": [{"a": levels[0], "b": levels[-1], "diff": -8.0, "ci_std": 2.0, "significant": True}]}}
        >>> row = detection_table({"blur": res})["blur"]["fid"]
        >>> {k: v for k, v in row.items() if k != "spearman"}, round(row["spearman"], 6)
        ({'effect': 4.0, 'direction': 'worse', 'significant': True, 'monotone': True, 'detects': True}, 1.0)
    """
    table: dict[str, dict] = {}
    for fam, res in families.items():
        names = list(res["models"])
        levels = list(FAMILIES[fam])
        base, worst = names[0], names[-1]
        table[fam] = {}
        for k, rows in res["differences"].items():
            row = next(r for r in rows if r["a"] == base and r["b"] == worst)
            hib = res["metrics"][base][k]["higher_is_better"]
            d = -row["diff"]  # worst - base
            effect = d / row["ci_std"] if row["ci_std"] > 0 else (0.0 if d == 0 else float("inf") * np.sign(d))
            worse = (d < 0) if hib else (d > 0)
            if fam.startswith("memorize") and k == "near_copy_share":
                worse = d > 0  # the check flags copies: rising is "detected"
            rho = _spearman(levels, [res["metrics"][m][k]["value"] for m in names])
            monotone = bool(abs(rho) >= MONOTONE_RHO - _RHO_ROUNDING)
            table[fam][k] = {"effect": float(effect), "direction": "worse" if worse else "better",
                             "significant": bool(row["significant"]), "monotone": monotone,
                             "spearman": rho, "detects": bool(row["significant"] and worse and monotone)}
    return table


def sanity(real: str = "mnist:test", *, quick: bool = False, extractor: str | None = None, n: int | None = None,
           n_real: int | None = None, n_train: int | None = None, metrics: str = SANITY_METRICS,
           bootstrap: int | None = None, seed: int = 0, data_root=None, progress: bool = True, families=None) -> dict:
    """Run every degradation family through `compare` (module docstring).

    Args:
        real: ``"mnist:<split>"`` or ``"fashion-mnist:<split>"``.
        quick: unset sizes come from PRESETS["quick"] (n = n_real = 1000, 10 replicates, 2000 training
            images, 8-point infinity fits, C2ST on 500 rows per side; docs/sanity.md gives the measured time),
            else from PRESETS["full"] (5000, 50, 10000, 15, 5000).
        extractor: the extractor (None: the dataset's classifier).
        n: images per level (None: by `quick`).
        n_real: real images (None: `n`).
        n_train: the memorisation set's size (None: by the preset).
        metrics: the metrics (SANITY_METRICS).
        bootstrap: replicates (None: by `quick`).
        seed: the seed.
        data_root: dataset folder.
        progress: show progress bars.
        families: the families to run (None: all of FAMILIES).

    Returns:
        The settings, each family's compare JSON, the `detection_table` and the seconds taken.

    Raises:
        InvalidArgumentError: a real set other than MNIST / Fashion-MNIST, or an unknown family.

    Example:
        >>> sanity("digits:test")
        Traceback (most recent call last):
        ...
        gmeval.errors.InvalidArgumentError: Argument `real` must be a split of ['fashion-mnist', 'mnist'] (the degradations need labels and a second dataset), but got 'digits:test'.
    """
    dataset = real.split(":", 1)[0]
    if dataset not in OTHER:
        raise InvalidArgumentError("real", f"a split of {sorted(OTHER)} (the degradations need labels and a second dataset)", real)
    fams = list(FAMILIES) if families is None else list(families)
    for f in fams:
        if f not in FAMILIES:
            raise InvalidArgumentError("families", f"names from {list(FAMILIES)}", f)
    preset = PRESETS["quick" if quick else "full"]
    n = n or preset["n"]
    n_real = n_real or n
    n_train = n_train or preset["n_train"]
    bootstrap = bootstrap or preset["bootstrap"]
    extractor = extractor or dataset
    # with n <= the KID subset size every subset is the whole set (drawn without replacement), so more
    # than one subset repeats the same value at full cost
    options = {"kid_n_subsets": KID_SUBSETS if min(n, n_real) > KID_SUBSET_SIZE else 1,
               "kid_subset_size": KID_SUBSET_SIZE, "fid_inf_points": preset["inf_points"],
               "is_inf_points": preset["inf_points"], "c2st_max_per_side": preset["c2st_max"]}
    t0 = time.perf_counter()
    cases = degraded_cases(dataset, n, n_train, seed, data_root)
    out: dict[str, dict] = {}
    for fam in fams:
        res = compare(real, cases[fam], metrics, extractor=extractor, n_real=n_real, seed=seed,
                      train=f"{dataset}:train", n_train=n_train, bootstrap=bootstrap, data_root=data_root,
                      progress=progress, options=options)
        out[fam] = res.to_json()
    return {"real": real, "extractor": extractor, "n": n, "n_real": n_real, "n_train": n_train, "bootstrap": bootstrap,
            "options": options, "seed": seed, "quick": quick, "levels": {f: list(FAMILIES[f]) for f in fams}, "families": out,
            "detection": detection_table(out), "seconds": time.perf_counter() - t0}
