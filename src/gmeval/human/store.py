"""SQLite storage of a human-evaluation study: study design, images, raters, trials, answers.

- WAL journal mode (readers never block the writer); every write is one `BEGIN IMMEDIATE`
  transaction, so concurrent requests of the threaded server are serialised by SQLite.
- `synchronous=NORMAL` by default: in WAL mode a committed answer survives a crash of the
  server process; after a power loss or OS crash the last commits before the latest WAL
  checkpoint may be rolled back (SQLite documentation, "PRAGMA synchronous"). `FULL` also
  survives those, at one fsync per answer (about 7 ms each on the test machine: 4x slower
  under load, see docs/human.md).
- Idempotent submissions: every answer carries a client-generated `submission_id` with a
  UNIQUE constraint, and a trial has at most one answer (UNIQUE trial_id). A retry or double
  click with the same id returns the stored result; a different id for an answered trial is
  a conflict. Answers are accepted only for the rater's *current* trial, which must have been
  served (so a client cannot answer ahead, or answer trials of another rater).
- The staircase of HYPE-time is never held in memory: the exposure of a trial is computed
  from the stored answers of its stream when the trial is served, and stored with it.

One connection per operation (cheap for SQLite), so the store is safe to share between threads.
Writers of one process also take a process-wide lock per database file before `BEGIN
IMMEDIATE`: SQLite's busy handler waits by sleeping (up to 100 ms a step), which gives long
latency tails when many threads collide; an in-process lock hands over immediately. Other
processes (e.g. `gmeval human score` while the server runs) are still serialised by SQLite.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import sqlite3
import threading
import time
from pathlib import Path
from typing import Callable, Iterable, Iterator

from ..errors import DataError, GmevalError, InvalidArgumentError
from .protocol import PlannedTrial, StudyDesign, staircase_exposures

SCHEMA_VERSION = 2

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS images (
    image_id TEXT PRIMARY KEY,                  -- opaque random token, used in URLs
    source   TEXT NOT NULL,                     -- 'real', 'noise' or a model name
    idx      INTEGER NOT NULL,                  -- index within the source's selected images
    truth    TEXT NOT NULL CHECK (truth IN ('real', 'fake')),
    pool     TEXT NOT NULL CHECK (pool IN ('scored', 'tutorial', 'check')),
    sha256   TEXT NOT NULL,                     -- of the pixel bytes, verified on restart
    UNIQUE (source, idx)
);
CREATE TABLE IF NOT EXISTS raters (
    rater_id    TEXT PRIMARY KEY,               -- opaque random token (the rater's credential)
    serial      INTEGER NOT NULL UNIQUE,        -- 1, 2, ... in order of arrival
    nickname    TEXT,
    seed        INTEGER NOT NULL,               -- seed of this rater's trial plan
    user_agent  TEXT,
    created_at  REAL NOT NULL,
    finished_at REAL,
    comment     TEXT,
    comment_submission_id TEXT UNIQUE,
    participant_id     TEXT UNIQUE,             -- crowdsourcing platform id (PROLIFIC_PID, workerId, ...)
    participant_source TEXT,                    -- the URL parameter it came from
    completion_code    TEXT                     -- shown on the end screen, set when the rater finishes
);
CREATE TABLE IF NOT EXISTS trials (
    trial_id    TEXT PRIMARY KEY,               -- opaque random token
    rater_id    TEXT NOT NULL REFERENCES raters (rater_id),
    position    INTEGER NOT NULL,               -- 0-based order of presentation
    phase       TEXT NOT NULL CHECK (phase IN ('tutorial', 'scored', 'check')),
    image_id    TEXT NOT NULL REFERENCES images (image_id),
    truth       TEXT NOT NULL CHECK (truth IN ('real', 'fake')),
    stream      TEXT,                           -- model the trial counts for (scored trials)
    exposure_ms INTEGER,                        -- NULL = unlimited (HYPE-infinity)
    served_at   REAL,
    UNIQUE (rater_id, position)
);
CREATE TABLE IF NOT EXISTS answers (
    answer_id     INTEGER PRIMARY KEY AUTOINCREMENT,
    submission_id TEXT NOT NULL UNIQUE,         -- client-generated: retries are stored once
    trial_id      TEXT NOT NULL UNIQUE REFERENCES trials (trial_id),
    rater_id      TEXT NOT NULL REFERENCES raters (rater_id),
    response      TEXT NOT NULL CHECK (response IN ('real', 'fake')),
    correct       INTEGER NOT NULL CHECK (correct IN (0, 1)),
    rt_ms         REAL,                         -- client-measured response time
    shown_ms      REAL,                         -- client-measured display time (HYPE-time)
    received_at   REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS answers_rater ON answers (rater_id);
CREATE INDEX IF NOT EXISTS trials_stream ON trials (rater_id, stream, position);
"""


