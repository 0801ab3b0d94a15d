"""Measure how far gmeval's float32 path lands from the pinned float64 reference values.

Runs the same computation as tests/features/test_pinned_reference.py and prints, per extractor
configuration, the largest relative deviation of the statistics, FID and KID, and the CPU kernel
path in use. Force other kernel paths with environment variables, e.g.

    cd <repo> && PYTHONPATH=src GMEVAL_DATA=/path/to/data ATEN_CPU_CAPABILITY=avx2 \\
        python tests/reference/measure_deviations.py --threads 1

(ATEN_CPU_CAPABILITY = default | avx2 | avx512 selects PyTorch's vectorised kernels;
DNNL_MAX_CPU_ISA = SSE41 | AVX2 | AVX512_CORE ... caps oneDNN, which runs the float32 convolutions.)
With --features REF.npz (from make_pinned_values.py --save-features) it also reports the largest
feature deviation relative to the largest feature.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root: `tests` as a package
from make_pinned_values import base_parser  # noqa: E402  (this folder is on sys.path when run as a script)
from tests.features import test_pinned_reference as t  # noqa: E402


def main(argv=None) -> None:
    ap = base_parser(__doc__)
    ap.add_argument("--features", help="reference features .npz from make_pinned_values.py --save-features")
    ap.add_argument("--save-features", help="write gmeval's features to this .npz")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    from gmeval.features import get_extractor

    ref = np.load(args.features) if args.features else None
    env = {k: os.environ.get(k, "") for k in ("ATEN_CPU_CAPABILITY", "DNNL_MAX_CPU_ISA")}
    report = {"env": env, "threads": args.threads, "cpu_capability": torch.backends.cpu.get_cpu_capability(), "runs": {}}
    configs = [("classifier", ds, lambda ds=ds: get_extractor(ds), t.N_CLASSIFIER) for ds in ("mnist", "fashion-mnist")]
    configs += [("inception", m, lambda m=m: get_extractor("inception", preprocess=m), t.N_INCEPTION) for m in args.modes]
    saved = {}
    for kind, name, build, n in configs:
        values, feats = t.gmeval_values(build(), n)
        saved.update({f"{kind}/{name}/{s}": f for s, f in feats.items()})
        dev = t.deviations(values, t.PINNED[kind][name])
        try:  # the test module's own assertions
            t.check(values, t.PINNED[kind][name])
            dev["passes"] = True
        except AssertionError:
            dev["passes"] = False
        if ref is not None:
            dev["features"] = max(float(np.abs(feats[s] - ref[f"{kind}/{name}/{s}"]).max() / np.abs(ref[f"{kind}/{name}/{s}"]).max())
                                  for s in t.SETS)
        report["runs"][f"{kind}/{name}"] = dev
        print(f"{kind}/{name}: " + ", ".join(f"{k} {v:.2e}" for k, v in dev.items()), file=sys.stderr)
    if args.save_features:
        np.savez(args.save_features, **saved)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
