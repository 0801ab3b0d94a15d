"""P/R (k=3) + D/C (k=5) at 50k vs 50k, 2048-d float32 (synthetic Inception-like features): wall time and
process peak memory. The default compute_dtype ("auto": bfloat16 tiles on AMX / AVX512-BF16 CPUs) unless
given as the second argument.

    /usr/bin/time -v python benchmarks/bench_prdc_50k.py [N] [COMPUTE_DTYPE]   # one JSON line, then time's report
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time



def _inception_like_chunked(n, d, seed, shift=0.0, chunk=5000):
    """bench_anchors._inception_like's distribution, generated in row chunks so that making the inputs
    does not set the process's peak memory (the values differ from one unchunked call)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    a = np.random.default_rng(1234).standard_normal((d, 256)) / 16.0
    out = np.empty((n, d), np.float32)
    for i in range(0, n, chunk):
        m = min(chunk, n - i)
        x = np.maximum(rng.standard_normal((m, 256)) @ a.T * 0.5 + 0.3 + shift, 0.0)
        out[i:i + m] = x + 0.02 * rng.standard_normal((m, d))
    return out


def main() -> int:
    import torch  # noqa: F401  (imported before timing: bfloat16 tiles run in torch)

    from gmeval.metrics.image import prdc_score

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    compute_dtype = sys.argv[2] if len(sys.argv) > 2 else "auto"
    real, fake = _inception_like_chunked(n, 2048, 0), _inception_like_chunked(n, 2048, 1, shift=0.02)
    load0 = os.getloadavg()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t = time.perf_counter()
    res = prdc_score(real, fake, compute_dtype=compute_dtype)
    seconds = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"n_per_side": n, "compute_dtype": compute_dtype, "seconds": seconds, "process_peak_rss_mb": peak, "inputs_and_imports_mb": before,
                      "peak_extra_mb": peak - before, "loadavg_start": load0, "loadavg_end": os.getloadavg(), **res.as_dict()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
