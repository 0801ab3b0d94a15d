"""`gmeval evaluate --real SRC --fake SRC --metrics fid,kid,... [--json] [--report DIR]`"""

from __future__ import annotations


def add_evaluation_options(p) -> None:
    """The options `evaluate` and `compare` share: where the real data comes from, how features are
    extracted, how many samples, and the output switches (each command adds its own --metrics and --bootstrap).

    Also adds the metric options (`add_metric_options`).

    Args:
        p: the command's argparse parser.

    Example:
        >>> import argparse
        >>> p = argparse.ArgumentParser(prog="demo")
        >>> add_evaluation_options(p)
        >>> args = p.parse_args(["--real", "digits:", "-n", "150", "--extractor", "mnist"])
        >>> args.real, args.n, args.extractor, args.seed, args.confidence
        ('digits:', 150, 'mnist', 0, 0.95)
    """
    from . import validate as V

    p.add_argument("--real", required=True, help="real data source")
    p.add_argument("--extractor", default="inception", choices=["inception", "mnist", "fashion-mnist"], help="[%(default)s]")
    p.add_argument("--preprocess", default=None, choices=["tf1", "pytorch-fid", "clean"], help="Inception resize [tf1]")
    p.add_argument("--precision", default=None, metavar="{float32,bf16,fp16,tf32}",
                   help="Inception forward precision [float32, canonical]; bf16/fp16/tf32 are faster and inexact "
                        "(docs/features.md)")
    p.add_argument("--layer", default=None, help="feature layer [the extractor's default]")
    p.add_argument("-n", type=V.positive_int, default=None, help="generated samples (per model in compare; required for checkpoints)")
    p.add_argument("--n-real", type=V.positive_int, default=None, help="real samples [all]")
    p.add_argument("--seed", type=V.seed, default=0)
    p.add_argument("--train", default=None, help="training data for the memorisation check [the train split of --real]")
    p.add_argument("--n-train", type=V.positive_int, default=10000)
    p.add_argument("--classifier", default=None, choices=["mnist", "fashion-mnist"], help="domain classifier for modes")
    p.add_argument("--confidence", type=V.number(0.0, 1.0, lo_open=True, hi_open=True), default=0.95)
    p.add_argument("--batch-size", type=V.positive_int, default=None)
    p.add_argument("--data-root", default=None, type=V.existing_folder)
    p.add_argument("--report", default=None, type=V.output_folder, metavar="DIR", help="write report.html and report.json into DIR")
    p.add_argument("--json", action="store_true", help="print the full result as JSON")
    p.add_argument("--no-progress", action="store_true")
    add_metric_options(p)


def add_metric_options(p) -> None:
    """One flag per metric parameter the metric classes expose (``--kid-subset-size``, ``--pr-k`` ...),
    generated from `gmeval.metrics.image.option_specs`; unset flags keep each class's default.

    Args:
        p: the command's argparse parser.

    Example:
        >>> import argparse
        >>> p = argparse.ArgumentParser(prog="demo")
        >>> add_metric_options(p)
        >>> args = p.parse_args(["--kid-subset-size", "100"])
        >>> args.opt_kid_subset_size, args.opt_pr_k
        (100, None)
    """
    from ..metrics.image import option_specs
    from . import validate as V

    g = p.add_argument_group("metric options (defaults: each metric class's own)")
    for spec in option_specs().values():
        kind = V.positive_int if "int" in spec.annotation else V.number(0.0, float("inf"), lo_open=True, hi_open=True)
        g.add_argument(spec.flag, dest=f"opt_{spec.key}", type=kind, default=None, metavar="N",
                       help=f"{spec.metric}: {spec.param} [{spec.default}]")


def metric_options(args) -> dict:
    """The metric options given on the command line, as `evaluate(options=...)` takes them.

    Args:
        args: the parsed namespace (its `opt_*` attributes).

    Returns:
        {option key: value} for every metric option given (unset ones left out).

    Example:
        >>> import argparse
        >>> metric_options(argparse.Namespace(opt_kid_subset_size=100, opt_pr_k=None, seed=0))
        {'kid_subset_size': 100}
    """
    return {k[len("opt_"):]: v for k, v in vars(args).items() if k.startswith("opt_") and v is not None}


