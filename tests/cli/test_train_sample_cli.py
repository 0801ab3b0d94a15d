"""`gmeval train` stop conditions / end-of-run evaluation and `gmeval sample --label` (issue cases 1, 2, 4, 5)."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from gmeval.cli import main

from ..conftest import needs_mnist

TINY = ["--dataset", "digits:train", "--batch-size", "16", "--sample-every", "0", "--checkpoint-every", "100000",
        "--log-every", "10", "--no-progress"]


def test_cli_stop_when_on_logged_value(tmp_path, capsys):
    assert main(["train", "mlp-gan", *TINY, "--steps", "300", "--stop-when", "loss_d>=0", "--out", str(tmp_path / "r"),
                 "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["stopped_by"] == "stop_when" and res["steps"] == 10


def test_cli_unknown_stop_key_exits_2_listing_keys(tmp_path, capsys):
    assert main(["train", "mlp-gan", *TINY, "--steps", "30", "--stop-when", "dreal>=0.5", "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert "dreal>=0.5" in err and "'d_real'" in err and "Traceback" not in err
    assert not (tmp_path / "r").exists()


@needs_mnist
def test_cli_metric_stop_key_turns_on_its_evaluation(tmp_path, capsys):
    out = tmp_path / "r"
    assert main(["train", "mlp-gan", "--dataset", "mnist:train", "--steps", "40", "--batch-size", "16", "--log-every", "10",
                 "--eval-every", "20", "--eval-n", "200", "--sample-every", "0", "--checkpoint-every", "100000",
                 "--stop-when", "modes_covered>=1", "--out", str(out), "--no-progress", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["stopped_by"] == "stop_when" and res["steps"] == 20 and res["final_metrics"]["modes_covered"] >= 1


def test_cli_evaluate_at_end_honours_threads_and_choices(tmp_path, monkeypatch, capsys):
    import gmeval.evaluation.run_report as rr

    seen = {}

    def fake_evaluate_run(run_dir, **kw):
        seen.update(kw, threads=torch.get_num_threads())
        return {"report_html": str(Path(run_dir) / "report.html")}

    monkeypatch.setattr(rr, "evaluate_run", fake_evaluate_run)
    before = torch.get_num_threads()
    want = 1 if before != 1 else 2  # differs from the process default, so a reset would show
    try:
        assert main(["train", "mlp-gan", *TINY, "--steps", "5", "--threads", str(want), "--evaluate-at-end",
                     "--end-extractor", "domain", "--end-metrics", "fid,modes", "--out", str(tmp_path / "r")]) == 0
    finally:
        torch.set_num_threads(before)
    assert seen["threads"] == want
    assert seen["extractors"] == ["domain"] and seen["metrics"] == "fid,modes"


def test_evaluate_run_runs_only_the_chosen_extractors(tmp_path, monkeypatch, gan_ckpt):
    import shutil

    import gmeval.evaluation.run_report as rr

    run = tmp_path / "r"
    run.mkdir()
    shutil.copy(gan_ckpt, run / "checkpoint.pt")  # the report is written beside it, not into the shared fixture
    calls = []
    real_evaluate = rr.evaluate
    monkeypatch.setattr(rr, "evaluate", lambda *a, **kw: calls.append((kw["extractor"], a[2])) or real_evaluate(*a, **kw))
    out = rr.evaluate_run(run, real="digits:test", n=100, progress=False, bootstrap=0, domain="mnist",
                          extractors=["domain"], metrics="fid,modes")
    assert calls == [("mnist", ["fid", "modes"])] and set(out["headline"]) == {"mnist"}
    with pytest.raises(Exception, match="extractors"):
        rr.evaluate_run(run, real="digits:test", extractors=["inceptoin"])


# -- gmeval sample --label ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("label,expect", [("3", [3] * 12), ("1,7", [1, 7] * 6), ("balanced", list(range(10)) + [0, 1])])
def test_sample_label(tmp_path, cgan_ckpt, label, expect):
    from gmeval.training.checkpoint import load_model

    out = tmp_path / "s.npz"
    assert main(["sample", str(cgan_ckpt), "-n", "12", "-o", str(out), "--label", label, "--seed", "2"]) == 0
    with np.load(out) as f:
        assert f["labels"].tolist() == expect
        m = load_model(cgan_ckpt)
        assert np.array_equal(f["images"], m.sample(12, seed=2, labels=torch.tensor(expect)).numpy())


def test_sample_label_errors(tmp_path, cgan_ckpt, gan_ckpt, capsys):
    assert main(["sample", str(cgan_ckpt), "-n", "4", "-o", str(tmp_path / "a.npz"), "--label", "10"]) == 2
    assert "[0, 10)" in capsys.readouterr().err
    assert main(["sample", str(gan_ckpt), "-n", "4", "-o", str(tmp_path / "b.npz"), "--label", "3"]) == 2
    assert "not a conditional model" in capsys.readouterr().err


@needs_mnist
@pytest.mark.slow
def test_cgan_label_3_is_drawn_as_3(tmp_path):
    """6000 cgan steps on MNIST (~100-200 s), then --label 3: the MNIST classifier must say 3 for >= 80 %."""
    from gmeval.features import extract_features, get_extractor

    threads = torch.get_num_threads()
    try:
        assert main(["train", "cgan", "--steps", "6000", "--threads", "1", "--seed", "0", "--sample-every", "0",
                     "--log-every", "500", "--out", str(tmp_path / "cgan"), "--no-progress"]) == 0
    finally:
        torch.set_num_threads(threads)
    assert main(["sample", str(tmp_path / "cgan" / "checkpoint.pt"), "--label", "3", "-n", "100",
                 "-o", str(tmp_path / "s.npz")]) == 0
    with np.load(tmp_path / "s.npz") as f:
        logits = extract_features(get_extractor("mnist"), f["images"], layers=["logits"], progress=False)["logits"]
    assert (logits.argmax(1) == 3).mean() >= 0.8
