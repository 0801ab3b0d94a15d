"""The web app's API and pages: sessions, validation, forged/replayed answers, escaping, admin."""

from __future__ import annotations

import csv
import io
import json
import re

import numpy as np
import pytest
from PIL import Image

from gmeval.human.app import MAX_CONTENT_LENGTH
from gmeval.human.scoring import score_store

from .conftest import ADMIN_HEADERS, ADMIN_TOKEN, run_session, start_rater, trials_of


def _count(store, table):
    return store.counts()[table]


def test_full_session_stores_every_answer_and_scores(make_study):
    store, _, app = make_study(models=("a", "b"), per_model=4, pool_size=8, n_tutorial=2, n_checks=2)
    client = app.test_client()
    rid = start_rater(client)
    # fooled by every fake of model a, never by b; reals right; checks right
    out = run_session(client, store, rid, lambda t: "real" if t["truth"] == "real" or t["stream"] == "a" else "fake")
    n_trials = 2 + 2 * 8 + 2
    assert len(out) == n_trials and out[-1]["done"] is True
    assert [("feedback" in o) for o in out] == [True, True] + [False] * (n_trials - 2)  # feedback only in the tutorial
    assert _count(store, "answers") == n_trials
    res = score_store(store, n_boot=100)
    assert res["models"]["a"]["hype_inf"]["value"] == pytest.approx(50.0)   # fake error 100%, real error 0%
    assert res["models"]["b"]["hype_inf"]["value"] == pytest.approx(0.0)
    assert res["models"]["a"]["n_answers"] == 8 and res["raters"]["excluded"] == []
    admin = client.get("/admin", headers=ADMIN_HEADERS).data.decode()  # the live table reads each score's "value"
    assert re.search(r"<td>a</td><td>1</td><td>8</td>\s*<td>50\.0%</td>", admin)
    page = client.get(f"/r/{rid}/done")
    assert page.status_code == 200
    assert b"75.0%" in page.data  # own accuracy: 12 of 16 scored answers right


def test_scored_answers_reveal_nothing_and_urls_are_opaque(make_study):
    store, provider, app = make_study(models=("secretmodel",))
    client = app.test_client()
    rid = start_rater(client)
    truth = {t["trial_id"]: t for t in trials_of(store, rid)}
    j = client.get(f"/api/r/{rid}/next").get_json()
    k = 0
    while not j["done"]:
        t = j["trial"]
        assert set(t) == {"trial_id", "image_url", "phase", "position", "total", "exposure_ms"}
        url = t["image_url"]
        for word in ("real", "fake", "secretmodel", "noise", "digits"):
            assert word not in url.lower()
        png = client.get(url)
        assert png.status_code == 200 and png.mimetype == "image/png"
        row = truth[t["trial_id"]]
        img = provider.arrays[{r["image_id"]: r["source"] for r in store.images()}[row["image_id"]]]
        pixels = np.asarray(Image.open(io.BytesIO(png.data)))
        assert any(np.array_equal(pixels, im[0]) for im in img)  # the PNG is exactly one of the source's images
        r = client.post(f"/api/r/{rid}/answer", json={"trial_id": t["trial_id"], "submission_id": f"op-{k:06d}",
                                                      "answer": "real"})
        j = r.get_json()
        if t["phase"] != "tutorial":
            assert "feedback" not in j and "truth" not in json.dumps(j) and "correct" not in j
        k += 1


def test_unknown_ids_are_404_and_store_nothing(make_study):
    store, _, app = make_study()
    client = app.test_client()
    rid = start_rater(client)
    before = store.counts()
    for path in ("/r/AAAAAAAAAAAAAAAAAAAAAA", "/api/r/AAAAAAAAAAAAAAAAAAAAAA/next", "/img/AAAAAAAAAAAAAAAA",
                 "/r/../../etc/passwd", "/api/r/%3Cscript%3E/next", "/img/short"):
        assert client.get(path).status_code == 404, path
    r = client.post("/api/r/AAAAAAAAAAAAAAAAAAAAAA/answer",
                    json={"trial_id": "AAAAAAAAAAAAAAAAAAAAAA", "submission_id": "abcdefgh", "answer": "real"})
    assert r.status_code == 404 and r.get_json()["ok"] is False
    r = client.post(f"/api/r/{rid}/answer", json={"trial_id": "AAAAAAAAAAAAAAAAAAAAAA", "submission_id": "abcdefgh",
                                                  "answer": "real"})
    assert r.status_code == 404
    assert store.counts() == before


