"""Measure how far gmeval's numbers move across kernel paths, thread counts and batch shapes.

The measured column of docs/tolerances.md comes from this script:

    GMEVAL_DATA=../shared/data .venv/bin/python benchmarks/tolerances.py            # all configurations
    GMEVAL_DATA=../shared/data .venv/bin/python benchmarks/tolerances.py --quick    # classifier + sampling only

Each configuration runs in its own process (the kernel-path variables are read when torch loads):
`worker` extracts features and draws samples under that configuration and saves them; the driver then
computes every metric from every configuration's features in ONE process (so the metric formulas'
own float64 rounding is the same for all) and reports the largest deviation from the reference
configuration (this CPU's native kernels, 2 threads, default batch sizes). Results go to
benchmarks/out/tolerances.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
N_CLS, N_INC, N_SAMPLES = 2000, 96, 300

# name -> (environment, threads, classifier batch, inception batch)
CONFIGS = {
    "reference": ({}, 2, 500, 64),
    "threads=1": ({}, 1, 500, 64),
    "batch 7/16": ({}, 2, 7, 16),
    "ATEN=avx2, DNNL=AVX2, MKL=AVX2": ({"ATEN_CPU_CAPABILITY": "avx2", "DNNL_MAX_CPU_ISA": "AVX2",
                                        "MKL_ENABLE_INSTRUCTIONS": "AVX2"}, 2, 500, 64),
    "ATEN=default, threads=1": ({"ATEN_CPU_CAPABILITY": "default"}, 1, 500, 64),
}


def worker(out: Path, cls_batch: int, inc_batch: int, quick: bool) -> None:
    import torch

    from gmeval.data import load_dataset
    from gmeval.features import extract_features, get_extractor
    from gmeval.models import build_model

    res = {}
    a = load_dataset("mnist:test").subset(slice(0, N_CLS))
    b = load_dataset("mnist:train").subset(slice(0, N_CLS))
    c = load_dataset("fashion-mnist:test").subset(slice(0, N_CLS))
    ext = get_extractor("mnist")
    for name, data in (("cls_a", a), ("cls_b", b), ("cls_c", c)):
        res[name] = extract_features(ext, data, batch_size=cls_batch, progress=False)["features"]
    if not quick:
        inc = get_extractor("inception", preprocess="tf1")
        for name, data in (("inc_a", a), ("inc_c", c)):
            res[name] = extract_features(inc, data.subset(slice(0, N_INC)), batch_size=inc_batch, progress=False)["pool3"]
    for model_name in ("mlp-gan", "dcgan", "vae"):
        torch.manual_seed(0)  # seeded initial weights: the same untrained network in every configuration
        model = build_model(model_name, image_shape=(1, 28, 28))
        res[f"samples_{model_name}"] = model.sample(N_SAMPLES, seed=1).numpy()
    res["threads"] = np.array(torch.get_num_threads())
    np.savez(out, **res)


def _rel(x, ref) -> float:
    return float(abs(x - ref) / abs(ref)) if ref != 0 else float(abs(x - ref))


def metrics_of(f: dict) -> dict:
    from gmeval.metrics.image.fid import fid_distance
    from gmeval.metrics.image.kid import kid_distance
    from gmeval.metrics.image.prdc import prdc_score

    out = {}
    pairs = [("cls", "a", "b"), ("cls", "a", "c")] + ([("inc", "a", "c")] if "inc_a" in f else [])
    for kind, p, q in pairs:
        x, y = f[f"{kind}_{p}"], f[f"{kind}_{q}"]
        tag = f"{kind} {p}-{q}"
        out[f"FID {tag}"] = fid_distance(x, y)
        out[f"KID {tag}"] = kid_distance(x, y, n_subsets=1, subset_size=min(len(x), len(y)), seed=0).mean
        r = prdc_score(x, y)
        for k in ("precision", "recall", "density", "coverage"):
            out[f"{k} {tag}"] = float(getattr(r, k))
    return out


def driver(args) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    runs = {}
    for name, (env, threads, cb, ib) in CONFIGS.items():
        path = OUT / f"tol_{len(runs)}.npz"
        t0 = time.perf_counter()
        full_env = {**os.environ, **env, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
        cmd = [sys.executable, __file__, "worker", str(path), str(cb), str(ib)] + (["--quick"] if args.quick else [])
        subprocess.run(cmd, check=True, env=full_env)
        print(f"{name}: {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        with np.load(path) as z:
            runs[name] = {k: z[k] for k in z.files}

    ref = runs["reference"]
    ref_metrics = metrics_of(ref)
    rows = []
    for name, f in runs.items():
        if name == "reference":
            continue
        row = {"config": name, "threads": int(f["threads"])}
        for kind in ("cls", "inc"):
            keys = [k for k in ref if k.startswith(kind + "_")]
            if keys:
                # largest elementwise deviation, in units of the layer's largest |value|
                row[f"{kind} features max|d|/max|f|"] = max(float(np.abs(f[k] - ref[k]).max() / np.abs(ref[k]).max())
                                                         for k in keys)
        for k in ("samples_mlp-gan", "samples_dcgan", "samples_vae"):
            d = np.abs(f[k].astype(int) - ref[k].astype(int))
            row[f"{k}: pixels differing"] = float((d > 0).mean())
            row[f"{k}: max |d| (of 255)"] = int(d.max())
        m = metrics_of(f)
        for k, v in m.items():
            if k.split()[0] in ("precision", "recall", "density", "coverage"):
                n = N_CLS if k.split()[1] == "cls" else N_INC
                row[f"{k} |d| x N"] = round(abs(v - ref_metrics[k]) * n, 3)
            else:
                row[f"{k} rel"] = _rel(v, ref_metrics[k])
        rows.append(row)

    # float64 only: the same features, statistics summed in another order (blocks merged as under torchrun)
    from gmeval.metrics.frechet import frechet_distance_from_stats
    from gmeval.stats import GaussianStats

    order = {}
    for kind, p, q in [("cls", "a", "b"), ("cls", "a", "c")] + ([("inc", "a", "c")] if "inc_a" in ref else []):
        x, y = ref[f"{kind}_{p}"], ref[f"{kind}_{q}"]
        one = frechet_distance_from_stats(GaussianStats.from_features(x), GaussianStats.from_features(y))
        sx = GaussianStats.from_features(x[1::2]).merge(GaussianStats.from_features(x[0::2]))
        sy = GaussianStats.from_features(y[1::2]).merge(GaussianStats.from_features(y[0::2]))
        order[f"FID {kind} {p}-{q}"] = _rel(frechet_distance_from_stats(sx, sy), one)

    cpu = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
                if l.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else platform.processor()
    report = {"cpu": cpu, "cores": os.cpu_count(), "load_avg": os.getloadavg(), "reference": ref_metrics,
              "deviations": rows, "float64_merge_order_rel": order}
    (OUT / "tolerances.json").write_text(json.dumps(report, indent=1))
    keys = sorted({k for r in rows for k in r} - {"config", "threads"})
    lines = [f"Measured on {cpu}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; deviation from the reference "
             f"configuration (native kernels, 2 threads, batch 500/64).", "",
             "| quantity | " + " | ".join(r["config"] for r in rows) + " | max |", "|---" * (len(rows) + 2) + "|"]
    for k in keys:
        vals = [r.get(k, float("nan")) for r in rows]
        lines.append(f"| {k} | " + " | ".join(f"{v:.2g}" for v in vals) + f" | {max(vals):.2g} |")
    lines += ["", "Same features, float64 statistics merged in another order (FID relative change):", ""]
    lines += [f"- {k}: {v:.2g}" for k, v in order.items()]
    (OUT / "tolerances.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        worker(Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), "--quick" in sys.argv)
    else:
        ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
        ap.add_argument("--quick", action="store_true", help="classifier features and sampling only (no Inception)")
        driver(ap.parse_args())
