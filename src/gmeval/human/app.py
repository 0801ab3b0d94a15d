"""The HYPE web application (Flask): instructions, tutorial, trials, end screen, admin pages.

Routes (rater ids, trial ids and image ids are opaque random tokens):

    GET  /                          instructions and start form (optional nickname; a platform's
                                    participant id such as ?PROLIFIC_PID= is carried along)
    POST /start                     create a rater and their seeded trial plan -> /r/<rater>
    GET  /r/<rater>                 the trial page (plain JS in static/app.js)
    GET  /r/<rater>/done            end screen: the rater's own score, completion code, comment box
    GET  /api/r/<rater>/next        the current trial (JSON; idempotent until answered)
    POST /api/r/<rater>/answer      {trial_id, submission_id, answer, rt_ms?, shown_ms?}
    POST /api/r/<rater>/comment     {submission_id, comment} (once the rater has finished)
    GET  /img/<image_id>            PNG bytes (nothing in the URL tells real from fake)
    GET|POST /admin/login           admin log-in form -> HttpOnly, SameSite=Strict session cookie
    POST /admin/logout
    GET  /admin                     live per-model results and raters       (admin)
    GET  /admin/export.json|csv     every answer with its trial and image   (admin)
    GET  /admin/score.json          the full score (as `gmeval human score`) (admin)

Admin requests carry the session cookie or ``Authorization: Bearer TOKEN``; the token is never
accepted in a URL. Attention checks look like scored trials to the client: the API says
``"phase": "tutorial"`` or ``"main"``, nothing more.

Robustness: JSON bodies must be objects with exactly the documented keys and types, nested at
most `MAX_JSON_DEPTH` deep; bodies larger than `MAX_CONTENT_LENGTH` (16 KiB) are refused with
413; text fields refuse markup (``<``/``>``), control and bidirectional-override characters;
every refusal is a 4xx with nothing stored. Only the Host names given to `create_app` are
answered (400 otherwise). Templates autoescape, and a strict Content-Security-Policy allows only
this server's own scripts/styles; ``Referrer-Policy: no-referrer`` keeps rater ids out of
Referer headers.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import secrets
from pathlib import Path

from ..errors import DataError, GmevalError, InvalidArgumentError, require
from ..utils.seeding import as_numpy_generator, derive_seed
from .access import LOCAL_HOSTS, AdminSessions, RateLimiter, bearer_token, check_admin_token, tokens_equal
from .images import ImageProvider, build_provider
from .protocol import Pools, StaircaseConfig, StudyDesign, plan_trials
from .server import MAX_BODY_BYTES, ServerSettings, StudyServer
from .store import HumanEvalError, Store, UnknownRaterError

MAX_CONTENT_LENGTH = MAX_BODY_BYTES  # checked by Flask as well as by the server
MAX_JSON_DEPTH = 4  # the API's bodies are flat objects
# ids are matched whole (re.fullmatch: no trailing newline slips through as with `$`)
TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{16,64}")
SUBMISSION_RE = re.compile(r"[A-Za-z0-9_-]{8,64}")
PARTICIPANT_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
# URL parameters by which crowdsourcing platforms pass a participant id (Prolific, MTurk, generic)
PARTICIPANT_PARAMS = ("PROLIFIC_PID", "workerId", "participant_id")
NICKNAME_MAX = 40
COMMENT_MAX = 1000
# markup, C0 controls and DEL, and Unicode bidirectional controls (U+061C, U+200E/F, U+202A-E,
# U+2066-9), which can make text on the admin page read differently from what was stored
_FORBIDDEN_TEXT = re.compile("[<>\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.S)
_JSON_BRACKET = re.compile(rb"[\[\]{}]")
ADMIN_COOKIE = "gmeval_admin"


class BadRequest(HumanEvalError):
    """A malformed request (HTTP 400).

    Example:
        >>> BadRequest("missing fields ['answer']").status
        400
    """
    status = 400


class UnsupportedMediaType(HumanEvalError):
    """A request body that is not JSON (HTTP 415).

    Example:
        >>> UnsupportedMediaType("expected a JSON body").status
        415
    """
    status = 415


class RateLimitedError(HumanEvalError):
    """Too many requests of one kind from one client address; `retry_after` in seconds.

    Args:
        message: what was refused.
        retry_after: seconds until a retry can succeed (the ``Retry-After`` header).

    Example:
        >>> e = RateLimitedError("too many new sessions from this address", 3)
        >>> e.status, e.retry_after
        (429, 3)
    """

    status = 429

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


def validate_text(name: str, value, max_len: int, *, multiline: bool = False) -> str | None:
    """Strip and check a free-text field; None for empty. Markup and control characters are refused.

    Args:
        name: the field's name, for messages.
        value: the submitted value (None allowed).
        max_len: the longest accepted text.
        multiline: allow line breaks and tabs.

    Returns:
        The stripped text, or None.

    Raises:
        BadRequest: not a string, too long, or with markup, control or bidirectional-override characters.

    Example:
        >>> validate_text("nickname", "  ann ", 40), validate_text("nickname", "   ", 40)
        ('ann', None)
        >>> validate_text("nickname", "<b>ann</b>", 40)
        Traceback (most recent call last):
        ...
        gmeval.human.app.BadRequest: nickname must be plain text: no '<', '>', control or bidirectional-override characters
    """
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadRequest(f"{name} must be a string")
    value = value.strip()
    if not value:
        return None
    if len(value) > max_len:
        raise BadRequest(f"{name} must be at most {max_len} characters, got {len(value)}")
    if _FORBIDDEN_TEXT.search(value) or (not multiline and ("\n" in value or "\r" in value or "\t" in value)):
        raise BadRequest(f"{name} must be plain text: no '<', '>', control or bidirectional-override characters")
    return value


def json_depth(raw: bytes) -> int:
    """Deepest nesting of arrays/objects in a JSON text (brackets inside strings do not count).

    Args:
        raw: the JSON bytes.

    Returns:
        The depth (0 for a scalar).

    Example:
        >>> json_depth(b'{"a": [1, {"b": "[[["}]}'), json_depth(b'"x"')
        (3, 0)
    """
    depth = deepest = 0
    for m in _JSON_BRACKET.finditer(_JSON_STRING.sub(b'""', raw)):
        depth += 1 if m.group() in (b"[", b"{") else -1
        deepest = max(deepest, depth)
    return deepest


def _json_body(request, allowed: dict[str, tuple], required: set[str]) -> dict:
    if not request.is_json:
        raise UnsupportedMediaType("expected a JSON body (Content-Type: application/json)")
    raw = request.get_data(cache=False)  # 413 beyond MAX_CONTENT_LENGTH
    if json_depth(raw) > MAX_JSON_DEPTH:
        raise BadRequest(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        raise BadRequest("the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    unknown = set(body) - set(allowed)
    if unknown:
        raise BadRequest(f"unknown fields {sorted(unknown)}; allowed: {sorted(allowed)}")
    missing = required - set(body)
    if missing:
        raise BadRequest(f"missing fields {sorted(missing)}")
    for k, v in body.items():
        types = allowed[k]
        if v is None and k not in required:
            continue
        if not isinstance(v, types) or isinstance(v, bool) and bool not in types:
            raise BadRequest(f"field {k!r} has the wrong type ({type(v).__name__})")
    return body


def _opt_ms(body: dict, key: str) -> float | None:
    v = body.get(key)
    if v is None:
        return None
    v = float(v)
    if not math.isfinite(v) or v < 0 or v > 86_400_000:
        raise BadRequest(f"{key} must be a duration in milliseconds in [0, 86400000]")
    return v


def pools_from_rows(design: StudyDesign, rows: list[dict]) -> Pools:
    """The planner's image pools from a study's image rows (see `Store.images`).

    Args:
        design: the `StudyDesign`.
        rows: the image rows.

    Returns:
        A `Pools` of image ids, each list in source-index order.

    Example:
        >>> from gmeval.human import StudyDesign
        >>> rows = [{"image_id": "r0", "source": "real", "idx": 0, "pool": "scored"},
        ...         {"image_id": "c0", "source": "real", "idx": 1, "pool": "check"},
        ...         {"image_id": "g0", "source": "gan", "idx": 0, "pool": "scored"},
        ...         {"image_id": "n0", "source": "noise", "idx": 0, "pool": "check"}]
        >>> p = pools_from_rows(StudyDesign("hype-inf", ("gan",), per_model=1, pool_size=1), rows)
        >>> p.real, p.fake, p.check_real, p.noise
        (['r0'], {'gan': ['g0']}, ['c0'], ['n0'])
    """
    rows = sorted(rows, key=lambda r: (r["source"], r["idx"]))

    def ids(source, pool):
        return [r["image_id"] for r in rows if r["source"] == source and r["pool"] == pool]

    return Pools(real=ids("real", "scored"), fake={m: ids(m, "scored") for m in design.models},
                 tutorial_real=ids("real", "tutorial"), tutorial_fake={m: ids(m, "tutorial") for m in design.models},
                 noise=ids("noise", "check"), check_real=ids("real", "check"))


def open_study(db, *, real=None, fakes: dict | None = None, design: StudyDesign | None = None,
               synchronous: str = "NORMAL") -> tuple[Store, ImageProvider]:
    """Create a study database, or resume one, and load its images.

    New study: `real`, `fakes` ({model: source}) and `design` are required. Existing database:
    sources and design default to the stored ones; if given they must match them.

    Args:
        db: the database path.
        real: the real source.
        fakes: {model: source}.
        design: the `StudyDesign`.
        synchronous: SQLite's durability, ``"NORMAL"`` or ``"FULL"`` (see `Store`).

    Returns:
        (`Store`, `ImageProvider` bound to the stored images).

    Raises:
        InvalidArgumentError: missing sources or design for a new study, or sources / a design that
            differ from an existing study's.
        DataError: stored images that differ from what the sources give now.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> from gmeval.human import StudyDesign
        >>> tmp = tempfile.TemporaryDirectory()
        >>> design = StudyDesign("hype-inf", ("gan",), per_model=2, pool_size=2, n_tutorial=2, n_checks=2)
        >>> store, provider = open_study(Path(tmp.name) / "study.db", real="digits:test", fakes={"gan": "digits:train"},
        ...                              design=design)
        >>> store.counts()
        {'raters': 0, 'trials': 0, 'answers': 0, 'images': 8}
        >>> store.close()
        >>> store, provider = open_study(Path(tmp.name) / "study.db")   # resumed: sources and design from the database
        >>> store.design == design, provider.shape
        (True, (1, 8, 8))
        >>> store.close(); tmp.cleanup()
    """
    from ..sources import describe_source

    db = Path(db)
    if db.exists():
        store = Store(db, synchronous=synchronous)
        stored = store.meta("sources")
        if design is not None and design != store.design:
            raise InvalidArgumentError("db", "a new database path for a different study design (an existing study "
                                       "resumes with its own design)", f"{db} (stored {store.design.to_dict()}, "
                                       f"asked {design.to_dict()})")
        design = store.design
        if real is None:
            real = stored["real"]["spec"]
        if fakes is None:
            fakes = {m: stored[m]["spec"] for m in design.models}
        asked = {"real": describe_source(real), **{m: describe_source(s) for m, s in fakes.items()}}
        was = {k: stored[k]["spec"] for k in asked if k in stored}
        if list(fakes) != list(design.models) or asked != was:
            raise InvalidArgumentError("sources", f"the sources the study was created with {was}", asked)
        provider, _, _ = build_provider(design, real, fakes)
    else:
        if real is None or not fakes or design is None:
            raise InvalidArgumentError("real/fakes", "a real source and at least one fake source for a new study", None)
        provider, rows, sources = build_provider(design, real, fakes)
        store = Store.create(db, design, rows, sources, synchronous=synchronous)
    provider.bind(store.images())
    return store, provider


def create_app(store: Store, provider: ImageProvider, *, admin_token: str | None = None,
               allowed_hosts=LOCAL_HOSTS, start_per_minute: float = 20.0, live_bootstrap: int = 200):
    """The Flask application of one study.

    Args:
        store: the study's `Store`.
        provider: its `ImageProvider` (bound).
        admin_token: the admin token (>= 16 characters; default: a fresh random token in
            ``app.config["ADMIN_TOKEN"]``).
        allowed_hosts: Host header names answered (see `access.allowed_hosts`).
        start_per_minute: new raters per client address and minute (a burst of as many is allowed).
        live_bootstrap: bootstrap replicates of the admin page's live scores.

    Returns:
        The Flask app (the cap on raters is stored in the study, `Store.set_max_raters`).

    Raises:
        MissingDependencyError: Flask (the ``human`` extra) is not installed.
        InvalidArgumentError: a malformed admin token.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> from gmeval.human import StudyDesign
        >>> tmp = tempfile.TemporaryDirectory()
        >>> design = StudyDesign("hype-inf", ("gan",), per_model=2, pool_size=2, n_tutorial=2, n_checks=2)
        >>> store, provider = open_study(Path(tmp.name) / "study.db", real="digits:test", fakes={"gan": "digits:train"},
        ...                              design=design)
        >>> app = create_app(store, provider, admin_token="0123456789abcdef")
        >>> client = app.test_client()
        >>> client.get("/healthz").get_json()
        {'ok': True, 'protocol': 'hype-inf'}
        >>> r = client.post("/start", data={"consent": "yes", "nickname": "ann"})
        >>> rater = r.headers["Location"].rsplit("/", 1)[1]
        >>> trial = client.get(f"/api/r/{rater}/next").get_json()["trial"]
        >>> r.status_code, trial["phase"], trial["total"], client.get(trial["image_url"]).mimetype
        (303, 'tutorial', 8, 'image/png')
        >>> answer = {"trial_id": trial["trial_id"], "submission_id": "sub-0001", "answer": "real"}
        >>> sorted(client.post(f"/api/r/{rater}/answer", json=answer).get_json()["feedback"])
        ['correct', 'truth']
        >>> client.get("/admin/score.json").status_code   # no session cookie, no bearer token
        403
        >>> auth = {"Authorization": "Bearer 0123456789abcdef"}
        >>> client.get("/admin/score.json?bootstrap=10", headers=auth).get_json()["raters"]["total"]
        1
        >>> store.close(); tmp.cleanup()
    """
    require("flask", "the human-evaluation web app", extra="human")
    from flask import Flask, Response, abort, jsonify, redirect, render_template, request, url_for
    from werkzeug.exceptions import HTTPException

    from .scoring import rater_report, score_store

    token = check_admin_token(admin_token, "admin_token") if admin_token is not None else secrets.token_urlsafe(24)
    app = Flask(__name__, template_folder="templates", static_folder="static")
    app.config.update(MAX_CONTENT_LENGTH=MAX_CONTENT_LENGTH, MAX_FORM_MEMORY_SIZE=MAX_CONTENT_LENGTH,
                      ADMIN_TOKEN=token, TRUSTED_HOSTS=list(allowed_hosts), SEND_FILE_MAX_AGE_DEFAULT=300)
    app.extensions["gmeval_human"] = {"store": store}
    design = store.design
    pools = pools_from_rows(design, store.images())
    start_limit = RateLimiter(start_per_minute)
    login_limit = RateLimiter(10.0)
    sessions = AdminSessions()

    def plan(seed: int):
        return plan_trials(design, pools, as_numpy_generator(seed))

    def rater_seed(serial: int) -> int:
        return derive_seed(design.seed, "rater", serial)

    def is_api() -> bool:
        return request.path.startswith(("/api/", "/admin/")) or request.accept_mimetypes.best == "application/json"

    def error(status: int, message: str):
        if is_api():
            return jsonify({"ok": False, "error": message}), status
        if request.url_rule is None and status == 400:  # e.g. an untrusted Host: no URLs can be built
            return Response(f"Error {status}: {message}\n", status=status, mimetype="text/plain")
        return render_template("error.html", status=status, message=message), status

    @app.errorhandler(HumanEvalError)
    def _human_error(exc):
        resp = app.make_response(error(exc.status, str(exc)))
        if isinstance(exc, RateLimitedError):
            resp.headers["Retry-After"] = str(exc.retry_after)
        return resp

    @app.errorhandler(HTTPException)
    def _http_error(exc):
        return error(exc.code or 500, exc.description or exc.name)

    def limit(limiter: RateLimiter, what: str) -> None:
        if not limiter.allow(request.remote_addr or "-"):
            raise RateLimitedError(f"too many {what} from this address; try again in a minute", limiter.retry_after())

    @app.errorhandler(GmevalError)
    def _gmeval_error(exc):
        if isinstance(exc, DataError):  # e.g. a database page that became unreadable: the organisers must act
            app.logger.error("study database error: %s", exc)
            return error(503, "the study database cannot be read; please tell the organisers")
        return error(400, str(exc))

    @app.after_request
    def _headers(resp):
        resp.headers["Content-Security-Policy"] = ("default-src 'none'; script-src 'self'; style-src 'self'; "
                                                   "img-src 'self'; connect-src 'self'; form-action 'self'; "
                                                   "base-uri 'none'; frame-ancestors 'none'")
        resp.headers["X-Content-Type-Options"] = "nosniff"
        resp.headers["Referrer-Policy"] = "no-referrer"
        resp.headers["X-Frame-Options"] = "DENY"
        if request.path.startswith(("/api/", "/admin", "/r/")):
            resp.headers["Cache-Control"] = "no-store"
        return resp

    def check_token(value: str) -> str:
        if not isinstance(value, str) or not TOKEN_RE.fullmatch(value):
            raise UnknownRaterError("unknown rater")
        return value

    def known_rater(value: str) -> str:
        store.rater(check_token(value))  # UnknownRaterError (404) before looking at the body
        return value

    def trial_json(t: dict | None, rater_id: str) -> dict:
        if t is None:
            return {"ok": True, "done": True, "results_url": url_for("done", rater_id=rater_id)}
        # scored trials and attention checks are one phase to the client ("main")
        return {"ok": True, "done": False, "trial": {
            "trial_id": t["trial_id"], "image_url": url_for("image", image_id=t["image_id"]),
            "phase": "tutorial" if t["phase"] == "tutorial" else "main",
            "position": t["position"], "total": t["total"], "exposure_ms": t["exposure_ms"]}}

    def participant_from(values) -> tuple[str, str] | None:
        """(parameter, id) of the first platform parameter present in `values` (None: none given)."""
        for name in PARTICIPANT_PARAMS:
            pid = values.get(name)
            if pid:
                if not PARTICIPANT_RE.fullmatch(pid):
                    raise BadRequest(f"{name} must be 1-64 characters of [A-Za-z0-9_-]")
                return name, pid
        return None

    # -- rater pages ------------------------------------------------------------------------
    @app.get("/")
    def index():
        return render_template("index.html", design=design, participant=participant_from(request.args))

    @app.post("/start")
    def start():
        if request.form.get("consent") != "yes":
            raise BadRequest("please confirm that you agree to take part")
        limit(start_limit, "new sessions")
        nickname = validate_text("nickname", request.form.get("nickname"), NICKNAME_MAX)
        participant = participant_from(request.form)
        ua = (request.headers.get("User-Agent") or "")[:300]
        rid = store.create_rater(nickname, ua, plan, rater_seed, participant=participant)
        return redirect(url_for("trial_page", rater_id=rid), code=303)

    @app.get("/r/<rater_id>")
    def trial_page(rater_id):
        r = store.rater(check_token(rater_id))
        return render_template("trial.html", design=design, rater=r)

    @app.get("/r/<rater_id>/done")
    def done(rater_id):
        r = store.rater(check_token(rater_id))
        if r["finished_at"] is None:
            return redirect(url_for("trial_page", rater_id=rater_id), code=303)
        return render_template("done.html", design=design, rater=r, report=rater_report(store, rater_id))

    # -- rater API --------------------------------------------------------------------------
    @app.get("/api/r/<rater_id>/next")
    def api_next(rater_id):
        rid = check_token(rater_id)
        return jsonify(trial_json(store.next_trial(rid), rid))

    @app.post("/api/r/<rater_id>/answer")
    def api_answer(rater_id):
        rid = known_rater(rater_id)
        body = _json_body(request, {"trial_id": (str,), "submission_id": (str,), "answer": (str,),
                                    "rt_ms": (int, float), "shown_ms": (int, float)},
                          {"trial_id", "submission_id", "answer"})
        if not TOKEN_RE.fullmatch(body["trial_id"]):
            raise BadRequest("malformed trial_id")
        if not SUBMISSION_RE.fullmatch(body["submission_id"]):
            raise BadRequest("submission_id must be 8-64 characters of [A-Za-z0-9_-]")
        if body["answer"] not in ("real", "fake"):
            raise BadRequest("answer must be 'real' or 'fake'")
        res = store.submit_answer(rid, body["trial_id"], body["submission_id"], body["answer"],
                                  _opt_ms(body, "rt_ms"), _opt_ms(body, "shown_ms"))
        out = trial_json(res["next"], rid)
        out["duplicate"] = res["duplicate"]
        if res["phase"] == "tutorial":
            out["feedback"] = {"truth": res["truth"], "correct": res["correct"]}
        return jsonify(out)

    @app.post("/api/r/<rater_id>/comment")
    def api_comment(rater_id):
        rid = known_rater(rater_id)
        body = _json_body(request, {"submission_id": (str,), "comment": (str,)}, {"submission_id", "comment"})
        if not SUBMISSION_RE.fullmatch(body["submission_id"]):
            raise BadRequest("submission_id must be 8-64 characters of [A-Za-z0-9_-]")
        text = validate_text("comment", body["comment"], COMMENT_MAX, multiline=True)
        if text is None:
            raise BadRequest("comment is empty")
        stored = store.set_comment(rid, body["submission_id"], text)
        return jsonify({"ok": True, "duplicate": not stored})

    @app.get("/img/<image_id>")
    def image(image_id):
        if not TOKEN_RE.fullmatch(image_id) or not provider.has(image_id):
            abort(404)
        resp = Response(provider.png(image_id), mimetype="image/png")
        resp.headers["Cache-Control"] = "private, max-age=3600"
        return resp

    @app.get("/healthz")
    def healthz():
        return jsonify({"ok": True, "protocol": design.protocol})

    # -- admin ------------------------------------------------------------------------------
    def is_admin() -> bool:
        given = bearer_token(request.headers.get("Authorization"))
        if given is not None:
            return tokens_equal(given, token)
        return sessions.valid(request.cookies.get(ADMIN_COOKIE))

    def require_admin() -> None:
        if not is_admin():
            abort(403, "admin login required (log in at /admin/login, or send Authorization: Bearer TOKEN)")

    @app.route("/admin/login", methods=["GET", "POST"])
    def admin_login():
        if request.method == "GET":
            return render_template("login.html", design=design, failed=False)
        limit(login_limit, "log-in attempts")
        given = request.form.get("token", "")
        if not given or not tokens_equal(given.strip(), token):
            return render_template("login.html", design=design, failed=True), 403
        resp = redirect(url_for("admin"), code=303)
        resp.set_cookie(ADMIN_COOKIE, sessions.new(), max_age=int(sessions.lifetime), path="/admin", httponly=True,
                        samesite="Strict", secure=request.is_secure)
        return resp

    @app.post("/admin/logout")
    def admin_logout():
        sessions.end(request.cookies.get(ADMIN_COOKIE))
        resp = redirect(url_for("admin_login"), code=303)
        resp.delete_cookie(ADMIN_COOKIE, path="/admin", httponly=True, samesite="Strict")
        return resp

    @app.get("/admin")
    def admin():
        if not is_admin():
            return redirect(url_for("admin_login"), code=303)
        result = score_store(store, n_boot=live_bootstrap, seed=0)
        return render_template("admin.html", design=design, result=result, raters=store.raters(),
                               counts=store.counts(), max_raters=store.max_raters)

    @app.get("/admin/score.json")
    def admin_score():
        require_admin()
        n_boot = request.args.get("bootstrap", "2000")
        if not n_boot.isdigit() or not 1 <= int(n_boot) <= 20000:
            raise BadRequest("bootstrap must be an integer in [1, 20000]")
        return jsonify(score_store(store, n_boot=int(n_boot), seed=0))

    @app.get("/admin/export.json")
    def export_json():
        require_admin()
        raters = [{k: r[k] for k in RATER_EXPORT_FIELDS} for r in store.raters()]
        return jsonify({"design": design.to_dict(), "sources": store.meta("sources"), "raters": raters,
                        "answers": store.answers()})

    @app.get("/admin/export.csv")
    def export_csv():
        require_admin()
        rows = store.answers()
        buf = io.StringIO()
        cols = ["answer_id", "submission_id", "rater_serial", "rater_id", "nickname", "participant_id", "trial_id",
                "position", "phase", "stream", "image_id", "source", "image_index", "truth", "response", "correct",
                "exposure_ms", "shown_ms", "rt_ms", "served_at", "received_at"]
        w = csv.DictWriter(buf, fieldnames=cols, extrasaction="ignore", lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({k: _csv_safe(r.get(k)) for k in cols})
        resp = Response(buf.getvalue(), mimetype="text/csv")
        resp.headers["Content-Disposition"] = "attachment; filename=answers.csv"
        return resp

    return app


RATER_EXPORT_FIELDS = ("serial", "rater_id", "nickname", "participant_source", "participant_id", "completion_code",
                       "seed", "created_at", "finished_at", "comment", "n_trials", "n_answers")


def _csv_safe(v):
    """Neutralise spreadsheet formulas in free text (a leading = + - @ becomes literal)."""
    if isinstance(v, str) and v[:1] in ("=", "+", "-", "@"):
        return "'" + v
    return v


def make_server(app, host: str = "127.0.0.1", port: int = 8000, settings: ServerSettings | None = None) -> StudyServer:
    """The study's production server (waitress, see `server.py`); takes the study's lock file.

    Args:
        app: the app of `create_app`.
        host: the address to bind.
        port: the port (0: any free port, see ``server_port``).
        settings: the `ServerSettings` (None: defaults).

    Returns:
        A `StudyServer` (not yet serving: call ``serve_forever()``).

    Raises:
        DatabaseInUseError: another server holds the study's lock.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> from gmeval.human import StudyDesign
        >>> tmp = tempfile.TemporaryDirectory()
        >>> design = StudyDesign("hype-inf", ("gan",), per_model=2, pool_size=2, n_tutorial=2, n_checks=2)
        >>> store, provider = open_study(Path(tmp.name) / "study.db", real="digits:test", fakes={"gan": "digits:train"},
        ...                              design=design)
        >>> server = make_server(create_app(store, provider), port=0)
        >>> server.server_port > 0
        True
        >>> server.close(); store.close(); tmp.cleanup()
    """
    return StudyServer(app, host, port, settings)


__all__ = ["create_app", "open_study", "make_server", "validate_text", "pools_from_rows", "json_depth", "StaircaseConfig",
           "StudyDesign", "ServerSettings", "MAX_CONTENT_LENGTH", "MAX_JSON_DEPTH", "PARTICIPANT_PARAMS"]