def test_forged_and_replayed_answers(make_study):
    store, _, app = make_study()
    client = app.test_client()
    alice, bob = start_rater(client, "alice"), start_rater(client, "bob")
    t_alice = client.get(f"/api/r/{alice}/next").get_json()["trial"]
    t_bob = client.get(f"/api/r/{bob}/next").get_json()["trial"]
    # bob answers alice's trial: 404, nothing stored
    r = client.post(f"/api/r/{bob}/answer", json={"trial_id": t_alice["trial_id"], "submission_id": "forge-001",
                                                  "answer": "fake"})
    assert r.status_code == 404
    assert _count(store, "answers") == 0
    body = {"trial_id": t_alice["trial_id"], "submission_id": "alice-0001", "answer": "real"}
    assert client.post(f"/api/r/{alice}/answer", json=body).status_code == 200
    replay = client.post(f"/api/r/{alice}/answer", json=body)  # a retry: same result, stored once
    assert replay.status_code == 200 and replay.get_json()["duplicate"] is True
    other = client.post(f"/api/r/{alice}/answer", json={**body, "submission_id": "alice-0002", "answer": "fake"})
    assert other.status_code == 409
    stolen = client.post(f"/api/r/{bob}/answer", json={"trial_id": t_bob["trial_id"], "submission_id": "alice-0001",
                                                       "answer": "real"})
    assert stolen.status_code == 409  # a submission id belongs to one answer only
    ahead = trials_of(store, alice)[4]
    r = client.post(f"/api/r/{alice}/answer", json={"trial_id": ahead["trial_id"], "submission_id": "alice-0003",
                                                    "answer": "real"})
    assert r.status_code == 409
    assert _count(store, "answers") == 1


@pytest.mark.parametrize("payload, content_type, status", [
    (b"{not json", "application/json", 400),
    (b"[1, 2, 3]", "application/json", 400),
    (b'"just a string"', "application/json", 400),
    (b'{"trial_id": "x"}', "text/plain", 415),
    (None, None, 400),  # filled in below: missing field
])
def test_malformed_payloads(make_study, payload, content_type, status):
    store, _, app = make_study()
    client = app.test_client()
    rid = start_rater(client)
    t = client.get(f"/api/r/{rid}/next").get_json()["trial"]
    if payload is None:
        payload, content_type = json.dumps({"trial_id": t["trial_id"], "answer": "real"}).encode(), "application/json"
    r = client.post(f"/api/r/{rid}/answer", data=payload, content_type=content_type)
    assert r.status_code == status
    assert r.get_json()["ok"] is False
    assert _count(store, "answers") == 0


@pytest.mark.parametrize("change", [
    {"answer": "maybe"}, {"answer": 1}, {"answer": True}, {"submission_id": "short"}, {"submission_id": "bad id!!"},
    {"submission_id": 12345678}, {"trial_id": "../../x"}, {"rt_ms": "fast"}, {"rt_ms": -5}, {"rt_ms": True},
    {"shown_ms": 1e12}, {"extra": "field"},
])
def test_invalid_fields_are_400(make_study, change):
    store, _, app = make_study()
    client = app.test_client()
    rid = start_rater(client)
    t = client.get(f"/api/r/{rid}/next").get_json()["trial"]
    body = {"trial_id": t["trial_id"], "submission_id": "valid-sub-01", "answer": "real", **change}
    r = client.post(f"/api/r/{rid}/answer", json=body)
    assert r.status_code == 400, r.get_json()
    assert _count(store, "answers") == 0


def test_oversized_payload_is_413(make_study):
    store, _, app = make_study()
    client = app.test_client()
    rid = start_rater(client)
    t = client.get(f"/api/r/{rid}/next").get_json()["trial"]
    body = {"trial_id": t["trial_id"], "submission_id": "valid-sub-01", "answer": "real", "pad": "x" * MAX_CONTENT_LENGTH}
    r = client.post(f"/api/r/{rid}/answer", json=body)
    assert r.status_code == 413
    big_form = client.post("/start", data={"consent": "yes", "nickname": "n" * (2 * MAX_CONTENT_LENGTH)})
    assert big_form.status_code == 413
    assert _count(store, "answers") == 0 and _count(store, "raters") == 1


