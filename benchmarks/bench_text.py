"""Benchmark of the text metrics (not a test; takes several minutes on 2 CPU cores).

    .venv/bin/python benchmarks/bench_text.py [--n-self-bleu 1000] [--sizes 1000,5000] [--threads 1]
        [--mauve-seeds 5] [--compare-threads] [--json FILE]

1. self-BLEU at N sentences: the fast implementation against two naive loops of sacreBLEU
   sentence scores in the same run -- (a) ``sacrebleu.sentence_bleu(h_i, others)`` (the usual
   loop; a new BLEU object per call) and (b) one reused ``sacrebleu.metrics.BLEU`` object
   (``gmeval.metrics.text.self_bleu_naive``, a stronger baseline) -- with the speed-up ratios and
   the largest per-sentence difference (must be <= 1e-9).
2. MAUVE and embedding FD at each size (default 1000 and 5000 sentences per side): time to embed
   with the offline MiniLM, time of MAUVE on the embeddings (PCA + k-means + frontier, one seed)
   and time of the FD (statistics + formula), plus their values; at the smallest size also MAUVE's
   mean and standard deviation over ``--mauve-seeds`` k-means seeds.
3. ``--compare-threads``: FD, k-means and encoding timed with 1 and 2 threads.

Timings depend on the machine's load (other processes share the cores): the load average at
start and end is recorded.

Sentences are synthetic: pseudo-words from a seeded vocabulary, Zipf-distributed, lengths 5-30.
The "human" and "model" samples use different Zipf exponents so MAUVE/FD are not trivially 1/0.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import string
import sys
import time

import numpy as np


def make_vocabulary(size: int, rng: np.random.Generator) -> list[str]:
    letters = np.array(list(string.ascii_lowercase))
    words = set()
    while len(words) < size:
        words.add("".join(rng.choice(letters, size=int(rng.integers(2, 9)))))
    return sorted(words)


def make_sentences(n: int, vocab: list[str], zipf_s: float, rng: np.random.Generator) -> list[str]:
    ranks = np.arange(1, len(vocab) + 1, dtype=np.float64)
    p = ranks ** -zipf_s
    p /= p.sum()
    lengths = rng.integers(5, 31, size=n)
    out = []
    for length in lengths:
        words = rng.choice(len(vocab), size=int(length), p=p)
        s = " ".join(vocab[w] for w in words)
        out.append(s[0].upper() + s[1:] + rng.choice([".", ".", ".", "!", "?"]))
    return out


def timed(fn, *args, **kwargs):
    t = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t


def bench_self_bleu(hyps: list[str], repeats: int = 3) -> dict:
    import sacrebleu

    from gmeval.metrics.text import self_bleu, self_bleu_naive

    fast_times = []
    for _ in range(repeats):
        fast, dt = timed(self_bleu, hyps, return_per_sentence=True)
        fast_times.append(dt)
    t_fast = statistics.median(fast_times)
    print(f"  fast self-BLEU: {t_fast:.3f} s (median of {repeats})  score = {fast.score:.6f}", flush=True)

    reused, t_reused = timed(self_bleu_naive, hyps, return_per_sentence=True)
    print(f"  naive loop, one reused sacrebleu BLEU object: {t_reused:.2f} s", flush=True)

    def compat_loop():
        return [sacrebleu.sentence_bleu(h, hyps[:i] + hyps[i + 1:]).score for i, h in enumerate(hyps)]

    compat, t_compat = timed(compat_loop)
    print(f"  naive loop, sacrebleu.sentence_bleu per hypothesis: {t_compat:.2f} s", flush=True)
    diff_reused = max(abs(a - b) for a, b in zip(fast.per_sentence, reused.per_sentence))
    diff_compat = max(abs(a - b) for a, b in zip(fast.per_sentence, compat))
    return {
        "n": len(hyps), "score": fast.score, "signature": fast.signature,
        "seconds_fast": t_fast, "seconds_naive_reused_object": t_reused, "seconds_naive_sentence_bleu": t_compat,
        "speedup_vs_sentence_bleu_loop": t_compat / t_fast, "speedup_vs_reused_object_loop": t_reused / t_fast,
        "max_abs_diff_vs_sentence_bleu_loop": diff_compat, "max_abs_diff_vs_reused_object_loop": diff_reused,
        "mean_abs_diff": abs(fast.score - sum(compat) / len(compat)),
    }


def bench_distribution(human: list[str], model: list[str], sizes: list[int], encoder, seed: int,
                       mauve_seeds: int = 1) -> list[dict]:
    from gmeval.metrics.text import frechet_distance_from_features, mauve_from_features

    n_max = max(sizes)
    rows = []
    warm = np.random.default_rng(0).normal(size=(40, 8))  # exclude one-time import costs from the timings
    mauve_from_features(warm[:20], warm[20:])
    frechet_distance_from_features(warm[:20], warm[20:])
    emb_h, t_h = timed(encoder.encode, human[:n_max])
    emb_m, t_m = timed(encoder.encode, model[:n_max])
    rate = 2 * n_max / (t_h + t_m)
    print(f"  embedded 2 x {n_max} sentences in {t_h + t_m:.1f} s ({rate:.0f} sentences/s)", flush=True)
    for n in sizes:
        p, q = emb_h[:n], emb_m[:n]
        enc_seconds = 2 * n / rate
        m, t_mauve = timed(mauve_from_features, p, q, seed=seed, source=encoder.signature)
        fd, t_fd = timed(frechet_distance_from_features, q, p)
        same, t_same = timed(mauve_from_features, p[: n // 2], p[n // 2:], seed=seed)
        row = {"n_per_side": n, "seconds_embed_both_sides": enc_seconds, "seconds_mauve_one_seed": t_mauve,
               "seconds_fd": t_fd, "mauve": m.score, "mauve_clusters": m.num_clusters, "mauve_pca": m.pca_components,
               "fd": fd, "mauve_same_distribution_half_split": same.score, "signature": m.signature}
        print(f"  n={n}: MAUVE {m.score:.4f} in {t_mauve:.1f} s (k={m.num_clusters}, pca={m.pca_components}); "
              f"FD {fd:.4f} in {t_fd:.2f} s; MAUVE(human half vs half) {same.score:.4f}", flush=True)
        if mauve_seeds > 1 and n == min(sizes):
            spread, t_spread = timed(mauve_from_features, p, q, seed=seed, num_seeds=mauve_seeds, source=encoder.signature)
            row.update({"mauve_seeds": list(spread.seeds), "mauve_per_seed": list(spread.scores),
                        "mauve_mean": spread.score, "mauve_std": spread.std, "seconds_mauve_all_seeds": t_spread})
            print(f"  n={n}: MAUVE over {mauve_seeds} seeds: {spread.score:.4f} +- {spread.std:.4f} (std) "
                  f"in {t_spread:.1f} s", flush=True)
        rows.append(row)
    return rows


def compare_threads(encoder) -> dict:
    """Time three kernels with 1 and with 2 BLAS/OpenMP/torch threads (matters on a busy shared machine)."""
    import os

    import torch
    from sklearn.cluster import KMeans
    from threadpoolctl import threadpool_limits

    from gmeval.metrics.text import frechet_distance_from_features

    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(400, 384)), rng.normal(size=(400, 384))
    x = rng.normal(size=(600, 8))
    sentences = [f"the quick brown fox jumps over the lazy dog number {i}" for i in range(300)]
    out = {"load_average_before": os.getloadavg()[0]}
    for threads in (1, 2, 1, 2):
        with threadpool_limits(limits=threads):
            _, t_fd = timed(frechet_distance_from_features, a, b)
            _, t_km = timed(lambda: KMeans(30, n_init=5, max_iter=500, random_state=0).fit(x))
            encoder.num_threads = threads
            _, t_enc = timed(encoder.encode, sentences)
        out.setdefault(f"threads_{threads}", []).append({"fd_384d_s": t_fd, "kmeans_600x8_k30_s": t_km,
                                                          "encode_300_s": t_enc})
        print(f"  {threads} thread(s): FD 384-d {t_fd:.3f} s, k-means {t_km:.3f} s, encode 300 {t_enc:.2f} s", flush=True)
    out["load_average_after"] = os.getloadavg()[0]
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n-self-bleu", type=int, default=1000)
    ap.add_argument("--sizes", default="1000,5000", help="comma-separated sentences per side for MAUVE/FD")
    ap.add_argument("--threads", type=int, default=1, help="torch/BLAS/OpenMP threads (default 1: stable on a busy machine)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--mauve-seeds", type=int, default=5,
                    help="also report MAUVE's mean and std over this many k-means seeds at the smallest size")
    ap.add_argument("--compare-threads", action="store_true",
                    help="also time FD, k-means and encoding with 1 vs 2 threads")
    ap.add_argument("--json", default=None, help="also write the results to this JSON file")
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]

    import torch
    from threadpoolctl import threadpool_limits

    from gmeval.features.text_encoder import load_text_encoder

    rng = np.random.default_rng(args.seed)
    vocab = make_vocabulary(5000, rng)
    human = make_sentences(max(sizes, default=0), vocab, 1.1, rng)
    model = make_sentences(max(sizes, default=0), vocab, 1.3, rng)
    import os

    result = {"python": sys.version.split()[0], "platform": platform.platform(), "cpus": os.cpu_count(),
              "threads": args.threads, "torch": torch.__version__, "seed": args.seed,
              "load_average_start": os.getloadavg()[0]}
    with threadpool_limits(limits=args.threads):
        sb_sentences = make_sentences(args.n_self_bleu, vocab, 1.3, rng)
        if args.n_self_bleu >= 2:
            print(f"self-BLEU on {args.n_self_bleu} synthetic sentences", flush=True)
            result["self_bleu"] = sb = bench_self_bleu(sb_sentences)
            print(f"  speed-up: {sb['speedup_vs_sentence_bleu_loop']:.0f}x vs the sentence_bleu loop, "
                  f"{sb['speedup_vs_reused_object_loop']:.0f}x vs the reused-object loop; max |diff| "
                  f"{max(sb['max_abs_diff_vs_sentence_bleu_loop'], sb['max_abs_diff_vs_reused_object_loop']):.2e}",
                  flush=True)
        print("MAUVE / embedding FD (offline all-MiniLM-L6-v2)", flush=True)
        encoder, t_load = timed(load_text_encoder, progress=False, num_threads=args.threads)
        print(f"  encoder loaded in {t_load:.1f} s ({encoder.signature})", flush=True)
        result["encoder"] = {"signature": encoder.signature, "seconds_load": t_load}
        if sizes:
            result["distribution"] = bench_distribution(human, model, sizes, encoder, args.seed, args.mauve_seeds)
    if args.compare_threads:
        print("threads: 1 vs 2", flush=True)
        result["threads_comparison"] = compare_threads(encoder)
    result["load_average_end"] = os.getloadavg()[0]
    if args.json:
        from gmeval.utils.io import atomic_write_text

        atomic_write_text(args.json, json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