class HumanEvalError(GmevalError):
    """A request the study cannot honour; `status` is the HTTP status the web app answers with.

    Example:
        >>> HumanEvalError.status, UnknownRaterError.status, ConflictError.status, StudyFullError.status
        (400, 404, 409, 503)
    """

    status = 400


class UnknownRaterError(HumanEvalError):
    """No rater with this token (HTTP 404).

    Example:
        >>> issubclass(UnknownRaterError, HumanEvalError), UnknownRaterError("unknown rater").status
        (True, 404)
    """
    status = 404


class UnknownTrialError(HumanEvalError):
    """No such trial for this rater (HTTP 404).

    Example:
        >>> UnknownTrialError("no such trial for this rater").status
        404
    """
    status = 404


class ConflictError(HumanEvalError):
    """The request contradicts the stored state (HTTP 409): a reused submission id, an answered trial,
    a trial that is not the rater's current one, a participant id that already started.

    Example:
        >>> str(ConflictError("trial already answered")), ConflictError.status
        ('trial already answered', 409)
    """
    status = 409


class StudyFullError(HumanEvalError):
    """The study has its maximum number of raters (HTTP 503).

    Example:
        >>> StudyFullError("the study is full (5 raters)").status
        503
    """
    status = 503


class CorruptDatabaseError(DataError):
    """The study database fails SQLite's consistency check or a page cannot be read.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> with tempfile.TemporaryDirectory() as d:
        ...     _ = (Path(d) / "study.db").write_bytes(b"not a database" * 100)
        ...     Store(Path(d) / "study.db")
        Traceback (most recent call last):
        ...
        gmeval.human.store.CorruptDatabaseError: .../study.db: not a gmeval study database, or a corrupt one (...file is not a database...)
    """


class DatabaseInUseError(DataError):
    """Another server already serves this study database (its lock file is held).

    Example:
        >>> issubclass(DatabaseInUseError, DataError)
        True
    """


def new_token(nbytes: int = 16) -> str:
    """URL-safe random token (22 characters for 16 bytes) from the OS CSPRNG.

    Args:
        nbytes: random bytes.

    Returns:
        The token.

    Example:
        >>> len(new_token()), len(new_token(12)), new_token() != new_token()
        (22, 16, True)
    """
    return secrets.token_urlsafe(nbytes)


def completion_code() -> str:
    """A 10-character code (Crockford base 32: no I, L, O, U) a rater pastes into the platform.

    Returns:
        The code.

    Example:
        >>> code = completion_code()
        >>> len(code), set(code) <= set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
        (10, True)
    """
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    return "".join(secrets.choice(alphabet) for _ in range(10))


_WRITE_LOCKS: dict[str, threading.Lock] = {}
_WRITE_LOCKS_GUARD = threading.Lock()


def _write_lock(path: Path) -> threading.Lock:
    key = str(path.resolve())
    with _WRITE_LOCKS_GUARD:
        return _WRITE_LOCKS.setdefault(key, threading.Lock())


