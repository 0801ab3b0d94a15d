"""`gmeval stats compute SOURCE -o stats.npz` and `gmeval stats show stats.npz`."""

from __future__ import annotations


def register(sub) -> None:
    """Add `gmeval stats compute SOURCE -o FILE.npz` and `gmeval stats show FILE.npz`.

    Args:
        sub: the subparsers of the `gmeval` parser.

    Example:
        >>> import argparse
        >>> sub = argparse.ArgumentParser(prog="gmeval").add_subparsers()
        >>> register(sub)
        >>> args = sub.choices["stats"].parse_args(["compute", "digits:", "-o", "s.npz", "--extractor", "mnist"])
        >>> args.source, args.output, args.extractor, args.func is run_compute
        ('digits:', 's.npz', 'mnist', True)
    """
    from . import validate as V

    p = sub.add_parser("stats", help="compute or inspect feature statistics (mu, sigma) for FID")
    ssub = p.add_subparsers(dest="action", required=True)
    c = ssub.add_parser("compute", help="features -> float64 mu/sigma .npz (pytorch-fid compatible keys + metadata)")
    c.add_argument("source", help="dataset split, folder, array file or checkpoint")
    c.add_argument("-o", "--output", required=True, type=V.output_file(".npz"))
    c.add_argument("--extractor", default="inception", choices=["inception", "mnist", "fashion-mnist"])
    c.add_argument("--preprocess", default=None, choices=["tf1", "pytorch-fid", "clean"])
    c.add_argument("--precision", default=None, metavar="{float32,bf16,fp16,tf32}", help="Inception forward precision [float32]")
    c.add_argument("--layer", default=None)
    c.add_argument("-n", type=V.positive_int, default=None)
    c.add_argument("--seed", type=V.seed, default=0)
    c.add_argument("--batch-size", type=V.positive_int, default=None)
    c.add_argument("--data-root", default=None, type=V.existing_folder)
    c.add_argument("--no-progress", action="store_true")
    c.set_defaults(func=run_compute)
    s = ssub.add_parser("show", help="print n, dimension and metadata of a statistics file")
    s.add_argument("path")
    s.set_defaults(func=run_show)


def run_compute(args) -> int:
    """Extract features of a source and write their float64 mean and covariance with metadata.

    Args:
        args: the parsed namespace of `gmeval stats compute`.

    Returns:
        0.

    Raises:
        InvalidArgumentError: an unknown source or option.
        DataError: the source cannot be read.

    Example:
        >>> import contextlib, io, json, tempfile
        >>> from pathlib import Path
        >>> from gmeval.cli import main
        >>> out = io.StringIO()
        >>> with tempfile.TemporaryDirectory() as d, contextlib.redirect_stdout(out):
        ...     s = str(Path(d, "s.npz"))
        ...     code = main(["stats", "compute", "digits:", "-n", "100", "--extractor", "mnist", "-o", s,
        ...                  "--no-progress"])
        ...     _ = main(["stats", "show", s])
        >>> lines = out.getvalue().splitlines()
        >>> code, lines[0].split(": ", 1)[1]
        (0, 'n=100, dim=128, extractor=mnist, layer=features')
        >>> meta = json.loads("\\n".join(lines[1:]))["meta"]
        >>> meta["n"], meta["source"]
        (100, 'digits:train')
    """
    from ..evaluation.pipeline import extractor_options_for
    from ..features import extract_features, get_extractor
    from ..sources import load_images
    from ..stats import GaussianStats, save_stats

    ext = get_extractor(args.extractor, **extractor_options_for(args.extractor, preprocess=args.preprocess,
                                                                precision=args.precision))
    layer = args.layer or ext.default_layer
    data = load_images(args.source, n=args.n, seed=args.seed, data_root=args.data_root)
    feats = extract_features(ext, data, layers=[layer], batch_size=args.batch_size or ext.default_batch_size,
                             progress=not args.no_progress)[layer]
    sig = ext.signature()
    stats = GaussianStats.from_features(feats)
    save_stats(stats, args.output, meta={"extractor": sig["extractor"], "weights": sig["weights"], "layer": layer,
                                         "preprocess": sig.get("preprocess"), "precision": sig.get("precision"),
                                         "source": data.origin, "n": len(data),
                                         "seed": args.seed, "fingerprint": data.fingerprint()})
    print(f"wrote {args.output}: n={stats.n}, dim={stats.dim}, extractor={sig['extractor']}, layer={layer}")
    return 0


def run_show(args) -> int:
    """Print n, dimension and metadata of a statistics file as JSON.

    Args:
        args: the parsed namespace (path).

    Returns:
        0.

    Raises:
        DataError: the file is missing or not a statistics file.

    Example:
        >>> import contextlib, io, tempfile
        >>> import numpy as np
        >>> from pathlib import Path
        >>> from gmeval.cli import main
        >>> from gmeval.stats import GaussianStats, save_stats
        >>> out = io.StringIO()
        >>> with tempfile.TemporaryDirectory() as d, contextlib.redirect_stdout(out):
        ...     feats = np.arange(12, dtype=np.float64).reshape(4, 3)
        ...     p = save_stats(GaussianStats.from_features(feats), Path(d, "s.npz"), meta={"layer": "demo"})
        ...     code = main(["stats", "show", str(p)])
        >>> code
        0
        >>> print(out.getvalue(), end="")
        {
          "dim": 3,
          "meta": {
            "layer": "demo"
          },
          "n": 4
        }
    """
    from ..stats import load_stats
    from . import print_json

    s = load_stats(args.path)
    print_json({"n": s.n, "dim": s.dim, "meta": s.meta})
    return 0
