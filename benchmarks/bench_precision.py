"""Reduced-precision Inception: throughput and FID deviation against the canonical float32 mode.

For each data set (first N images of MNIST train, MNIST test, Fashion-MNIST test) pool3 features are
extracted with the canonical float32 network and with `--precision` (default bf16, the CPU mode),
alternating per set so both see the same machine load. Features are cached in --out (a second run
resumes). Then FID on three pairs (MNIST train vs test, MNIST test vs Fashion test, MNIST train vs
Fashion test) with both feature sets, and |dFID| / FID.

    GMEVAL_DATA=../shared/data python benchmarks/bench_precision.py -n 1000 --out benchmarks/out/precision
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

SETS = ("mnist:train", "mnist:test", "fashion-mnist:test")
PAIRS = (("mnist:train", "mnist:test"), ("mnist:test", "fashion-mnist:test"), ("mnist:train", "fashion-mnist:test"))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("-n", type=int, default=1000, help="images per set (default 1000)")
    p.add_argument("--precision", default="bf16")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--out", default="benchmarks/out/precision")
    p.add_argument("--json", default=None, help="summary file (default OUT/summary_N.json)")
    p.add_argument("--summarise-only", action="store_true",
                   help="extract nothing; summarise the pairs whose features are already cached")
    args = p.parse_args(argv)

    import numpy as np

    from gmeval.data import load_dataset
    from gmeval.features import extract_features, get_extractor
    from gmeval.metrics.image.fid import fid_distance
    from gmeval.utils import atomic_write_text

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    precs = ("float32", args.precision)
    exts = {} if args.summarise_only else {prec: get_extractor("inception", precision=prec) for prec in precs}
    timing_file = out / f"timings_{args.n}.json"
    timings = json.loads(timing_file.read_text()) if timing_file.exists() else {}
    feats = {}
    for name in SETS:
        data = None
        for prec in precs:
            f = out / f"{name.replace(':', '_')}_{args.n}_{prec}.npy"
            if not f.exists() and not args.summarise_only:
                ext = exts[prec]
                data = data or load_dataset(name).subset(slice(0, args.n))
                t = time.perf_counter()
                x = extract_features(ext, data, batch_size=args.batch_size, desc=f"{name} {prec}")["pool3"]
                timings[f"{name}|{prec}"] = {"seconds": time.perf_counter() - t, "images": len(x),
                                              "loadavg": os.getloadavg()}
                np.save(f, x)
                atomic_write_text(timing_file, json.dumps(timings, indent=1))
            if f.exists():
                feats[name, prec] = np.load(f)

    summary = {"n_per_set": args.n, "precision": args.precision, "timings": timings, "pairs": []}
    for prec in precs:
        secs = sum(v["seconds"] for k, v in timings.items() if k.endswith("|" + prec))
        imgs = sum(v["images"] for k, v in timings.items() if k.endswith("|" + prec))
        summary[f"images_per_s_{prec}"] = imgs / secs if secs else None
    if summary.get(f"images_per_s_{args.precision}") and summary.get("images_per_s_float32"):
        summary["speedup"] = summary[f"images_per_s_{args.precision}"] / summary["images_per_s_float32"]
    for a, b in PAIRS:
        if not all((s, p) in feats for s in (a, b) for p in precs):
            continue  # not extracted (yet)
        f32 = fid_distance(feats[a, "float32"], feats[b, "float32"])
        low = fid_distance(feats[a, args.precision], feats[b, args.precision])
        summary["pairs"].append({"real": a, "fake": b, "fid_float32": f32, f"fid_{args.precision}": low,
                                 "rel_dev": abs(low - f32) / f32})
    diff = np.concatenate([np.abs(feats[s, args.precision] - feats[s, "float32"]).ravel() for s in SETS
                           if (s, args.precision) in feats and (s, "float32") in feats])
    summary["pool3_max_abs_diff"] = float(diff.max())
    summary["pool3_mean_abs_diff"] = float(diff.mean())
    atomic_write_text(args.json or out / f"summary_{args.n}.json", json.dumps(summary, indent=1))
    print(json.dumps({k: v for k, v in summary.items() if k != "timings"}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
