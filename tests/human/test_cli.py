"""`gmeval human score` and `gmeval human serve` argument handling; checkpoints as fake sources."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gmeval.cli import main
from gmeval.human.app import open_study
from gmeval.human.protocol import StudyDesign
from gmeval.utils.seeding import derive_seed

from .conftest import run_session, start_rater


@pytest.fixture
def scored_study(make_study):
    store, _, app = make_study(models=("a", "b"), per_model=4, pool_size=8)
    client = app.test_client()
    for k in range(3):  # three raters: fooled by a's fakes half the time, never by b's
        rid = start_rater(client, f"r{k}")
        flip = {"n": 0}

        def policy(t):
            if t["phase"] == "scored" and t["stream"] == "a" and t["truth"] == "fake":
                flip["n"] += 1
                return "real" if flip["n"] % 2 else "fake"
            return t["truth"]

        run_session(client, store, rid, policy)
    return store


def test_score_json(scored_study, capsys):
    assert main(["human", "score", str(scored_study.path), "--json", "--bootstrap", "200"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["protocol"] == "hype-inf" and set(res["models"]) == {"a", "b"}
    a, b = res["models"]["a"], res["models"]["b"]
    assert a["hype_inf"]["value"] == pytest.approx(25.0)  # fake error 50%, real error 0%
    assert b["hype_inf"]["value"] == pytest.approx(0.0)
    lo, hi = a["hype_inf"]["ci95"]
    assert lo <= 25.0 <= hi
    assert res["raters"] == {"total": 3, "included": 3, "min_attention_accuracy": 0.75, "min_checks": 2, "excluded": [],
                             "excluded_by_reason": {"too_few_checks": 0, "low_check_accuracy": 0}}
    assert res["agreement"]["n_images_with_2plus_ratings"] > 0
    assert res["signature"].startswith("gmeval-human|protocol:hype-inf|models:2|raters:3/3")
    assert res["bootstrap"]["n_boot"] == 200


def test_score_is_reproducible_and_seeded(scored_study, capsys):
    outs = []
    for seed in ("1", "1", "2"):
        main(["human", "score", str(scored_study.path), "--json", "--bootstrap", "100", "--seed", seed])
        outs.append(json.loads(capsys.readouterr().out)["models"]["a"]["hype_inf"]["ci95"])
    assert outs[0] == outs[1]


def test_score_with_metrics_and_output_file(scored_study, tmp_path, capsys):
    metrics = tmp_path / "fid.json"
    metrics.write_text(json.dumps({"fid": {"a": 80.0, "b": 150.0}, "kid": {"a": 0.05, "b": 0.01}}))
    out = tmp_path / "score.json"
    assert main(["human", "score", str(scored_study.path), "--json", "--metrics", str(metrics), "-o", str(out),
                 "--bootstrap", "50"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert json.loads(out.read_text()) == res
    rc = res["rank_correlation"]
    assert rc["fid"]["spearman"]["rho"] == pytest.approx(-1.0)  # a: more human error and lower FID
    assert rc["kid"]["spearman"]["rho"] == pytest.approx(1.0)
    assert rc["fid"]["human_score"] == "hype_inf" and rc["fid"]["n_models"] == 2


def test_score_text_output(scored_study, capsys):
    assert main(["human", "score", str(scored_study.path), "--bootstrap", "50"]) == 0
    text = capsys.readouterr().out
    assert "a: HYPE-inf 25.0%" in text and "b: HYPE-inf 0.0%" in text and "Fleiss kappa" in text


def test_score_errors_exit_2(scored_study, tmp_path, capsys):
    bad = tmp_path / "m.json"
    bad.write_text(json.dumps({"a": 1.0}))
    assert main(["human", "score", str(scored_study.path), "--metrics", str(bad)]) == 2
    assert "no value for ['b']" in capsys.readouterr().err
    bad.write_text("{oops")
    assert main(["human", "score", str(scored_study.path), "--metrics", str(bad)]) == 2
    assert "not valid JSON" in capsys.readouterr().err
    assert main(["human", "score", str(tmp_path / "missing.sqlite")]) == 2
    assert "not found" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:  # flag ranges are checked by the parser (one line, rc 2)
        main(["human", "score", str(scored_study.path), "--bootstrap", "0"])
    assert exc.value.code == 2 and "--bootstrap" in capsys.readouterr().err


def test_serve_argument_errors(tmp_path, capsys):
    db = str(tmp_path / "new.sqlite")
    assert main(["human", "serve", "--db", db, "--real", "digits:test"]) == 2
    assert "--fake" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["human", "serve", "--db", db, "--real", "digits:test", "--fake", "x.npz", "--port", "70000"])
    assert exc.value.code == 2 and "--port: must be an integer in [0, 65535]" in capsys.readouterr().err
    assert main(["human", "serve", "--db", db, "--real", "digits:test", "--fake", "a=x.npz", "--fake", "a=y.npz"]) == 2
    assert "distinct model names" in capsys.readouterr().err
    assert main(["human", "serve", "--db", db, "--real", "digits:test", "--fake", "a.npz",
                 "--staircase", "500,50"]) == 2
    assert "START,STEP,MIN,MAX,DOWN,UP" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # strict parsing
        main(["human", "serve", "--protocol", "hype-zero"])


def test_checkpoint_is_a_fake_source(tmp_path):
    """A training checkpoint is sampled with the study's derived seed (untrained 8x8 MLP GAN)."""
    import torch

    from gmeval.models import build_model
    from gmeval.sources import load_images
    from gmeval.training.checkpoint import save_checkpoint

    torch.manual_seed(0)
    model = build_model("mlp-gan", image_shape=(1, 8, 8), latent_dim=16)
    ckpt = tmp_path / "gan.pt"
    save_checkpoint(ckpt, model=model, optimizers={}, rng={}, cursor={}, step=0, config={})
    design = StudyDesign("hype-inf", ("gan",), per_model=3, pool_size=5, n_tutorial=2, n_checks=2, seed=5)
    store, provider = open_study(tmp_path / "s.sqlite", real="digits:test", fakes={"gan": str(ckpt)}, design=design)
    n = design.pool_size + 1
    expected = load_images(str(ckpt), n, seed=derive_seed(5, "images", "fake", "gan")).images
    assert np.array_equal(provider.arrays["gan"], expected)
    assert store.meta("sources")["gan"]["spec"] == str(ckpt)
    rows = [r for r in store.images() if r["source"] == "gan"]
    assert len(rows) == n and {r["pool"] for r in rows} == {"scored", "tutorial"}


