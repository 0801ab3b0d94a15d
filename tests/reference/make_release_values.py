"""Pin the values and signatures of release 0.1.0 on a fixed input (tests/evaluation/test_release_values.py).

Run once on the release being pinned, from the repository root:

    python tests/reference/make_release_values.py      # writes tests/reference/release_0.1.0.json

The input needs no downloaded asset: the built-in `digits:` dataset (scikit-learn's 8x8 digits,
resized to 28x28) and the shipped MNIST classifier. Every image metric, 10 bootstrap replicates.
"""

from __future__ import annotations

import json
import platform
from pathlib import Path

#: the fixed input, shared with the test
CALL = dict(real="digits:test", fake="digits:train", metrics="all", extractor="mnist", bootstrap=10, seed=0,
            n=400, n_real=300)
OUT = Path(__file__).with_name("release_0.1.0.json")


def main() -> None:
    import gmeval
    from gmeval.evaluation import evaluate

    args = dict(CALL)
    r = evaluate(args.pop("real"), args.pop("fake"), args.pop("metrics"), progress=False, **args)
    metrics = r.to_json()["metrics"] if hasattr(r, "to_json") else r["metrics"]
    keep = ("value", "signature", "ci_low", "ci_high", "ci_std")
    out = {"gmeval_version": gmeval.__version__, "call": CALL, "machine": platform.processor() or platform.machine(),
           "metrics": {k: {f: v[f] for f in keep if f in v} for k, v in metrics.items()}}
    OUT.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
    print(f"wrote {OUT} ({len(out['metrics'])} values)")


if __name__ == "__main__":
    main()
