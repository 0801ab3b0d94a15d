"""Where bf16 Inception loses its accuracy: gmeval's bf16 mode against oneDNN's bf16 "fpmath" mode.

Modes (pool3 features):
- float32: the canonical network;
- bf16: gmeval's `--precision bf16` (bf16 weights, conv inputs and layer outputs);
- fpmath: the canonical float32 network with `torch.backends.mkldnn.conv.fp32_precision = "bf16"`
  (float32 tensors; oneDNN rounds conv inputs and weights to bf16, accumulates and outputs float32).

For one mode per process (oneDNN reads the flag when it builds its kernels): the time of two calls on
64 MNIST test images (batch 32), then, with --cache (the --out directory of bench_precision.py, whose
float32 chunks are the reference), FID of Fashion-MNIST train vs test on the first N images against the
cached float32 FID.

    GMEVAL_DATA=../shared/data python benchmarks/bench_bf16_variants.py fpmath -n 1000 --cache benchmarks/out/precision
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

PAIR = ("fashion-mnist:train", "fashion-mnist:test")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("mode", choices=("float32", "bf16", "fpmath"))
    p.add_argument("-n", type=int, default=1000, help="images per set for the FID (a multiple of 250; 0: speed only)")
    p.add_argument("--cache", default=None, help="bench_precision.py's --out directory (float32 reference chunks)")
    args = p.parse_args(argv)

    import numpy as np
    import torch

    from gmeval.data import load_dataset
    from gmeval.features import extract_features, get_extractor
    from gmeval.metrics.image.fid import fid_distance

    ext = get_extractor("inception", precision="bf16" if args.mode == "bf16" else "float32")
    if args.mode == "fpmath":
        torch.backends.mkldnn.conv.fp32_precision = "bf16"
        torch.backends.mkldnn.matmul.fp32_precision = "bf16"
    images = load_dataset("mnist:test").subset(slice(0, 64))
    extract_features(ext, images.subset(slice(0, 32)), batch_size=32)  # warm-up: oneDNN builds its kernels
    seconds = []
    for _ in range(2):
        t = time.perf_counter()
        extract_features(ext, images, batch_size=32)
        seconds.append(time.perf_counter() - t)
    out = {"mode": args.mode, "seconds_64_images": seconds}
    if args.n and args.cache:
        feats, ref = {}, {}
        for name in PAIR:
            feats[name] = extract_features(ext, load_dataset(name).subset(slice(0, args.n)), batch_size=64)["pool3"]
            ref[name] = np.concatenate([np.load(Path(args.cache) / f"{name.replace(':', '_')}_float32_{c}-{c + 250}.npy")
                                        for c in range(0, args.n, 250)])
        f32, low = fid_distance(ref[PAIR[0]], ref[PAIR[1]]), fid_distance(feats[PAIR[0]], feats[PAIR[1]])
        out.update(n=args.n, fid_float32=f32, fid_mode=low, rel_dev=abs(low - f32) / f32)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