def register(sub) -> None:
    """Add `gmeval evaluate --real SRC --fake SRC [--metrics LIST] ...` to the subcommands.

    Args:
        sub: the subparsers of the `gmeval` parser.

    Example:
        >>> import argparse
        >>> sub = argparse.ArgumentParser(prog="gmeval").add_subparsers()
        >>> register(sub)
        >>> args = sub.choices["evaluate"].parse_args(["--real", "digits:", "--fake", "fake.npz", "--metrics", "fid,kid"])
        >>> args.fake, args.metrics, args.bootstrap, args.func is run
        ('fake.npz', 'fid,kid', 0, True)
    """
    from . import validate as V

    p = sub.add_parser(
        "evaluate", help="evaluate generated images against real ones",
        description="Compute image metrics with one feature pass. Each side: a dataset split (mnist:test), an image "
                    "folder, a .npy/.npz array file, a .pt checkpoint (sampled with -n and --seed), or a statistics "
                    ".npz with mu/sigma (FID only).")
    add_evaluation_options(p)
    p.add_argument("--fake", required=True, help="generated data source")
    p.add_argument("--metrics", default="fid", help="comma list: fid,fid-inf,kid,is,is-inf,pr,dc,prdc,modes,c2st,memorization,"
                                                     "all ('prd' is the deprecated name of 'pr') [%(default)s]")
    p.add_argument("--bootstrap", type=V.non_negative_int, default=0, help="bootstrap replicates for intervals of fid/pr/dc [0: none]")
    p.add_argument("--size", default=None, help="resize image folders of mixed sizes to HxW")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the feature cache")
    p.set_defaults(func=run)


def _size(text):
    from ..errors import InvalidArgumentError

    if text is None:
        return None
    try:
        h, w = (int(v) for v in text.lower().split("x"))
        return h, w
    except ValueError:
        raise InvalidArgumentError("--size", "HxW, e.g. 28x28", text) from None


def run(args) -> int:
    """Evaluate (gmeval.evaluation.pipeline.evaluate), print each metric (or JSON) and write the report.

    Args:
        args: the parsed namespace of `gmeval evaluate`.

    Returns:
        0.

    Raises:
        InvalidArgumentError: unknown metrics, a bad --size, or options the sources do not allow.
        DataError: a source cannot be read.

    Example:
        >>> import contextlib, io
        >>> from gmeval.cli import main
        >>> err = io.StringIO()
        >>> with contextlib.redirect_stderr(err):
        ...     main(["evaluate", "--real", "digits:", "--fake", "digits:", "--metrics", "fid,nope"])
        2
        >>> print(err.getvalue(), end="")
        gmeval evaluate: error: Argument `metrics` must be names from ['all', 'c2st', ...], but got 'nope'.
    """
    from ..evaluation.pipeline import evaluate
    from .. import distributed as gdist
    from . import print_json

    res = evaluate(args.real, args.fake, args.metrics, extractor=args.extractor, preprocess=args.preprocess,
                   precision=args.precision,
                   layer=args.layer, n=args.n, n_real=args.n_real, seed=args.seed, train=args.train, n_train=args.n_train,
                   classifier=args.classifier, bootstrap=args.bootstrap, confidence=args.confidence,
                   batch_size=args.batch_size, data_root=args.data_root, cache=not args.no_cache,
                   progress=not args.no_progress, size=_size(args.size), options=metric_options(args))
    if not gdist.is_rank_zero():
        return 0  # every rank holds the same result; rank 0 alone writes the report and prints
    out = res.to_json()
    if args.report:
        from ..reports.html import write_report

        out["report"] = write_report(res, args.report)
    if args.json:
        print_json(out)
        return 0
    for name, m in out["metrics"].items():
        ci = f"  [{m['ci_low']:.4g}, {m['ci_high']:.4g}]" if "ci_low" in m else ""
        print(f"{name:<22} {m['value']:.6g}{ci}")
    print(f"signature: {next(iter(out['metrics'].values()))['signature']}")
    print(f"({out['timings']['total']:.1f} s)" + (f"; report: {out['report']['report_html']}" if "report" in out else ""))
    return 0
