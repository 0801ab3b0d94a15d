"""Issue 11: the production server (waitress), the study database's guards, and the admin token's secrecy.

Each test reproduces a defect of the former set-up (werkzeug's development server, no checks on
open); the docstring says what happened before.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import sqlite3
import threading
import time

import pytest

from gmeval.cli import main
from gmeval.human.server import ServerSettings
from gmeval.human.store import CorruptDatabaseError, DatabaseInUseError, Store

from .conftest import ADMIN_HEADERS, CliServer, ServerThread, raw_http, run_session, start_rater, write_fakes

FAST = ServerSettings(threads=2, connection_limit=300, request_timeout=2, idle_timeout=3)


def _get(port, path, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers=headers or {})
        resp = conn.getresponse()
        return resp, resp.read()
    finally:
        conn.close()


def _closed_by_server(sock) -> bool:
    try:
        sock.settimeout(0.05)
        return sock.recv(1) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True
    except (TimeoutError, socket.timeout):
        return False


def test_slow_clients_hold_no_thread_and_are_cut_off(make_study):
    """Before: 300 half-sent requests held 300 threads of the development server for over 60 s."""
    store, _, app = make_study()
    with ServerThread(app, FAST) as srv:
        threads_before = threading.active_count()
        half = b"POST /start HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n" \
               b"Content-Length: 100\r\n\r\nconsent="
        slow = [socket.create_connection(("127.0.0.1", srv.port), timeout=5) for _ in range(100)]
        for s in slow:
            s.sendall(half)
        trickler = socket.create_connection(("127.0.0.1", srv.port), timeout=5)  # never idle, never finished
        trickler.sendall(b"GET /healthz HTTP/1.1\r\n")
        t0 = time.monotonic()
        resp, body = _get(srv.port, "/healthz")  # an honest client is served meanwhile
        assert resp.status == 200 and time.monotonic() - t0 < 2.0
        assert threading.active_count() == threads_before  # no thread per connection
        # every incomplete request is closed after request_timeout (checked every second)
        deadline = time.monotonic() + FAST.request_timeout + 4
        while time.monotonic() < deadline:
            try:
                trickler.sendall(b"X-Slow: 1\r\n")
            except (BrokenPipeError, ConnectionResetError):
                pass
            if all(_closed_by_server(s) for s in [*slow, trickler]):
                break
            time.sleep(0.2)
        elapsed = time.monotonic() - t0
        assert all(_closed_by_server(s) for s in [*slow, trickler]), "half-sent requests still open"
        assert FAST.request_timeout - 0.5 <= elapsed <= FAST.request_timeout + 4
        for s in [*slow, trickler]:
            s.close()
    assert store.counts()["raters"] == 0


def _read_response(s) -> bytes:
    """One whole HTTP response (headers and a Content-Length body), however the segments arrive."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += s.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(int(l.split(b":", 1)[1]) for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:"))
    while len(body) < length:
        body += s.recv(65536)
    return data


def test_idle_keep_alive_connection_is_closed(make_study):
    _, _, app = make_study()
    with ServerThread(app, FAST) as srv:
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert _read_response(s).startswith(b"HTTP/1.1 200 ")
        t0 = time.monotonic()
        assert s.recv(1) == b""  # blocks until the server closes the idle connection
        assert FAST.idle_timeout - 0.5 <= time.monotonic() - t0 <= FAST.idle_timeout + 3
        s.close()


def _chunked(body: bytes, size: int = 1000) -> bytes:
    out = b""
    for i in range(0, len(body), size):
        piece = body[i:i + size]
        out += f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    return out + b"0\r\n\r\n"


def test_chunked_bodies_obey_the_body_limit(make_study):
    """Before: a chunked 30 KB body bypassed the 16 KiB limit (200, stored)."""
    store, _, app = make_study()
    client = app.test_client()
    rid = start_rater(client)
    trial = client.get(f"/api/r/{rid}/next").get_json()["trial"]
    head = (f"POST /api/r/{rid}/answer HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n").encode()
    with ServerThread(app, FAST) as srv:
        big = json.dumps({"trial_id": trial["trial_id"], "submission_id": "chunk-0001", "answer": "real",
                          "pad": "x" * 30_000}).encode()
        assert raw_http(srv.port, head + _chunked(big)).startswith(b"HTTP/1.1 413 ")
        assert store.counts()["answers"] == 0
        # a small chunked body is read and stored like any other
        small = json.dumps({"trial_id": trial["trial_id"], "submission_id": "chunk-0002", "answer": "real"}).encode()
        assert raw_http(srv.port, head + _chunked(small, 16)).startswith(b"HTTP/1.1 200 ")
    assert store.counts()["answers"] == 1


def test_deep_json_over_http_is_400_not_500(make_study):
    """Before: JSON nested 5000 deep gave a 500 with a RecursionError."""
    store, _, app = make_study()
    rid = start_rater(app.test_client())
    body = ("[" * 5000 + "]" * 5000).encode()
    with ServerThread(app, FAST) as srv:
        out = raw_http(srv.port, (f"POST /api/r/{rid}/answer HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                                  f"application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
                                  ).encode() + body)
    assert out.startswith(b"HTTP/1.1 400 ") and b"nested deeper" in out


