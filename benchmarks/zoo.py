"""The model zoo: train every seed model on MNIST and Fashion-MNIST with recorded budgets and seeds,
then compare them per dataset with `gmeval compare` (docs/zoo.md).

    python benchmarks/zoo.py                       # everything (make zoo): train, then evaluate
    python benchmarks/zoo.py train                 # only the training stage (skips finished rows)
    python benchmarks/zoo.py evaluate              # only `gmeval compare` per dataset + sample grids
    python benchmarks/zoo.py train --only mnist/dcgan --force   # rerun one row
    python benchmarks/zoo.py evaluate --only mnist              # re-evaluate one dataset
    python benchmarks/zoo.py table                              # the docs/zoo.md tables (Markdown)

Runs go to --out (default /work/zoo-runs or $GMEVAL_ZOO, never the repository); the sample grids
are written to docs/img/zoo/ and the comparison tables to OUT/<dataset>/compare/.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATASETS = ("mnist", "fashion-mnist")
# name -> (model, training flags). Budgets chosen so the whole zoo trains in under an hour on a 2-core
# CPU shared with other jobs, one thread per run (docs/zoo.md gives the measured times). MNIST's
# WGAN-GP row ran 3000 steps (19 min there); Fashion-MNIST's was cut to 1000 to fit.
ROWS = {
    "mlp-gan-ns": ("mlp-gan", ["--loss", "non-saturating", "--steps", "4000", "--batch-size", "64", "--lr", "2e-4"]),
    "mlp-gan-wgangp": ("mlp-gan", ["--loss", "wgan-gp", "--d-steps", "5", "--lr", "1e-4", "--beta1", "0.5", "--beta2", "0.9",
                                   "--steps", "WGAN_STEPS", "--batch-size", "64"]),
    "dcgan": ("dcgan", ["--steps", "600", "--batch-size", "64"]),
    "cgan": ("cgan", ["--steps", "1500", "--batch-size", "64"]),
    "ae": ("ae", ["--steps", "1000", "--batch-size", "64", "--lr", "1e-3"]),
    "conv-ae": ("conv-ae", ["--steps", "500", "--batch-size", "64", "--lr", "1e-3"]),
    "vae": ("vae", ["--steps", "1500", "--batch-size", "64", "--lr", "1e-3"]),
}
WGAN_STEPS = {"mnist": "3000", "fashion-mnist": "1000"}
# the done-means pair: two short runs of different seeds, and the long run (mlp-gan-ns, seed 0) above
SHORT = {"mlp-gan-ns-short-s1": ("mlp-gan", ["--loss", "non-saturating", "--steps", "300", "--batch-size", "64"], 1),
         "mlp-gan-ns-short-s2": ("mlp-gan", ["--loss", "non-saturating", "--steps", "300", "--batch-size", "64"], 2)}
SEED = 0
EVAL_N = 2000          # generated samples per model (classifier features; 2000 to fit the shared CPU)
EVAL_BOOT = 30         # paired bootstrap replicates


def _py() -> list[str]:
    return [sys.executable, "-m", "gmeval"]


def _rows(dataset: str) -> dict:
    rows = {k: (m, [WGAN_STEPS[dataset] if a == "WGAN_STEPS" else a for a in f], SEED) for k, (m, f) in ROWS.items()}
    if dataset == "mnist":
        rows.update(SHORT)
    return rows


def train_row(out: Path, dataset: str, name: str, force: bool) -> dict:
    model, flags, seed = _rows(dataset)[name]
    run = out / dataset / name
    done = run / "zoo_train.json"
    if done.is_file() and not force:
        return json.loads(done.read_text())
    cmd = _py() + ["train", model, "--dataset", f"{dataset}:train", *flags, "--seed", str(seed), "--threads", "1",
                   "--out", str(run), "--no-progress", "--json", "--sample-every", "0", "--log-every", "100"]
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode:
        print(f"[zoo] {dataset}/{name} failed:\n{proc.stderr[-2000:]}", file=sys.stderr)
        return {"row": name, "failed": proc.stderr[-500:]}
    res = json.loads(proc.stdout)
    rec = {"row": name, "dataset": dataset, "model": model, "seed": seed, "flags": flags, "steps": res["steps"],
           "train_seconds": round(time.perf_counter() - t, 1), "command": " ".join(cmd[1:])}
    done.write_text(json.dumps(rec, indent=1) + "\n")
    print(f"[zoo] trained {dataset}/{name} in {rec['train_seconds']} s", flush=True)
    return rec


def evaluate_dataset(out: Path, dataset: str, names: list[str], img_dir: Path) -> None:
    """`gmeval compare` over the dataset's zoo rows, then one sample grid per row into docs/img/zoo/."""
    sources = [f"{n}={out / dataset / n / 'checkpoint.pt'}" for n in names if (out / dataset / n / "checkpoint.pt").is_file()]
    cdir = out / dataset / "compare"
    cmd = _py() + ["compare", "--real", f"{dataset}:test", *sources, "--extractor", dataset, "-n", str(EVAL_N),
                   "--metrics", "fid,fid-inf,kid,pr,dc,modes,memorization", "--bootstrap", str(EVAL_BOOT),
                   "--seed", str(SEED), "--report", str(cdir), "--json", "--no-progress"]
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode:
        print(f"[zoo] compare {dataset} failed:\n{proc.stderr[-2000:]}", file=sys.stderr)
        return
    res = json.loads(proc.stdout)
    res["zoo_eval_seconds"] = round(time.perf_counter() - t, 1)
    res["zoo_command"] = " ".join(cmd[1:])
    (cdir / "zoo_compare.json").write_text(json.dumps(res, indent=1, default=str) + "\n")
    print(f"[zoo] compared {dataset} ({len(sources)} models) in {res['zoo_eval_seconds']} s", flush=True)
    _grids(out, dataset, names, img_dir)


