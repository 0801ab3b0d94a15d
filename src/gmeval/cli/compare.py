"""`gmeval compare --real SRC NAME=SOURCE NAME=SOURCE ... [--json] [--report DIR]`"""

from __future__ import annotations


def register(sub) -> None:
    """Add `gmeval compare --real SRC NAME=SOURCE NAME=SOURCE ...` to the subcommands.

    Args:
        sub: the subparsers of the `gmeval` parser.

    Example:
        >>> import argparse
        >>> sub = argparse.ArgumentParser(prog="gmeval").add_subparsers()
        >>> register(sub)
        >>> args = sub.choices["compare"].parse_args(["--real", "digits:", "a=a.npz", "b=b.npz"])
        >>> args.models, args.bootstrap, args.func is run
        (['a=a.npz', 'b=b.npz'], 100, True)
    """
    from . import validate as V
    from .evaluate import add_evaluation_options

    p = sub.add_parser(
        "compare", help="compare 2 to 20 models against one real set (paired bootstrap, corrected significance)",
        description="Evaluate every model once against the same real set, then a paired bootstrap: every replicate "
                    "shares one real draw across models. Prints each metric with its interval, every pairwise "
                    "difference with a Bonferroni-corrected interval (significant when it excludes 0) and a ranking.")
    p.add_argument("models", nargs="+", metavar="NAME=SOURCE",
                   help="a model: checkpoint (.pt, sampled with -n and --seed), image folder or .npy/.npz array")
    add_evaluation_options(p)
    p.add_argument("--metrics", default=None,
                   help="comma list [fid,fid-inf,kid,pr,dc,modes,memorization for mnist/fashion-mnist data, "
                        "else fid,fid-inf,kid,pr,dc]")
    p.add_argument("--bootstrap", type=V.integer(10), default=100, help="paired bootstrap replicates [%(default)s]")
    p.set_defaults(func=run)


def run(args) -> int:
    """Compare the models (gmeval.evaluation.compare) and print values, pairwise differences and ranking.

    Args:
        args: the parsed namespace of `gmeval compare`.

    Returns:
        0.

    Raises:
        InvalidArgumentError: fewer than 2 or more than 20 models, bad names, unknown metrics.
        DataError: a source cannot be read.

    Example:
        >>> import contextlib, io
        >>> from gmeval.cli import main
        >>> err = io.StringIO()
        >>> with contextlib.redirect_stderr(err):
        ...     main(["compare", "--real", "digits:", "a=digits:"])
        2
        >>> print(err.getvalue(), end="")
        gmeval compare: error: Argument `models` must be 2 to 20 named models, but got 1.
    """
    from ..evaluation.compare import compare, parse_model_args
    from .evaluate import metric_options
    from ..reports.compare import value_table_text
    from . import print_json

    res = compare(args.real, parse_model_args(args.models), args.metrics, extractor=args.extractor,
                  preprocess=args.preprocess, precision=args.precision, layer=args.layer, n=args.n, n_real=args.n_real, seed=args.seed,
                  train=args.train, n_train=args.n_train, classifier=args.classifier, bootstrap=args.bootstrap,
                  confidence=args.confidence, batch_size=args.batch_size, data_root=args.data_root,
                  progress=not args.no_progress, options=metric_options(args))
    out = res.to_json()
    if args.report:
        from ..reports.compare import write_compare_report

        out["report"] = write_compare_report(res, args.report)
    if args.json:
        print_json(out)
        return 0
    print(value_table_text(out))
    c = out["correction"]
    print(f"\ndifferences (Bonferroni over {c['pairs']} pairs per metric; significant when the "
          f"{c['difference_confidence']:.4g} interval excludes 0):")
    for k, rows in out["differences"].items():
        for r in rows:
            verdict = f"{r['better']} better" if r["significant"] else "not significant"
            print(f"  {k:<16} {r['a']} - {r['b']}: {r['diff']:+.4g} [{r['ci_low']:.4g}, {r['ci_high']:.4g}]  {verdict}")
    print("\nranking (best first): " + "; ".join(f"{k}: {' > '.join(v)}" for k, v in out["ranking"].items()))
    print(f"({out['timings']['total']:.1f} s)" + (f"; report: {out['report']['report_html']}" if "report" in out else ""))
    return 0
