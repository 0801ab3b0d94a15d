"""Run under torchrun: every registered image metric, each rank feeding its block-strided share of the
rows with their global indices, then `sync()`; rank 0 writes the values.

usage: metric_worker.py OUT_JSON
"""

import json
import sys
from pathlib import Path

import numpy as np

from gmeval import distributed as gdist
from gmeval.metrics.image import build_metric
from tests.metrics.metric_cases import NAMES, make_inputs

out = Path(sys.argv[1])
assert gdist.init_distributed(), "expected to run under torchrun with WORLD_SIZE > 1"
rank, world = gdist.rank_world()
inp = make_inputs()
BLOCK = 16


def share(x):
    idx = gdist.shard_indices(len(x), rank, world, block=BLOCK)
    return np.asarray(x)[idx], idx


values = {}
for name in NAMES:
    m = build_metric(name, inp, {}, 0)
    if name in ("is", "is-inf"):
        m.update(*share(inp.fake_logits))
    elif name == "modes":
        m.update(share(inp.fake_class_logits)[0], real=False)
        m.update(share(inp.real_labels)[0], real=True)
    elif name == "memorization":
        x, i = share(inp.train_features)
        m.update(x, real=True, index=i)
        x, i = share(inp.fake_features)
        m.update(x, real=False, index=i)
    else:
        x, i = share(inp.real_features)
        m.update(x, real=True, index=i)
        x, i = share(inp.fake_features)
        m.update(x, real=False, index=i)
    values[name] = {k: float(v) for k, v in m.sync().report().values.items()}
if rank == 0:
    out.write_text(json.dumps({"world": world, "values": values}))
gdist.shutdown()
