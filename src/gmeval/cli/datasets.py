"""`gmeval datasets`: what is registered and available locally."""

from __future__ import annotations


def register(sub) -> None:
    from . import validate as V

    p = sub.add_parser("datasets", help="list datasets and where they are available")
    p.add_argument("--data-root", default=None, type=V.existing_folder)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def run(args) -> int:
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
