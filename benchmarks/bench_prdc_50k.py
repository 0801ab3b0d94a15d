"""P/R (k=3) + D/C (k=5) at 50k vs 50k, 2048-d float32 (Inception-like): wall time and process peak memory.

    python benchmarks/bench_prdc_50k.py            # prints one JSON line
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def main() -> int:
    from bench_anchors import _inception_like

    from gmeval.metrics.image import prdc_score

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    real, fake = _inception_like(n, 2048, 0), _inception_like(n, 2048, 1, shift=0.02)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t = time.perf_counter()
    res = prdc_score(real, fake)
    seconds = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"n_per_side": n, "seconds": seconds, "process_peak_rss_mb": peak, "inputs_and_imports_mb": before,
                      "peak_extra_mb": peak - before, "loadavg_end": os.getloadavg(), **res.as_dict()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