class Store:
    """A study database. Create with `Store.create(...)`, reopen with `Store(path)`.

    Args:
        path: the SQLite file of an existing study.
        timeout: seconds a connection waits for a busy database.
        synchronous: ``"NORMAL"`` (default; see the module docstring) or ``"FULL"``.

    Raises:
        DataError: the file does not exist, or is a database of another schema.
        CorruptDatabaseError: the file is not an SQLite database, or fails its consistency check.
        InvalidArgumentError: a bad `synchronous`.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> import numpy as np
        >>> from gmeval.human import StudyDesign, plan_trials
        >>> from gmeval.human.app import pools_from_rows
        >>> design = StudyDesign("hype-inf", ("gan",), per_model=2, pool_size=2, n_tutorial=0, n_checks=0)
        >>> rows = [{"source": s, "idx": i, "truth": t, "pool": "scored", "sha256": "-"}
        ...         for s, t in (("real", "real"), ("gan", "fake")) for i in range(2)]
        >>> tmp = tempfile.TemporaryDirectory()
        >>> store = Store.create(Path(tmp.name) / "study.db", design, rows, sources={})
        >>> pools = pools_from_rows(design, store.images())
        >>> plan = lambda seed: plan_trials(design, pools, np.random.default_rng(seed))
        >>> rater = store.create_rater("ann", None, plan, lambda serial: serial)
        >>> truth = {r["image_id"]: r["truth"] for r in store.images()}
        >>> trial = store.next_trial(rater)
        >>> sorted(trial), trial["total"]
        (['exposure_ms', 'image_id', 'phase', 'position', 'total', 'trial_id'], 4)
        >>> while trial is not None:   # a rater who is always right
        ...     trial = store.submit_answer(rater, trial["trial_id"], f"sub-{trial['position']}", truth[trial["image_id"]])["next"]
        >>> store.counts(), store.rater(rater)["finished_at"] is not None
        ({'raters': 1, 'trials': 4, 'answers': 4, 'images': 4}, True)
        >>> [r["serial"] for r in store.raters()], store.design.models, store.meta("schema_version")
        ([1], ('gan',), '2')
        >>> store.set_max_raters(1); store.max_raters
        1
        >>> store.create_rater("bob", None, plan, lambda serial: serial)
        Traceback (most recent call last):
        ...
        gmeval.human.store.StudyFullError: the study is full (1 raters)
        >>> store.close(); Store(store.path).counts()["answers"]   # reopened
        4
        >>> tmp.cleanup()
    """

    def __init__(self, path: str | os.PathLike, *, timeout: float = 30.0, synchronous: str = "NORMAL"):
        if synchronous not in ("NORMAL", "FULL"):
            raise InvalidArgumentError("synchronous", "'NORMAL' or 'FULL'", synchronous)
        self.path = Path(path)
        self.timeout = timeout
        self.synchronous = synchronous
        self._anchor = None
        if not self.path.is_file():
            raise DataError("study database not found", self.path)
        try:
            with self.read() as conn:
                row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        except (sqlite3.DatabaseError, CorruptDatabaseError) as exc:
            raise CorruptDatabaseError(f"not a gmeval study database, or a corrupt one ({exc})", self.path) from exc
        if row is None or int(row[0]) != SCHEMA_VERSION:
            found = None if row is None else row[0]
            raise DataError(f"not a gmeval study database of schema version {SCHEMA_VERSION} (found {found})", self.path)
        self.check()
        self._design: StudyDesign | None = None
        self._lock = _write_lock(self.path)
        # An idle connection held for the store's lifetime: when the *last* connection to a WAL
        # database closes, SQLite checkpoints and deletes the WAL file (~20 ms here); with this
        # anchor open, per-operation connections close cheaply. Checkpoints still happen
        # automatically every 1000 WAL pages.
        self._anchor = sqlite3.connect(self.path, check_same_thread=False)
        # run one read to completion: maps the WAL index (so the anchor counts as a connection)
        # without keeping a read snapshot open, which would stop checkpoints from resetting the WAL
        self._anchor.execute("SELECT COUNT(*) FROM meta").fetchall()

    def close(self) -> None:
        """Close the anchor connection (the WAL is checkpointed when the last connection closes)."""
        if self._anchor is not None:
            self._anchor.close()
            self._anchor = None

    def __del__(self):
        with contextlib.suppress(Exception):
            self.close()

    # -- creation --------------------------------------------------------------------------
    @classmethod
    def create(cls, path: str | os.PathLike, design: StudyDesign, images: Iterable[dict], sources: dict,
               **kwargs) -> "Store":
        """Create a new study database (the file must not exist).

        `images`: dicts with source, idx, truth, pool, sha256 (image ids are generated here).
        `sources`: a description of where the images came from (specs, seeds, fingerprints).
        """
        path = Path(path)
        if path.exists():
            raise InvalidArgumentError("db", "a path that does not exist yet (or an existing study to resume)", str(path))
        path.parent.mkdir(parents=True, exist_ok=True)
        # the file holds rater credentials: create it private (SQLite gives its -wal/-shm the same mode)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        conn = sqlite3.connect(path, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(SCHEMA)
            conn.execute("BEGIN IMMEDIATE")
            meta = {"schema_version": str(SCHEMA_VERSION), "design": json.dumps(design.to_dict(), sort_keys=True),
                    "sources": json.dumps(sources, sort_keys=True), "created_at": repr(time.time())}
            conn.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", meta.items())
            conn.executemany(
                "INSERT INTO images (image_id, source, idx, truth, pool, sha256) VALUES (?, ?, ?, ?, ?, ?)",
                [(new_token(12), im["source"], int(im["idx"]), im["truth"], im["pool"], im["sha256"]) for im in images])
            conn.execute("COMMIT")
        except BaseException:
            conn.close()
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            raise
        conn.close()
        return cls(path, **kwargs)

    def check(self) -> None:
        """Run SQLite's `PRAGMA quick_check` (every page and b-tree, O(N)); CorruptDatabaseError if it fails."""
        with self.read() as conn:
            problems = [r[0] for r in conn.execute("PRAGMA quick_check(3)")]
        if problems != ["ok"]:
            found = " ".join("; ".join(problems).split())[:300]  # one line
            raise CorruptDatabaseError(f"the database is corrupt (PRAGMA quick_check: {found}); restore it from a "
                                       "backup", self.path)

    @contextlib.contextmanager
    def serving_lock(self) -> Iterator[None]:
        """Hold `<db>.lock` (an OS file lock) while a server uses the study: one server per database."""
        from filelock import FileLock, Timeout

        lock_path = Path(f"{self.path}.lock")
        fd = os.open(lock_path, os.O_WRONLY | os.O_CREAT, 0o600)  # created private, like the database
        os.close(fd)
        lock = FileLock(lock_path, timeout=0)
        try:
            lock.acquire()
        except Timeout:
            raise DatabaseInUseError("another `gmeval human serve` already serves this study (its lock file "
                                     f"{lock_path.name} is held); stop it first", self.path) from None
        try:
            yield
        finally:
            lock.release()

    # -- connections -----------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute(f"PRAGMA synchronous={self.synchronous}")
        conn.execute(f"PRAGMA busy_timeout={int(self.timeout * 1000)}")
        return conn

    @contextlib.contextmanager
    def _corruption_as_error(self) -> Iterator[None]:
        """SQLite's bare DatabaseError ("database disk image is malformed", "file is not a database")
        means an unreadable page: raised as CorruptDatabaseError. Its subclasses (IntegrityError,
        OperationalError such as a busy database) are real outcomes and pass through."""
        try:
            yield
        except sqlite3.DatabaseError as exc:
            if type(exc) is not sqlite3.DatabaseError:
                raise
            raise CorruptDatabaseError(f"the database is corrupt ({exc}); restore it from a backup", self.path) from exc

    @contextlib.contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A connection for reads (a deferred transaction gives a consistent snapshot)."""
        with self._corruption_as_error():
            conn = self._connect()
            try:
                conn.execute("BEGIN")
                yield conn
                conn.execute("COMMIT")
            finally:
                conn.close()

    @contextlib.contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A connection inside `BEGIN IMMEDIATE`: committed on success, rolled back on error."""
        with self._corruption_as_error():
            conn = self._connect()
            try:
                with self._lock:
                    conn.execute("BEGIN IMMEDIATE")
                    try:
                        yield conn
                    except BaseException:
                        conn.execute("ROLLBACK")
                        raise
                    conn.execute("COMMIT")
            finally:
                conn.close()

    # -- study -----------------------------------------------------------------------------
    def meta(self, key: str):
        """A value of the meta table (``design`` and ``sources`` parsed from JSON), or None."""
        with self.read() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else json.loads(row[0]) if key in ("design", "sources") else row[0]

    @property
    def design(self) -> StudyDesign:
        """The study's `StudyDesign` (read once)."""
        if self._design is None:
            self._design = StudyDesign.from_dict(self.meta("design"))
        return self._design

    def images(self) -> list[dict]:
        """Every image row (image_id, source, idx, truth, pool, sha256), ordered by source and index."""
        with self.read() as conn:
            return [dict(r) for r in conn.execute("SELECT * FROM images ORDER BY source, idx")]

    # -- raters ----------------------------------------------------------------------------
    @property
    def max_raters(self) -> int | None:
        """The study's cap on raters (stored in the database, so a restart keeps it); None: no cap."""
        v = self.meta("max_raters")
        return None if v is None else int(v)

    def set_max_raters(self, n: int | None) -> None:
        """Store a cap on raters (None removes it); InvalidArgumentError unless a positive int or None."""
        if n is not None and (not isinstance(n, int) or isinstance(n, bool) or n < 1):
            raise InvalidArgumentError("max_raters", "a positive integer or None (no cap)", n)
        with self.write() as conn:
            if n is None:
                conn.execute("DELETE FROM meta WHERE key = 'max_raters'")
            else:
                conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('max_raters', ?)", (str(n),))

    def create_rater(self, nickname: str | None, user_agent: str | None,
                     plan: Callable[[int], list[PlannedTrial]], rater_seed: Callable[[int], int],
                     participant: tuple[str, str] | None = None) -> str:
        """Register a rater and store their trial plan; returns the rater's token.

        `rater_seed(serial)` gives the seed of rater number `serial`; `plan(seed)` the trials.
        `participant`: (URL parameter, id) from a crowdsourcing platform; an id starts once only.
        Refused with StudyFullError beyond the stored `max_raters`.
        """
        rater_id = new_token()
        source, pid = participant if participant is not None else (None, None)
        with self.write() as conn:
            serial = conn.execute("SELECT COALESCE(MAX(serial), 0) + 1 FROM raters").fetchone()[0]
            cap = conn.execute("SELECT value FROM meta WHERE key = 'max_raters'").fetchone()
            if cap is not None and serial > int(cap[0]):
                raise StudyFullError(f"the study is full ({int(cap[0])} raters)")
            if pid is not None and conn.execute("SELECT 1 FROM raters WHERE participant_id = ?", (pid,)).fetchone():
                raise ConflictError("this participant id has already started the study")
            seed = int(rater_seed(serial))
            trials = plan(seed)
            conn.execute("INSERT INTO raters (rater_id, serial, nickname, seed, user_agent, created_at, participant_id, "
                         "participant_source) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                         (rater_id, serial, nickname, seed, user_agent, time.time(), pid, source))
            conn.executemany(
                "INSERT INTO trials (trial_id, rater_id, position, phase, image_id, truth, stream, exposure_ms) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(new_token(), rater_id, pos, t.phase, t.image_id, t.truth, t.stream, t.exposure_ms)
                 for pos, t in enumerate(trials)])
        return rater_id

    def _rater(self, conn, rater_id: str) -> sqlite3.Row:
        row = conn.execute("SELECT * FROM raters WHERE rater_id = ?", (rater_id,)).fetchone()
        if row is None:
            raise UnknownRaterError("unknown rater")
        return row

    def rater(self, rater_id: str) -> dict:
        """The rater's row as a dict; UnknownRaterError for an unknown token."""
        with self.read() as conn:
            return dict(self._rater(conn, rater_id))

    def raters(self) -> list[dict]:
        """Every rater's row with its numbers of trials and answers, by serial."""
        with self.read() as conn:
            rows = conn.execute(
                "SELECT r.*, (SELECT COUNT(*) FROM trials t WHERE t.rater_id = r.rater_id) AS n_trials, "
                "(SELECT COUNT(*) FROM answers a WHERE a.rater_id = r.rater_id) AS n_answers "
                "FROM raters r ORDER BY serial").fetchall()
        return [dict(r) for r in rows]

    def set_comment(self, rater_id: str, submission_id: str, text: str) -> bool:
        """Store the rater's end-of-study comment once; returns False for an identical retry."""
        with self.write() as conn:
            r = self._rater(conn, rater_id)
            if r["finished_at"] is None:
                raise ConflictError("a comment is accepted once every trial is answered")
            if r["comment_submission_id"] is not None:
                if r["comment_submission_id"] == submission_id and r["comment"] == text:
                    return False
                raise ConflictError("a comment was already submitted")
            if conn.execute("SELECT 1 FROM raters WHERE comment_submission_id = ?", (submission_id,)).fetchone():
                raise ConflictError("submission id already used")
            conn.execute("UPDATE raters SET comment = ?, comment_submission_id = ? WHERE rater_id = ?",
                         (text, submission_id, rater_id))
        return True

    # -- trials ----------------------------------------------------------------------------
    def _current(self, conn, rater_id: str) -> sqlite3.Row | None:
        return conn.execute(
            "SELECT t.* FROM trials t LEFT JOIN answers a ON a.trial_id = t.trial_id "
            "WHERE t.rater_id = ? AND a.answer_id IS NULL ORDER BY t.position LIMIT 1", (rater_id,)).fetchone()

    def _serve(self, conn, trial: sqlite3.Row) -> dict:
        """Mark `trial` as served (computing its HYPE-time exposure) and describe it."""
        exposure = trial["exposure_ms"]
        if trial["served_at"] is None:
            design = self.design
            if design.protocol == "hype-time" and trial["phase"] == "scored":
                hist = conn.execute(
                    "SELECT a.correct FROM trials t JOIN answers a ON a.trial_id = t.trial_id "
                    "WHERE t.rater_id = ? AND t.stream = ? AND t.phase = 'scored' ORDER BY t.position",
                    (trial["rater_id"], trial["stream"])).fetchall()
                exposure = staircase_exposures([bool(h[0]) for h in hist], design.staircase)[-1]
            elif design.protocol == "hype-time" and trial["phase"] == "check":
                # an attention check is shown as long as the rater's latest scored trial, so its
                # exposure never sets it apart from the staircase trials around it
                last = conn.execute("SELECT exposure_ms FROM trials WHERE rater_id = ? AND phase = 'scored' AND "
                                    "served_at IS NOT NULL ORDER BY position DESC LIMIT 1",
                                    (trial["rater_id"],)).fetchone()
                exposure = design.staircase.start_ms if last is None else last[0]
            conn.execute("UPDATE trials SET served_at = ?, exposure_ms = ? WHERE trial_id = ?",
                         (time.time(), exposure, trial["trial_id"]))
        total = conn.execute("SELECT COUNT(*) FROM trials WHERE rater_id = ?", (trial["rater_id"],)).fetchone()[0]
        return {"trial_id": trial["trial_id"], "image_id": trial["image_id"], "phase": trial["phase"],
                "position": trial["position"], "total": total, "exposure_ms": exposure}

    @staticmethod
    def _finish(conn, rater_id: str) -> None:
        """Mark the rater finished (once) and give them a completion code for the crowdsourcing platform."""
        conn.execute("UPDATE raters SET finished_at = ?, completion_code = ? WHERE rater_id = ? AND finished_at IS NULL",
                     (time.time(), completion_code(), rater_id))

    def next_trial(self, rater_id: str) -> dict | None:
        """Serve the rater's current trial (idempotent: the same trial until it is answered)."""
        with self.write() as conn:
            r = self._rater(conn, rater_id)
            cur = self._current(conn, rater_id)
            if cur is None:
                if r["finished_at"] is None:
                    self._finish(conn, rater_id)
                return None
            return self._serve(conn, cur)

    def submit_answer(self, rater_id: str, trial_id: str, submission_id: str, response: str,
                      rt_ms: float | None = None, shown_ms: float | None = None) -> dict:
        """Store one answer exactly once; returns {duplicate, phase, correct?, truth?, next}.

        Feedback (truth, correct) is returned for tutorial trials only. `next` is the next trial
        (already served) or None when the rater is done.
        """
        if response not in ("real", "fake"):
            raise HumanEvalError(f"response must be 'real' or 'fake', got {response!r}")
        with self.write() as conn:
            self._rater(conn, rater_id)
            prev = conn.execute("SELECT * FROM answers WHERE submission_id = ?", (submission_id,)).fetchone()
            if prev is not None:
                if prev["trial_id"] != trial_id or prev["rater_id"] != rater_id or prev["response"] != response:
                    raise ConflictError("submission id already used for a different answer")
                trial = conn.execute("SELECT * FROM trials WHERE trial_id = ?", (trial_id,)).fetchone()
                duplicate = True
            else:
                trial = conn.execute("SELECT * FROM trials WHERE trial_id = ? AND rater_id = ?",
                                     (trial_id, rater_id)).fetchone()
                if trial is None:
                    raise UnknownTrialError("no such trial for this rater")
                if conn.execute("SELECT 1 FROM answers WHERE trial_id = ?", (trial_id,)).fetchone():
                    raise ConflictError("trial already answered with another submission id")
                cur = self._current(conn, rater_id)
                if cur is None or cur["trial_id"] != trial_id or cur["served_at"] is None:
                    raise ConflictError("not the rater's current trial")
                correct = int(response == trial["truth"])
                conn.execute(
                    "INSERT INTO answers (submission_id, trial_id, rater_id, response, correct, rt_ms, shown_ms, "
                    "received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (submission_id, trial_id, rater_id, response, correct, rt_ms, shown_ms, time.time()))
                duplicate = False
            out = {"duplicate": duplicate, "phase": trial["phase"]}
            if trial["phase"] == "tutorial":
                out.update(truth=trial["truth"], correct=response == trial["truth"])
            cur = self._current(conn, rater_id)
            if cur is None:
                self._finish(conn, rater_id)
            out["next"] = None if cur is None else self._serve(conn, cur)
        return out

    # -- reading results -------------------------------------------------------------------
    def answers(self, rater_id: str | None = None) -> list[dict]:
        """All answers joined with their trial, image and rater (for scoring and export)."""
        q = ("SELECT a.answer_id, a.submission_id, a.rater_id, r.serial AS rater_serial, r.nickname, r.participant_id, "
             "t.trial_id, "
             "t.position, t.phase, t.stream, t.image_id, i.source, i.idx AS image_index, t.truth, a.response, "
             "a.correct, t.exposure_ms, a.shown_ms, a.rt_ms, t.served_at, a.received_at "
             "FROM answers a JOIN trials t ON t.trial_id = a.trial_id JOIN images i ON i.image_id = t.image_id "
             "JOIN raters r ON r.rater_id = a.rater_id")
        args: tuple = ()
        if rater_id is not None:
            q += " WHERE a.rater_id = ?"
            args = (rater_id,)
        with self.read() as conn:
            return [dict(r) for r in conn.execute(q + " ORDER BY r.serial, t.position", args)]

    def counts(self) -> dict:
        """The number of raters, trials, answers and images."""
        with self.read() as conn:
            return {name: conn.execute(f"SELECT COUNT(*) FROM {name}").fetchone()[0]
                    for name in ("raters", "trials", "answers", "images")}