def _grids(out: Path, dataset: str, names: list[str], img_dir: Path) -> None:
    from gmeval.sources import sample_images
    from gmeval.training.checkpoint import load_model
    from gmeval.utils.imageio import make_grid, png_bytes
    from gmeval.utils.io import atomic_write_bytes

    img_dir.mkdir(parents=True, exist_ok=True)
    for n in names:
        ck = out / dataset / n / "checkpoint.pt"
        if ck.is_file():
            data = sample_images(load_model(ck), 64, seed=SEED)
            atomic_write_bytes(img_dir / f"{dataset}_{n}.png", png_bytes(make_grid(data.images, nrow=8), scale=2))


def markdown_table(out: Path, dataset: str) -> str:
    """The docs/zoo.md table of one dataset from OUT/<dataset>/compare/zoo_compare.json and the training records."""
    res = json.loads((out / dataset / "compare" / "zoo_compare.json").read_text())
    cols = [("fid", "FID"), ("fid_inf", "FID-inf"), ("kid", "KID"), ("precision", "P"), ("recall", "R"),
            ("density", "D"), ("coverage", "C"), ("modes_covered", "modes")]
    lines = ["| model | steps | train s | " + " | ".join(c for _, c in cols) + " |", "|---|---|---|" + "---|" * len(cols)]
    for name, vals in res["metrics"].items():
        rec_path = out / dataset / name / "zoo_train.json"
        rec = json.loads(rec_path.read_text()) if rec_path.is_file() else {}
        cells = []
        for k, _ in cols:
            e = vals.get(k)
            if e is None:
                cells.append("")
            elif "ci_low" in e:
                cells.append(f"{e['value']:.3g} [{e['ci_low']:.3g}, {e['ci_high']:.3g}]")
            else:
                cells.append(f"{e['value']:.3g}")
        lines.append(f"| {name} | {rec.get('steps', '')} | {rec.get('train_seconds', '')} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("stage", nargs="?", default="all", choices=["all", "train", "evaluate", "table"])
    p.add_argument("--out", default=os.environ.get("GMEVAL_ZOO", "/work/zoo-runs"))
    p.add_argument("--only", default=None, help="DATASET or DATASET/ROW, e.g. mnist/dcgan")
    p.add_argument("--force", action="store_true", help="retrain rows that already finished")
    p.add_argument("--jobs", type=int, default=3, help="training processes at once (one thread each)")
    p.add_argument("--img-dir", default=str(REPO / "docs" / "img" / "zoo"))
    args = p.parse_args(argv)
    out = Path(args.out)
    ds_only, row_only = (args.only.split("/", 1) + [None])[:2] if args.only else (None, None)
    if ds_only is not None and ds_only not in DATASETS:
        p.error(f"--only: dataset must be one of {DATASETS}, got {ds_only!r}")
    # the slow DCGAN rows first, so they overlap with everything else
    jobs = sorted([(d, n) for d in DATASETS for n in _rows(d) if (ds_only in (None, d)) and (row_only in (None, n))],
                  key=lambda j: j[1] != "dcgan")
    if row_only is not None and not jobs:
        p.error(f"--only: row must be one of {sorted(_rows(ds_only))}, got {row_only!r}")
    if args.stage in ("all", "train"):
        with ThreadPoolExecutor(args.jobs) as pool:
            list(pool.map(lambda j: train_row(out, j[0], j[1], args.force), jobs))
    if args.stage == "table":
        for d in DATASETS:
            if ds_only in (None, d) and (out / d / "compare" / "zoo_compare.json").is_file():
                print(f"\n{d}\n\n{markdown_table(out, d)}")
        return 0
    if args.stage in ("all", "evaluate"):
        for d in DATASETS:
            if ds_only in (None, d):
                evaluate_dataset(out, d, list(_rows(d)), Path(args.img_dir))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
