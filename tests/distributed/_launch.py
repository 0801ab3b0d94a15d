"""Start gmeval under torchrun in subprocesses (gloo, CPU) with every wait bounded."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

WORKERS = Path(__file__).resolve().parent / "workers"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def torchrun(nproc: int, target: list[str], timeout: float = 120.0, env: dict | None = None):
    """Run `python -m torch.distributed.run --nproc-per-node nproc ... <target>`; returns (proc, seconds).

    `target` is either ["-m", "gmeval", ...] or [script.py, args...]. Raises subprocess.TimeoutExpired
    (after killing the whole process group) when the job outlives `timeout`.
    """
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", str(nproc), "--nnodes", "1",
           "--master-addr", "127.0.0.1", "--master-port", str(free_port()), "--max-restarts", "0", *target]
    full_env = {**os.environ, "GMEVAL_DIST_BACKEND": "gloo", "OMP_NUM_THREADS": "1", **(env or {})}
    full_env.pop("TORCHELASTIC_RUN_ID", None)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=full_env,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)  # the launcher and its workers: nothing may outlive the test
        proc.communicate(timeout=30)
        raise
    proc.stdout_text, proc.stderr_text = out, err
    return proc, time.perf_counter() - t0


def worker(name: str) -> str:
    return str(WORKERS / name)


def explain(proc) -> str:
    return f"exit {proc.returncode}\n--- stdout ---\n{proc.stdout_text[-3000:]}\n--- stderr ---\n{proc.stderr_text[-6000:]}"
