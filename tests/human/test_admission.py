"""Issue 11: attention checks a client cannot see, exclusion, rater admission, admin access, input rules.

Each test reproduces a defect found by probing the app as a hostile rater or an outsider; the
docstring says what happened before.
"""

from __future__ import annotations

import json
import re

import pytest

from gmeval.errors import InvalidArgumentError
from gmeval.human.app import create_app
from gmeval.human.protocol import StudyDesign
from gmeval.human.scoring import rater_report, score_answers, score_store
from gmeval.human.store import Store

from .conftest import ADMIN_HEADERS, ADMIN_TOKEN, run_session, start_rater, trials_of


def _bot_session(client, rater_id, answer="real"):
    """A bot that sees only the API: answers `answer` on every trial; returns every trial JSON it saw."""
    seen = []
    j = client.get(f"/api/r/{rater_id}/next").get_json()
    k = 0
    while not j["done"]:
        seen.append(j["trial"])
        j = client.post(f"/api/r/{rater_id}/answer", json={"trial_id": j["trial"]["trial_id"],
                                                           "submission_id": f"bot{k:08d}", "answer": answer}).get_json()
        seen[-1] = (seen[-1], j)
        k += 1
    return seen


def test_checks_look_like_scored_trials_in_the_api(make_study):
    """Before: the API labelled checks `"phase": "check"`, so a bot could answer them right."""
    store, _, app = make_study(per_model=6, pool_size=8, n_tutorial=2, n_checks=4)
    client = app.test_client()
    rid = start_rater(client)
    truth = {t["trial_id"]: t for t in trials_of(store, rid)}
    seen = _bot_session(client, rid)
    by_phase: dict[str, list] = {}
    for trial, reply in seen:
        by_phase.setdefault(truth[trial["trial_id"]]["phase"], []).append((trial, reply))
    assert len(by_phase["check"]) == 4 and len(by_phase["scored"]) == 12
    for phase in ("check", "scored"):
        for trial, reply in by_phase[phase]:
            assert trial["phase"] == "main" and trial["exposure_ms"] is None
            assert "feedback" not in reply
            assert set(reply) == {"ok", "done", "duplicate"} | ({"trial"} if not reply["done"] else {"results_url"})
    # the key sets of check and scored trials are the same, and the page is the same for every trial
    assert {frozenset(t) for t, _ in by_phase["check"]} == {frozenset(t) for t, _ in by_phase["scored"]}
    page = client.get(f"/r/{rid}").data.decode()
    assert "check" not in re.sub(r"attention checks", "", page).lower()


def test_check_exposure_in_hype_time_matches_the_staircase(make_study):
    """Before: HYPE-time checks were always shown for the longest exposure (1000 ms), unlike any scored trial."""
    store, _, app = make_study("hype-time", per_model=6, pool_size=8, n_tutorial=0, n_checks=4)
    client = app.test_client()
    rid = start_rater(client)
    truth = {t["trial_id"]: t for t in trials_of(store, rid)}
    seen = _bot_session(client, rid, "fake")
    exposures = [(truth[t["trial_id"]]["phase"], t["exposure_ms"]) for t, _ in seen]
    ladder = set(store.design.staircase.ladder())
    for i, (phase, ms) in enumerate(exposures):
        assert ms in ladder
        if phase == "check":
            previous = [e for p, e in exposures[:i] if p == "scored"]
            assert ms == (previous[-1] if previous else store.design.staircase.start_ms)


def test_check_images_are_fresh_and_their_answers_stay_on_the_server(make_study):
    """Before: real checks reused tutorial images whose answers the rater had just been shown."""
    store, _, app = make_study(models=("a", "b"), per_model=4, pool_size=8, n_tutorial=4, n_checks=4)
    client = app.test_client()
    raters = [start_rater(client, f"r{i}") for i in range(3)]
    pools = {r["image_id"]: r["pool"] for r in store.images()}
    tutorial_images, check_images = set(), set()
    for rid in raters:
        for t in trials_of(store, rid):
            {"tutorial": tutorial_images, "check": check_images}.get(t["phase"], set()).add(t["image_id"])
    assert check_images and not check_images & tutorial_images
    assert {pools[i] for i in check_images} == {"check"}  # a pool of their own: never a scored image either
    assert {t["truth"] for rid in raters for t in trials_of(store, rid) if t["phase"] == "check"} == {"real", "fake"}
    # the end screen says nothing about checks
    run_session(client, store, raters[0], lambda t: t["truth"])
    assert "checks" not in rater_report(store, raters[0])
    assert "attention" not in client.get(f"/r/{raters[0]}/done").data.decode().lower()


