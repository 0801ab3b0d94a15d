"""Evaluate a training run folder and write its report (the main job's last step)."""

from __future__ import annotations

import html
import time
from pathlib import Path

import numpy as np
import torch

from ..errors import InvalidArgumentError, WeightsError
from ..training.checkpoint import load_model
from .domain import CLASSIFIER_DOMAINS, choose_classifier
from ..metrics.image import IMAGE_METRICS
from .pipeline import evaluate

DOMAIN_METRICS = "fid,fid-inf,kid,is,pr,dc,modes,memorization"
INCEPTION_METRICS = "fid,fid-inf,kid,pr"
END_EXTRACTORS = ("domain", "inception") + CLASSIFIER_DOMAINS


def _ssim_window(hw) -> int:
    """Wang et al.'s 11 x 11 window, or the largest odd window that fits smaller images (8x8 digits: 7)."""
    m = min(int(hw[0]), int(hw[1]), 11)
    return m if m % 2 else m - 1


def _recon_section(model, real_spec, data_root, n) -> tuple[dict, str]:
    """Reconstruction metrics (autoencoders) or ELBO / bits-per-dim (VAE) on held-out data."""
    from ..metrics.image import MSE, PSNR, SSIM, BitsPerDim
    from ..sources import load_images
    from ..utils.seeding import as_torch_generator

    data = load_images(real_spec, n=n, data_root=data_root)
    x = torch.from_numpy(data.images)
    with torch.no_grad():
        xm = model.to_model_range(x)
        if model.kind == "vae":
            out = model.negative_elbo(xm, as_torch_generator(0))
            r = BitsPerDim(num_dims=int(np.prod(x.shape[1:]))).update(out["per_sample"].numpy()).compute()
            vals = {"nelbo_nats": float(r.nelbo), "nelbo_sem": float(r.nelbo_sem), "bits_per_dim": float(r.bits_per_dim)}
            rec = model.to_uint8(model.decode(model.encode(xm)[0]))
        else:
            rec = model.to_uint8(model.reconstruct(xm))
        orig = x.numpy()
        recon = rec.numpy()
        vals = {**(vals if model.kind == "vae" else {}),
                "mse": MSE(data_range=255.0).update(orig, recon).compute(),
                "psnr_db": PSNR(data_range=255.0).update(orig, recon).compute(),
                "ssim": SSIM(data_range=255.0, win_size=_ssim_window(orig.shape[-2:])).update(orig, recon).compute(),
                "ssim_window": _ssim_window(orig.shape[-2:])}
    rows = "".join(f"<tr><td>{html.escape(k)}</td><td class=num>{v:.4g}</td></tr>" for k, v in vals.items() if v is not None)
    return vals, f"<p class=muted>{html.escape(data.origin)}, n={len(data)}</p><table>{rows}</table>"


def evaluate_run(run_dir, real: str | None = None, n: int = 10000, inception_n: int | None = 2000, data_root=None,
                 seed: int = 0, progress: bool = True, bootstrap: int = 20, domain: str | None = None,
                 extractors=("domain", "inception"), metrics=None) -> dict:
    """Evaluate `run_dir/checkpoint.pt` against `real` with the domain classifier (if the data has one)
    and with Inception; write report.html / report.json / evaluation.json into the run folder.

    Args:
        run_dir: the run folder (holds checkpoint.pt).
        real: the real data (default ``mnist:test``).
        n: generated samples for the classifier pass.
        inception_n: samples per side for the Inception pass (falsy: skipped).
        data_root: dataset folder.
        seed: the sampling and metric seed.
        progress: show progress bars.
        bootstrap: replicates of the classifier pass's intervals.
        domain: the classifier extractor ("mnist" / "fashion-mnist"); default: the dataset of `real`
            (the shared rule, evaluation/domain.py).
        extractors: which passes run, from "domain" (that classifier), "mnist", "fashion-mnist" (an
            explicit classifier) and "inception" (skipped when inception_n is falsy).
        metrics: for the classifier pass (default DOMAIN_METRICS); the Inception pass computes those of
            them that need only features (default INCEPTION_METRICS).

    Returns:
        The written paths (``html``, ``json``, ``evaluation_json`` ...), ``seconds`` and the
        ``headline`` values per extractor.

    Raises:
        InvalidArgumentError: unknown extractors, or nothing to evaluate with.
        CheckpointError: no readable checkpoint in `run_dir`.

    Example:
        >>> evaluate_run("runs/demo", extractors=("vgg",))
        Traceback (most recent call last):
        ...
        gmeval.errors.InvalidArgumentError: Argument `extractors` must be a non-empty list from ['domain', 'inception', 'mnist', 'fashion-mnist'], but got ['vgg'].
    """
    bad = [e for e in extractors if e not in END_EXTRACTORS]
    if bad or not extractors:
        raise InvalidArgumentError("extractors", f"a non-empty list from {list(END_EXTRACTORS)}", list(extractors))
    names = list(IMAGE_METRICS.parse(metrics or DOMAIN_METRICS))
    inc_names = [m for m in names if IMAGE_METRICS[m].needs == ("features",)] if metrics else list(IMAGE_METRICS.parse(INCEPTION_METRICS))
    classifiers = [e for e in extractors if e in CLASSIFIER_DOMAINS]
    if classifiers:
        domain = classifiers[0]
    run = Path(run_dir)
    ckpt = run / "checkpoint.pt"
    model = load_model(ckpt)
    real = real or "mnist:test"
    t0 = time.perf_counter()
    sections = []
    summary: dict = {}
    domain = choose_classifier(real, domain) if (classifiers or "domain" in extractors) else None
    inception_n = inception_n if "inception" in extractors else None
    if domain is None and not inception_n:
        raise InvalidArgumentError("domain", "a classifier domain (mnist, fashion-mnist) or inception_n > 0: nothing to "
                                   f"evaluate {real!r} with", None)
    primary = None
    if domain is not None:
        primary = evaluate(real, ckpt, names, extractor=domain, n=n, seed=seed, data_root=data_root,
                           bootstrap=bootstrap, progress=progress, n_train=10000)
        summary[domain] = primary.to_json()
    if inception_n and inc_names:
        try:
            inc = evaluate(real, ckpt, inc_names, extractor="inception", n=inception_n, n_real=inception_n,
                           seed=seed, data_root=data_root, progress=progress)
            summary["inception"] = inc.to_json()
            from ..reports.html import metrics_table

            sections.append((f"Inception-v3 features (n = {inception_n} real, {inception_n} generated)",
                             metrics_table(summary["inception"]["metrics"]) + f"<p class=muted>took {inc.timings['total']:.1f} s</p>"))
            if primary is None:
                primary = inc
        except WeightsError as exc:
            sections.append(("Inception-v3 features", f"<p>not computed: {html.escape(str(exc))}</p>"))
    if model.kind in ("autoencoder", "vae"):
        vals, body = _recon_section(model, real, data_root, min(n, 10000))
        summary["reconstruction"] = vals
        sections.append(("Reconstruction" + (" and likelihood" if model.kind == "vae" else ""), body))
    from ..reports.html import write_report
    import json

    paths = write_report(primary, run, title=f"gmeval report: {model.name} ({run})", run_dir=run, extra_sections=sections,
                         extra_files={"evaluation.json": json.dumps(summary, indent=2, sort_keys=True, default=str) + "\n"})
    return {**paths, "evaluation_json": str(run / "evaluation.json"), "seconds": time.perf_counter() - t0,
            "headline": {ext: {k: v["value"] for k, v in s["metrics"].items()} for ext, s in summary.items() if "metrics" in s}}
