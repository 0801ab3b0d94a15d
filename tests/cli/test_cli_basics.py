import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gmeval.evaluation import evaluate
from gmeval.sources import load_images

ROOT = Path(__file__).resolve().parents[2]


def gm(*args):
    return subprocess.run([sys.executable, "-m", "gmeval", *map(str, args)], capture_output=True, text=True, cwd=ROOT)


def test_sample_npz_and_folder_match_evaluation_samples(tmp_path, cgan_ckpt):
    n = 1203  # more than one sampling chunk
    r = gm("sample", cgan_ckpt, "-n", n, "-o", tmp_path / "s.npz", "--seed", 4)
    assert r.returncode == 0, r.stderr
    with np.load(tmp_path / "s.npz") as f:
        imgs, labels = f["images"], f["labels"]
    assert imgs.shape == (n, 1, 8, 8) and imgs.dtype == np.uint8 and labels.tolist()[:3] == [0, 1, 2]
    np.testing.assert_array_equal(imgs, load_images(cgan_ckpt, n=n, seed=4).images)  # what `evaluate` scores
    r = gm("sample", cgan_ckpt, "-n", 12, "-o", tmp_path / "pngs", "--seed", 4)
    assert r.returncode == 0 and len(list((tmp_path / "pngs").glob("*.png"))) == 12
    r = gm("sample", cgan_ckpt, "-n", 3, "-o", tmp_path / "pngs")
    assert r.returncode == 2 and "new or empty folder" in r.stderr


def test_datasets_and_errors(tmp_path):
    r = gm("datasets", "--json")
    assert r.returncode == 0 and {d["name"] for d in json.loads(r.stdout)} == {"mnist", "fashion-mnist", "digits"}
    r = gm("train", "mlp-gan", "--dataset", "cifar:train", "--steps", "1")
    assert r.returncode == 2 and "cifar:train" in r.stderr and "Traceback" not in r.stderr
    r = gm("train", "nosuchmodel")
    assert r.returncode == 2 and "invalid choice" in r.stderr
    (tmp_path / "bad.pt").write_bytes(b"not a checkpoint")
    r = gm("sample", tmp_path / "bad.pt", "-n", 2, "-o", tmp_path / "x.npz")
    assert r.returncode == 2 and "bad.pt" in r.stderr and not (tmp_path / "x.npz").exists()


def test_train_cli_resume(tmp_path):
    out = tmp_path / "run"
    r = gm("train", "mlp-gan", "--dataset", "digits:train", "--steps", 6, "--batch-size", 16, "--out", out, "--no-progress",
           "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["steps"] == 6
    r = gm("train", "mlp-gan", "--dataset", "digits:train", "--steps", 9, "--batch-size", 16, "--out", out, "--no-progress",
           "--resume", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["steps"] == 9


def test_precision_option_errors_are_one_line(tmp_path):
    r = gm("evaluate", "--real", "digits:test", "--fake", "digits:train", "--precision", "int8")
    assert r.returncode == 2 and "`precision`" in r.stderr and "'int8'" in r.stderr and "Traceback" not in r.stderr
    r = gm("stats", "compute", "digits:test", "-o", tmp_path / "s.npz", "--extractor", "mnist", "--precision", "bf16")
    assert r.returncode == 2 and "Inception option" in r.stderr and not (tmp_path / "s.npz").exists()
