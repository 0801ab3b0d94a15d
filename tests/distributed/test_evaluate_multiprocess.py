"""2 and 3 CPU processes (gloo, torchrun) evaluate exactly what one process evaluates.

Inputs: real = digits:test (360 images, dealt to the ranks in whole extraction batches), fake = 1100
samples of a small GAN checkpoint (two sampling chunks: with 3 ranks one rank generates nothing),
MNIST-classifier features. Every rank runs 1 thread (torchrun's default), and so does the
single-process reference: bitwise guarantees hold at equal thread counts (docs/tolerances.md).
Guarantees checked: features, logits and generated images bitwise (B2, B3), hence IS, KID,
precision/recall, density/coverage exactly (B4); FID to FID_F64_RTOL, since its float64 sums are
reduced across ranks in another order (T2).
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from gmeval.evaluation.pipeline import evaluate

from ..tolerances import FID_F64_RTOL
from ._launch import explain, torchrun, worker

N, SEED = 1100, 3
METRICS = "fid,is,kid,pr,dc"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def single(gan_ckpt):
    """The single-process reference (no torch.distributed involved), at the ranks' thread count."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return evaluate("digits:test", gan_ckpt, METRICS, extractor="mnist", n=N, seed=SEED, cache=False, progress=False)
    finally:
        torch.set_num_threads(threads)


def _assert_same_metrics(got: dict, ref: dict):
    assert set(got) == set(ref)
    for name, entry in ref.items():
        v, r = got[name]["value"], entry["value"]
        if name == "fid":
            assert abs(v - r) <= FID_F64_RTOL * abs(r), (name, v, r)  # T2: float64 sums reduced in another order
        else:
            assert v == r, (name, v, r)  # B4: bitwise features -> set-based metrics and KID exactly
        assert got[name]["signature"] == entry["signature"]  # the protocol does not mention the process count


def test_two_processes_cli_equal_single_process(gan_ckpt, single):
    proc, secs = torchrun(2, ["-m", "gmeval", "evaluate", "--real", "digits:test", "--fake", str(gan_ckpt), "-n", str(N),
                              "--seed", str(SEED), "--extractor", "mnist", "--metrics", METRICS, "--no-cache", "--json",
                              "--no-progress"], timeout=180)
    assert proc.returncode == 0, explain(proc)
    got = json.loads(proc.stdout_text)  # rank 0 alone prints: stdout is one JSON document
    assert got["distributed"] == {"world_size": 2, "backend": "gloo", "rows": "gathered in global order"}
    assert got["inputs"]["fake"]["n"] == N and got["inputs"]["real"]["n"] == 360
    _assert_same_metrics(got["metrics"], single["metrics"])


def test_three_processes_gather_reduce_and_cache(gan_ckpt, single, tmp_path):
    out = tmp_path / "w3"
    proc, secs = torchrun(3, [worker("eval_worker.py"), str(out), str(gan_ckpt), str(N), str(SEED)], timeout=240,
                          env={"GMEVAL_CACHE": str(tmp_path / "fresh-cache")})  # empty: the first lookup misses
    assert proc.returncode == 0, explain(proc)
    res = json.loads((out / "result.json").read_text())
    assert res["world"] == 3
    _assert_same_metrics(res["full"]["metrics"], single["metrics"])

    # B2/B3: every rank holds exactly the single-process features and samples (no padding, global order)
    feats = np.load(out / "features.npz")
    inp = single.metric_inputs
    assert np.array_equal(feats["real"], inp.real_features)
    assert np.array_equal(feats["fake"], inp.fake_features)
    assert np.array_equal(feats["fake_logits"], inp.fake_logits)
    fp = hashlib.sha256(np.ascontiguousarray(single.images["fake"])).hexdigest()
    assert [r["fake_sha256"] for r in res["per_rank"]] == [fp] * 3
    assert [r["n_fake_features"] for r in res["per_rank"]] == [N] * 3
    assert len({r["fid"] for r in res["per_rank"]}) == 1  # all ranks report rank 0's numbers

    # FID alone: only float64 statistics are all-reduced (no features gathered), N counted once
    # (each rank fed its own rows to the FID class, whose sync all-reduced the sums)
    assert [(r["fid_only_rows"], r["fid_only_gathered"]) for r in res["per_rank"]] == [
        ("local: sum states all-reduced", False)] * 3
    ref_fid = single["metrics"]["fid"]["value"]
    assert abs(res["fid_only"]["metrics"]["fid"]["value"] - ref_fid) <= FID_F64_RTOL * ref_fid  # T2

    # the real features are cached once (rank 0 writes), then read back and broadcast
    assert res["n_cache_files"] == 1
    for key in ("cached_first", "cached_again"):
        assert abs(res[key]["metrics"]["fid"]["value"] - ref_fid) <= FID_F64_RTOL * ref_fid  # T2
        assert res[key]["metrics"]["precision"]["value"] == single["metrics"]["precision"]["value"]
        assert res[key]["metrics"]["recall"]["value"] == single["metrics"]["recall"]["value"]
