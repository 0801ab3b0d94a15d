"""Tolerances (docs/tolerances.md): torch.equal / exact equalities are B1-B5 (same machine and threads);
`approx`/`allclose` bounds are T1 (float64 formulas) or T3 (float32 across shapes), as each states.
"""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gmeval.cli import main
from gmeval.errors import InvalidArgumentError
from gmeval.evaluation import evaluate, make_signature, parse_metrics
from gmeval.evaluation.cache import feature_cache_key
from gmeval.evaluation.pipeline import to_json
from gmeval.models import build_model
from gmeval.training.config import TrainConfig
from gmeval.training.trainer import Trainer

from ..conftest import train_tiny
from ..tolerances import FID_F64_RTOL

ROOT = Path(__file__).resolve().parents[2]


def test_parse_metrics():
    assert parse_metrics("fid, prdc ,kid") == ["fid", "pr", "dc", "kid"]
    with pytest.raises(InvalidArgumentError, match="`metrics` must be names from"):
        parse_metrics("fid,fdi")


def test_signature_changes_with_every_ingredient():
    base = {"ext": "inception", "w": "abc", "layer": "pool3", "pre": "tf1", "real": "mnist:test", "nreal": 10, "fake": "x",
            "nfake": 10, "seed": 0}
    s0 = str(make_signature("fid", base, {"k": 3}))
    assert s0.startswith("fid|ext:inception|w:abc|layer:pool3|pre:tf1|") and s0.endswith("|k:3|v:0.1.0")
    for key, val in [("ext", "mnist"), ("w", "abd"), ("layer", "logits"), ("pre", "clean"), ("real", "mnist:train"),
                     ("nreal", 11), ("fake", "y"), ("nfake", 9), ("seed", 1)]:
        assert str(make_signature("fid", {**base, key: val}, {"k": 3})) != s0, key
    assert str(make_signature("fid", base, {"k": 5})) != s0
    assert str(make_signature("kid", base, {"k": 3})) != s0


def test_cache_key_hashes_preprocessing_and_content():
    sig = {"extractor": "inception", "weights": "w", "preprocess": "tf1"}
    k = feature_cache_key("fp", sig, ["pool3"])
    assert k != feature_cache_key("fp", {**sig, "preprocess": "clean"}, ["pool3"])
    assert k != feature_cache_key("fp", {**sig, "weights": "w2"}, ["pool3"])
    assert k != feature_cache_key("fp2", sig, ["pool3"])
    assert k == feature_cache_key("fp", dict(sig), ["pool3"])


def test_fid_same_source_is_zero_and_signatures(gan_ckpt):
    r = evaluate("digits:test", "digits:test", "fid,pr", extractor="mnist", progress=False)
    assert abs(r["metrics"]["fid"]["value"]) < 1e-6
    assert r["metrics"]["precision"]["value"] == 1.0 and r["metrics"]["recall"]["value"] == 1.0
    g = evaluate("digits:test", gan_ckpt, "fid", extractor="mnist", n=200, seed=1, progress=False)
    assert g["metrics"]["fid"]["value"] > 1.0
    sig = g["metrics"]["fid"]["signature"]
    assert "nfake:200" in sig and "seed:1" in sig and "ext:mnist" in sig and "nreal:360" in sig
    g2 = evaluate("digits:test", gan_ckpt, "fid", extractor="mnist", n=200, seed=2, progress=False)
    assert g2["metrics"]["fid"]["value"] != g["metrics"]["fid"]["value"]
    g1 = evaluate("digits:test", gan_ckpt, "fid", extractor="mnist", n=200, seed=1, progress=False)
    assert g1["metrics"]["fid"]["value"] == g["metrics"]["fid"]["value"]  # B2/B4: seeded, same process: bitwise