def test_no_version_banner_and_keep_alive(make_study):
    """Before: `Server: Werkzeug/3.1.9 Python/3.11.7` and `Connection: close` on every response."""
    _, _, app = make_study()
    with ServerThread(app, FAST) as srv:
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
        socks = []
        for path in ("/", "/healthz", "/static/style.css", "/no-such-page"):
            conn.request("GET", path)
            resp = conn.getresponse()
            resp.read()
            assert resp.getheader("Server") is None, path
            assert (resp.getheader("Connection") or "").lower() != "close", path
            socks.append(conn.sock)
        assert all(s is socks[0] and s is not None for s in socks)  # one connection for all four
        conn.close()
        # the server's own error responses (413) name no software either
        out = raw_http(srv.port, b"POST /start HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 99999\r\n\r\n")
        assert out.startswith(b"HTTP/1.1 413 ") and b"Server:" not in out and b"waitress" not in out.lower()


def test_host_allowlist_over_http(make_study):
    """Before: `Host: evil.example` got 200 (DNS rebinding)."""
    _, _, app = make_study()
    with ServerThread(app, FAST) as srv:
        assert _get(srv.port, "/", {"Host": "evil.example"})[0].status == 400
        assert _get(srv.port, "/", {"Host": f"localhost:{srv.port}"})[0].status == 200


def test_one_server_per_database(make_study):
    """Before: two servers on one database were not prevented."""
    from gmeval.human.app import make_server

    _, _, app = make_study()
    first = make_server(app, "127.0.0.1", 0, FAST)
    try:
        with pytest.raises(DatabaseInUseError, match="already serves this study"):
            make_server(app, "127.0.0.1", 0, FAST)
        # the command line says so in one line, exit code 2
        db = app.extensions["gmeval_human"]["store"].path
        assert main(["human", "serve", "--db", str(db), "--port", "0"]) == 2
    finally:
        first.close()
    second = make_server(app, "127.0.0.1", 0, FAST)  # free again once the first is closed
    second.close()


def test_database_is_private(make_study):
    """Before: the database (rater credentials) was created with mode 0644."""
    store, _, app = make_study()
    client = app.test_client()
    run_session(client, store, start_rater(client), lambda t: t["truth"])
    for suffix in ("", "-wal", "-shm"):
        p = store.path.with_name(store.path.name + suffix)
        if p.exists():
            assert p.stat().st_mode & 0o777 == 0o600, p


