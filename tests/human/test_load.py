"""Load test over loopback: 50 concurrent simulated raters x 100 answers against `gmeval human serve`.

Every answer must be stored exactly once (retries included), none lost; p50/p95/p99 latency of
the answer requests is printed (run with -s to see it; docs/human.md quotes it).
Set GMEVAL_LOAD_SYNC=full to measure the server with `--sync full`.
"""

from __future__ import annotations

import http.client
import json
import os
import sqlite3
import subprocess
import threading
import time
import urllib.parse

import numpy as np
import pytest

from .conftest import CliServer, write_fakes

N_RATERS = 50
PER_MODEL = 25  # 2 models x (25 fake + 25 real) = 100 answers per rater
N_ANSWERS = 4 * PER_MODEL
RETRY_EVERY = 10  # every 10th answer is sent twice (a client retry): stored once


def _start_server(tmp_path, sync):
    fakes = [write_fakes(tmp_path / f"{m}.npz", n=60, seed=i) for i, m in enumerate("ab")]
    db = tmp_path / "load.sqlite"
    args = ["--real", "digits:test", "--fake", f"a={fakes[0]}", "--fake", f"b={fakes[1]}", "--db", str(db),
            "--per-model", str(PER_MODEL), "--pool-size", "50", "--tutorial", "0", "--checks", "0", "--sync", sync,
            "--start-limit", str(2 * N_RATERS)]  # every simulated rater comes from 127.0.0.1
    server = CliServer(args)
    return server.proc, server.port, db


def _request(conn, method, path, body=None, headers=None):
    t0 = time.perf_counter()
    conn.request(method, path, body=body, headers=headers or {})
    resp = conn.getresponse()
    data = resp.read()
    return resp, data, time.perf_counter() - t0


def _rater(port, i, barrier, results):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    sent, latencies, duplicates, conflicts = {}, [], 0, 0
    rng = np.random.default_rng(i)
    try:
        barrier.wait()
        resp, _, _ = _request(conn, "POST", "/start", urllib.parse.urlencode({"consent": "yes", "nickname": f"load{i}"}),
                              {"Content-Type": "application/x-www-form-urlencoded"})
        assert resp.status == 303, resp.status
        rid = resp.getheader("Location").rsplit("/", 1)[1]
        resp, data, _ = _request(conn, "GET", f"/api/r/{rid}/next")
        j = json.loads(data)
        k = 0
        while not j["done"]:
            trial = j["trial"]
            sid = f"load{i:03d}x{k:05d}"
            answer = "real" if rng.random() < 0.5 else "fake"
            body = json.dumps({"trial_id": trial["trial_id"], "submission_id": sid, "answer": answer,
                               "rt_ms": float(rng.integers(300, 3000))})
            hdr = {"Content-Type": "application/json"}
            resp, data, dt = _request(conn, "POST", f"/api/r/{rid}/answer", body, hdr)
            latencies.append(dt)
            assert resp.status == 200, (resp.status, data)
            sent[sid] = (trial["trial_id"], answer)
            if k % RETRY_EVERY == 0:  # a retry of the same submission: acknowledged, not stored again
                r2, d2, dt2 = _request(conn, "POST", f"/api/r/{rid}/answer", body, hdr)
                latencies.append(dt2)
                assert r2.status == 200 and json.loads(d2)["duplicate"] is True
                duplicates += 1
            if k == 50:  # a second, different submission for an answered trial: refused
                other = json.dumps({"trial_id": trial["trial_id"], "submission_id": sid + "b", "answer": answer})
                r3, _, _ = _request(conn, "POST", f"/api/r/{rid}/answer", other, hdr)
                assert r3.status == 409
                conflicts += 1
            j = json.loads(data)
            k += 1
        results[i] = {"rater_id": rid, "sent": sent, "latencies": latencies, "duplicates": duplicates,
                      "conflicts": conflicts}
    except BaseException as exc:  # reported by the main thread
        results[i] = exc
    finally:
        conn.close()


@pytest.mark.slow  # ~11 s on an idle 2-core machine, more when it is shared
def test_fifty_concurrent_raters_every_answer_stored_once(tmp_path):
    sync = os.environ.get("GMEVAL_LOAD_SYNC", "normal")
    proc, port, db = _start_server(tmp_path, sync)
    try:
        results: dict = {}
        barrier = threading.Barrier(N_RATERS)
        threads = [threading.Thread(target=_rater, args=(port, i, barrier, results)) for i in range(N_RATERS)]
        t0 = time.perf_counter()
        for th in threads:
            th.start()
        for th in threads:
            th.join(300)
        wall = time.perf_counter() - t0
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:  # pragma: no cover
            proc.kill()
    failures = [r for r in results.values() if isinstance(r, BaseException)]
    assert not failures, failures[:3]
    assert len(results) == N_RATERS
    # the database: every answer exactly once, none lost, each as sent
    conn = sqlite3.connect(db)
    rows = conn.execute("SELECT submission_id, trial_id, response, rater_id FROM answers").fetchall()
    n_trials = conn.execute("SELECT COUNT(*) FROM trials").fetchone()[0]
    conn.close()
    sent = {sid: v for r in results.values() for sid, v in r["sent"].items()}
    assert len(sent) == N_RATERS * N_ANSWERS
    assert len(rows) == len(sent) == n_trials
    assert {sid: (tid, resp) for sid, tid, resp, _ in rows} == sent
    per_rater = {}
    for *_, rid in rows:
        per_rater[rid] = per_rater.get(rid, 0) + 1
    assert sorted(per_rater.values()) == [N_ANSWERS] * N_RATERS
    assert sum(r["duplicates"] for r in results.values()) == N_RATERS * N_ANSWERS // RETRY_EVERY
    lat = np.array([x for r in results.values() for x in r["latencies"]]) * 1000.0
    p50, p95, p99 = np.percentile(lat, [50, 95, 99])
    print(f"\nload test (sync={sync}): {N_RATERS} raters x {N_ANSWERS} answers (+{N_RATERS * N_ANSWERS // RETRY_EVERY} "
          f"retries) in {wall:.1f} s = {len(lat) / wall:.0f} answer requests/s; answer latency p50 {p50:.0f} ms, "
          f"p95 {p95:.0f} ms, p99 {p99:.0f} ms, max {lat.max():.0f} ms")
    assert p95 < 3000, f"p95 latency {p95:.0f} ms"  # a generous bound: catches pathological regressions only
