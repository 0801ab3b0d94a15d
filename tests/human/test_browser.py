"""End-to-end in real headless Chromium (Debian `chromium`, driven by the `playwright` package).

A rater completes a whole HYPE-infinity session by clicking AND with the keyboard (including a
double click), then the test checks the stored answers and the score, logs in to the admin page
with its form, and takes screenshots of the trial page, the rater's results page and the admin
page. A second, shorter session runs HYPE-time and checks the timed exposures.

Screenshots go to the test's tmp_path. `make screenshots` sets GMEVAL_SCREENSHOTS_DIR=docs/img to
regenerate the ones shown in docs/human.md; `make test` never writes into the clone.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from gmeval.human.app import create_app, open_study
from gmeval.human.protocol import StudyDesign
from gmeval.human.scoring import score_store
from gmeval.utils.io import atomic_write_bytes

from ..conftest import DATA_ROOT
from .conftest import ADMIN_TOKEN, ServerThread

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS_ENV = "GMEVAL_SCREENSHOTS_DIR"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian chromium is not installed at /usr/bin/chromium "
                       "(run `make browser-deps` as root)"),
]


def _launch(p, tmp_path):
    return p.chromium.launch_persistent_context(
        str(tmp_path / "chromium-profile"), executable_path=CHROMIUM, headless=True,
        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
              "--no-first-run", "--disable-dev-shm-usage"],
        viewport={"width": 860, "height": 780})


def _checkpoint_study(tmp_path, protocol, **kw):
    """Real MNIST digits (digits:test without the MNIST files) vs an untrained MLP-GAN checkpoint."""
    import torch

    from gmeval.models import build_model
    from gmeval.training.checkpoint import save_checkpoint

    real, shape = ("mnist:test", (1, 28, 28)) if DATA_ROOT is not None else ("digits:test", (1, 8, 8))
    torch.manual_seed(0)
    model = build_model("mlp-gan", image_shape=shape, latent_dim=32)
    ckpt = tmp_path / "runs" / "a" / "checkpoint.pt"
    save_checkpoint(ckpt, model=model, optimizers={}, rng={}, cursor={}, step=0, config={})
    design = StudyDesign(protocol, ("gan-a",), **kw)
    store, provider = open_study(tmp_path / "study.sqlite", real=real, fakes={"gan-a": str(ckpt)}, design=design)
    return store, provider


def _current(store, rater_id):
    with store.read() as conn:
        row = conn.execute("SELECT t.* FROM trials t LEFT JOIN answers a ON a.trial_id = t.trial_id WHERE t.rater_id = ? "
                           "AND a.answer_id IS NULL ORDER BY t.position LIMIT 1", (rater_id,)).fetchone()
    return None if row is None else dict(row)


def _n_answers(store, rater_id):
    with store.read() as conn:
        return conn.execute("SELECT COUNT(*) FROM answers WHERE rater_id = ?", (rater_id,)).fetchone()[0]


def _wait_answers(store, rater_id, n, timeout=10.0):
    end = time.time() + timeout
    while _n_answers(store, rater_id) < n:
        assert time.time() < end, f"answer {n} was not stored"
        time.sleep(0.02)


READY = """() => location.pathname.endsWith('/done') || !document.getElementById('btn-real').disabled ||
                 !document.getElementById('feedback').hidden || !document.getElementById('interstitial').hidden"""


def _shot(page, tmp_path, name):
    """Save a screenshot in tmp_path/screenshots, and also in $GMEVAL_SCREENSHOTS_DIR when set."""
    png = page.screenshot(full_page=True)
    for folder in [tmp_path / "screenshots"] + ([Path(os.environ[SCREENSHOTS_ENV])] if os.environ.get(SCREENSHOTS_ENV)
                                                else []):
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(folder / name, png)


def test_hype_infinity_session_by_click_and_keyboard(tmp_path):
    from playwright.sync_api import sync_playwright

    store, provider = _checkpoint_study(tmp_path, "hype-inf", per_model=3, pool_size=6, n_tutorial=2, n_checks=2)
    app = create_app(store, provider, admin_token=ADMIN_TOKEN)
    with ServerThread(app) as srv, sync_playwright() as p:
        ctx = _launch(p, tmp_path)
        page = ctx.new_page()
        page.goto(srv.url + "/")
        page.fill("#nickname", "Ada")
        page.check("#consent")
        page.click("#start")
        page.wait_for_url("**/r/*")
        rid = page.url.rstrip("/").rsplit("/", 1)[1]
        n_trials = 2 + 6 + 2
        answered, fooled_once, shot_taken, used_dblclick = 0, False, False, False
        modes = {"click": 0, "key": 0}
        while True:
            page.wait_for_function(READY, timeout=15000)
            if page.url.endswith("/done"):
                break
            if page.is_visible("#feedback"):
                # tutorial feedback: alternate keyboard and mouse to continue
                assert "this image was" in page.inner_text("#feedback-text")
                page.keyboard.press("Enter") if answered % 2 else page.click("#btn-continue")
                continue
            if page.is_visible("#interstitial"):
                page.keyboard.press("Enter")
                continue
            t = _current(store, rid)
            answer = t["truth"]
            if t["phase"] == "scored" and t["truth"] == "fake" and not fooled_once:
                answer, fooled_once = "real", True  # fooled by exactly one of the three fakes
            if t["phase"] == "scored" and t["truth"] == "real" and not shot_taken:
                page.wait_for_function("() => document.getElementById('stimulus').complete")
                _shot(page, tmp_path, "human_trial.png")
                shot_taken = True
            if t["phase"] == "scored" and not used_dblclick and answered >= 4:
                page.dblclick(f"#btn-{answer}")  # a double click is stored once and does not skip a trial
                used_dblclick = True
                modes["click"] += 1
            elif answered % 2 == 0:
                page.click(f"#btn-{answer}")
                modes["click"] += 1
            else:
                page.keyboard.press({"real": "r", "fake": "f"}[answer] if answered % 4 == 1 else
                                    {"real": "ArrowLeft", "fake": "ArrowRight"}[answer])
                modes["key"] += 1
            answered += 1
            _wait_answers(store, rid, answered)
            assert _n_answers(store, rid) == answered  # exactly one stored per decision
        assert answered == n_trials and modes["click"] >= 3 and modes["key"] >= 3 and used_dblclick
        # the rater's results page
        assert "83.3%" in page.inner_text("#own-accuracy")  # 5 of 6 scored images right
        assert page.inner_text("#completion-code") == store.rater(rid)["completion_code"]
        assert "attention" not in page.inner_text("#results").lower()  # check results stay on the server
        page.click("#comment")
        page.keyboard.type("Some digits looked smudged & odd.")
        page.click("#send-comment")
        page.wait_for_function("() => document.getElementById('comment-status').textContent.includes('Received')")
        _shot(page, tmp_path, "human_results.png")
        # live admin page, after logging in with the form (the token never appears in a URL)
        page.goto(f"{srv.url}/admin")
        page.wait_for_url("**/admin/login")
        page.fill("#token", ADMIN_TOKEN)
        page.click("#login")
        page.wait_for_url("**/admin")
        assert ADMIN_TOKEN not in page.content() and ADMIN_TOKEN not in page.url
        assert all(ADMIN_TOKEN not in c["value"] for c in ctx.cookies())
        assert "16.7%" in page.inner_text("#model-table")
        assert "smudged &amp; odd" not in page.inner_text("#rater-table")  # text, not double-escaped
        assert "smudged & odd" in page.inner_text("#rater-table")
        _shot(page, tmp_path, "human_admin.png")
        ctx.close()
    rows = store.answers(rid)
    assert len(rows) == n_trials and len({r["trial_id"] for r in rows}) == n_trials
    assert all(r["rt_ms"] is not None and r["rt_ms"] >= 0 for r in rows)
    assert all(r["shown_ms"] is None and r["exposure_ms"] is None for r in rows)
    assert store.rater(rid)["comment"] == "Some digits looked smudged & odd."
    res = score_store(store, n_boot=200)
    m = res["models"]["gan-a"]
    assert m["fake_error"] == pytest.approx(100 / 3) and m["real_error"] == 0.0
    assert m["hype_inf"]["value"] == pytest.approx(50 / 3)  # HYPE-inf = (33.3% + 0%) / 2
    assert res["raters"]["excluded"] == []
    for name in ("human_trial.png", "human_results.png", "human_admin.png"):
        assert (tmp_path / "screenshots" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_hype_time_session_shows_timed_exposures(tmp_path):
    from playwright.sync_api import sync_playwright

    store, provider = _checkpoint_study(tmp_path, "hype-time", per_model=3, pool_size=6, n_tutorial=0, n_checks=1)
    app = create_app(store, provider, admin_token=ADMIN_TOKEN)
    with ServerThread(app) as srv, sync_playwright() as p:
        ctx = _launch(p, tmp_path)
        page = ctx.new_page()
        page.goto(srv.url + "/")
        page.check("#consent")
        page.click("#start")
        page.wait_for_url("**/r/*")
        rid = page.url.rstrip("/").rsplit("/", 1)[1]
        answered = 0
        while True:
            page.wait_for_function(READY, timeout=15000)
            if page.url.endswith("/done"):
                break
            assert page.is_visible("#mask") and not page.is_visible("#stimulus")  # image gone, noise mask shown
            if answered == 0:
                _shot(page, tmp_path, "human_trial_time_mask.png")
            t = _current(store, rid)
            page.keyboard.press("r" if t["truth"] == "real" else "f")
            answered += 1
            _wait_answers(store, rid, answered)
        ctx.close()
    rows = store.answers(rid)
    assert len(rows) == 7
    for r in rows:
        # the client measured how long the image was on screen: at least the exposure, at most
        # 250 ms longer (timer and frame granularity of a loaded headless browser)
        assert r["exposure_ms"] - 5 <= r["shown_ms"] <= r["exposure_ms"] + 250, r
    scored = [r for r in rows if r["phase"] == "scored"]
    assert [r["exposure_ms"] for r in scored] == [500, 500, 500, 450, 450, 450]  # all right: one step down
    res = score_store(store, n_boot=100)
    assert res["models"]["gan-a"]["hype_time"]["value"] == pytest.approx(475.0)  # tie 500/450: mean
