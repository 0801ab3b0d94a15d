"""Metric-formula benchmark: FID route vs scipy sqrtm, PRDC time/peak memory at 10k x 10k, KID time,
and the calibration of bootstrap intervals for the k-NN metrics.

Sections (all on synthetic features with fixed seeds; nothing is downloaded):

1. FID from 2048-d statistics (10k Inception-pool3-like samples per side): gmeval's
   `frechet_distance` (Cholesky factor + symmetric eigenvalues) vs the pytorch-fid route
   (`scipy.linalg.sqrtm(S1 @ S2)`, real part), both in float64. Runs alternate (ours, sqrtm,
   ours, sqrtm, ...) so that both see the same machine load; the minimum per side is reported.
2. Precision/recall (k=3) + density/coverage (k=5) on 10k vs 10k random 2048-d features:
   wall time and peak extra memory (tracemalloc: numpy allocations after the inputs exist),
   for float64 and float32 tile products.
3. KID at its defaults (100 subsets of 1000, cubic kernel) on 10k vs 10k 2048-d features.
4. Bootstrap calibration for PRDC (N = 500 per side, D = 32): spread of the metric over fresh
   samples from the distribution vs the replicates of scheme="replacement" and scheme="half".

    python benchmarks/bench_metrics.py                     # everything (~5-15 min on 2 busy cores)
    python benchmarks/bench_metrics.py --skip fid --json out.json
    python benchmarks/bench_metrics.py --blas-threads 1    # pin BLAS threads (helps on oversubscribed machines)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import tracemalloc

SECTIONS = ("fid", "prdc", "kid", "bootstrap")


def _inception_like(n, d, seed, shift=0.0):
    import numpy as np

    rng = np.random.default_rng(seed)
    a = np.random.default_rng(1234).standard_normal((d, 256)) / 16.0
    x = np.maximum(rng.standard_normal((n, 256)) @ a.T * 0.5 + 0.3 + shift, 0.0)
    return x + 0.02 * rng.standard_normal((n, d))


def bench_fid(repeats: int) -> dict:
    import numpy as np
    from scipy import linalg

    from gmeval.metrics.frechet import frechet_distance
    from gmeval.stats import GaussianStats

    s1 = GaussianStats.from_features(_inception_like(10_000, 2048, 0))
    s2 = GaussianStats.from_features(_inception_like(10_000, 2048, 1, shift=0.02))
    mu1, c1, mu2, c2 = s1.mean, s1.cov, s2.mean, s2.cov

    def sqrtm_route():
        covmean = linalg.sqrtm(c1 @ c2)
        d = mu1 - mu2
        return float(d @ d + np.trace(c1) + np.trace(c2) - 2.0 * np.trace(np.real(covmean)))

    t_ours, t_ref, v_ours, v_ref = [], [], None, None
    for _ in range(repeats):
        t = time.perf_counter()
        v_ours = frechet_distance(mu1, c1, mu2, c2)
        t_ours.append(time.perf_counter() - t)
        t = time.perf_counter()
        v_ref = sqrtm_route()
        t_ref.append(time.perf_counter() - t)
    return {"dim": 2048, "n_per_side": 10_000, "ours_s": min(t_ours), "sqrtm_s": min(t_ref),
            "ours_all_s": t_ours, "sqrtm_all_s": t_ref, "speedup": min(t_ref) / min(t_ours),
            "fid_ours": v_ours, "fid_sqrtm": v_ref, "rel_diff": abs(v_ours - v_ref) / abs(v_ref)}


def bench_prdc(block_size: int) -> dict:
    import numpy as np

    from gmeval.metrics.image import prdc_score
    from gmeval.metrics.image.knn import block_memory_bytes

    rng = np.random.default_rng(0)
    real = rng.standard_normal((10_000, 2048)).astype(np.float32)
    fake = rng.standard_normal((10_000, 2048)).astype(np.float32)  # same distribution
    out = {"n_real": 10_000, "n_fake": 10_000, "dim": 2048, "block_size": block_size,
           "inputs_mb": (real.nbytes + fake.nbytes) / 1e6,
           "one_full_distance_matrix_mb": 10_000 * 10_000 * 8 / 1e6,
           "tile_estimate_mb": block_memory_bytes(block_size, 2048) / 1e6}
    for dt in ("float64", "float32"):
        tracemalloc.start()
        t = time.perf_counter()
        res = prdc_score(real, fake, block_size=block_size, compute_dtype=dt)
        elapsed = time.perf_counter() - t
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        out[dt] = {"seconds": elapsed, "peak_extra_mb": peak / 1e6, **res.as_dict()}
    try:
        import resource

        out["process_max_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3
    except ImportError:  # pragma: no cover - not on Windows
        pass
    return out


def bench_kid() -> dict:
    import numpy as np

    from gmeval.metrics.image import kid_distance

    real = _inception_like(10_000, 2048, 2).astype(np.float32)
    fake = _inception_like(10_000, 2048, 3, shift=0.02).astype(np.float32)
    t = time.perf_counter()
    res = kid_distance(real, fake)
    return {"seconds": time.perf_counter() - t, **res.as_dict()}


def bench_bootstrap(n: int = 500, d: int = 32, n_fresh: int = 40, n_boot: int = 40) -> dict:
    import numpy as np

    from gmeval.metrics.image import bootstrap_ci, prdc_score

    keys = ("precision", "recall", "density", "coverage")
    rng = np.random.default_rng(0)

    def draw():
        return rng.standard_normal((n, d)), rng.standard_normal((n, d)) * 1.05 + 0.1

    fresh = np.array([[getattr(prdc_score(*draw()), k) for k in keys] for _ in range(n_fresh)])
    real, fake = draw()
    out = {"n_per_side": n, "dim": d, "n_fresh_samples": n_fresh, "n_boot": n_boot,
           "fresh_mean": dict(zip(keys, fresh.mean(0))), "fresh_std": dict(zip(keys, fresh.std(0, ddof=1)))}
    for scheme in ("replacement", "half"):
        res = bootstrap_ci(lambda r, f: prdc_score(r, f), real, fake, n_boot=n_boot, seed=1, scheme=scheme,
                           keys=list(keys))
        out[scheme] = {k: {"point": v.point, "replicate_mean": float(v.replicates.mean()), "std": v.std,
                           "low": v.low, "high": v.high, "contains_point": bool(v.low <= v.point <= v.high)}
                       for k, v in res.items()}
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--skip", nargs="*", default=[], choices=SECTIONS, help="sections to skip")
    p.add_argument("--repeats", type=int, default=2, help="alternating repeats of the FID comparison (min reported)")
    p.add_argument("--block-size", type=int, default=1024, help="k-NN tile size for PRDC (default 1024)")
    p.add_argument("--blas-threads", type=int, default=None, help="limit BLAS threads (threadpoolctl); default: unchanged")
    p.add_argument("--json", default=None, help="also write the results to this JSON file")
    args = p.parse_args(argv)

    import numpy as np

    limiter = None
    if args.blas_threads is not None:
        from threadpoolctl import threadpool_limits

        limiter = threadpool_limits(args.blas_threads)
    results = {"python": sys.version.split()[0], "numpy": np.__version__, "cpu_count": os.cpu_count(),
               "blas_threads": args.blas_threads, "loadavg_start": os.getloadavg()}
    import scipy

    results["scipy"] = scipy.__version__

    if "fid" not in args.skip:
        r = results["fid"] = bench_fid(args.repeats)
        print(f"[fid] 2048-d stats: ours {r['ours_s']:.2f} s, scipy sqrtm {r['sqrtm_s']:.2f} s -> {r['speedup']:.1f}x; "
              f"FID {r['fid_ours']:.6f} vs {r['fid_sqrtm']:.6f} (rel diff {r['rel_diff']:.2e})", flush=True)
    if "prdc" not in args.skip:
        r = results["prdc"] = bench_prdc(args.block_size)
        for dt in ("float64", "float32"):
            q = r[dt]
            print(f"[prdc] 10k x 10k, 2048-d, {dt}: {q['seconds']:.1f} s, peak extra memory {q['peak_extra_mb']:.0f} MB "
                  f"(one full distance matrix: {r['one_full_distance_matrix_mb']:.0f} MB); "
                  f"P={q['precision']:.4f} R={q['recall']:.4f} D={q['density']:.4f} C={q['coverage']:.4f}", flush=True)
    if "kid" not in args.skip:
        r = results["kid"] = bench_kid()
        print(f"[kid] defaults ({r['n_subsets']} x {r['subset_size']}), 10k vs 10k 2048-d: {r['seconds']:.1f} s; "
              f"KID {r['mean']:.3e} +- {r['std']:.1e}", flush=True)
    if "bootstrap" not in args.skip:
        r = results["bootstrap"] = bench_bootstrap()
        for k in ("precision", "recall", "density", "coverage"):
            rep, half = r["replacement"][k], r["half"][k]
            print(f"[bootstrap] {k:9s} fresh samples: mean {r['fresh_mean'][k]:.4f} sd {r['fresh_std'][k]:.4f} | "
                  f"point {rep['point']:.4f} | replacement: mean {rep['replicate_mean']:.4f} sd {rep['std']:.4f} "
                  f"CI contains point: {rep['contains_point']} | half: mean {half['replicate_mean']:.4f} "
                  f"sd {half['std']:.4f} CI contains point: {half['contains_point']}", flush=True)
    results["loadavg_end"] = os.getloadavg()
    print(f"load average: start {results['loadavg_start']}, end {results['loadavg_end']}")
    if args.json:
        from gmeval.utils import atomic_write_text

        atomic_write_text(args.json, json.dumps(results, indent=2, default=float))
    if limiter is not None:
        limiter.restore_original_limits()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
