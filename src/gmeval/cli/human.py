"""`gmeval human serve ...` (HYPE web app) and `gmeval human score DB` (scores with intervals)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

_NAME_RE = re.compile(r"[A-Za-z0-9_.-]{1,100}")


TOKEN_ENV = "GMEVAL_HUMAN_ADMIN_TOKEN"


def register(sub) -> None:
    """Add `gmeval human serve ...` (run a HYPE study's web app) and `gmeval human score DB`.

    Args:
        sub: the subparsers of the `gmeval` parser.

    Example:
        >>> import argparse
        >>> sub = argparse.ArgumentParser(prog="gmeval").add_subparsers()
        >>> register(sub)
        >>> args = sub.choices["human"].parse_args(["serve", "--real", "digits:", "--fake", "a=a.npz", "--port", "0"])
        >>> args.fake, args.port, args.host, args.func is run_serve
        (['a=a.npz'], 0, '127.0.0.1', True)
        >>> sub.choices["human"].parse_args(["score", "study.sqlite"]).bootstrap
        2000
    """
    from ..human.server import ServerSettings
    from . import validate as V

    p = sub.add_parser("human", help="human evaluation (HYPE): serve the web app, score a study",
                       description="Human evaluation with the HYPE protocol (Zhou et al., NeurIPS 2019).")
    hs = p.add_subparsers(dest="human_command", metavar="{serve,score}", required=True)

    s = hs.add_parser("serve", help="run the web app for a new or existing study",
                      description="Serve a HYPE study. A new --db needs --real and one or more --fake; an existing "
                                  "--db resumes its study (sources and design are stored in it).")
    s.add_argument("--real", help="real images: dataset (mnist:test), folder, .npy/.npz")
    s.add_argument("--fake", action="append", default=None, metavar="[NAME=]SOURCE",
                   help="fake images: checkpoint (.pt), folder, .npy/.npz; repeat per model. NAME defaults to SOURCE")
    s.add_argument("--protocol", choices=("hype-inf", "hype-time"), default=None, help="default: hype-inf")
    s.add_argument("--db", default="runs/human/study.sqlite", type=V.output_file(), help="study database (SQLite; created if absent)")
    s.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    s.add_argument("--public-host", action="append", default=[], metavar="NAME",
                   help="host name raters use (Host header allowlist; required when --host is not a loopback address; "
                        "repeatable)")
    s.add_argument("--port", type=V.integer(0, 65535), default=8000, help="port (0: any free port)")
    s.add_argument("--admin-token-file", default=None, metavar="PATH",
                   help="file holding the admin token (default: DB.admin-token, created with a random token, mode 0600)")
    s.add_argument("--admin-token", default=None,
                   help=f"admin token (>= 16 characters; visible in the process list: prefer --admin-token-file or "
                        f"the environment variable {TOKEN_ENV})")
    s.add_argument("--per-model", type=V.positive_int, default=None, help="fake images per model and rater, and as many real (50)")
    s.add_argument("--pool-size", type=V.positive_int, default=None, help="distinct fake images per model in the study (100)")
    s.add_argument("--tutorial", type=V.non_negative_int, default=None, help="tutorial trials with feedback (6)")
    s.add_argument("--checks", type=V.non_negative_int, default=None, help="attention checks per rater (4)")
    s.add_argument("--min-attention", type=V.probability, default=None, help="exclude raters below this check accuracy (0.75)")
    s.add_argument("--min-checks", type=V.non_negative_int, default=None,
                   help="exclude raters who answered fewer attention checks (default: all of --checks)")
    s.add_argument("--seed", type=V.seed, default=None, help="study seed: image selection and per-rater plans (0)")
    s.add_argument("--staircase", default=None, metavar="START,STEP,MIN,MAX,DOWN,UP",
                   help="HYPE-time staircase in ms and answers (default 500,50,100,1000,3,1)")
    s.add_argument("--max-raters", type=V.non_negative_int, default=None,
                   help="refuse new raters beyond this number (stored in the study; 0 removes the cap)")
    s.add_argument("--start-limit", type=V.positive_number, default=20.0, metavar="PER_MINUTE",
                   help="new raters per client address and minute, as a burst (20)")
    d = ServerSettings()
    s.add_argument("--threads", type=V.positive_int, default=d.threads, help=f"worker threads ({d.threads})")
    s.add_argument("--connection-limit", type=V.positive_int, default=d.connection_limit,
                   help=f"open connections at most ({d.connection_limit})")
    s.add_argument("--request-timeout", type=V.positive_int, default=d.request_timeout, metavar="SECONDS",
                   help=f"close a connection whose request has not fully arrived after this long ({d.request_timeout})")
    s.add_argument("--idle-timeout", type=V.positive_int, default=d.idle_timeout, metavar="SECONDS",
                   help=f"close a keep-alive connection idle this long ({d.idle_timeout})")
    s.add_argument("--sync", choices=("normal", "full"), default="normal",
                   help="SQLite synchronous mode: normal survives a server crash, full also a power loss (slower)")
    s.set_defaults(func=run_serve)

    c = hs.add_parser("score", help="score a study database",
                      description="HYPE-infinity (and HYPE-time) per model with bootstrap 95 percent intervals over raters "
                                  "and images, rater agreement, excluded raters, and rank correlation with automatic "
                                  "metrics given as JSON ({model: value} or {metric: {model: value}}).")
    c.add_argument("db")
    c.add_argument("--json", action="store_true", help="print the full result as JSON")
    c.add_argument("--metrics", default=None, help="JSON file with automatic metric values per model")
    c.add_argument("--bootstrap", type=V.positive_int, default=2000, help="bootstrap replicates (2000)")
    c.add_argument("--seed", type=V.seed, default=0, help="bootstrap seed (0)")
    c.add_argument("-o", "--output", default=None, type=V.output_file(".json"), help="also write the JSON result to this file (atomically)")
    c.set_defaults(func=run_score)


def _parse_fakes(values) -> dict:
    from pathlib import Path

    from ..errors import InvalidArgumentError

    fakes: dict[str, str] = {}
    for v in values or []:
        name, spec = v, v
        if "=" in v and not Path(v).exists():
            head, tail = v.split("=", 1)
            if _NAME_RE.fullmatch(head) and tail:
                name, spec = head, tail
        if name in fakes:
            raise InvalidArgumentError("--fake", "distinct model names (use NAME=SOURCE)", name)
        fakes[name] = spec
    return fakes


def _design_overrides(args) -> dict:
    from ..errors import InvalidArgumentError
    from ..human.protocol import StaircaseConfig

    d = {}
    for arg, key in (("protocol", "protocol"), ("per_model", "per_model"), ("pool_size", "pool_size"),
                     ("tutorial", "n_tutorial"), ("checks", "n_checks"), ("seed", "seed"),
                     ("min_attention", "min_attention_accuracy"), ("min_checks", "min_checks")):
        if getattr(args, arg) is not None:
            d[key] = getattr(args, arg)
    if args.staircase is not None:
        parts = args.staircase.split(",")
        if len(parts) != 6 or not all(p.strip().isdigit() for p in parts):
            raise InvalidArgumentError("--staircase", "six integers START,STEP,MIN,MAX,DOWN,UP", args.staircase)
        start, step, lo, hi, down, up = (int(p) for p in parts)
        d["staircase"] = StaircaseConfig(start, step, lo, hi, down, up)
    return d


def _admin_token(args, db) -> tuple[str, str, Path | None]:
    """(token, where it came from, file still to write): --admin-token, --admin-token-file,
    $GMEVAL_HUMAN_ADMIN_TOKEN, or DB.admin-token. A new DB.admin-token is written only once the study
    has opened (`run_serve`), so a refused start leaves no file behind."""
    import os
    from pathlib import Path

    from ..errors import InvalidArgumentError
    from ..human.access import check_admin_token, new_admin_token, read_token_file

    given = [name for name, v in (("--admin-token", args.admin_token), ("--admin-token-file", args.admin_token_file))
             if v is not None]
    if len(given) > 1:
        raise InvalidArgumentError("--admin-token/--admin-token-file", "at most one of them", given)
    if args.admin_token is not None:
        print("warning: --admin-token is visible to every user of this machine (process list); prefer "
              f"--admin-token-file or {TOKEN_ENV}", file=sys.stderr)
        return check_admin_token(args.admin_token, "--admin-token"), "--admin-token", None
    if args.admin_token_file is not None:
        return read_token_file(args.admin_token_file), f"the file {args.admin_token_file}", None
    if os.environ.get(TOKEN_ENV):
        return check_admin_token(os.environ[TOKEN_ENV], TOKEN_ENV), f"the environment variable {TOKEN_ENV}", None
    path = Path(f"{db}.admin-token")
    if path.exists():
        return read_token_file(path), f"the file {path}", None
    return new_admin_token(), f"the file {path}", path


def run_serve(args) -> int:
    """Open (or create) the study and serve its web app until Ctrl-C.

    The admin token and the host allowlist are checked before any database is created.

    Args:
        args: the parsed namespace of `gmeval human serve`.

    Returns:
        0 (after Ctrl-C).

    Raises:
        InvalidArgumentError: a bad token, host, design option, or a new study without --real/--fake.
        DataError: a source cannot be read.

    Example:
        >>> import contextlib, io, os, tempfile
        >>> from gmeval.cli import main
        >>> err = io.StringIO()
        >>> with tempfile.TemporaryDirectory() as d, contextlib.redirect_stderr(err):
        ...     main(["human", "serve", "--db", os.path.join(d, "s.sqlite"), "--admin-token-file", os.path.join(d, "tok")])
        ...     sorted(os.listdir(d))
        2
        []
        >>> print(err.getvalue(), end="")
        gmeval human: error: Argument `--admin-token-file` must be an existing file holding the admin token, but got '.../tok'.
    """
    import dataclasses
    from pathlib import Path

    from ..errors import InvalidArgumentError
    from ..human.access import allowed_hosts, write_token_file
    from ..human.app import create_app, make_server, open_study
    from ..human.protocol import StudyDesign
    from ..human.server import ServerSettings
    from ..human.store import Store

    settings = ServerSettings(threads=args.threads, connection_limit=args.connection_limit,
                              request_timeout=args.request_timeout, idle_timeout=args.idle_timeout)
    hosts = allowed_hosts(args.host, args.public_host)
    token, token_origin, token_file = _admin_token(args, Path(args.db))  # refused before any database is created
    fakes = _parse_fakes(args.fake)
    overrides = _design_overrides(args)
    db = Path(args.db)
    if db.exists():
        stored = Store(db).design
        design = dataclasses.replace(stored, **overrides) if overrides else stored
        if fakes and tuple(fakes) != stored.models:
            raise InvalidArgumentError("--fake", f"the models of the existing study {list(stored.models)}", list(fakes))
        store, provider = open_study(db, real=args.real, fakes=fakes or None, design=design,
                                     synchronous=args.sync.upper())
    else:
        if not args.real or not fakes:
            raise InvalidArgumentError("--real/--fake", "a real source and at least one --fake for a new study "
                                       f"(no database at {db})", {"real": args.real, "fake": args.fake})
        overrides.setdefault("protocol", "hype-inf")
        design = StudyDesign(models=tuple(fakes), **overrides)
        store, provider = open_study(db, real=args.real, fakes=fakes, design=design, synchronous=args.sync.upper())
    if token_file is not None:  # the study opened: now the new token may be stored
        write_token_file(token_file, token)
    if args.max_raters is not None:
        store.set_max_raters(args.max_raters or None)
    app = create_app(store, provider, admin_token=token, allowed_hosts=hosts, start_per_minute=args.start_limit)
    server = make_server(app, args.host, args.port, settings)
    host = args.host if args.host not in ("0.0.0.0", "::") else "127.0.0.1"
    base = f"http://{host}:{server.server_port}"
    d = store.design
    cap = store.max_raters
    print(f"gmeval human: {d.protocol} study in {db} ({len(d.models)} model(s), {d.trials_per_rater} trials per rater, "
          f"{'at most ' + str(cap) if cap else 'no cap on'} raters)")
    print(f"raters:  {base}/   (crowdsourcing: {base}/?PROLIFIC_PID=... or ?workerId=...)")
    print(f"admin:   {base}/admin/login   (token: {token_origin})")
    print(f"hosts answered: {', '.join(hosts)}")
    print(f"serving on {base}/ (Ctrl-C to stop)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
    return 0


def run_score(args) -> int:
    """Score a study database (HYPE per model with bootstrap intervals) and print a table or JSON.

    Args:
        args: the parsed namespace of `gmeval human score`.

    Returns:
        0.

    Raises:
        InvalidArgumentError: a missing --metrics file or a bad --bootstrap.
        DataError: the database is missing or unreadable, or --metrics is not valid JSON.

    Example:
        >>> import contextlib, io
        >>> from gmeval.cli import main
        >>> err = io.StringIO()
        >>> with contextlib.redirect_stderr(err):
        ...     main(["human", "score", "no/such/study.sqlite"])
        2
        >>> print(err.getvalue(), end="")
        gmeval human: error: no/such/study.sqlite: study database not found
    """
    import json
    from pathlib import Path

    from ..errors import DataError, InvalidArgumentError
    from ..human.scoring import score_store
    from ..human.store import Store
    from ..utils.io import atomic_write_text
    from . import print_json

    if args.bootstrap < 1:
        raise InvalidArgumentError("--bootstrap", "a positive integer", args.bootstrap)
    metrics = None
    if args.metrics:
        path = Path(args.metrics)
        if not path.is_file():
            raise InvalidArgumentError("--metrics", "an existing JSON file", str(path))
        try:
            metrics = json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise DataError(f"not valid JSON ({exc})", path) from exc
    result = score_store(Store(args.db), n_boot=args.bootstrap, seed=args.seed, metrics=metrics)
    if args.output:
        atomic_write_text(args.output, json.dumps(result, indent=2, sort_keys=True, default=str) + "\n")
    if args.json:
        print_json(result)
        return 0
    _print_table(result)
    return 0


def _print_table(r: dict) -> None:
    out = sys.stdout
    out.write(f"{r['signature']}\n")
    rt = r["raters"]
    why = rt["excluded_by_reason"]
    out.write(f"raters: {rt['included']} included, {len(rt['excluded'])} excluded by attention checks "
              f"({why['too_few_checks']} answered fewer than {rt['min_checks']}, {why['low_check_accuracy']} below "
              f"{100 * rt['min_attention_accuracy']:.0f}% right)\n")
    label = "HYPE-inf" if r["protocol"] == "hype-inf" else "timed error"
    for name, m in r["models"].items():
        hi = m.get("hype_inf") or m.get("time_limited_error")
        line = f"{name}: "
        if hi:
            lo, up = hi["ci95"]
            ci = f"[{lo:.1f}, {up:.1f}]" if lo is not None else "[n/a]"
            line += (f"{label} {hi['value']:.1f}% {ci}  fake error {m['fake_error']:.1f}%  real error "
                     f"{m['real_error']:.1f}%")
        else:
            line += "no scored answers"
        ht = m.get("hype_time")
        if ht:
            line += f"  HYPE-time {ht['value']:.0f} ms [{ht['ci95'][0]:.0f}, {ht['ci95'][1]:.0f}]"
        out.write(line + f"  ({m['n_answers']} answers, {m['n_raters']} raters)\n")
    ag = r["agreement"]
    if ag["fleiss_kappa"] is not None:
        out.write(f"agreement: pairwise {ag['pairwise_agreement']:.3f}, Fleiss kappa {ag['fleiss_kappa']:.3f} "
                  f"({ag['n_images_with_2plus_ratings']} images with >= 2 ratings)\n")
    for name, rc in (r.get("rank_correlation") or {}).items():
        out.write(f"rank correlation with {name} ({rc['n_models']} models): Spearman {rc['spearman']['rho']}, "
                  f"Kendall {rc['kendall']['tau']}\n")
