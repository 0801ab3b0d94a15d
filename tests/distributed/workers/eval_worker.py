"""Run under torchrun: evaluate the same inputs several ways and let rank 0 write what it got.

usage: eval_worker.py OUT_DIR CHECKPOINT N SEED
"""

import json
import sys
from pathlib import Path

import numpy as np

from gmeval import distributed as gdist
from gmeval.evaluation.pipeline import evaluate, to_json
from gmeval.utils.paths import cache_dir

out, ckpt, n, seed = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
assert gdist.init_distributed(), "expected to run under torchrun with WORLD_SIZE > 1"
rank, world = gdist.rank_world()
kw = dict(extractor="mnist", n=n, seed=seed, progress=False)

full = evaluate("digits:test", ckpt, "fid,is,kid,prd,dc", cache=False, **kw)
fid_only = evaluate("digits:test", ckpt, "fid", cache=False, **kw)  # both sides: all-reduced statistics
cached_first = evaluate("digits:test", ckpt, "fid,prd", cache=True, **kw)  # real gathered, rank 0 writes the cache
n_cache_files = len(list(cache_dir("features").glob("*.npz")))
cached_again = evaluate("digits:test", ckpt, "fid,prd", cache=True, **kw)  # rank 0 reads, broadcasts

fake_stats = fid_only["_sides"]["fake"].stats
per_rank = gdist.all_gather_object({
    "rank": rank,
    "fid": full["metrics"]["fid"]["value"],
    "fid_only_fake_n": None if fake_stats is None else fake_stats.n,
    "fid_only_fake_layers": sorted(fid_only["_sides"]["fake"].layers),
    "fake_fingerprint": full["_sides"]["fake"].data.fingerprint(),
    "n_fake_features": len(full["_sides"]["fake"].layers["features"]),
})
if rank == 0:
    out.mkdir(parents=True, exist_ok=True)
    sides = full["_sides"]
    np.savez(out / "features.npz", real=sides["real"].layers["features"], fake=sides["fake"].layers["features"],
             fake_logits=sides["fake"].layers["logits"])
    (out / "result.json").write_text(json.dumps({
        "world": world, "full": to_json(full), "fid_only": to_json(fid_only), "cached_first": to_json(cached_first),
        "cached_again": to_json(cached_again), "n_cache_files": n_cache_files, "per_rank": per_rank}, default=str))
gdist.shutdown()