def test_real_features_come_from_cache(monkeypatch):
    import gmeval.features as features

    first = evaluate("digits:test", "digits:train", "fid", extractor="mnist", progress=False)
    calls = []
    real_extract = features.extract_features

    def spy(ext, images, **kw):
        calls.append(len(images))
        return real_extract(ext, images, **kw)

    monkeypatch.setattr(features, "extract_features", spy)
    second = evaluate("digits:test", "digits:train", "fid", extractor="mnist", progress=False)
    assert calls == [1437]  # only the fake side was extracted; the real side came from the cache
    assert second["metrics"]["fid"]["value"] == first["metrics"]["fid"]["value"]  # B3: cache hit = stored bits
    third = evaluate("digits:test", "digits:train", "fid", extractor="mnist", progress=False, cache=False)
    # B3: recomputed features are the cached bits (same batch size and threads), so FID is exactly equal
    assert calls == [1437, 1437, 360] and third["metrics"]["fid"]["value"] == first["metrics"]["fid"]["value"]


def test_stats_file_side(tmp_path):
    out = tmp_path / "s.npz"
    subprocess.run([sys.executable, "-m", "gmeval", "stats", "compute", "digits:test", "-o", str(out), "--extractor", "mnist",
                    "--no-progress"], check=True, cwd=ROOT)
    via_stats = evaluate(str(out), "digits:train", "fid", extractor="mnist", progress=False)["metrics"]["fid"]["value"]
    direct = evaluate("digits:test", "digits:train", "fid", extractor="mnist", progress=False)["metrics"]["fid"]["value"]
    assert via_stats == pytest.approx(direct, rel=FID_F64_RTOL)  # T2: mu/sigma file round trip re-rounds the sums
    with pytest.raises(InvalidArgumentError, match="only 'fid'"):
        evaluate(str(out), "digits:train", "fid,kid", extractor="mnist", progress=False)
    with pytest.raises(InvalidArgumentError, match="extractor=fashion-mnist"):
        evaluate(str(out), "digits:train", "fid", extractor="fashion-mnist", progress=False)
    # a pytorch-fid style file (mu, sigma only) is accepted as a reference
    with np.load(out) as f:
        np.savez(tmp_path / "pf.npz", mu=f["mu"], sigma=f["sigma"])
    assert evaluate(str(tmp_path / "pf.npz"), "digits:train", "fid", extractor="mnist", progress=False)["metrics"]["fid"]["value"] == pytest.approx(direct, rel=FID_F64_RTOL)  # T2


def test_modes_and_memorization_details(gan_ckpt):
    r = evaluate("digits:test", gan_ckpt, "modes,memorization", extractor="mnist", n=100, progress=False)
    d = r["details"]
    assert sum(d["modes"]["fake_histogram"]) == 100 and sum(d["modes"]["real_histogram"]) == 360
    assert 1 <= r["metrics"]["modes_covered"]["value"] <= 10
    assert d["memorization"]["train_source"] == "digits:train" and len(d["memorization"]["closest_fake"]) > 0
    with pytest.raises(InvalidArgumentError, match="classifier"):
        evaluate(str(gan_ckpt), gan_ckpt, "modes", extractor="inception", n=8, n_real=8, progress=False)


def test_bootstrap_interval_contains_point(gan_ckpt):
    r = evaluate("digits:test", "digits:train", "fid,pr", extractor="mnist", bootstrap=20, progress=False)
    for k in ("fid", "precision", "recall"):
        m = r["metrics"][k]
        assert m["ci_low"] <= m["value"] <= m["ci_high"], (k, m)
        assert m["ci_n_boot"] == 20


