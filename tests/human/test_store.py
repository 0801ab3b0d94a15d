"""SQLite store: WAL, exactly-once answers, forged/replayed submissions, staircase replay, restarts."""

from __future__ import annotations

import sqlite3
import threading

import numpy as np
import pytest

from gmeval.errors import DataError, InvalidArgumentError
from gmeval.human.app import open_study
from gmeval.human.protocol import StudyDesign, staircase_exposures
from gmeval.human.store import ConflictError, Store, UnknownRaterError, UnknownTrialError

from .conftest import run_session, start_rater, trials_of, write_fakes


def _answer_count(store, rater_id=None):
    with store.read() as conn:
        if rater_id is None:
            return conn.execute("SELECT COUNT(*) FROM answers").fetchone()[0]
        return conn.execute("SELECT COUNT(*) FROM answers WHERE rater_id = ?", (rater_id,)).fetchone()[0]


def test_database_is_in_wal_mode_with_constraints(make_study):
    store, _, _ = make_study()
    with store.read() as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        ddl = " ".join(r[0] for r in conn.execute("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL"))
    assert "submission_id TEXT NOT NULL UNIQUE" in ddl and "trial_id      TEXT NOT NULL UNIQUE" in ddl


def test_retry_is_stored_once_and_conflicts_are_refused(make_study):
    store, _, app = make_study()
    rid = start_rater(app.test_client())
    first = store.next_trial(rid)
    res1 = store.submit_answer(rid, first["trial_id"], "sub-000001", "real", rt_ms=812.0)
    res2 = store.submit_answer(rid, first["trial_id"], "sub-000001", "real", rt_ms=900.0)  # retry / double click
    assert (res1["duplicate"], res2["duplicate"]) == (False, True)
    assert res1["next"]["trial_id"] == res2["next"]["trial_id"]  # the retry does not skip a trial
    assert _answer_count(store) == 1
    with pytest.raises(ConflictError, match="another submission id"):
        store.submit_answer(rid, first["trial_id"], "sub-000002", "fake")
    with pytest.raises(ConflictError, match="different answer"):
        store.submit_answer(rid, first["trial_id"], "sub-000001", "fake")
    second = res1["next"]["trial_id"]
    with pytest.raises(ConflictError, match="different answer"):  # a used submission id for another trial
        store.submit_answer(rid, second, "sub-000001", "real")
    assert _answer_count(store) == 1
    (row,) = store.answers(rid)
    assert (row["response"], row["rt_ms"], row["submission_id"]) == ("real", 812.0, "sub-000001")


def test_forged_answers_are_refused(make_study):
    store, _, app = make_study()
    client = app.test_client()
    alice, bob = start_rater(client, "alice"), start_rater(client, "bob")
    store.next_trial(alice)
    bob_trials = trials_of(store, bob)
    alice_trials = trials_of(store, alice)
    with pytest.raises(UnknownTrialError):  # bob's trial answered as alice
        store.submit_answer(alice, bob_trials[0]["trial_id"], "forged-0001", "real")
    with pytest.raises(UnknownTrialError):
        store.submit_answer(alice, "nonexistent-trial-id-000", "forged-0002", "real")
    with pytest.raises(UnknownRaterError):
        store.submit_answer("nonexistent-rater-id-000", alice_trials[0]["trial_id"], "forged-0003", "real")
    with pytest.raises(ConflictError, match="current trial"):  # answering ahead
        store.submit_answer(alice, alice_trials[3]["trial_id"], "forged-0004", "real")
    with pytest.raises(ConflictError, match="current trial"):  # bob's first trial was never served
        store.submit_answer(bob, bob_trials[0]["trial_id"], "forged-0005", "real")
    assert _answer_count(store) == 0


def test_concurrent_duplicates_store_each_answer_exactly_once(make_study):
    """Eight threads submit the same answers of one rater at once (a flurry of retries)."""
    store, _, app = make_study(per_model=6, pool_size=8)
    rid = start_rater(app.test_client())
    trials = trials_of(store, rid)
    errors = []

    def worker():
        for k, t in enumerate(trials):
            while True:  # wait until the trial is current (served by whichever thread is ahead)
                cur = store.next_trial(rid)
                if cur is None or cur["position"] >= t["position"]:
                    break
            try:
                store.submit_answer(rid, t["trial_id"], f"dup-{k:06d}", "fake")
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    assert not errors
    assert _answer_count(store, rid) == len(trials)
    rows = store.answers(rid)
    assert sorted(r["position"] for r in rows) == list(range(len(trials)))
    assert store.rater(rid)["finished_at"] is not None


