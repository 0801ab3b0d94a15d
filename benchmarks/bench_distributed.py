"""Feature-extraction throughput in 1 process vs 2 processes (torchrun, gloo, CPU).

What is timed (the part of `gmeval evaluate` that is sharded): each rank extracts its strided
shard of the images, then the features are gathered back in global order on every rank
(`gmeval.distributed.gather_in_order`), between two barriers. Excluded: interpreter and torch
start-up, data loading, building the extractor and one warm-up batch (reported separately as
the launch wall time, which includes everything).

Configurations, run alternately (A, B, C, A, B, C, ...) so all see the same machine load:
    A  1 process  x 1 thread
    B  1 process  x 2 threads (torch.set_num_threads)
    C  2 processes x 1 thread each (torchrun --nproc-per-node 2)
The median images/s over the repeats is reported per configuration.

    python benchmarks/bench_distributed.py                                     # MNIST classifier, 10000 mnist:test images
    python benchmarks/bench_distributed.py --extractor inception -n 256 --batch-size 32 --repeats 2
    python benchmarks/bench_distributed.py --json
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time

CONFIGS = {"A": (1, 1), "B": (1, 2), "C": (2, 1)}  # name -> (processes, threads per process)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def worker(args) -> int:
    import torch

    from gmeval import distributed as gdist
    from gmeval.data import load_dataset
    from gmeval.features import extract_features, get_extractor

    torch.set_num_threads(args.threads)
    gdist.init_distributed()
    rank, world = gdist.rank_world()
    data = load_dataset(args.data).subset(slice(0, args.n))
    with gdist.rank_zero_first():
        ext = get_extractor(args.extractor)
    layer = ext.default_layer
    extract_features(ext, data.subset(slice(0, min(args.batch_size, len(data)))), [layer], args.batch_size, progress=False)
    idx = gdist.shard_indices(len(data), block=args.batch_size)  # the evaluation's rule: whole batches
    gdist.barrier()
    t0 = time.perf_counter()
    local = extract_features(ext, data.subset(idx), [layer], args.batch_size, progress=False)[layer]
    t1 = time.perf_counter()
    feats = gdist.gather_in_order(local, idx, len(data), name="features")
    gdist.barrier()
    t2 = time.perf_counter()
    if rank == 0:
        print(json.dumps({"world": world, "threads": torch.get_num_threads(), "n": len(data), "shape": list(feats.shape),
                          "seconds": t2 - t0, "extract_s_rank0": t1 - t0, "gather_s": t2 - t1,
                          "images_per_s": len(data) / (t2 - t0)}), flush=True)
    gdist.shutdown()
    return 0


def launch(name: str, args) -> dict:
    procs, threads = CONFIGS[name]
    script = os.path.abspath(__file__)
    wargs = ["--worker", "--extractor", args.extractor, "-n", str(args.n), "--batch-size", str(args.batch_size),
             "--data", args.data, "--threads", str(threads)]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "GMEVAL_DIST_BACKEND": "gloo"}
    if procs == 1:
        cmd = [sys.executable, script, *wargs]
        for var in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"):
            env.pop(var, None)
    else:
        cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", str(procs), "--master-addr", "127.0.0.1",
               "--master-port", str(_free_port()), script, *wargs]
    t0 = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=args.timeout)
    wall = time.perf_counter() - t0
    if out.returncode != 0:
        raise SystemExit(f"config {name} failed (exit {out.returncode}):\n{out.stderr[-3000:]}")
    rec = json.loads([line for line in out.stdout.splitlines() if line.startswith("{")][-1])
    rec.update({"config": name, "processes": procs, "launch_wall_s": wall})
    return rec


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--extractor", default="mnist", choices=["mnist", "fashion-mnist", "inception"])
    p.add_argument("-n", type=int, default=10000, help="images (default 10000)")
    p.add_argument("--batch-size", type=int, default=500)
    p.add_argument("--data", default="mnist:test", help="dataset split (needs GMEVAL_DATA for mnist)")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--configs", default="ABC", help="subset of A (1x1), B (1x2 threads), C (2 processes x 1)")
    p.add_argument("--timeout", type=float, default=1800.0, help="seconds per launch")
    p.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--json", action="store_true", help="print all records and the summary as JSON")
    args = p.parse_args(argv)
    if args.worker:
        return worker(args)

    records = []
    for rep in range(args.repeats):
        for name in args.configs:
            rec = launch(name, args)
            rec["repeat"] = rep
            records.append(rec)
            if not args.json:
                print(f"  repeat {rep} {name}: {rec['processes']} proc x {rec['threads']} thr  {rec['images_per_s']:8.1f} img/s "
                      f"(extract {rec['extract_s_rank0']:.2f} s, gather {rec['gather_s']:.3f} s, launch {rec['launch_wall_s']:.1f} s)",
                      flush=True)
    summary = {}
    for name in args.configs:
        rs = [r for r in records if r["config"] == name]
        summary[name] = {"processes": CONFIGS[name][0], "threads": CONFIGS[name][1],
                         "images_per_s_median": statistics.median(r["images_per_s"] for r in rs),
                         "gather_s_median": statistics.median(r["gather_s"] for r in rs),
                         "launch_wall_s_median": statistics.median(r["launch_wall_s"] for r in rs)}
    base = summary.get("A", {}).get("images_per_s_median")
    for s in summary.values():
        s["speedup_vs_A"] = s["images_per_s_median"] / base if base else None
    meta = {"extractor": args.extractor, "n": args.n, "batch_size": args.batch_size, "data": args.data,
            "repeats": args.repeats, "cpus": os.cpu_count(), "loadavg_at_end": os.getloadavg()}
    if args.json:
        print(json.dumps({"meta": meta, "summary": summary, "records": records}, indent=2))
    else:
        print(f"{args.extractor} on {args.n} {args.data} images, batch {args.batch_size}, {args.repeats} repeats, "
              f"{os.cpu_count()} CPUs, load average at end {meta['loadavg_at_end'][0]:.1f}")
        for name, s in summary.items():
            print(f"{name}: {s['processes']} process(es) x {s['threads']} thread(s): {s['images_per_s_median']:8.1f} images/s "
                  f"(x{s['speedup_vs_A']:.2f} vs A; gather {s['gather_s_median']:.3f} s; launch wall {s['launch_wall_s_median']:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
