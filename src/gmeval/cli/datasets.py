"""`gmeval datasets`: what is registered and available locally."""

from __future__ import annotations


def register(sub) -> None:
    """Add `gmeval datasets [--data-root DIR] [--json]` to the subcommands.

    Args:
        sub: the subparsers of the `gmeval` parser.

    Example:
        >>> import argparse
        >>> sub = argparse.ArgumentParser(prog="gmeval").add_subparsers()
        >>> register(sub)
        >>> args = sub.choices["datasets"].parse_args(["--json"])
        >>> args.json, args.data_root, args.func is run
        (True, None, True)
    """
    from . import validate as V

    p = sub.add_parser("datasets", help="list datasets and where they are available")
    p.add_argument("--data-root", default=None, type=V.existing_folder)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def run(args) -> int:
    """List the registered datasets, whether each is available locally and where.

    Args:
        args: the parsed namespace (data_root, json).

    Returns:
        0.

    Example:
        >>> import contextlib, io, json, tempfile
        >>> from gmeval.cli import main
        >>> out = io.StringIO()
        >>> with tempfile.TemporaryDirectory() as d, contextlib.redirect_stdout(out):
        ...     code = main(["datasets", "--data-root", d, "--json"])
        >>> code, [(r["name"], r["available"]) for r in json.loads(out.getvalue()) if r["name"] == "digits"]
        (0, [('digits', True)])
    """
    from ..data import dataset_status
    from . import print_json

    rows = dataset_status(args.data_root)
    if args.json:
        print_json(rows)
        return 0
    for r in rows:
        flag = "yes" if r["available"] else "no "
        print(f"{r['name']:<14} local: {flag}  {r['where']}\n{'':<14} {r['description']}")
    return 0
