"""Run under torchrun: evaluate the same inputs several ways and let rank 0 write what it got.

usage: eval_worker.py OUT_DIR CHECKPOINT N SEED
"""

import hashlib
import json
import sys
from pathlib import Path

import numpy as np

from gmeval import distributed as gdist
from gmeval.evaluation.pipeline import evaluate
from gmeval.utils.paths import cache_dir

out, ckpt, n, seed = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
assert gdist.init_distributed(), "expected to run under torchrun with WORLD_SIZE > 1"
rank, world = gdist.rank_world()
kw = dict(extractor="mnist", n=n, seed=seed, progress=False)

full = evaluate("digits:test", ckpt, "fid,is,kid,pr,dc", cache=False, **kw)
fid_only = evaluate("digits:test", ckpt, "fid", cache=False, **kw)  # both sides: all-reduced statistics
cached_first = evaluate("digits:test", ckpt, "fid,pr", cache=True, **kw)  # real gathered, rank 0 writes the cache
n_cache_files = len(list(cache_dir("features").glob("*.npz")))
cached_again = evaluate("digits:test", ckpt, "fid,pr", cache=True, **kw)  # rank 0 reads, broadcasts

per_rank = gdist.all_gather_object({
    "rank": rank,
    "fid": full.value("fid"),
    "fid_only_rows": fid_only.distributed["rows"],
    "fid_only_gathered": fid_only.metric_inputs is not None,
    "fake_sha256": hashlib.sha256(np.ascontiguousarray(full.images["fake"])).hexdigest(),
    "n_fake_features": len(full.metric_inputs.fake_features),
})
if rank == 0:
    out.mkdir(parents=True, exist_ok=True)
    inp = full.metric_inputs
    np.savez(out / "features.npz", real=inp.real_features, fake=inp.fake_features, fake_logits=inp.fake_logits)
    (out / "result.json").write_text(json.dumps({
        "world": world, "full": full.to_json(), "fid_only": fid_only.to_json(), "cached_first": cached_first.to_json(),
        "cached_again": cached_again.to_json(), "n_cache_files": n_cache_files, "per_rank": per_rank}, default=str))
gdist.shutdown()