class _FakeServer:
    """Stands in for the waitress server: records the app, 'serves' until Ctrl-C at once."""

    server_port = 8123
    apps: list = []

    def __init__(self, app, host, port, settings=None):
        self.apps.append((app, host, port))

    def serve_forever(self):
        raise KeyboardInterrupt

    def close(self):
        pass


def test_serve_creates_then_resumes_a_study(tmp_path, monkeypatch, capsys):
    import gmeval.human.app as human_app

    from .conftest import write_fakes

    monkeypatch.setattr(human_app, "make_server", _FakeServer)
    fake = write_fakes(tmp_path / "a.npz")
    db = tmp_path / "study.sqlite"
    args = ["human", "serve", "--db", str(db), "--real", "digits:test", "--fake", f"mine={fake}", "--per-model", "3",
            "--pool-size", "5", "--protocol", "hype-time", "--staircase", "400,100,100,900,2,1", "--port", "0",
            "--admin-token", "my-admin-token-123456"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "hype-time study" in out and "admin:   http://127.0.0.1:8123/admin/login" in out
    assert "my-admin-token-123456" not in out  # the token is never printed
    app, host, port = _FakeServer.apps[-1]
    assert (host, port) == ("127.0.0.1", 0) and app.config["ADMIN_TOKEN"] == "my-admin-token-123456"
    from gmeval.human.store import Store

    d = Store(db).design
    assert d.models == ("mine",) and d.staircase.start_ms == 400 and d.staircase.down == 2
    # resume from the database alone (sources and design are stored), with a generated admin token
    assert main(["human", "serve", "--db", str(db), "--host", "0.0.0.0", "--public-host", "study.example.org"]) == 0
    out = capsys.readouterr().out
    token_file = tmp_path / "study.sqlite.admin-token"
    assert f"admin:   http://127.0.0.1:8123/admin/login   (token: the file {token_file})" in out
    token = token_file.read_text().strip()
    assert len(token) >= 16 and token not in out and (token_file.stat().st_mode & 0o777) == 0o600
    app = _FakeServer.apps[-1][0]
    assert _FakeServer.apps[-1][1] == "0.0.0.0" and app.config["ADMIN_TOKEN"] == token
    assert app.config["TRUSTED_HOSTS"] == ["localhost", "127.0.0.1", "study.example.org"]
    # resuming with a different design or other models is refused
    assert main(["human", "serve", "--db", str(db), "--per-model", "4"]) == 2
    assert main(["human", "serve", "--db", str(db), "--fake", f"other={fake}"]) == 2
    assert "models of the existing study" in capsys.readouterr().err