def _policy(seed):
    """An honest rater: right on checks, right on reals, fooled by fakes whose trial id hashes to `seed` mod 3."""
    def answer(t):
        if t["phase"] != "scored" or t["truth"] == "real":
            return t["truth"]
        return "real" if sum(map(ord, t["trial_id"])) % 3 == seed else "fake"
    return answer


def test_a_bot_answering_real_everywhere_is_excluded_and_leaves_the_score_unchanged(make_study):
    """Before: the bot passed 4/4 checks and set HYPE-infinity to 50.0 % [50.0, 50.0]."""
    store, _, app = make_study(models=("a", "b"), per_model=6, pool_size=8, n_tutorial=2, n_checks=4)
    client = app.test_client()
    honest = [start_rater(client, f"honest{i}") for i in range(3)]
    for i, rid in enumerate(honest):
        run_session(client, store, rid, _policy(i))
    bot = start_rater(client, "bot")
    _bot_session(client, bot, "real")
    res = score_store(store, n_boot=300, seed=5)
    assert [(e["nickname"], e["reason"], e["checks"], e["passed"]) for e in res["raters"]["excluded"]] == \
        [("bot", "low_check_accuracy", 4, 2)]  # "real" on two noise images
    assert res["raters"]["excluded_by_reason"] == {"too_few_checks": 0, "low_check_accuracy": 1}
    honest_only = score_answers([a for a in store.answers() if a["rater_id"] != bot], store.design, n_boot=300, seed=5)
    def values(r):  # the models' scores without their signature (the study's, which counts the bot as a rater)
        return {m: {k: ({f: x for f, x in v.items() if f != "signature"} if isinstance(v, dict) else v)
                    for k, v in e.items()} for m, e in r["models"].items()}

    assert values(res) == values(honest_only)  # scores and bootstrap intervals, bit for bit
    assert "|raters:3/4|" in res["models"]["a"]["hype_inf"]["signature"]
    assert "|raters:3/3|" in honest_only["models"]["a"]["hype_inf"]["signature"]
    # the test can fail: counted, the bot would have moved every score
    lenient = StudyDesign(**{**store.design.to_dict(), "models": store.design.models, "min_attention_accuracy": 0.0})
    with_bot = score_answers(store.answers(), lenient, n_boot=300, seed=5)
    for m in ("a", "b"):
        assert with_bot["models"][m]["hype_inf"]["value"] != honest_only["models"][m]["hype_inf"]["value"]


def test_raters_who_quit_before_their_checks_are_excluded(make_study):
    """Before: a rater with no answered check was never excluded, whatever they answered."""
    store, _, app = make_study(per_model=6, pool_size=8, n_tutorial=2, n_checks=2)
    client = app.test_client()
    good, quitter = start_rater(client, "good"), start_rater(client, "quitter")
    run_session(client, store, good, lambda t: t["truth"])
    first_check = min(t["position"] for t in trials_of(store, quitter) if t["phase"] == "check")
    for k in range(first_check):  # tutorial and scored trials up to the first check, all "real"
        t = client.get(f"/api/r/{quitter}/next").get_json()["trial"]
        client.post(f"/api/r/{quitter}/answer", json={"trial_id": t["trial_id"], "submission_id": f"quit{k:06d}",
                                                      "answer": "real"})
    res = score_store(store, n_boot=50)
    assert [(e["nickname"], e["reason"], e["checks"]) for e in res["raters"]["excluded"]] == [("quitter", "too_few_checks", 0)]
    assert res["raters"]["excluded_by_reason"]["too_few_checks"] == 1 and res["models"]["a"]["n_raters"] == 1
    # a study may ask for fewer answered checks than it plans (--min-checks)
    with pytest.raises(InvalidArgumentError, match="min_checks"):
        StudyDesign("hype-inf", ("a",), n_checks=2, min_checks=3)