@pytest.mark.parametrize("nickname", ["<script>alert(1)</script>", "bob<img src=x onerror=alert(1)>", "a>b",
                                      "tab\there", "x" * 41, "nul\x00byte"])
def test_script_or_bad_nickname_is_refused(make_study, nickname):
    store, _, app = make_study()
    r = app.test_client().post("/start", data={"consent": "yes", "nickname": nickname})
    assert r.status_code == 400
    assert b"<script>alert" not in r.data
    assert _count(store, "raters") == 0


def test_start_requires_consent(make_study):
    store, _, app = make_study()
    assert app.test_client().post("/start", data={"nickname": "x"}).status_code == 400
    assert _count(store, "raters") == 0


def test_text_is_escaped_in_pages(make_study):
    store, _, app = make_study()
    client = app.test_client()
    rid = start_rater(client, nickname='Tom & "Jerry" \'s')
    run_session(client, store, rid, lambda t: t["truth"])
    r = client.post(f"/api/r/{rid}/comment", json={"submission_id": "comment-01", "comment": "fun & \"hard\"\nthanks"})
    assert r.status_code == 200
    done = client.get(f"/r/{rid}/done").data.decode()
    assert "Tom &amp; &#34;Jerry&#34; &#39;s" in done and 'Tom & "Jerry"' not in done
    admin = client.get("/admin", headers=ADMIN_HEADERS).data.decode()
    assert "Tom &amp; &#34;Jerry&#34;" in admin and "fun &amp; &#34;hard&#34;" in admin


def test_script_in_comment_is_refused(make_study):
    store, _, app = make_study()
    client = app.test_client()
    rid = start_rater(client)
    for text in ("<script>alert(1)</script>", "x" * 1001, ""):
        r = client.post(f"/api/r/{rid}/comment", json={"submission_id": "comment-01", "comment": text})
        assert r.status_code == 400
    assert store.rater(rid)["comment"] is None


def test_security_headers(make_study):
    _, _, app = make_study()
    r = app.test_client().get("/")
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "default-src 'none'" in csp and "unsafe-inline" not in csp
    assert r.headers["X-Content-Type-Options"] == "nosniff" and r.headers["Referrer-Policy"] == "no-referrer"
    assert b"<script" not in r.data  # no inline scripts anywhere: the CSP forbids them


def test_done_page_before_finishing_redirects(make_study):
    _, _, app = make_study()
    client = app.test_client()
    rid = start_rater(client)
    r = client.get(f"/r/{rid}/done")
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/r/{rid}")


def test_admin_requires_the_token(make_study):
    _, _, app = make_study()
    client = app.test_client()
    for path in ("/admin/export.json", "/admin/export.csv", "/admin/score.json"):
        assert client.get(path).status_code == 403
        assert client.get(path + f"?token={ADMIN_TOKEN}").status_code == 403  # never accepted in a URL
        assert client.get(path, headers={"Authorization": "Bearer nope"}).status_code == 403
    assert client.get("/admin").status_code == 303  # the page sends a browser to the log-in form
    assert client.get(f"/admin?token={ADMIN_TOKEN}").headers["Location"].endswith("/admin/login")
    assert client.get("/admin", headers=ADMIN_HEADERS).status_code == 200


def test_exports_contain_every_answer(make_study):
    store, _, app = make_study()
    client = app.test_client()
    rid = start_rater(client, nickname="=HYPERLINK(1)")
    run_session(client, store, rid, lambda t: t["truth"] if t["phase"] == "check" else "fake")
    n = _count(store, "answers")
    data = client.get("/admin/export.json", headers=ADMIN_HEADERS).get_json()
    assert len(data["answers"]) == n and data["design"]["protocol"] == "hype-inf"
    assert data["raters"][0]["n_answers"] == n
    text = client.get("/admin/export.csv", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}).data.decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == n
    assert [r["response"] for r in rows] == [a["response"] for a in store.answers()]
    assert {r["response"] for r in rows if r["phase"] != "check"} == {"fake"}
    assert rows[0]["nickname"] == "'=HYPERLINK(1)"  # spreadsheet formula neutralised
    score = client.get("/admin/score.json?bootstrap=50", headers=ADMIN_HEADERS).get_json()
    assert score["models"]["a"]["hype_inf"]["value"] == pytest.approx(50.0)  # always "fake": chance level
    assert score["raters"]["excluded"] == []
    assert client.get("/admin/score.json?bootstrap=abc", headers=ADMIN_HEADERS).status_code == 400