def _corrupt_page_of(db, name: str) -> None:
    """Overwrite the root page of table/index `name` with garbage (after checkpointing the WAL)."""
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (name,)).fetchone()[0]
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    with open(db, "r+b") as f:
        f.seek((root - 1) * page_size + 8)
        f.write(bytes(range(256)) * ((page_size - 16) // 256))


@pytest.mark.parametrize("name", ["answers", "answers_rater"])
def test_corrupt_database_is_refused_with_a_typed_error(make_study, capsys, name):
    """Before: a corrupt answers page made `score` end in a traceback, a corrupt index page was scored
    silently (rc 0), and `serve` started on a corrupt database (then 500 on /admin/score.json)."""
    store, _, app = make_study()
    client = app.test_client()
    for i in range(3):
        run_session(client, store, start_rater(client, f"r{i}"), lambda t: t["truth"])
    db = store.path
    store.close()
    _corrupt_page_of(db, name)
    if name == "answers":  # a server already running when a page it reads goes bad: typed error, 503
        r = client.get("/admin/score.json?bootstrap=5", headers=ADMIN_HEADERS)
        assert r.status_code == 503 and "cannot be read" in r.get_json()["error"]
    # (a bad index page is only seen by queries that use the index, or by the check on open below)
    with pytest.raises(CorruptDatabaseError, match="quick_check"):
        Store(db)
    capsys.readouterr()
    assert main(["human", "score", str(db), "--json"]) == 2
    err = capsys.readouterr().err
    assert "corrupt" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert main(["human", "serve", "--db", str(db), "--port", "0"]) == 2
    assert "corrupt" in capsys.readouterr().err


def test_admin_token_from_file_or_environment(tmp_path, monkeypatch, capsys):
    """Before: `--admin-token x` was accepted, and the command line (process list) was the only way in."""
    import gmeval.human.app as human_app

    from .test_cli import _FakeServer

    monkeypatch.setattr(human_app, "make_server", _FakeServer)
    fake = write_fakes(tmp_path / "a.npz")
    db = tmp_path / "s.sqlite"
    base = ["human", "serve", "--db", str(db), "--real", "digits:test", "--fake", f"a={fake}", "--per-model", "2",
            "--pool-size", "4", "--port", "0"]
    assert main(base + ["--admin-token", "x"]) == 2
    assert "admin token of 16-256" in capsys.readouterr().err and not db.exists()
    token_file = tmp_path / "token.txt"
    token_file.write_text("file-token-0123456789\n")
    assert main(base + ["--admin-token-file", str(token_file)]) == 0
    assert _FakeServer.apps[-1][0].config["ADMIN_TOKEN"] == "file-token-0123456789"
    monkeypatch.setenv("GMEVAL_HUMAN_ADMIN_TOKEN", "env-token-0123456789")
    assert main(["human", "serve", "--db", str(db), "--port", "0"]) == 0
    assert _FakeServer.apps[-1][0].config["ADMIN_TOKEN"] == "env-token-0123456789"
    monkeypatch.setenv("GMEVAL_HUMAN_ADMIN_TOKEN", "short")
    assert main(["human", "serve", "--db", str(db), "--port", "0"]) == 2
    out = capsys.readouterr()
    assert "GMEVAL_HUMAN_ADMIN_TOKEN" in out.err and "env-token" not in out.out + out.err
    assert "file-token" not in out.out + out.err


def test_the_admin_token_never_reaches_a_log_or_the_process_list(tmp_path):
    """Before: an admin request with ?token= that got a 4xx/5xx was logged with the full token, and the
    start-up message printed the admin URL with the token."""
    token = "log-scrape-secret-" + os.urandom(8).hex()
    fake = write_fakes(tmp_path / "a.npz")
    srv = CliServer(["--real", "digits:test", "--fake", f"a={fake}", "--db", str(tmp_path / "s.sqlite"), "--per-model",
                     "2", "--pool-size", "4", "--tutorial", "2", "--checks", "2"], env={"GMEVAL_HUMAN_ADMIN_TOKEN": token})
    try:
        assert token.encode() not in open(f"/proc/{srv.proc.pid}/cmdline", "rb").read()
        auth = {"Authorization": f"Bearer {token}"}
        statuses = [_get(srv.port, path, headers)[0].status for path, headers in [
            (f"/admin?token={token}", {}), (f"/admin/export.json?token={token}", {}),
            (f"/admin/score.json?token={token}&bootstrap=abc", {}), ("/admin/score.json?bootstrap=abc", auth),
            (f"/admin/{token}", {}), (f"/api/r/{token}/next", {}), (f"/img/{token}", {}),
            ("/admin", {"Authorization": f"Bearer {token}x"}), ("/", {"Host": f"{token}.evil.example"}),
            ("/admin/score.json?bootstrap=5", auth)]]
        assert statuses == [303, 403, 403, 400, 404, 404, 404, 303, 400, 200]
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
        for form in (f"token={token}x", f"token={token}"):
            conn.request("POST", "/admin/login", body=form, headers={"Content-Type": "application/x-www-form-urlencoded"})
            conn.getresponse().read()
        conn.close()
    finally:
        output = srv.stop()
    assert "serving on http://127.0.0.1:" in output and "admin/login" in output  # the log was captured
    assert token not in output


def test_kill_9_mid_stream_keeps_answers_exactly_once_and_frees_the_lock(tmp_path):
    """Existing behaviour kept: answers survive SIGKILL of the server, a retry after restart stores
    nothing twice, and the study's lock (held by the killed process) does not block the restart."""
    import signal
    import urllib.parse

    fake = write_fakes(tmp_path / "a.npz")
    db = tmp_path / "s.sqlite"
    args = ["--db", str(db), "--per-model", "3", "--pool-size", "4", "--tutorial", "2", "--checks", "2"]
    srv = CliServer(["--real", "digits:test", "--fake", f"a={fake}", *args])

    def post_answer(port, rid, trial_id, sid):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("POST", f"/api/r/{rid}/answer", body=json.dumps({"trial_id": trial_id, "submission_id": sid,
                                                                      "answer": "fake"}),
                     headers={"Content-Type": "application/json"})
        return conn

    try:
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
        conn.request("POST", "/start", body=urllib.parse.urlencode({"consent": "yes"}),
                     headers={"Content-Type": "application/x-www-form-urlencoded"})
        rid = conn.getresponse().getheader("Location").rsplit("/", 1)[1]
        trial = json.loads(_get(srv.port, f"/api/r/{rid}/next")[1])["trial"]
        for k in range(5):
            resp = post_answer(srv.port, rid, trial["trial_id"], f"kill-{k:04d}").getresponse()
            trial = json.loads(resp.read())["trial"]
        last = post_answer(srv.port, rid, trial["trial_id"], "kill-0005")  # in flight ...
        srv.proc.send_signal(signal.SIGKILL)  # ... when the server dies
        srv.proc.wait(10)
    finally:
        srv.stop()
    last.close()
    restarted = CliServer(args)
    try:
        resp = post_answer(restarted.port, rid, trial["trial_id"], "kill-0005").getresponse()  # the client's retry
        assert resp.status == 200
        resp.read()
    finally:
        restarted.stop()
    with sqlite3.connect(db) as conn:
        sids = [r[0] for r in conn.execute("SELECT submission_id FROM answers WHERE rater_id = ? ORDER BY answer_id",
                                           (rid,))]
    assert sids == [f"kill-{k:04d}" for k in range(6)]