def test_start_is_rate_limited_per_address(make_study):
    """Before: 200 raters were created in 1.1 s from one client."""
    store, provider, _ = make_study()
    app = create_app(store, provider, admin_token=ADMIN_TOKEN, start_per_minute=5)
    client = app.test_client()
    for i in range(5):
        start_rater(client, f"r{i}")
    r = client.post("/start", data={"consent": "yes", "nickname": "one too many"})
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    other = client.post("/start", data={"consent": "yes"}, environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert other.status_code == 303  # the limit is per client address
    assert store.counts()["raters"] == 6


def test_rate_limiter_refills():
    from gmeval.human.access import RateLimiter

    now = [0.0]
    lim = RateLimiter(per_minute=6, clock=lambda: now[0])
    assert [lim.allow("x") for _ in range(7)] == [True] * 6 + [False]
    now[0] += 10.0  # 6 per minute: one more every 10 s
    assert lim.allow("x") and not lim.allow("x") and lim.allow("y")


def test_max_raters_is_stored_with_the_study(make_study):
    """Before: --max-raters was kept in memory only, so a restart lifted it."""
    store, provider, _ = make_study()
    store.set_max_raters(1)
    start_rater(create_app(store, provider, admin_token=ADMIN_TOKEN).test_client())
    restarted = Store(store.path)  # a new process: only the database carries over
    client = create_app(restarted, provider, admin_token=ADMIN_TOKEN).test_client()
    assert restarted.max_raters == 1
    assert client.post("/start", data={"consent": "yes"}).status_code == 503
    assert restarted.counts()["raters"] == 1


def test_participant_id_is_stored_and_a_completion_code_shown(make_study):
    store, _, app = make_study()
    client = app.test_client()
    page = client.get("/?PROLIFIC_PID=5f3a9c0e12ab").data.decode()
    assert 'name="PROLIFIC_PID" value="5f3a9c0e12ab"' in page
    r = client.post("/start", data={"consent": "yes", "PROLIFIC_PID": "5f3a9c0e12ab"})
    rid = r.headers["Location"].rsplit("/", 1)[1]
    rater = store.rater(rid)
    assert (rater["participant_source"], rater["participant_id"], rater["completion_code"]) == \
        ("PROLIFIC_PID", "5f3a9c0e12ab", None)
    run_session(client, store, rid, lambda t: t["truth"])
    code = store.rater(rid)["completion_code"]
    assert re.fullmatch(r"[0-9A-Z]{10}", code)
    assert f'<strong id="completion-code">{code}</strong>' in client.get(f"/r/{rid}/done").data.decode()
    exported = client.get("/admin/export.json", headers=ADMIN_HEADERS).get_json()["raters"][0]
    assert exported["participant_id"] == "5f3a9c0e12ab" and exported["completion_code"] == code
    # one session per participant id; ids are plain tokens
    assert client.post("/start", data={"consent": "yes", "PROLIFIC_PID": "5f3a9c0e12ab"}).status_code == 409
    for bad in ("x\n", "<b>", "a" * 65):
        assert client.post("/start", data={"consent": "yes", "workerId": bad}).status_code == 400
        assert client.get("/", query_string={"workerId": bad}).status_code == 400
    mturk = client.post("/start", data={"consent": "yes", "workerId": "A1B2C3D4E5"})
    assert store.rater(mturk.headers["Location"].rsplit("/", 1)[1])["participant_source"] == "workerId"


def test_admin_login_sets_a_strict_httponly_cookie_and_no_page_shows_the_token(make_study):
    """Before: the admin page put the token into its export links, even after a log-in by header."""
    _, _, app = make_study()
    client = app.test_client()
    assert client.get("/admin/login").status_code == 200
    assert client.post("/admin/login", data={"token": "wrong-token-wrong-token"}).status_code == 403
    r = client.post("/admin/login", data={"token": ADMIN_TOKEN})
    assert r.status_code == 303 and r.headers["Location"].endswith("/admin")
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/admin" in cookie
    assert ADMIN_TOKEN not in cookie
    page = client.get("/admin")
    assert page.status_code == 200 and ADMIN_TOKEN not in page.data.decode()
    assert client.get("/admin/export.csv").status_code == 200  # the cookie is enough
    assert ADMIN_TOKEN not in client.get("/admin", headers=ADMIN_HEADERS).data.decode()
    client.post("/admin/logout")
    assert client.get("/admin/export.csv").status_code == 403


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "bEaReR"])
def test_bearer_scheme_is_case_insensitive(make_study, scheme):
    """Before: only the exact spelling `Bearer` was accepted (RFC 9110: schemes are case-insensitive)."""
    _, _, app = make_study()
    r = app.test_client().get("/admin/score.json?bootstrap=10", headers={"Authorization": f"{scheme} {ADMIN_TOKEN}"})
    assert r.status_code == 200


@pytest.mark.parametrize("token", ["x", "fifteen-chars-x", "has a space in it!!", "\u00e9" * 20])
def test_admin_token_must_be_long_printable_ascii(make_study, token):
    """Before: `--admin-token x` (1 character) was accepted."""
    store, provider, _ = make_study()
    with pytest.raises(InvalidArgumentError, match="admin token of 16-256"):
        create_app(store, provider, admin_token=token)


def test_ids_are_matched_whole(make_study):
    """Before: ids were matched with `$`, which also matches before a trailing newline."""
    store, _, app = make_study()
    client = app.test_client()
    rid = start_rater(client)
    t = client.get(f"/api/r/{rid}/next").get_json()["trial"]
    for body in ({"trial_id": t["trial_id"], "submission_id": "valid-sub-01\n", "answer": "real"},
                 {"trial_id": t["trial_id"] + "\n", "submission_id": "valid-sub-01", "answer": "real"}):
        assert client.post(f"/api/r/{rid}/answer", json=body).status_code == 400
    assert client.get(f"/api/r/{rid}%0A/next").status_code == 404
    assert store.counts()["answers"] == 0


