"""`evaluate(real, fake, metrics, ...)` in named stages, after torch-fidelity's chain:

    resolve_inputs -> plan_layers -> extract -> compute -> package

1. `resolve_inputs`: load each side (dataset split, folder, array, checkpoint, generator, or a
   statistics file); the memorisation check's training split comes from the data registry.
2. `plan_layers`: which layers of which extractor each side needs, from what the metrics need.
3. `extract`: features through the cache; under torchrun each rank extracts whole batches of its
   shard (`shard_indices`), and the rows are gathered in global order, or, when every metric's
   state is a sum (FID, mode histograms) and no interval is asked for, left on their rank.
4. `compute`: every metric is its class from `IMAGE_METRICS` (the same engine the training hook,
   `compare` and the tests use): built with its typed options, fed, synced over ranks when the rows
   stayed local, computed; bootstrap intervals resample through the same class.
5. `package`: an `EvaluationResult` with `.to_json()` and `.to_html()`.

Distributed initialisation is the caller's: the CLI (or a torchrun entry script) initialises the
process group once; here it is only used when already initialised.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import __version__
from .. import distributed as gdist
from ..data import ImageData, training_split
from ..errors import InvalidArgumentError
from ..metrics.image import IMAGE_METRICS, ImageInputs, build_metric, split_options
from ..metrics.score import Score
from ..sources import load_images
from ..stats import GaussianStats, load_stats
from ..utils.io import NPY_READ_ERRORS
from .cache import feature_cache_key, load_cached, store
from .domain import CLASSIFIER_DOMAINS, choose_classifier
from .signature import make_signature


def is_stats_file(spec) -> bool:
    """True when `spec` names a .npz file holding FID statistics (mu, sigma).

    Args:
        spec: a source spec (anything; only existing ``.npz`` paths can qualify).

    Returns:
        True for a readable ``.npz`` with ``mu`` and ``sigma`` arrays.

    Example:
        >>> import tempfile
        >>> import numpy as np
        >>> from pathlib import Path
        >>> with tempfile.TemporaryDirectory() as d:
        ...     np.savez(Path(d) / "stats.npz", mu=np.zeros(2), sigma=np.eye(2))
        ...     np.savez(Path(d) / "images.npz", images=np.zeros((1, 8, 8)))
        ...     is_stats_file(Path(d) / "stats.npz"), is_stats_file(Path(d) / "images.npz"), is_stats_file("mnist:test")
        (True, False, False)
    """
    if not isinstance(spec, (str, os.PathLike)) or Path(spec).suffix.lower() != ".npz" or not Path(spec).is_file():
        return False
    try:
        with np.load(spec, allow_pickle=False) as f:
            return {"mu", "sigma"} <= set(f.files)
    except NPY_READ_ERRORS:
        return False  # not readable as .npz: the array-file loader reports it


@dataclass
class Side:
    """One input (real, fake or train): images or precomputed statistics, plus its extracted layers.

    Attributes:
        role: ``"real"``, ``"fake"`` or ``"train"``.
        spec: the source as given.
        origin: the resolved origin (``digits:test``, ``stats:<path>``, ``model:<name>``).
        n: number of images (or the statistics' sample count).
        data: the images, or None for a statistics file.
        stats: the statistics of a statistics file, else None.
        layers: full feature matrices by layer name.
        local: this rank's rows and their global indices, when the rows stay on their rank (see `extract`).

    Example:
        >>> side = Side.load("digits:test", "real", 10, 0, None)
        >>> side.origin, side.n, side.data.images.shape, side.stats is None
        ('digits:test', 10, (10, 1, 8, 8), True)
    """

    role: str
    spec: object
    origin: str
    n: int
    data: ImageData | None = None
    stats: GaussianStats | None = None
    layers: dict = field(default_factory=dict)
    local: dict = field(default_factory=dict)

    @classmethod
    def load(cls, spec, role: str, n, seed, data_root, size=None, distributed: bool = False) -> "Side":
        """Load a source (any `load_images` spec, or a statistics file) as a Side."""
        if is_stats_file(spec):
            stats = load_stats(spec)
            return cls(role, spec, f"stats:{spec}", stats.n, stats=stats)
        data = load_images(spec, n=n, seed=seed, data_root=data_root, size=size, distributed=distributed)
        return cls(role, spec, data.origin, len(data), data=data)

    def rows(self, layer: str, rank: int):
        """(rows, global indices) this rank feeds to the metrics for `layer`: its own shard when the
        rows stayed local, else all rows on rank 0 and none elsewhere."""
        if layer in self.local:
            return self.local[layer]
        x = self.layers.get(layer)
        if x is None or rank == 0:
            return x, None
        return x[:0], None


@dataclass
class Plan:
    """What to extract: the feature and logits layers, the mode classifier, and what each side needs.

    Attributes:
        feat_layer: the extractor's feature layer.
        logits_layer: the logits layer for Inception Score, or None.
        class_domain: the mode classifier's domain (``"mnist"``), or None.
        needs: what the metrics need (``"features"``, ``"logits"``, ``"classes"``, ``"train"``).
        local_rows: rows stay on their rank (torchrun, sum states only, no bootstrap).
        class_extractor_name: the mode classifier's name and weights hash, set by `extract`.

    Example:
        >>> from gmeval.features import get_extractor
        >>> real = Side.load("digits:test", "real", 10, 0, None)
        >>> plan = plan_layers(("fid", "modes"), get_extractor("mnist"), None, real, None, 0)
        >>> plan.feat_layer, plan.logits_layer, plan.class_domain, sorted(plan.needs), plan.local_rows
        ('features', None, 'mnist', ['classes', 'features'], False)
    """

    feat_layer: str
    logits_layer: str | None
    class_domain: str | None
    needs: frozenset
    local_rows: bool
    class_extractor_name: str | None = None


@dataclass
class EvaluationResult:
    """What `evaluate` returns: scores with signatures, details, timings and provenance.

    ``result["metrics"]`` reads the JSON export (``to_json()``) for dict-style access.

    Attributes:
        scores: each value name (``fid``, ``precision`` ...) and its `Score`.
        details: per-metric details (histograms, closest pairs, fits).
        timings: seconds per stage and per metric.
        extractor: the extractor's signature (name, weights hash, layers, preprocessing).
        seed: the sampling and metric seed.
        inputs: source, origin and count of the real and fake sides.
        distributed: the process group and row handling under torchrun, else None.
        gmeval_version: the package version.
        images: the fake / train images (for reports; not exported).
        metric_inputs: the metric inputs (for paired resampling; not exported).

    Example:
        >>> from gmeval.metrics.score import Score
        >>> res = EvaluationResult({"fid": Score("fid", 2.5, "fid|ext:mnist", False)}, {}, {"total": 1.0}, {}, 0, {})
        >>> res.value("fid"), res["metrics"]["fid"]
        (2.5, {'value': 2.5, 'higher_is_better': False, 'signature': 'fid|ext:mnist'})
    """

    scores: dict
    details: dict
    timings: dict
    extractor: dict
    seed: int
    inputs: dict
    distributed: dict | None = None
    gmeval_version: str = __version__
    images: dict = field(default_factory=dict, repr=False)
    metric_inputs: ImageInputs | None = field(default=None, repr=False)

    def to_json(self) -> dict:
        """The JSON export: ``{"metrics": {name: Score.to_dict()}, "details", "timings", ...}``."""
        out = {"metrics": {k: s.to_dict() for k, s in self.scores.items()}, "details": self.details,
               "timings": self.timings, "gmeval_version": self.gmeval_version, "extractor": self.extractor,
               "seed": self.seed, "inputs": self.inputs}
        if self.distributed is not None:
            out["distributed"] = self.distributed
        return out

    def to_html(self, out_dir, title: str = "gmeval evaluation", **kwargs) -> dict:
        """Write report.json and report.html into `out_dir` (see `gmeval.reports.write_report`)."""
        from ..reports.html import write_report

        return write_report(self, out_dir, title=title, **kwargs)

    def __getitem__(self, key):
        return self.to_json()[key]

    def value(self, name: str) -> float:
        """The float value of the score `name`."""
        return float(self.scores[name].value)


def evaluate(real, fake, metrics=("fid",), *, extractor: str = "inception", preprocess: str | None = None,
             precision: str | None = None, layer: str | None = None, n: int | None = None, n_real: int | None = None, seed: int = 0,
             train=None, n_train: int | None = 10000, classifier: str | None = None, bootstrap: int = 0,
             confidence: float = 0.95, batch_size: int | None = None, data_root=None, cache: bool = True,
             progress: bool = True, options: dict | None = None, size=None) -> EvaluationResult:
    """Evaluate `fake` against `real` (each any source, or a statistics .npz for FID).

    Args:
        real: dataset split ("mnist:test"), folder, array file, checkpoint, generator or statistics file.
        fake: the same kinds of source (checkpoints and generators are sampled).
        metrics: names or aliases from `IMAGE_METRICS` ("fid,kid", "prdc", "all").
        extractor: the feature extractor ("inception", "mnist", "fashion-mnist").
        preprocess: Inception's preprocessing (``tf1``, ``pytorch-fid``, ``clean``; None: its default).
        precision: "float32", the canonical default, or an opt-in "bf16" / "fp16" / "tf32" for
            Inception; recorded in every signature.
        layer: the feature layer (None: the extractor's default).
        n: generated samples (required for checkpoints/generators; a cap for stored sources).
        n_real: real samples (default: all).
        seed: sampling and metric seed.
        train: the memorisation check's training data (default: the train split of a dataset `real`).
        n_train: the cap on the training rows.
        classifier: the mode classifier (default: the domain rule, evaluation/domain.py).
        bootstrap: replicates of the normal bootstrap intervals (0: none).
        confidence: level of those intervals.
        batch_size: extraction batch size (None: the extractor's default).
        data_root: where datasets are looked up (None: ``GMEVAL_DATA`` / the user cache).
        cache: read and write the feature cache for stored sources.
        progress: show progress bars.
        options: metric options ``{"kid_subset_size": 500, "pr_k": 5, ...}`` (see `option_specs`).
        size: resize every image to this size first (None: keep).

    Returns:
        An `EvaluationResult`.

    Raises:
        InvalidArgumentError: an unknown metric or option, or metrics a statistics file cannot serve.
        DataError: a source that cannot be loaded.

    Example:
        >>> res = evaluate("digits:test", "digits:train", "fid", extractor="mnist", n=200, n_real=200, progress=False)
        >>> res.inputs["real"], res.inputs["fake"]["n"], res.value("fid") > 0
        ({'source': 'digits:test', 'origin': 'digits:test', 'n': 200}, 200, True)
        >>> print(res.scores["fid"].signature)
        fid|ext:mnist|w:2dc37f610240|layer:features|pre:gray-mean+bilinear-aa-28|real:digits:test|nreal:200|fake:digits:train|nfake:200|seed:0|v:...
    """
    t0 = time.perf_counter()
    names, metric_opts = IMAGE_METRICS.parse(metrics), split_options(options)
    sides = resolve_inputs(real, fake, names, n=n, n_real=n_real, seed=seed, data_root=data_root, size=size)
    timings = {"load": time.perf_counter() - t0}
    ext = load_extractor(extractor, preprocess, precision)
    plan = plan_layers(names, ext, layer, sides["real"], classifier, bootstrap)
    if "train" in plan.needs:
        sides["train"] = resolve_train(train, sides["real"], n_train, seed, data_root, size)
    batch = ext.default_batch_size if batch_size is None else batch_size
    timings.update(extract(sides, plan, ext, batch, progress and gdist.is_rank_zero(), cache))
    parts = signature_parts(ext, plan.feat_layer, sides, seed)
    scores, details, metric_timings = compute(names, sides, plan, parts, metric_opts, seed, bootstrap, confidence)
    timings.update(metric_timings, total=time.perf_counter() - t0)
    return package(scores, details, timings, ext, seed, sides, real, fake, plan)


# -- stage 1: inputs ------------------------------------------------------------------------------
def resolve_inputs(real, fake, names, *, n, n_real, seed, data_root, size) -> dict[str, Side]:
    """Load the real and fake sides; statistics files serve FID only.

    Args:
        real: the real source.
        fake: the fake source.
        names: the metric names.
        n: fake samples.
        n_real: real samples.
        seed: sampling seed.
        data_root: dataset folder.
        size: resize images to this size (None: keep).

    Returns:
        ``{"real": Side, "fake": Side}``.

    Raises:
        InvalidArgumentError: a statistics file with metrics other than FID.

    Example:
        >>> sides = resolve_inputs("digits:test", "digits:train", ("fid",), n=5, n_real=4, seed=0, data_root=None, size=None)
        >>> sides["real"].n, sides["fake"].n, sides["fake"].origin
        (4, 5, 'digits:train')
    """
    dist_on = gdist.is_distributed()
    sides = {"real": Side.load(real, "real", n_real, seed, data_root, size, dist_on),
             "fake": Side.load(fake, "fake", n, seed, data_root, size, dist_on)}
    if any(s.stats is not None for s in sides.values()) and set(names) != {"fid"}:
        raise InvalidArgumentError("metrics", "only 'fid' when a side is a statistics file (it has no features)",
                                   ",".join(names))
    return sides


def resolve_train(train, real: Side, n_train, seed, data_root, size) -> Side:
    """The memorisation check's training data: explicit, else the train split of the real dataset (data
    registry); `n_train` is a cap, not a demand.

    Args:
        train: the training source, or None.
        real: the real `Side`.
        n_train: the cap on training rows (None: all).
        seed: sampling seed.
        data_root: dataset folder.
        size: resize images to this size.

    Returns:
        The training `Side`.

    Raises:
        InvalidArgumentError: no training data given and the real data has no registered train split.

    Example:
        >>> real = Side.load("digits:test", "real", None, 0, None)
        >>> t = resolve_train(None, real, 100, 0, None, None)
        >>> t.origin, t.n
        ('digits:train', 100)
    """
    train = train if train is not None else training_split(real.origin)
    if train is None:
        raise InvalidArgumentError("train", "the training data for the memorisation check (the real data "
                                   f"{real.origin!r} is no registered dataset with a train split)", None)
    side = Side.load(train, "train", None, seed, data_root, size, gdist.is_distributed())
    if n_train is not None and side.data is not None and side.n > n_train:
        side.data, side.n = side.data.subset(slice(0, n_train)), n_train
    return side


def load_extractor(extractor: str, preprocess: str | None, precision: str | None):
    """The feature extractor with the given options (rank 0 first under torchrun, then moved to the rank's device).

    Args:
        extractor: the extractor name.
        preprocess: Inception's preprocessing, or None.
        precision: the numeric precision, or None.

    Returns:
        The extractor.

    Raises:
        InvalidArgumentError: an unknown name, or options the extractor does not take.

    Example:
        >>> load_extractor("mnist", None, None).name
        'mnist'
    """
    from ..features import get_extractor

    with gdist.rank_zero_first("loading the feature extractor"):  # rank 0 fetches/verifies weights first
        ext = get_extractor(extractor, **extractor_options_for(extractor, preprocess=preprocess, precision=precision))
    if gdist.is_distributed():
        ext.to(gdist.device())
    return ext


# -- stage 2: plan --------------------------------------------------------------------------------
def plan_layers(names, ext, layer, real: Side, classifier, bootstrap) -> Plan:
    """Which layers to extract, from what the metrics need (see `Plan`).

    Args:
        names: the metric names.
        ext: the feature extractor.
        layer: the feature layer (None: the extractor's default).
        real: the real `Side` (its origin picks the mode classifier).
        classifier: an explicit mode classifier, or None.
        bootstrap: replicates (rows must be gathered when intervals resample them).

    Returns:
        A `Plan`.

    Raises:
        InvalidArgumentError: mode coverage without a known domain classifier.

    Example:
        >>> from gmeval.features import get_extractor
        >>> real = Side.load("digits:test", "real", 10, 0, None)
        >>> plan_layers(("is",), get_extractor("mnist"), None, real, None, 0).logits_layer
        'logits'
    """
    needs = frozenset(need for m in names for need in IMAGE_METRICS[m].needs)
    logits_layer = ("logits_unbiased" if "logits_unbiased" in ext.layers else "logits") if "logits" in needs else None
    class_domain = None
    if "classes" in needs:  # the mode classifier follows the shared domain rule (evaluation/domain.py)
        class_domain = choose_classifier(real.origin, classifier, ext.name)
        if class_domain not in CLASSIFIER_DOMAINS:
            raise InvalidArgumentError("classifier", f"one of {CLASSIFIER_DOMAINS} for mode coverage (the real data "
                                       f"{real.origin!r} has no known domain classifier)", classifier)
    # rows may stay on their rank when every metric's state is a sum and no interval resamples rows
    sums_only = all(set(build_metric(m, _shape_probe(m)).state_reductions().values()) <= {"sum"} for m in names)
    local = gdist.is_distributed() and sums_only and not bootstrap
    return Plan(layer or ext.default_layer, logits_layer, class_domain, needs, local)


def _shape_probe(name: str) -> ImageInputs:
    return ImageInputs(fake_class_logits=np.zeros((0, 2), np.float32)) if "classes" in IMAGE_METRICS[name].needs else ImageInputs()


# -- stage 3: extract -----------------------------------------------------------------------------
def extract(sides: dict[str, Side], plan: Plan, ext, batch_size: int, progress: bool, cache: bool) -> dict:
    """Fill each side's layers (cache for stored sources; sharded under torchrun). Returns timings.

    Args:
        sides: the `Side` objects by role.
        plan: the `Plan`.
        ext: the feature extractor.
        batch_size: extraction batch size.
        progress: show progress bars.
        cache: use the feature cache for stored sources.

    Returns:
        Seconds per stage (``features``, ``classifier``, ``train_features``).

    Example:
        >>> from gmeval.features import get_extractor
        >>> ext = get_extractor("mnist")
        >>> sides = resolve_inputs("digits:test", "digits:train", ("fid",), n=6, n_real=5, seed=0, data_root=None, size=None)
        >>> plan = plan_layers(("fid",), ext, None, sides["real"], None, 0)
        >>> sorted(extract(sides, plan, ext, 64, False, False))
        ['features']
        >>> sides["real"].layers["features"].shape, sides["fake"].layers["features"].shape
        ((5, 128), (6, 128))
    """
    from ..features import get_extractor

    timings = {}
    t = time.perf_counter()
    fake_layers = ([plan.feat_layer] if "features" in plan.needs else []) + ([plan.logits_layer] if plan.logits_layer else [])
    if plan.class_domain == ext.name:
        fake_layers.append("logits")
    extract_side(sides["fake"], ext, list(dict.fromkeys(fake_layers)), batch_size, progress, False, plan.local_rows)
    if "features" in plan.needs:
        extract_side(sides["real"], ext, [plan.feat_layer], batch_size, progress, cache, plan.local_rows)
    timings["features"] = time.perf_counter() - t
    if plan.class_domain is not None:
        t = time.perf_counter()
        cext = ext if ext.name == plan.class_domain else get_extractor(plan.class_domain)
        extract_side(sides["fake"], cext, ["logits"], batch_size, progress, False, plan.local_rows, key="class_logits")
        real = sides["real"]
        if real.data is not None and real.data.labels is None:
            extract_side(real, cext, ["logits"], batch_size, progress, cache, False, key="class_logits")
        plan.class_extractor_name = f"{plan.class_domain}:{cext.signature()['weights'][:12]}"
        timings["classifier"] = time.perf_counter() - t
    if "train" in sides:
        t = time.perf_counter()
        extract_side(sides["train"], ext, [plan.feat_layer], batch_size, progress, cache, False)
        timings["train_features"] = time.perf_counter() - t
    return timings


def extract_side(side: Side, extractor, layers, batch_size, progress, use_cache, local_rows: bool = False,
                 key: str | None = None) -> None:
    """Extract `layers` of one side (stored under `key` instead of the layer name when given, e.g. the mode
    classifier's logits).

    Under torchrun each rank extracts the batches rank, rank + W, ... of the side (`shard_indices`
    with block = batch_size: every forward pass sees the single-process batch); the rows are gathered
    in global order, or kept local with their indices when `local_rows` and no cache is written.
    Rank 0 alone reads and writes the cache.

    Args:
        side: the `Side` to fill.
        extractor: the extractor.
        layers: the layer names.
        batch_size: extraction batch size.
        progress: show a progress bar.
        use_cache: read and write the feature cache.
        local_rows: keep this rank's rows local (torchrun).
        key: the name to store the (single) layer under, or None for the layer names.

    Example:
        >>> from gmeval.features import get_extractor
        >>> side = Side.load("digits:test", "real", 4, 0, None)
        >>> extract_side(side, get_extractor("mnist"), ["logits"], 64, False, False, key="class_logits")
        >>> sorted(side.layers), side.layers["class_logits"].shape
        (['class_logits'], (4, 10))
    """
    from ..features import extract_features

    names = {layer: key or layer for layer in layers}
    layers = [l for l in layers if names[l] not in side.layers and names[l] not in side.local]
    if not layers or side.data is None:
        return
    rank, world = gdist.rank_world()
    cache_key = feature_cache_key(side.data.fingerprint(), extractor.signature(), layers) if use_cache else None
    cached = load_cached(cache_key) if cache_key and rank == 0 else None
    if world > 1:
        got = gdist.broadcast_object(sorted(cached) if cached is not None else None, 0, "cache lookup")
        if got is not None:  # one reader, so no rank can see another file
            cached = {k: gdist.broadcast_array(cached[k] if cached is not None else None, 0, f"cached {k}") for k in got}
    if cached is not None:
        side.layers.update({names[k]: v for k, v in cached.items()})
        return
    desc = f"{extractor.name} {side.role}" + (f" [rank 0/{world}]" if world > 1 else "")
    idx = gdist.shard_indices(len(side.data), rank, world, block=batch_size) if world > 1 else None
    if idx is None or len(idx):
        data = side.data if idx is None else side.data.subset(idx)
        feats = extract_features(extractor, data, layers=layers, batch_size=batch_size, progress=progress, desc=desc)
    else:  # more ranks than items: this rank contributes nothing (no padding, no duplicates)
        feats = {k: np.empty((0, extractor.layers[k]), np.float32) for k in layers}
    if idx is not None and local_rows and not cache_key:
        side.local.update({names[k]: (feats[k], idx) for k in layers})
        return
    if idx is not None:
        feats = {k: gdist.gather_in_order(feats[k], idx, len(side.data), name=f"{side.role} {k} features") for k in layers}
    if cache_key and rank == 0:
        store(cache_key, feats)
    side.layers.update({names[k]: v for k, v in feats.items()})


# -- stage 4: compute -----------------------------------------------------------------------------
def metric_inputs(sides: dict[str, Side], plan: Plan, rank: int = 0) -> ImageInputs:
    """What this rank feeds the metrics (all rows on rank 0 unless the rows stayed local).

    Args:
        sides: the sides, their layers extracted.
        plan: the `Plan`.
        rank: this process's rank.

    Returns:
        An `ImageInputs`.

    Example:
        >>> from gmeval.features import get_extractor
        >>> ext = get_extractor("mnist")
        >>> sides = resolve_inputs("digits:test", "digits:train", ("fid",), n=6, n_real=5, seed=0, data_root=None, size=None)
        >>> plan = plan_layers(("fid",), ext, None, sides["real"], None, 0)
        >>> _ = extract(sides, plan, ext, 64, False, False)
        >>> x = metric_inputs(sides, plan)
        >>> x.real_features.shape, x.fake_features.shape, x.fake_logits is None
        ((5, 128), (6, 128), True)
    """
    real, fake, train = sides["real"], sides["fake"], sides.get("train")
    fl = plan.feat_layer
    labels = None
    if plan.class_domain is not None:
        if real.data is not None and real.data.labels is not None:
            labels = real.data.labels if rank == 0 else real.data.labels[:0]
        elif "class_logits" in real.layers:
            labels = real.rows("class_logits", rank)[0].argmax(1)
    return ImageInputs(
        real_features=real.rows(fl, rank)[0], fake_features=fake.rows(fl, rank)[0],
        real_stats=real.stats if rank == 0 else None, fake_stats=fake.stats if rank == 0 else None,
        fake_logits=fake.rows(plan.logits_layer, rank)[0] if plan.logits_layer else None,
        fake_class_logits=fake.rows("class_logits", rank)[0] if plan.class_domain else None,
        real_labels=labels, train_features=train.layers.get(fl) if train is not None else None)


def signature_parts(ext, feat_layer: str, sides: dict[str, Side], seed: int) -> dict:
    """The input parts of every signature: extractor, weights hash, layer, preprocessing, precision,
    sources, counts, seed.

    Args:
        ext: the extractor.
        feat_layer: the feature layer.
        sides: the real and fake sides.
        seed: the seed.

    Returns:
        A dict of signature fields (see `make_signature`).

    Raises:
        InvalidArgumentError: a statistics file computed with another extractor, layer, preprocessing or precision.

    Example:
        >>> from gmeval.features import get_extractor
        >>> sides = resolve_inputs("digits:test", "digits:train", ("fid",), n=6, n_real=5, seed=0, data_root=None, size=None)
        >>> parts = signature_parts(get_extractor("mnist"), "features", sides, 0)
        >>> parts["ext"], parts["nreal"], parts["fake"], parts["w"]
        ('mnist', 5, 'digits:train', '2dc37f610240')
    """
    for side in (sides["real"], sides["fake"]):
        _check_stats_meta(side, ext.signature(), feat_layer)
    sig = ext.signature()
    return {"ext": ext.name, "w": sig["weights"][:12], "layer": feat_layer, "pre": sig.get("preprocess"),
            "prec": sig.get("precision"), "real": sides["real"].origin, "nreal": sides["real"].n,
            "fake": sides["fake"].origin, "nfake": sides["fake"].n, "seed": seed}


def input_params(name: str, plan: Plan, sides: dict[str, Side]) -> tuple[dict, dict]:
    """Signature parts and parameters that come from the inputs rather than the metric: the logits layer,
    the mode classifier, the training source.

    Args:
        name: the metric name.
        plan: the `Plan`.
        sides: the sides (the training side for memorisation).

    Returns:
        (signature parts overriding the common ones, signature parameters).

    Example:
        >>> plan = Plan("features", "logits", None, frozenset({"logits"}), False)
        >>> input_params("is", plan, {})
        ({'layer': 'logits'}, {'logits': 'logits'})
        >>> input_params("fid", plan, {})
        ({}, {})
    """
    needs = IMAGE_METRICS[name].needs
    parts, params = {}, {}
    if needs == ("logits",):
        parts["layer"] = params["logits"] = plan.logits_layer
    if needs == ("classes",):
        parts.update({"ext": None, "w": None, "layer": None, "pre": None, "prec": None})
        params["clf"] = plan.class_extractor_name
    if "train" in needs:
        params["train"] = sides["train"].origin
    return parts, params


def compute(names, sides, plan: Plan, parts: dict, options: dict, seed: int, bootstrap: int, confidence: float):
    """Every metric through its class: (scores by value name, details by metric, timings by metric).

    Args:
        names: the metric names.
        sides: the sides, their layers extracted.
        plan: the `Plan`.
        parts: the signature parts (`signature_parts`).
        options: metric options by metric name (`split_options`).
        seed: the metric seed.
        bootstrap: replicates of the normal intervals (0: none).
        confidence: their level.

    Returns:
        (scores, details, timings).

    Example:
        >>> from gmeval.features import get_extractor
        >>> ext = get_extractor("mnist")
        >>> sides = resolve_inputs("digits:test", "digits:train", ("kid",), n=60, n_real=50, seed=0, data_root=None, size=None)
        >>> plan = plan_layers(("kid",), ext, None, sides["real"], None, 0)
        >>> _ = extract(sides, plan, ext, 64, False, False)
        >>> scores, details, timings = compute(("kid",), sides, plan, signature_parts(ext, "features", sides, 0),
        ...                                    {"kid": {"subset_size": 20, "n_subsets": 5}}, 0, 0, 0.95)
        >>> sorted(scores), list(timings)
        (['kid', 'kid_std'], ['kid'])
        >>> scores["kid"].signature.get("size"), scores["kid"].signature.get("subsets"), scores["kid"].higher_is_better
        (20, 5, False)
    """
    rank = gdist.rank_world()[0]
    if plan.local_rows:  # every rank feeds its rows; the metric's sync reduces the sums; all ranks agree
        return _compute_all(names, sides, plan, parts, options, seed, 0, confidence, rank)
    # every rank holds the same rows; rank 0 computes and sends the numbers
    return gdist.run_on_rank_zero(lambda: _compute_all(names, sides, plan, parts, options, seed, bootstrap, confidence, 0),
                                  "computing metrics")


def _compute_all(names, sides, plan, parts, options, seed, bootstrap, confidence, rank):
    from ..metrics.image.bootstrap import normal_intervals

    inputs = metric_inputs(sides, plan, rank)
    stats_only = any(s.stats is not None for s in (sides["real"], sides["fake"]))
    scores, details, timings = {}, {}, {}
    for name in names:
        t = time.perf_counter()
        metric = build_metric(name, inputs, options.get(name), seed).update_from(inputs)
        if plan.local_rows:
            metric.sync()
        rep = metric.report()
        extra_parts, extra_params = input_params(name, plan, sides)
        cls = IMAGE_METRICS[name]
        cis = {}
        if bootstrap and cls.intervals and not stats_only:
            cis = normal_intervals(lambda sub: build_metric(name, sub, options.get(name), seed).update_from(sub).report().values,
                                   inputs, bootstrap, confidence, seed, cls.bootstrap_scheme,
                                   [k for k, hib in cls.outputs.items() if hib is not None])
        for vname, hib in cls.outputs.items():
            sig = make_signature(vname, {**parts, **extra_parts}, {**rep.params, **extra_params})
            scores[vname] = Score(vname, float(rep.values[vname]), sig, hib, {"metric": name, **cis.get(vname, {})})
        if rep.details:
            details[name] = {**rep.details, **({"classifier": plan.class_extractor_name} if name == "modes" else {}),
                             **({"train_source": sides["train"].origin} if name == "memorization" else {})}
        timings[name] = time.perf_counter() - t
    return scores, details, timings


# -- stage 5: package -----------------------------------------------------------------------------
def package(scores, details, timings, ext, seed, sides, real, fake, plan) -> EvaluationResult:
    """Assemble the `EvaluationResult` (inputs, provenance, images and metric inputs for reports).

    Args:
        scores: scores by value name.
        details: details by metric.
        timings: seconds by stage.
        ext: the extractor.
        seed: the seed.
        sides: the sides.
        real: the real source as given.
        fake: the fake source as given.
        plan: the `Plan`.

    Returns:
        An `EvaluationResult`.

    Example:
        >>> from gmeval.features import get_extractor
        >>> sides = resolve_inputs("digits:test", "digits:train", ("fid",), n=6, n_real=5, seed=0, data_root=None, size=None)
        >>> plan = Plan("features", None, None, frozenset({"features"}), False)
        >>> res = package({}, {}, {}, get_extractor("mnist"), 0, sides, "digits:test", "digits:train", plan)
        >>> res.inputs["fake"], res.images["fake"].shape
        ({'source': 'digits:train', 'origin': 'digits:train', 'n': 6}, (6, 1, 8, 8))
    """
    def source(spec, side):
        return str(spec) if isinstance(spec, (str, os.PathLike)) else side.origin

    rs, fs, ts = sides["real"], sides["fake"], sides.get("train")
    inputs = {"real": {"source": source(real, rs), "origin": rs.origin, "n": rs.n},
              "fake": {"source": source(fake, fs), "origin": fs.origin, "n": fs.n}}
    images = {"fake": fs.data.images if fs.data is not None else None,
              "train": ts.data.images if ts is not None and ts.data is not None else None}
    dist = {**gdist.describe(), "rows": "local: sum states all-reduced" if plan.local_rows else "gathered in global order"} \
        if gdist.is_distributed() else None
    return EvaluationResult(scores, details, timings, ext.signature(), seed, inputs, dist, images=images,
                            metric_inputs=None if plan.local_rows else metric_inputs(sides, plan))


def real_features(spec, extractor: str = "inception", layer: str | None = None, n: int | None = None, data_root=None,
                  batch_size: int | None = None, progress: bool = False) -> np.ndarray:
    """Features of a stored source (dataset split, folder, array file) through the feature cache: the
    same extraction `evaluate` uses for its real side, so a later `evaluate` of that source hits the cache.

    Args:
        spec: the source.
        extractor: the extractor name.
        layer: the layer (None: the extractor's default).
        n: how many images (None: all).
        data_root: dataset folder.
        batch_size: extraction batch size (None: the extractor's default).
        progress: show a progress bar.

    Returns:
        An N x D float32 array.

    Example:
        >>> real_features("digits:test", "mnist", n=20).shape
        (20, 128)
    """
    from ..features import get_extractor

    ext = get_extractor(extractor)
    side = Side.load(spec, "real", n, 0, data_root)
    name = layer or ext.default_layer
    extract_side(side, ext, [name], ext.default_batch_size if batch_size is None else batch_size, progress, True)
    return side.layers[name]


def to_json(result) -> dict:
    """The JSON export of an `EvaluationResult` (or of a compare result).

    Args:
        result: anything with ``to_json()``.

    Returns:
        Its JSON-ready dict.

    Example:
        >>> to_json(EvaluationResult({}, {}, {}, {}, 0, {}))["seed"]
        0
    """
    return result.to_json()


def extractor_options_for(extractor: str, *, preprocess: str | None = None, precision: str | None = None) -> dict:
    """get_extractor options from the CLI/API arguments: preprocessing and precision are Inception options.

    Args:
        extractor: the extractor name.
        preprocess: Inception's preprocessing, or None.
        precision: the numeric precision, or None.

    Returns:
        Keyword arguments for `get_extractor`.

    Raises:
        InvalidArgumentError: a reduced precision for an extractor other than Inception.

    Example:
        >>> extractor_options_for("inception", preprocess="clean"), extractor_options_for("mnist", precision="float32")
        ({'preprocess': 'clean'}, {})
        >>> extractor_options_for("mnist", precision="fp16")
        Traceback (most recent call last):
        ...
        gmeval.errors.InvalidArgumentError: Argument `precision` must be 'float32' for the 'mnist' extractor (reduced precision is an Inception option), but got 'fp16'.
    """
    if extractor == "inception":
        return {k: v for k, v in (("preprocess", preprocess), ("precision", precision)) if v is not None}
    if precision not in (None, "float32"):
        raise InvalidArgumentError("precision", f"'float32' for the {extractor!r} extractor (reduced precision is an "
                                   "Inception option)", precision)
    return {}


def _check_stats_meta(side: Side, ext_sig: dict, layer: str) -> None:
    if side.stats is None:
        return
    meta = side.stats.meta
    # statistics files written before the precision option existed were computed in float32
    mismatch = [k for k in ("preprocess", "precision")
                if ext_sig.get(k) is not None and meta.get(k, "float32" if k == "precision" else ext_sig[k]) != ext_sig[k]]
    if meta.get("extractor") and (meta.get("extractor") != ext_sig["extractor"] or meta.get("layer", layer) != layer
                                  or mismatch):
        raise InvalidArgumentError(
            f"{side.role} statistics", f"statistics computed with extractor={ext_sig['extractor']}, layer={layer}, "
            f"preprocess={ext_sig.get('preprocess')}, precision={ext_sig.get('precision')}",
            {k: meta.get(k) for k in ("extractor", "layer", "preprocess", "precision")},
            hint=f"Recompute them with `gmeval stats compute` ({side.spec}).")