def test_cli_json_and_report(tmp_path, gan_ckpt):
    proc = subprocess.run([sys.executable, "-m", "gmeval", "evaluate", "--real", "digits:test", "--fake", str(gan_ckpt),
                           "-n", "120", "--metrics", "fid,kid,pr,modes", "--extractor", "mnist", "--json", "--no-progress",
                           "--report", str(tmp_path / "rep")], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert {"fid", "kid", "precision", "recall", "modes_covered"} <= set(out["metrics"])
    page = (tmp_path / "rep" / "report.html").read_text()
    assert out["metrics"]["fid"]["signature"] in page and "data:image/png;base64," in page
    assert json.loads((tmp_path / "rep" / "report.json").read_text())["metrics"]["fid"]["value"] == out["metrics"]["fid"]["value"]
    bad = subprocess.run([sys.executable, "-m", "gmeval", "evaluate", "--real", "digits:test", "--fake", "nope.pt",
                          "--metrics", "fid"], capture_output=True, text=True, cwd=ROOT)
    assert bad.returncode == 2 and "nope.pt" in bad.stderr and "Traceback" not in bad.stderr
    unknown = subprocess.run([sys.executable, "-m", "gmeval", "evaluate", "--real", "a", "--fake", "b", "--bogus"],
                             capture_output=True, text=True, cwd=ROOT)
    assert unknown.returncode == 2 and "unrecognized arguments: --bogus" in unknown.stderr


def test_training_hook_stops_on_target(tmp_path):
    from gmeval.evaluation.hooks import EvaluationHook

    hook = EvaluationHook(["fid"], real="digits:test", n=100, extractor="mnist")
    cfg = TrainConfig(model="mlp-gan", data="digits:train", out=str(tmp_path / "r"), steps=40, batch_size=32,
                      sample_every=0, checkpoint_every=0, log_every=10, eval_every=10, stop_when=["fid<=1e9"])
    res = Trainer(cfg, hooks=[hook], progress=False).run()
    assert res["stopped_by"] == "stop_when" and res["steps"] == 10 and res["final_metrics"]["fid"] > 0


def test_evaluate_run_writes_report(tmp_path, gan_ckpt):
    import shutil

    from gmeval.evaluation.run_report import evaluate_run

    run = tmp_path / "run"
    run.mkdir()
    shutil.copy(gan_ckpt, run / "checkpoint.pt")
    out = evaluate_run(run, real="digits:test", n=100, inception_n=None, progress=False, bootstrap=5, domain="mnist")
    page = Path(out["report_html"]).read_text()
    ev = json.loads(Path(out["evaluation_json"]).read_text())
    assert ev["mnist"]["metrics"]["fid"]["signature"] in page
    assert "Class histogram" in page and "Nearest training neighbours" in page and "Training curves" not in page
    assert set(out["headline"]["mnist"]) >= {"fid", "fid_inf", "kid", "is", "precision", "recall", "density", "coverage", "modes_covered"}
    with pytest.raises(InvalidArgumentError, match="domain"):
        evaluate_run(run, real="digits:test", n=100, inception_n=None, progress=False)


@pytest.mark.parametrize("model", ["vae", "ae"])
def test_evaluate_run_reconstruction_and_likelihood(tmp_path, model):
    from gmeval.evaluation.run_report import evaluate_run

    out = tmp_path / model
    train_tiny(out, model, steps=30, lr=1e-3)
    res = evaluate_run(out, real="digits:test", n=100, inception_n=None, progress=False, bootstrap=0, domain="mnist")
    rec = json.loads(Path(res["evaluation_json"]).read_text())["reconstruction"]
    assert 0 < rec["mse"] < 1 and rec["psnr_db"] > 0 and -1 <= rec["ssim"] <= 1 and rec["ssim_window"] == 7
    if model == "vae":
        d = 64  # 1 x 8 x 8 digits
        assert rec["bits_per_dim"] == pytest.approx(rec["nelbo_nats"] / (d * np.log(2)), rel=1e-9)
        assert 0 < rec["bits_per_dim"] < 2
    assert "Reconstruction" in Path(res["report_html"]).read_text()


def test_metric_options_reach_the_class_from_api_and_cli(capsys):
    r = evaluate("digits:test", "digits:train", "kid,pr", extractor="mnist", progress=False,
                 options={"kid_subset_size": 50, "kid_n_subsets": 5, "pr_k": 4})
    assert "|size:50|subsets:5|" in str(r.scores["kid"].signature) and "|k:4|" in str(r.scores["precision"].signature)
    with pytest.raises(InvalidArgumentError, match="kid_subset_size"):
        evaluate("digits:test", "digits:train", "kid", extractor="mnist", progress=False, options={"kid_size": 50})
    assert main(["evaluate", "--real", "digits:test", "--fake", "digits:train", "--metrics", "kid", "--extractor", "mnist",
                 "--kid-subset-size", "50", "--kid-n-subsets", "5", "--json", "--no-progress"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert "|size:50|subsets:5|" in out["metrics"]["kid"]["signature"]
    with pytest.raises(SystemExit) as e:
        main(["evaluate", "--real", "digits:test", "--fake", "digits:train", "--kid-subset-size", "0"])
    assert e.value.code == 2
