"""`compare(real, {name: source, ...})`: which model is better, by how much, and is it real.

Each model goes through `evaluate` once (its samples are drawn and extracted once); the real set's
features come from the feature cache after the first model (extracted once), as do the training
features of the memorisation check. Then a *paired bootstrap*: replicate b draws one set of real rows
and applies it to every model, and draws each model's fake rows independently; every bootstrapped
metric is recomputed on every model's replicate. Because all models share the real draw, the
real set's sampling noise cancels in the differences, which are therefore tighter than two
independent intervals suggest.

Resampling: rows with replacement for FID / FID-infinity / KID / modes / memorisation, half-samples
without replacement for the k-NN metrics (precision, recall, density, coverage; see
metrics/image/bootstrap.py), the same rule `evaluate --bootstrap` uses; KID replicates use 10 random
subsets instead of 100 (cost), which can only widen its intervals. Intervals are normal:
point +- z * (replicate standard deviation), as in `evaluate`. Metrics without a direction (C2ST,
the IS/KID spreads, the fit bounds of FID-infinity) get no interval.

Multiple comparisons: with M models there are P = M (M - 1) / 2 pairs per metric. Each difference's
interval is a Bonferroni-corrected one, at confidence 1 - (1 - confidence) / P, and a difference is
called significant only when that interval excludes 0. Bonferroni controls the family-wise error
rate over the P pairs of one metric (a family per metric, not across metrics: each metric answers
its own question).
"""

from __future__ import annotations

import re
import time
from itertools import combinations
from dataclasses import dataclass, field

import numpy as np

from .. import __version__
from ..errors import InvalidArgumentError
from ..metrics.image.bootstrap import normal_z
from ..utils.seeding import as_numpy_generator
from ..metrics.image import IMAGE_METRICS, build_metric, split_options
from .domain import domain_of
from .pipeline import EvaluationResult, evaluate

MAX_MODELS = 20
#: KID subsets per bootstrap replicate (the point value uses 100): 100 subsets of 1000 rows per replicate
#: and model cost ~40 GFLOP; with 10 the replicates also carry subset noise, which widens KID's
#: intervals a little (conservative)
BOOT_KID_SUBSETS = 10
DOMAIN_METRICS = "fid,fid-inf,kid,pr,dc,modes,memorization"
GENERIC_METRICS = "fid,fid-inf,kid,pr,dc"
_NAME = re.compile(r"^[A-Za-z0-9_.+-]{1,64}$")


def default_metrics(real) -> str:
    """The full set for MNIST / Fashion-MNIST real data (class histograms and memorisation need the
    domain classifier and the train split), the feature metrics otherwise.

    Args:
        real: the real data spec.

    Returns:
        A comma-separated metric list.

    Example:
        >>> default_metrics("mnist:test"), default_metrics("digits:test")
        ('fid,fid-inf,kid,pr,dc,modes,memorization', 'fid,fid-inf,kid,pr,dc')
    """
    return DOMAIN_METRICS if isinstance(real, str) and domain_of(real) else GENERIC_METRICS


def parse_model_args(items) -> dict:
    """["A=runs/a/checkpoint.pt", "B=samples/"] -> {"A": "runs/a/checkpoint.pt", "B": "samples/"}.

    Args:
        items: ``NAME=SOURCE`` strings.

    Returns:
        {name: source}, in the given order.

    Raises:
        InvalidArgumentError: an item without ``=``, a name with other characters than letters, digits,
            ``_ . + -``, or a repeated name.

    Example:
        >>> parse_model_args(["A=runs/a/checkpoint.pt", "B=samples/"])
        {'A': 'runs/a/checkpoint.pt', 'B': 'samples/'}
        >>> parse_model_args(["A=x", "A=y"])
        Traceback (most recent call last):
        ...
        gmeval.errors.InvalidArgumentError: Argument `models` must be distinct model names, but got 'A'.
    """
    out: dict[str, str] = {}
    for item in items:
        name, sep, src = str(item).partition("=")
        if not sep or not _NAME.match(name) or not src:
            raise InvalidArgumentError("models", "NAME=SOURCE with NAME made of letters, digits, _ . + - "
                                       "(e.g. A=runs/a/checkpoint.pt)", item)
        if name in out:
            raise InvalidArgumentError("models", "distinct model names", name)
        out[name] = src
    return out