def test_hype_time_exposures_replay_the_staircase(make_study):
    store, _, app = make_study("hype-time", models=("a", "b"), per_model=8, pool_size=8, n_tutorial=2, n_checks=2)
    rid = start_rater(app.test_client())
    rng = np.random.default_rng(0)
    k = 0
    cur = store.next_trial(rid)
    while cur is not None:
        cur = store.submit_answer(rid, cur["trial_id"], f"st-{k:06d}", "real" if rng.random() < 0.5 else "fake")["next"]
        k += 1
    rows = store.answers(rid)
    design = store.design
    for m in ("a", "b"):
        s = [r for r in rows if r["phase"] == "scored" and r["stream"] == m]
        assert len(s) == 16
        expected = staircase_exposures([bool(r["correct"]) for r in s], design.staircase)[:-1]
        assert [r["exposure_ms"] for r in s] == expected
    assert all(r["exposure_ms"] == design.staircase.start_ms for r in rows if r["phase"] == "tutorial")
    # a check is shown as long as the scored trial before it: its timing does not give it away
    by_pos = {r["position"]: r for r in rows}
    for r in rows:
        if r["phase"] == "check":
            before = [by_pos[p] for p in range(r["position"]) if by_pos[p]["phase"] == "scored"]
            assert r["exposure_ms"] == (before[-1]["exposure_ms"] if before else design.staircase.start_ms)


def test_served_trial_keeps_its_exposure_on_reload(make_study):
    store, _, app = make_study("hype-time")
    rid = start_rater(app.test_client())
    a = store.next_trial(rid)
    b = store.next_trial(rid)
    assert a == b


def test_restart_resumes_and_detects_changed_sources(tmp_path):
    fake = write_fakes(tmp_path / "a.npz")
    design = StudyDesign("hype-inf", ("a",), per_model=3, pool_size=5, n_tutorial=2, n_checks=2, seed=4)
    db = tmp_path / "s.sqlite"
    store, provider = open_study(db, real="digits:test", fakes={"a": fake}, design=design)
    ids = {r["image_id"]: provider.png(r["image_id"]) for r in store.images()}
    # resume from the database alone: same ids serve the same bytes
    store2, provider2 = open_study(db)
    assert store2.design == design
    assert all(provider2.png(i) == png for i, png in ids.items())
    # the fake file changes under the study: refused
    write_fakes(tmp_path / "a.npz", seed=99)
    with pytest.raises(DataError, match="differ from what the sources give now"):
        open_study(db)
    # a different design for an existing database: refused
    with pytest.raises(InvalidArgumentError, match="db"):
        open_study(db, design=StudyDesign("hype-time", ("a",), per_model=3, pool_size=5))


def test_not_a_study_database(tmp_path):
    p = tmp_path / "x.sqlite"
    sqlite3.connect(p).execute("CREATE TABLE t (x)").connection.commit()
    with pytest.raises(DataError, match="not a gmeval study database"):
        Store(p)
    with pytest.raises(DataError, match="not found"):
        Store(tmp_path / "missing.sqlite")
    (tmp_path / "junk.sqlite").write_bytes(b"not sqlite at all" * 100)
    with pytest.raises(DataError, match="not a gmeval study database"):
        Store(tmp_path / "junk.sqlite")


def test_comment_is_stored_once(make_study):
    store, _, app = make_study()
    client = app.test_client()
    rid = start_rater(client)
    with pytest.raises(ConflictError, match="once every trial is answered"):  # not before the rater finished
        store.set_comment(rid, "c-00000001", "nice study")
    run_session(client, store, rid, lambda t: t["truth"])
    assert store.set_comment(rid, "c-00000001", "nice study") is True
    assert store.set_comment(rid, "c-00000001", "nice study") is False
    with pytest.raises(ConflictError):
        store.set_comment(rid, "c-00000002", "changed my mind")
    assert store.rater(rid)["comment"] == "nice study"
