"""A rank that fails or stalls ends the whole job with a clear error, within the timeout.

Tolerances (docs/tolerances.md): torch.equal / exact equalities are B1-B5 (same machine and threads);
`approx`/`allclose` bounds are T1 (float64 formulas) or T3 (float32 across shapes), as each states.
"""

from __future__ import annotations

import pytest

from ._launch import explain, torchrun, worker

pytestmark = pytest.mark.slow


def test_rank_raising_ends_the_job(tmp_path):
    proc, secs = torchrun(2, [worker("fail_worker.py"), "raise"], timeout=120, env={"GMEVAL_DIST_TIMEOUT": "20"})
    assert proc.returncode != 0, explain(proc)
    assert "ValueError: injected failure on rank 1" in proc.stderr_text, explain(proc)
    assert "rank 0 finished without rank 1" not in proc.stdout_text
    assert secs < 100, secs


def test_stalled_rank_times_out_with_a_named_collective(tmp_path):
    proc, secs = torchrun(2, [worker("fail_worker.py"), "hang"], timeout=120, env={"GMEVAL_DIST_TIMEOUT": "10"})
    assert proc.returncode != 0, explain(proc)
    err = proc.stderr_text
    assert "DistributedError: rank 0/2: collective" in err and "GMEVAL_DIST_TIMEOUT=10 s" in err, explain(proc)
    assert secs < 100, secs  # rank 1 sleeps 600 s: the job ended because of the timeout, not rank 1


def test_rank_zero_failure_is_reported_by_the_other_ranks(tmp_path):
    proc, secs = torchrun(2, [worker("fail_worker.py"), "metric"], timeout=120, env={"GMEVAL_DIST_TIMEOUT": "60"})
    assert proc.returncode != 0, explain(proc)
    err = proc.stderr_text
    assert "[rank0]: gmeval.errors.InvalidArgumentError: Argument `subset_size` must be an integer >= 2" in err, explain(proc)
    assert "DistributedError: rank 0 failed in computing metrics: InvalidArgumentError" in err, explain(proc)
    assert secs < 60, secs  # well before the 60 s timeout: rank 1 was told, it did not wait