def test_attention_failures_exclude_the_rater(make_study):
    store, _, app = make_study(n_checks=2)
    client = app.test_client()
    good, bad = start_rater(client, "good"), start_rater(client, "bad")
    run_session(client, store, good, lambda t: t["truth"])
    # "bad" answers the opposite of the truth on checks and always "real" otherwise
    run_session(client, store, bad, lambda t: ("real" if t["truth"] == "fake" else "fake") if t["phase"] == "check" else "real")
    res = score_store(store, n_boot=50)
    assert [e["nickname"] for e in res["raters"]["excluded"]] == ["bad"]
    assert res["raters"]["included"] == 1
    assert res["models"]["a"]["hype_inf"]["value"] == pytest.approx(0.0)  # only the good rater counts
    assert res["models"]["a"]["n_raters"] == 1


def test_hype_time_session_through_the_api(make_study):
    store, _, app = make_study("hype-time", per_model=6, pool_size=8)
    client = app.test_client()
    rid = start_rater(client)
    j = client.get(f"/api/r/{rid}/next").get_json()
    assert j["trial"]["exposure_ms"] == 500  # tutorial at the staircase start
    run_session(client, store, rid, lambda t: t["truth"])  # always right: the staircase descends
    rows = [r for r in store.answers(rid) if r["phase"] == "scored"]
    assert [r["exposure_ms"] for r in rows] == [500, 500, 500, 450, 450, 450, 400, 400, 400, 350, 350, 350]
    res = score_store(store, n_boot=50)
    assert res["models"]["a"]["hype_time"]["value"] == pytest.approx(425.0)  # 4-way tie: mean of the tied exposures
    assert "staircase:3down1up" in res["signature"]
    # the error rate of a timed study is reported, but never under the HYPE-infinity name
    assert "hype_inf" not in res["models"]["a"] and res["models"]["a"]["time_limited_error"]["value"] == 0.0
    admin = client.get("/admin", headers=ADMIN_HEADERS).data.decode()
    assert "<td>425 ms</td>" in admin and "<td>0.0%</td>" in admin


def test_real_http_server_refuses_bad_requests_and_keeps_serving(make_study):
    """Over loopback with the threaded server: oversized, malformed and forged requests get a 4xx
    with nothing stored, and the server still answers afterwards."""
    import http.client

    from .conftest import ServerThread, raw_http

    store, _, app = make_study()
    with ServerThread(app) as srv:
        def post(path, body: bytes, ctype="application/json"):
            conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
            try:
                conn.request("POST", path, body=body, headers={"Content-Type": ctype})
                resp = conn.getresponse()
                return resp.status, resp.read()
            finally:
                conn.close()

        status, _ = post("/start", b"consent=yes&nickname=web", "application/x-www-form-urlencoded")
        assert status == 303
        rid = store.raters()[0]["rater_id"]
        # a 1 MiB body is refused from its Content-Length, before it is read
        head = (f"POST /api/r/{rid}/answer HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                f"Content-Length: {1 << 20}\r\nConnection: close\r\n\r\n").encode()
        assert raw_http(srv.port, head + b"x" * 1000).startswith(b"HTTP/1.1 413 ")
        assert post(f"/api/r/{rid}/answer", b"\xff\xfe{garbage")[0] == 400
        assert post(f"/api/r/{rid}/answer", b'{"trial_id": null}')[0] == 400
        assert post("/api/r/AAAAAAAAAAAAAAAAAAAAAA/answer", b"{}")[0] == 404
        assert post("/start", b"consent=yes&nickname=%3Cscript%3E", "application/x-www-form-urlencoded")[0] == 400
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
        conn.request("GET", f"/api/r/{rid}/next")
        resp = conn.getresponse()
        assert resp.status == 200 and json.loads(resp.read())["trial"]["position"] == 0
        conn.close()
    assert store.counts()["answers"] == 0 and store.counts()["raters"] == 1


def test_study_full_and_unicode_nickname(make_study):
    from gmeval.human.app import create_app

    store, provider, _ = make_study()
    store.set_max_raters(1)
    app = create_app(store, provider, admin_token=ADMIN_TOKEN)
    client = app.test_client()
    rid = start_rater(client, nickname="Zoë 李")
    assert store.rater(rid)["nickname"] == "Zoë 李"
    r = client.post("/start", data={"nickname": "late", "consent": "yes"})
    assert r.status_code == 503
    assert _count(store, "raters") == 1
