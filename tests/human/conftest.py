"""Fixtures of the human-evaluation tests: small studies over digits:test (8x8) and .npz fakes."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from gmeval.human.app import create_app, open_study
from gmeval.human.protocol import StudyDesign

ADMIN_TOKEN = "test-admin-token-0123456789"
ADMIN_HEADERS = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def write_fakes(path, n=120, seed=0, shape=(1, 8, 8)):
    """A fake source: smoothed noise in 8x8 (plausibly digit-sized, clearly not digits)."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, *shape))
    x = (x + np.roll(x, 1, -1) + np.roll(x, 1, -2)) / 3.0
    np.savez(path, images=(x * 255).round().astype(np.uint8))
    return str(path)


@pytest.fixture
def make_study(tmp_path):
    """make_study(protocol=..., models=("a",), **design) -> (store, provider, app)."""
    counter = [0]

    def make(protocol="hype-inf", models=("a",), real="digits:test", **kw):
        counter[0] += 1
        root = tmp_path / f"study{counter[0]}"
        root.mkdir()
        fakes = {m: write_fakes(root / f"{m}.npz", seed=i + 1) for i, m in enumerate(models)}
        kw.setdefault("per_model", 4)
        kw.setdefault("pool_size", 8)
        kw.setdefault("n_tutorial", 2)
        kw.setdefault("n_checks", 2)
        design = StudyDesign(protocol, tuple(models), **kw)
        store, provider = open_study(root / "study.sqlite", real=real, fakes=fakes, design=design)
        app = create_app(store, provider, admin_token=ADMIN_TOKEN)
        app.config["TESTING"] = True
        return store, provider, app

    return make


def start_rater(client, nickname="tester"):
    r = client.post("/start", data={"nickname": nickname, "consent": "yes"})
    assert r.status_code == 303, r.data
    return r.headers["Location"].rsplit("/", 1)[1]


def trials_of(store, rater_id):
    with store.read() as conn:
        return [dict(r) for r in conn.execute("SELECT * FROM trials WHERE rater_id = ? ORDER BY position", (rater_id,))]


def run_session(client, store, rater_id, policy):
    """Answer every trial through the API; `policy(trial_row) -> 'real'|'fake'`. Returns the responses."""
    truth = {t["trial_id"]: t for t in trials_of(store, rater_id)}
    j = client.get(f"/api/r/{rater_id}/next").get_json()
    out = []
    k = 0
    while not j["done"]:
        t = truth[j["trial"]["trial_id"]]
        r = client.post(f"/api/r/{rater_id}/answer", json={"trial_id": t["trial_id"], "submission_id": f"{rater_id[:8]}{k:06d}",
                                                           "answer": policy(t)})
        assert r.status_code == 200, r.get_json()
        j = r.get_json()
        out.append(j)
        k += 1
    return out


def raw_http(port: int, data: bytes, timeout: float = 10.0) -> bytes:
    """Send raw bytes to 127.0.0.1:port and return everything the server answers until it closes."""
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):  # the server may answer and close before all is sent
            pass
        out = b""
        try:
            while chunk := s.recv(65536):
                out += chunk
        except (ConnectionResetError, TimeoutError):
            pass
        return out


class ServerThread:
    """The app on its production server (waitress) on 127.0.0.1 (any free port)."""

    def __init__(self, app, settings=None):
        from gmeval.human.app import make_server

        self.server = make_server(app, "127.0.0.1", 0, settings)
        self.port = self.server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)


class CliServer:
    """`gmeval human serve ARGS --host 127.0.0.1 --port 0` as a subprocess; `.lines` collects all it prints."""

    def __init__(self, args, env=None, timeout=90.0):
        cmd = [sys.executable, "-m", "gmeval", "human", "serve", *args, "--host", "127.0.0.1", "--port", "0"]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     env={**os.environ, **(env or {})})
        self.lines: list[str] = []
        deadline = time.time() + timeout
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            self.lines.append(line)
            if line.startswith("serving on http://127.0.0.1:"):
                self.port = int(line.split("127.0.0.1:")[1].split("/")[0])
                # keep draining the server's output so it never blocks on a full pipe
                self._drain = threading.Thread(target=lambda: self.lines.extend(self.proc.stdout), daemon=True)
                self._drain.start()
                return
        self.proc.kill()
        raise AssertionError("server did not start:\n" + "".join(self.lines))

    def stop(self) -> str:
        """Terminate the server; returns everything it printed (stdout and stderr)."""
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:  # pragma: no cover
            self.proc.kill()
        self._drain.join(10)
        return "".join(self.lines)
