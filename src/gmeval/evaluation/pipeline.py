"""`evaluate(real, fake, metrics, ...)`: one feature pass per extractor, many metrics, signatures."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from .. import __version__
from .. import distributed as gdist
from ..data import ImageData
from ..utils.io import NPY_READ_ERRORS
from ..errors import InvalidArgumentError
from ..sources import load_images
from ..stats import GaussianStats, load_stats
from .cache import feature_cache_key, load_cached, store
from .domain import CLASSIFIER_DOMAINS, choose_classifier, domain_of
from .metric_specs import METRICS, parse_metrics
from .signature import make_signature


def is_stats_file(spec) -> bool:
    if not isinstance(spec, (str, os.PathLike)) or Path(spec).suffix.lower() != ".npz" or not Path(spec).is_file():
        return False
    try:
        with np.load(spec, allow_pickle=False) as f:
            return {"mu", "sigma"} <= set(f.files)
    except NPY_READ_ERRORS:
        return False  # not readable as .npz: the array-file loader reports it


class _Side:
    """One input (real, fake or train): images or precomputed statistics, plus extracted layers."""

    def __init__(self, spec, role: str, n, seed, data_root, size=None, distributed: bool = False):
        self.role, self.spec = role, spec
        self.stats: GaussianStats | None = None
        self.data: ImageData | None = None
        if is_stats_file(spec):
            self.stats = load_stats(spec)
            self.origin = f"stats:{spec}"
            self.n = self.stats.n
        else:
            self.data = load_images(spec, n=n, seed=seed, data_root=data_root, size=size, distributed=distributed)
            self.origin = self.data.origin
            self.n = len(self.data)
        self.layers: dict[str, np.ndarray] = {}


def _extract(side: _Side, extractor, layers, batch_size, progress, use_cache, reduce_only: bool = False) -> None:
    from ..features import extract_features

    layers = [l for l in layers if l not in side.layers]
    if not layers or side.data is None:
        return
    if gdist.is_distributed():
        return _extract_distributed(side, extractor, layers, batch_size, progress, use_cache, reduce_only)
    key = feature_cache_key(side.data.fingerprint(), extractor.signature(), layers) if use_cache else None
    feats = load_cached(key) if key else None
    if feats is None:
        feats = extract_features(extractor, side.data, layers=layers, batch_size=batch_size, progress=progress,
                                 desc=f"{extractor.name} {side.role}")
        if key:
            store(key, feats)
    side.layers.update(feats)


def _extract_distributed(side: _Side, extractor, layers, batch_size, progress, use_cache, reduce_only) -> None:
    """Under torchrun: each rank extracts the batches rank, rank + W, ... of the side's items
    (`shard_indices` with block = batch_size); the shards are gathered back in global order, so every
    rank holds the single-process features (the same bits at the same thread count: each forward pass
    sees the same batch as in one process). With `reduce_only` (FID alone, no cache to write) only the float64 GaussianStats sums
    are all-reduced and `side.stats` is set instead. Rank 0 alone reads and writes the cache."""
    from ..features import extract_features

    rank, world = gdist.rank_world()
    n = len(side.data)
    key = feature_cache_key(side.data.fingerprint(), extractor.signature(), layers) if use_cache and rank == 0 else None
    cached = load_cached(key) if key else None
    names = gdist.broadcast_object(sorted(cached) if cached is not None else None, 0, "cache lookup")
    if names is not None:  # rank 0 read the file and sends it: one reader, so no rank can see another file
        side.layers.update({k: gdist.broadcast_array(cached[k] if cached is not None else None, 0, f"cached {k}")
                            for k in names})
        return
    idx = gdist.shard_indices(n, rank, world, block=batch_size)
    if len(idx):
        local = extract_features(extractor, side.data.subset(idx), layers=layers, batch_size=batch_size,
                                 progress=progress and rank == 0, desc=f"{extractor.name} {side.role} [rank 0/{world}]")
    else:  # more ranks than items: this rank contributes nothing (no padding, no duplicates)
        local = {k: np.empty((0, extractor.layers[k]), np.float32) for k in layers}
    if reduce_only and not use_cache and len(layers) == 1:
        stats = GaussianStats(extractor.layers[layers[0]])
        if len(idx):
            stats.update(local[layers[0]])
        state = gdist.all_reduce_sum(stats.state_arrays(), f"{side.role} statistics")
        stats.n, stats.sum, stats.sum_outer = int(round(state["n"][0])), state["sum"], state["sum_outer"]
        side.stats = stats
        return
    feats = {k: gdist.gather_in_order(local[k], idx, n, name=f"{side.role} {k} features") for k in layers}
    if key:  # rank 0 only
        store(key, feats)
    side.layers.update(feats)


class _Context:
    """What metric specs read: features, logits, class probabilities, statistics."""

    def __init__(self, seed, opts):
        self.seed, self.opts = seed, opts
        self.real_feats = self.fake_feats = self.train_feats = None
        self.fake_logits = self.fake_class_logits = self.real_labels = None
        self.logits_layer = self.class_extractor_name = self.train_origin = None
        self._real_stats = self._fake_stats = None

    def real_stats(self):
        return self._real_stats if self._real_stats is not None else GaussianStats.from_features(self.real_feats)

    def fake_stats(self):
        return self._fake_stats if self._fake_stats is not None else GaussianStats.from_features(self.fake_feats)


def evaluate(real, fake, metrics=("fid",), *, extractor: str = "inception", preprocess: str | None = None,
             precision: str | None = None, layer: str | None = None, n: int | None = None, n_real: int | None = None, seed: int = 0,
             train=None, n_train: int | None = 10000, classifier: str | None = None, bootstrap: int = 0,
             confidence: float = 0.95, batch_size: int | None = None, data_root=None, cache: bool = True,
             progress: bool = True, options: dict | None = None, size=None) -> dict:
    """Evaluate `fake` against `real` (each any source, or a statistics .npz for FID).

    n: generated samples (required for checkpoints/generators; first n of files/datasets otherwise).
    n_real: real samples (default: all). seed: sampling + metric seed. bootstrap: replicates for
    intervals of FID / precision-recall / density-coverage (0: none). train: training data for the
    memorisation check (default: the train split of a dataset `real`). precision: the Inception
    forward's precision, "float32" (canonical, default) or an opt-in "bf16" / "fp16" / "tf32"
    (gmeval.features.precision); recorded in every signature. Returns a JSON-able dict.
    """
    from ..features import get_extractor

    names = parse_metrics(metrics)
    opts = dict(options or {})
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    if gdist.launched_by_torchrun():
        gdist.init_distributed()
    dist_on = gdist.is_distributed()  # under torchrun: shard, gather/reduce, rank 0 computes metrics
    progress = progress and gdist.is_rank_zero()
    rs = _Side(real, "real", n_real, seed, data_root, size, distributed=dist_on)
    fs = _Side(fake, "fake", n, seed, data_root, size, distributed=dist_on)
    timings["load"] = time.perf_counter() - t0
    needs = {need for m in names for need in METRICS[m].needs}
    stats_only = rs.stats is not None or fs.stats is not None
    if stats_only and set(names) != {"fid"}:
        raise InvalidArgumentError("metrics", "only 'fid' when a side is a statistics file (it has no features)", ",".join(names))

    ext_opts = extractor_options_for(extractor, preprocess=preprocess, precision=precision)
    with gdist.rank_zero_first("loading the feature extractor"):  # rank 0 fetches/verifies weights first
        ext = get_extractor(extractor, **ext_opts)
    if dist_on:
        ext.to(gdist.device())
    if batch_size is None:
        batch_size = ext.default_batch_size
    feat_layer = layer or ext.default_layer
    ctx = _Context(seed, opts)
    want = []
    if "features" in needs:
        want.append(feat_layer)
    if "logits" in needs:
        ctx.logits_layer = "logits_unbiased" if "logits_unbiased" in ext.layers else "logits"
        want.append(ctx.logits_layer)
    # the mode classifier follows the shared domain rule (evaluation/domain.py)
    class_domain = choose_classifier(rs.origin, classifier, ext.name) if "classes" in needs else None
    if "classes" in needs and class_domain == ext.name:
        want.append("logits")
    want = list(dict.fromkeys(want))

    t = time.perf_counter()
    # FID alone needs only statistics: under torchrun the float64 sums are all-reduced instead of
    # gathering every feature (sides whose features go to the cache are still gathered)
    reduce_only = set(names) == {"fid"} and not bootstrap
    if want:
        _extract(fs, ext, want, batch_size, progress, use_cache=False, reduce_only=reduce_only)
        real_layers = [feat_layer] if "features" in needs else []
        _extract(rs, ext, real_layers, batch_size, progress, use_cache=cache, reduce_only=reduce_only)
    timings["features"] = time.perf_counter() - t
    ext_sig = ext.signature()

    if "features" in needs:
        ctx.real_feats = rs.layers.get(feat_layer)
        ctx.fake_feats = fs.layers.get(feat_layer)
        ctx._real_stats, ctx._fake_stats = rs.stats, fs.stats
        for side in (rs, fs):
            _check_stats_meta(side, ext_sig, feat_layer)
    if "logits" in needs:
        ctx.fake_logits = fs.layers[ctx.logits_layer]

    if "classes" in needs:
        t = time.perf_counter()
        domain = class_domain
        if domain not in CLASSIFIER_DOMAINS:
            raise InvalidArgumentError("classifier", f"one of {CLASSIFIER_DOMAINS} for mode coverage (the real data "
                                       f"{rs.origin!r} has no known domain classifier)", classifier)
        cext = ext if ext.name == domain else get_extractor(domain)
        _extract(fs, cext, ["logits"], batch_size, progress, use_cache=False)
        ctx.fake_class_logits = fs.layers["logits"]
        if rs.data is not None and rs.data.labels is not None:
            ctx.real_labels = rs.data.labels
        elif rs.data is not None:
            _extract(rs, cext, ["logits"], batch_size, progress, use_cache=cache)
            ctx.real_labels = rs.layers["logits"].argmax(1)
        ctx.class_extractor_name = f"{domain}:{cext.signature()['weights'][:12]}"
        timings["classifier"] = time.perf_counter() - t

    train_side = None
    if "train" in needs:
        t = time.perf_counter()
        if train is None:
            dom = rs.origin.split(":", 1)
            if len(dom) == 2 and domain_of(rs.origin) or rs.origin.startswith("digits:"):
                train = f"{dom[0]}:train"
            else:
                raise InvalidArgumentError("train", "the training data for the memorisation check", None)
        # n_train is a cap, not a demand
        train_side = _Side(train, "train", None, seed, data_root, size, distributed=dist_on)
        if n_train is not None and train_side.data is not None and train_side.n > n_train:
            train_side.data = train_side.data.subset(slice(0, n_train))
            train_side.n = n_train
        _extract(train_side, ext, [feat_layer], batch_size, progress, use_cache=cache)
        ctx.train_feats = train_side.layers[feat_layer]
        ctx.train_origin = train_side.origin
        timings["train_features"] = time.perf_counter() - t

    parts = {"ext": ext.name, "w": ext_sig["weights"][:12], "layer": feat_layer, "pre": ext_sig.get("preprocess"),
             "prec": ext_sig.get("precision"), "real": rs.origin, "nreal": rs.n, "fake": fs.origin, "nfake": fs.n, "seed": seed}

    def compute_metrics():
        results: dict[str, dict] = {}
        details: dict[str, dict] = {}
        metric_timings: dict[str, float] = {}
        for name in names:
            spec = METRICS[name]
            t = time.perf_counter()
            values, det, params = spec.compute(ctx)
            p = dict(parts)
            if spec.needs == ("logits",):
                p["layer"] = ctx.logits_layer
            if spec.needs == ("classes",):
                p.update({"ext": None, "w": None, "layer": None, "pre": None, "prec": None})
            cis = {}
            if bootstrap and spec.bootstrappable and not stats_only:
                cis = _bootstrap(spec, ctx, bootstrap, confidence, seed)
            for vname, hib in spec.outputs.items():
                entry = {"value": float(values[vname]), "higher_is_better": hib, "metric": name,
                         "signature": make_signature(vname, p, params)}
                if vname in cis:
                    entry.update(cis[vname])
                results[vname] = entry
            if det:
                details[name] = det
            metric_timings[name] = time.perf_counter() - t
        return results, details, metric_timings

    # every rank holds the same features; rank 0 computes and sends the numbers, so all ranks agree
    results, details, metric_timings = gdist.run_on_rank_zero(compute_metrics, "computing metrics")
    timings.update(metric_timings)
    timings["total"] = time.perf_counter() - t0
    out = {
        "metrics": results, "details": details, "timings": timings, "gmeval_version": __version__,
        "extractor": ext_sig, "seed": seed,
        "inputs": {"real": {"source": str(real) if isinstance(real, (str, os.PathLike)) else rs.origin, "origin": rs.origin, "n": rs.n},
                   "fake": {"source": str(fake) if isinstance(fake, (str, os.PathLike)) else fs.origin, "origin": fs.origin, "n": fs.n}},
    }
    if dist_on:
        out["distributed"] = gdist.describe()
    out["_sides"] = {"real": rs, "fake": fs, "train": train_side}  # for reports; stripped by to_json
    out["_context"] = ctx  # the metric inputs, for paired resampling (evaluation/compare.py); stripped by to_json
    return out


def real_features(spec, extractor: str = "inception", layer: str | None = None, n: int | None = None, data_root=None,
                  batch_size: int | None = None, progress: bool = False) -> np.ndarray:
    """Features of a stored source (dataset split, folder, array file) through the feature cache: the
    same extraction `evaluate` uses for its real side, so a later `evaluate` of that source hits the cache."""
    from ..features import get_extractor

    ext = get_extractor(extractor)
    side = _Side(spec, "real", n, 0, data_root)
    name = layer or ext.default_layer
    _extract(side, ext, [name], ext.default_batch_size if batch_size is None else batch_size, progress, use_cache=True)
    return side.layers[name]


def subset_context(ctx: _Context, real_rows, fake_rows) -> _Context:
    """A copy of a metric context restricted to the given real and fake rows (index arrays): features,
    logits, class logits and labels follow their side; training features are kept whole."""
    sub = _Context(ctx.seed, ctx.opts)
    for name in ("logits_layer", "class_extractor_name", "train_origin", "train_feats"):
        setattr(sub, name, getattr(ctx, name))
    for name, rows in (("real_feats", real_rows), ("real_labels", real_rows), ("fake_feats", fake_rows),
                       ("fake_logits", fake_rows), ("fake_class_logits", fake_rows)):
        arr = getattr(ctx, name)
        setattr(sub, name, None if arr is None else np.asarray(arr)[rows])
    return sub


def to_json(result: dict) -> dict:
    return {k: v for k, v in result.items() if not k.startswith("_")}


def extractor_options_for(extractor: str, *, preprocess: str | None = None, precision: str | None = None) -> dict:
    """get_extractor options from the CLI/API arguments: preprocessing and precision are Inception options."""
    if extractor == "inception":
        return {k: v for k, v in (("preprocess", preprocess), ("precision", precision)) if v is not None}
    if precision not in (None, "float32"):
        raise InvalidArgumentError("precision", f"'float32' for the {extractor!r} extractor (reduced precision is an "
                                   "Inception option)", precision)
    return {}


def _check_stats_meta(side: _Side, ext_sig: dict, layer: str) -> None:
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


def _bootstrap(spec, ctx, n_boot, confidence, seed) -> dict:
    """Normal bootstrap intervals: point +- z * (bootstrap standard error).

    Percentile and basic intervals are displaced by the small-sample bias of FID (a resample has only
    ~63 % distinct rows, so every replicate is biased upward) and of k-NN metrics; the standard error
    is not, so the interval is centred on the estimate and its width reflects sampling variability
    (Efron & Tibshirani 1993, sec. 13.2). The bias itself is not corrected: see docs/metrics.md.
    """
    from ..metrics.image.bootstrap import bootstrap_ci, normal_z

    def fn(real, fake):
        sub = _Context(seed, ctx.opts)
        sub.real_feats, sub.fake_feats = real, fake
        return spec.compute(sub)[0]

    res = bootstrap_ci(fn, ctx.real_feats, ctx.fake_feats, n_boot=n_boot, confidence=confidence, seed=seed,
                       scheme=spec.bootstrap_scheme, keys=[k for k, hib in spec.outputs.items() if hib is not None])
    res = res if isinstance(res, dict) else {next(iter(spec.outputs)): res}
    z = normal_z(confidence)
    return {k: {"ci_low": float(r.point - z * r.std), "ci_high": float(r.point + z * r.std), "ci_std": float(r.std),
                "ci_confidence": confidence, "ci_n_boot": r.n_boot, "ci_method": f"normal/{r.scheme}"} for k, r in res.items()}