@pytest.mark.parametrize("char", ["\u202e", "\u202a", "\u2066", "\u2069", "\u200f", "\u061c"])
def test_bidi_controls_are_refused(make_study, char):
    """Before: U+202E (right-to-left override) in a nickname was shown raw on the admin page."""
    store, _, app = make_study()
    client = app.test_client()
    assert client.post("/start", data={"consent": "yes", "nickname": f"ab{char}cd"}).status_code == 400
    rid = start_rater(client)
    run_session(client, store, rid, lambda t: t["truth"])
    r = client.post(f"/api/r/{rid}/comment", json={"submission_id": "comment-01", "comment": f"fine{char}txt.exe"})
    assert r.status_code == 400 and store.rater(rid)["comment"] is None
    with pytest.raises(InvalidArgumentError, match="printable"):
        StudyDesign("hype-inf", (f"gan{char}",))


def test_comment_only_after_finishing(make_study):
    """Before: a comment was accepted before the rater had answered anything."""
    store, _, app = make_study()
    client = app.test_client()
    rid = start_rater(client)
    r = client.post(f"/api/r/{rid}/comment", json={"submission_id": "comment-01", "comment": "early"})
    assert r.status_code == 409 and store.rater(rid)["comment"] is None
    run_session(client, store, rid, lambda t: t["truth"])
    assert client.post(f"/api/r/{rid}/comment", json={"submission_id": "comment-02", "comment": "late"}).status_code == 200


def test_deep_json_is_400(make_study):
    """Before: JSON nested 5000 deep gave a 500 (RecursionError)."""
    store, _, app = make_study()
    client = app.test_client()
    rid = start_rater(client)
    client.get(f"/api/r/{rid}/next")
    for depth in (5, 5000):
        body = '{"trial_id": ' + "[" * depth + "]" * depth + "}"
        r = client.post(f"/api/r/{rid}/answer", data=body, content_type="application/json")
        assert r.status_code == 400 and "nested deeper" in r.get_json()["error"]
    # brackets inside strings do not count
    r = client.post(f"/api/r/{rid}/answer", data=json.dumps({"trial_id": "[[[[[[[[", "submission_id": "sub-000001",
                                                             "answer": "real"}), content_type="application/json")
    assert r.status_code == 400 and "malformed trial_id" in r.get_json()["error"]
    assert store.counts()["answers"] == 0


def test_host_header_allowlist(make_study):
    """Before: `Host: evil.example` got 200, which allows DNS rebinding onto a study on localhost."""
    store, provider, app = make_study()
    client = app.test_client()
    assert client.get("/", headers={"Host": "evil.example"}).status_code == 400
    assert client.get("/healthz", headers={"Host": "evil.example:8000"}).status_code == 400
    assert client.post("/start", data={"consent": "yes"}, headers={"Host": "evil.example"}).status_code == 400
    for host in ("localhost", "127.0.0.1:8000", "localhost:1"):
        assert client.get("/", headers={"Host": host}).status_code == 200, host
    assert store.counts()["raters"] == 0
    public = create_app(store, provider, admin_token=ADMIN_TOKEN, allowed_hosts=["localhost", "study.example.org"])
    assert public.test_client().get("/", headers={"Host": "study.example.org"}).status_code == 200
    assert public.test_client().get("/", headers={"Host": "evil.example"}).status_code == 400


def test_allowed_hosts_needs_a_public_name_off_loopback():
    from gmeval.human.access import allowed_hosts

    assert allowed_hosts("127.0.0.1") == ["localhost", "127.0.0.1"]
    assert allowed_hosts("0.0.0.0", ["Study.Example.org"]) == ["localhost", "127.0.0.1", "study.example.org"]
    with pytest.raises(InvalidArgumentError, match="--public-host"):
        allowed_hosts("0.0.0.0")
    with pytest.raises(InvalidArgumentError, match="--public-host"):
        allowed_hosts("0.0.0.0", ["evil/x"])


def test_admin_log_in_attempts_are_rate_limited(make_study):
    _, _, app = make_study()
    client = app.test_client()
    codes = [client.post("/admin/login", data={"token": f"guess-{i:012d}"}).status_code for i in range(11)]
    assert codes == [403] * 10 + [429]
    r = client.post("/admin/login", data={"token": ADMIN_TOKEN})  # even the right token waits now
    assert r.status_code == 429 and int(r.headers["Retry-After"]) == 6  # 10 a minute: one every 6 s
