"""prdc_score with each tile compute dtype on the same features, in one process: time and identity.

    python benchmarks/bench_knn_dtypes.py [N] [DTYPE ...]     # default 10000 bfloat16 float32

Features: bench_anchors' synthetic Inception-like 2048-d float32 features (10k vs 10k by default).
Prints one JSON line per dtype, then whether values and per-sample details equal the first dtype's.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def main() -> int:
    import numpy as np
    import torch  # noqa: F401  (imported before timing: bfloat16 tiles run in torch)
    from bench_anchors import _inception_like

    from gmeval.metrics.image import prdc_score

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    dtypes = sys.argv[2:] or ["bfloat16", "float32"]
    real, fake = _inception_like(n, 2048, 0), _inception_like(n, 2048, 1, shift=0.02)
    res = {}
    for dt in dtypes:
        t = time.perf_counter()
        res[dt] = prdc_score(real, fake, compute_dtype=dt, details=True)
        print(json.dumps({"compute_dtype": dt, "seconds": time.perf_counter() - t, "loadavg": os.getloadavg(),
                          **res[dt].as_dict()}), flush=True)
    first = res[dtypes[0]]
    keys = ("real_radii_pr", "fake_radii_pr", "real_radii_dc", "fake_density_counts", "real_covered")
    for dt in dtypes[1:]:
        same = first.as_dict() == res[dt].as_dict() and all(np.array_equal(getattr(first, k), getattr(res[dt], k))
                                                             for k in keys)
        print(json.dumps({"identical_to_" + dtypes[0]: same, "compute_dtype": dt}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
