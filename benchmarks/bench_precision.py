"""Reduced-precision Inception: throughput and FID deviation against the canonical float32 mode.

pool3 features of the first N images of MNIST train, MNIST test, Fashion-MNIST train and
Fashion-MNIST test are extracted with the canonical float32 network and with `--precision`
(default bf16, the CPU mode), in chunks of `--chunk` images that alternate between the two modes
(and the four sets), so both modes see the same machine load. Every chunk is cached in --out: a
run can be stopped at any time and resumed, and the summary uses the largest N for which all
eight (set, mode) features exist. Then FID on the three canonical pairs (MNIST train vs test,
Fashion-MNIST train vs test, MNIST train vs Fashion-MNIST train; MNIST test vs Fashion-MNIST test
as a fourth) with both feature sets, |dFID| / FID, and images/s per mode.

    GMEVAL_DATA=../shared/data python benchmarks/bench_precision.py -n 5000 --out benchmarks/out/precision
    python benchmarks/bench_precision.py --summarise-only --out benchmarks/out/precision
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

SETS = ("mnist:train", "mnist:test", "fashion-mnist:train", "fashion-mnist:test")
# the three canonical pairs (train vs test of each data set, MNIST vs Fashion-MNIST), then a second cross pair
PAIRS = (("mnist:train", "mnist:test"), ("fashion-mnist:train", "fashion-mnist:test"),
         ("mnist:train", "fashion-mnist:train"), ("mnist:test", "fashion-mnist:test"))


def _chunk_file(out: Path, name: str, prec: str, start: int, chunk: int) -> Path:
    return out / f"{name.replace(':', '_')}_{prec}_{start}-{start + chunk}.npy"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("-n", type=int, default=5000, help="images per set (default 5000)")
    p.add_argument("--chunk", type=int, default=250, help="images per cached chunk (default 250)")
    p.add_argument("--precision", default="bf16")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--out", default="benchmarks/out/precision")
    p.add_argument("--json", default=None, help="summary file (default OUT/summary.json)")
    p.add_argument("--summarise-only", action="store_true",
                   help="extract nothing; summarise the largest N whose features are all cached")
    args = p.parse_args(argv)

    import numpy as np

    from gmeval.metrics.image.fid import fid_distance
    from gmeval.utils import atomic_write_text

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    precs = ("float32", args.precision)
    timing_file = out / "timings.json"
    timings = json.loads(timing_file.read_text()) if timing_file.exists() else {}
    if not args.summarise_only:
        from gmeval.data import load_dataset
        from gmeval.features import extract_features, get_extractor

        exts = {prec: get_extractor("inception", precision=prec) for prec in precs}
        data = {name: load_dataset(name).subset(slice(0, args.n)) for name in SETS}
        for start in range(0, args.n, args.chunk):
            for name in SETS:
                for prec in precs:
                    f = _chunk_file(out, name, prec, start, args.chunk)
                    if f.exists():
                        continue
                    part = data[name].subset(slice(start, start + args.chunk))
                    t = time.perf_counter()
                    x = extract_features(exts[prec], part, batch_size=args.batch_size,
                                         desc=f"{name} {prec} {start}")["pool3"]
                    timings[f.name] = {"prec": prec, "seconds": time.perf_counter() - t, "images": len(x),
                                       "loadavg": os.getloadavg(), "utc": time.strftime("%H:%M:%S", time.gmtime())}
                    np.save(f, x)
                    atomic_write_text(timing_file, json.dumps(timings, indent=1))

    n = 0  # the largest N with every (set, precision) chunk cached
    while all(_chunk_file(out, s, pr, n, args.chunk).exists() for s in SETS for pr in precs) and n < args.n:
        n += args.chunk
    summary = {"n_per_set": n, "chunk": args.chunk, "precision": args.precision, "pairs": []}
    for prec in precs:
        rows = [v for v in timings.values() if v["prec"] == prec]
        secs, imgs = sum(v["seconds"] for v in rows), sum(v["images"] for v in rows)
        summary[f"images_per_s_{prec}"] = imgs / secs if secs else None
        summary[f"images_timed_{prec}"] = imgs
    if summary.get(f"images_per_s_{args.precision}") and summary.get("images_per_s_float32"):
        summary["speedup"] = summary[f"images_per_s_{args.precision}"] / summary["images_per_s_float32"]
    # each canonical chunk against the bf16 chunk of the same images, extracted right after it
    pair_ratios = sorted(timings[f.replace("_float32_", f"_{args.precision}_")]["images"]
                         / timings[f.replace("_float32_", f"_{args.precision}_")]["seconds"] / (v["images"] / v["seconds"])
                         for f, v in timings.items() if v["prec"] == "float32"
                         and f.replace("_float32_", f"_{args.precision}_") in timings)
    if pair_ratios:
        summary["speedup_per_chunk_median"] = float(np.median(pair_ratios))
        summary["speedup_per_chunk_range"] = [pair_ratios[0], pair_ratios[-1]]
    loads = [v["loadavg"][0] for v in timings.values()]
    summary["loadavg_1min_range"] = [min(loads), max(loads)] if loads else None
    if n:
        feats = {(s, pr): np.concatenate([np.load(_chunk_file(out, s, pr, c, args.chunk)) for c in range(0, n, args.chunk)])
                 for s in SETS for pr in precs}
        for a, b in PAIRS:
            f32 = fid_distance(feats[a, "float32"], feats[b, "float32"])
            low = fid_distance(feats[a, args.precision], feats[b, args.precision])
            summary["pairs"].append({"real": a, "fake": b, "fid_float32": f32, f"fid_{args.precision}": low,
                                     "rel_dev": abs(low - f32) / f32})
        diff = np.concatenate([np.abs(feats[s, args.precision] - feats[s, "float32"]).ravel() for s in SETS])
        summary["pool3_max_abs_diff"] = float(diff.max())
        summary["pool3_mean_abs_diff"] = float(diff.mean())
    atomic_write_text(args.json or out / "summary.json", json.dumps(summary, indent=1))
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