def _bootstrapped(names) -> list[str]:
    """Metrics whose values get intervals: those with a direction (higher or lower is better)."""
    return [m for m in names if any(h is not None for h in IMAGE_METRICS[m].outputs.values())]


def paired_bootstrap(inputs: dict, names: list[str], n_boot: int, seed: int, options: dict | None = None,
                     progress: bool = False) -> dict:
    """{model: {value name: replicate array (n_boot,)}} from the paired scheme in the module docstring;
    every replicate runs each metric's class on the resampled rows of each model's `ImageInputs`.

    Args:
        inputs: {model: `ImageInputs`}, all with the same real rows.
        names: the metric names to resample.
        n_boot: replicates.
        seed: the resampling seed.
        options: metric options by metric name, or None.
        progress: show a progress bar.

    Returns:
        {model: {value name: float64 array of n_boot replicates}}.

    Example:
        >>> import numpy as np
        >>> from gmeval.metrics.image import ImageInputs
        >>> rng = np.random.default_rng(0)
        >>> real = rng.normal(size=(30, 2))
        >>> inputs = {m: ImageInputs(real_features=real, fake_features=rng.normal(size=(30, 2)) + s) for m, s in (("A", 0), ("B", 2))}
        >>> reps = paired_bootstrap(inputs, ["fid"], n_boot=5, seed=0)
        >>> {m: {k: v.shape for k, v in r.items()} for m, r in reps.items()}
        {'A': {'fid': (5,)}, 'B': {'fid': (5,)}}
        >>> bool(np.all(reps["B"]["fid"] > reps["A"]["fid"]))
        True
    """
    from tqdm.auto import tqdm

    options = options or {}
    rng = as_numpy_generator(seed)
    first = next(iter(inputs.values()))
    n_real = len(first.real_features) if first.real_features is not None else len(first.real_labels)
    outputs = {m: {k: h for k, h in IMAGE_METRICS[m].outputs.items() if h is not None} for m in names}
    reps = {model: {k: np.empty(n_boot) for m in names for k in outputs[m]} for model in inputs}
    opts = {m: dict(options.get(m, {})) for m in names}
    if "kid" in opts:
        opts["kid"]["n_subsets"] = min(opts["kid"].get("n_subsets", 100), BOOT_KID_SUBSETS)
    for b in tqdm(range(n_boot), desc="paired bootstrap", disable=not progress):
        real_rows = {"replacement": rng.integers(0, n_real, n_real),
                     "half": np.sort(rng.choice(n_real, n_real // 2, replace=False))}
        for model, inp in inputs.items():
            n_fake = len(inp.fake_features if inp.fake_features is not None else inp.fake_class_logits)
            fake_rows = {"replacement": rng.integers(0, n_fake, n_fake),
                         "half": np.sort(rng.choice(n_fake, n_fake // 2, replace=False))}
            for m in names:
                scheme = IMAGE_METRICS[m].bootstrap_scheme
                sub = inp.rows(real_rows[scheme], fake_rows[scheme])
                values = build_metric(m, sub, opts[m], seed).update_from(sub).report().values
                for k in outputs[m]:
                    reps[model][k][b] = values[k]
    return reps


@dataclass
class CompareResult:
    """What `compare` returns: the JSON-ready comparison (`data`) and each model's `EvaluationResult`.

    Attributes:
        data: the comparison (``models``, ``metrics``, ``differences``, ``ranking``, ``bootstrap`` ...).
        results: each model's `EvaluationResult` (not exported).

    Example:
        >>> r = CompareResult({"ranking": {"fid": ["B", "A"]}})
        >>> r["ranking"]["fid"], r.to_json() is r.data
        (['B', 'A'], True)
    """

    data: dict
    results: dict = field(default_factory=dict, repr=False)

    def to_json(self) -> dict:
        """The JSON-ready comparison (`data`)."""
        return self.data

    def to_html(self, out_dir, title: str = "gmeval compare") -> dict:
        """Write compare.json and compare.html into `out_dir` (see `gmeval.reports.write_compare_report`)."""
        from ..reports.compare import write_compare_report

        return write_compare_report(self, out_dir, title=title)

    def __getitem__(self, key):
        return self.data[key]


def compare(real, models: dict, metrics=None, *, extractor: str = "inception", preprocess: str | None = None,
            precision: str | None = None, layer: str | None = None, n: int | None = None, n_real: int | None = None, seed: int = 0, train=None,
            n_train: int | None = 10000, classifier: str | None = None, bootstrap: int = 100, confidence: float = 0.95,
            batch_size: int | None = None, data_root=None, progress: bool = True, options: dict | None = None,
            size=None) -> CompareResult:
    """Evaluate 2..20 models against one real set and compare them with a paired bootstrap.

    Args:
        real: the real source.
        models: {name: source} (checkpoint, folder, array file, ImageData, GenerativeModel, callable).
        metrics: metric names (None: `default_metrics`).
        extractor: as `evaluate`.
        preprocess: as `evaluate`.
        precision: as `evaluate`.
        layer: as `evaluate`.
        n: as `evaluate`.
        n_real: as `evaluate`.
        seed: the sampling, metric and resampling seed.
        train: as `evaluate`.
        n_train: as `evaluate`.
        classifier: as `evaluate`.
        bootstrap: paired-bootstrap replicates (>= 10); they give every interval.
        confidence: the level of each interval (differences are Bonferroni-corrected).
        batch_size: as `evaluate`.
        data_root: as `evaluate`.
        progress: show progress bars.
        options: metric options, as `evaluate`.
        size: as `evaluate`.

    Returns:
        A `CompareResult` whose JSON export holds, per model and value, the point, interval and
        signature; every pairwise difference with its Bonferroni interval and significance; a ranking
        per value. See the module docstring for the scheme.

    Raises:
        InvalidArgumentError: fewer than 2 or more than 20 models, bad names, `bootstrap` < 10, a
            confidence outside (0, 1), or a statistics file as a source.

    Example:
        >>> res = compare("digits:test", {"A": "digits:train", "B": "digits:test"}, "fid", extractor="mnist",
        ...               n=150, n_real=150, bootstrap=10, progress=False)
        >>> res["ranking"], res["correction"]["pairs"]
        ({'fid': ['B', 'A']}, 1)
        >>> d = res["differences"]["fid"][0]
        >>> d["a"], d["b"], d["significant"], d["better"]
        ('A', 'B', True, 'B')
    """
    if not isinstance(models, dict) or not 2 <= len(models) <= MAX_MODELS:
        raise InvalidArgumentError("models", f"2 to {MAX_MODELS} named models", len(models) if isinstance(models, dict) else models)
    for name in models:
        if not isinstance(name, str) or not _NAME.match(name):
            raise InvalidArgumentError("models", "names made of letters, digits, _ . + -", name)
    if isinstance(bootstrap, bool) or not isinstance(bootstrap, int) or bootstrap < 10:
        raise InvalidArgumentError("bootstrap", "an integer >= 10 (replicates of the paired bootstrap)", bootstrap)
    if not 0 < confidence < 1:
        raise InvalidArgumentError("confidence", "a number in (0, 1)", confidence)
    names = IMAGE_METRICS.parse(metrics if metrics is not None else default_metrics(real))
    t0 = time.perf_counter()
    results, inputs = {}, {}
    for m, src in models.items():
        res = evaluate(real, src, names, extractor=extractor, preprocess=preprocess, precision=precision, layer=layer, n=n, n_real=n_real,
                       seed=seed, train=train, n_train=n_train, classifier=classifier, bootstrap=0,
                       batch_size=batch_size, data_root=data_root, cache=True, progress=progress, options=options,
                       size=size)
        inp = res.metric_inputs
        if inp is None or inp.real_stats is not None or inp.fake_stats is not None:
            raise InvalidArgumentError("real/models", "images or features on every side (statistics files have no rows "
                                       "to resample)", m)
        results[m], inputs[m] = res, inp
    t_eval = time.perf_counter() - t0
    reps = paired_bootstrap(inputs, _bootstrapped(names), bootstrap, seed, split_options(options), progress)
    pairs = list(combinations(models, 2))
    adj_conf = 1 - (1 - confidence) / len(pairs)
    z, z_adj = normal_z(confidence), normal_z(adj_conf)
    boot_tag = f"boot:paired-{bootstrap}|corr:bonferroni-{len(pairs)}"

    per_model: dict[str, dict] = {}
    for m, res in results.items():
        per_model[m] = {}
        for k, e in res["metrics"].items():
            e = dict(e)
            if k in reps[m]:
                sd = float(np.std(reps[m][k], ddof=1))
                e.update({"ci_low": e["value"] - z * sd, "ci_high": e["value"] + z * sd, "ci_std": sd,
                          "ci_confidence": confidence, "ci_n_boot": bootstrap, "ci_method": "normal/paired"})
            per_model[m][k] = e
    differences, ranking = {}, {}
    first = next(iter(per_model.values()))
    for k, e in first.items():
        hib = e["higher_is_better"]
        if k not in reps[next(iter(models))] or hib is None:
            continue
        rows = []
        for a, b in pairs:
            d = per_model[a][k]["value"] - per_model[b][k]["value"]
            sd = float(np.std(reps[a][k] - reps[b][k], ddof=1))
            lo, hi = d - z_adj * sd, d + z_adj * sd
            sig = bool(lo > 0 or hi < 0)
            better = None if not sig else (a if (d > 0) == hib else b)
            rows.append({"a": a, "b": b, "diff": d, "ci_low": lo, "ci_high": hi, "ci_std": sd, "significant": sig,
                         "better": better, "signature": f"diff:{k}|a:{a}|b:{b}|conf:{confidence}|{boot_tag}|seed:{seed}|v:{__version__}"})
        differences[k] = rows
        ranking[k] = sorted(models, key=lambda m: per_model[m][k]["value"], reverse=bool(hib))
    first_res = next(iter(results.values()))
    return CompareResult({
        "models": {m: {"source": str(src) if not hasattr(src, "shape") else type(src).__name__,
                       "origin": results[m]["inputs"]["fake"]["origin"], "n": results[m]["inputs"]["fake"]["n"]}
                   for m, src in models.items()},
        "real": first_res["inputs"]["real"], "extractor": first_res["extractor"], "metric_names": list(names),
        "metrics": per_model, "details": {m: r["details"] for m, r in results.items()},
        "differences": differences, "ranking": ranking,
        "bootstrap": {"n_boot": bootstrap, "seed": seed, "confidence": confidence, "interval": "normal",
                      "scheme": "paired: one real draw per replicate shared by all models, independent fake draws; "
                                "rows with replacement (k-NN metrics: half-samples without replacement)"},
        "correction": {"method": "bonferroni", "pairs": len(pairs), "family": "the pairs of one metric",
                       "difference_confidence": adj_conf},
        "timings": {"evaluate": t_eval, "bootstrap": time.perf_counter() - t0 - t_eval, "total": time.perf_counter() - t0},
        "gmeval_version": __version__, "seed": seed,
    }, results)

