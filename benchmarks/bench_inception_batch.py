"""Canonical float32 vs --precision bf16 Inception img/s by batch size, alternating, in one process.

    GMEVAL_DATA=../shared/data python benchmarks/bench_inception_batch.py [N_IMAGES] [BATCH ...]   # 128 32 128
"""

from __future__ import annotations

import json
import os
import sys
import time


def main() -> int:
    import torch

    from gmeval.data import load_dataset
    from gmeval.features import extract_features, get_extractor

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 128
    batches = [int(b) for b in sys.argv[2:]] or [32, 128]
    x = load_dataset("mnist:test").images[:n]
    ext = {p: get_extractor("inception", precision=p) for p in ("float32", "bf16")}
    with torch.inference_mode():
        for e in ext.values():
            e(torch.from_numpy(x[:4]))  # warm-up (oneDNN primitive creation)
    for bs in batches:
        for prec, e in ext.items():
            t = time.perf_counter()
            extract_features(e, x, batch_size=bs, progress=False)
            print(json.dumps({"batch": bs, "precision": prec, "images_per_s": n / (time.perf_counter() - t),
                              "loadavg": os.getloadavg()}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
