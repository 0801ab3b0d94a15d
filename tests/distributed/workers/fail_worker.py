"""Run under torchrun: rank 1 fails ("raise") or stalls ("hang") while rank 0 evaluates, or every
rank evaluates with a KID option that fails in rank 0's metric computation ("metric").

usage: fail_worker.py raise|hang|metric
"""

import sys
import time

from gmeval import distributed as gdist
from gmeval.evaluation.pipeline import evaluate

mode = sys.argv[1]
assert gdist.init_distributed()
rank, world = gdist.rank_world()
gdist.barrier("start")
if mode == "metric":  # rank 0 alone computes metrics: it raises, the others learn why instead of waiting
    evaluate("digits:test", "digits:train", "kid", extractor="mnist", cache=False, progress=False,
             options={"kid_subset_size": 0})
if rank == 1:
    if mode == "raise":
        raise ValueError("injected failure on rank 1")
    time.sleep(600)  # never arrives at the next collective (killed by the launcher once rank 0 fails)
evaluate("digits:test", "digits:test", "fid,prd", extractor="mnist", cache=False, progress=False)
print("rank 0 finished without rank 1", flush=True)
