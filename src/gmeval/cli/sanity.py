"""`gmeval sanity [--quick] [--real mnist:test] --out DIR`: which metric detects which failure."""

from __future__ import annotations


def register(sub) -> None:
    """Add `gmeval sanity [--quick] [--real SPLIT] [--out DIR] ...` to the subcommands.

    Args:
        sub: the subparsers of the `gmeval` parser.

    Example:
        >>> import argparse
        >>> sub = argparse.ArgumentParser(prog="gmeval").add_subparsers()
        >>> register(sub)
        >>> args = sub.choices["sanity"].parse_args(["--quick", "-n", "500"])
        >>> args.real, args.quick, args.n, args.out, args.func is run
        ('mnist:test', True, 500, 'sanity', True)
    """
    from . import validate as V

    p = sub.add_parser(
        "sanity", help="degrade real data in controlled ways and measure which metric detects which failure",
        description="Gaussian noise, blur, salt-and-pepper, dropped classes / a single class, exact and perturbed "
                    "training copies, another dataset mixed in, each at several strengths; every image metric per "
                    "case with paired-bootstrap intervals; response curves and a detection table.")
    p.add_argument("--real", default="mnist:test", help="mnist:test or fashion-mnist:test [%(default)s]")
    p.add_argument("--quick", action="store_true",
                   help="n = 1000, 10 replicates, 2000 training images, 8-point infinity fits (a few minutes) "
                        "instead of 5000, 50, 10000 and 15")
    p.add_argument("--extractor", default=None, choices=["inception", "mnist", "fashion-mnist"],
                   help="[the dataset's classifier]")
    p.add_argument("-n", type=V.positive_int, default=None, help="images per case")
    p.add_argument("--bootstrap", type=V.integer(10), default=None, help="paired bootstrap replicates")
    p.add_argument("--families", default=None, help="comma list of degradation families [all]")
    p.add_argument("--seed", type=V.seed, default=0)
    p.add_argument("--data-root", default=None, type=V.existing_folder)
    p.add_argument("--out", default="sanity", help="output folder [%(default)s]")
    p.add_argument("--json", action="store_true", help="print the detection table as JSON")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=run)


def run(args) -> int:
    """Run the sanity study (gmeval.evaluation.sanity), write its report and print the detection table.

    Args:
        args: the parsed namespace (real, quick, extractor, n, bootstrap, families, seed, data_root, out, json,
            no_progress).

    Returns:
        0.

    Raises:
        InvalidArgumentError: a bad --real, --families or option combination.
        DatasetNotFoundError: the dataset files are missing.

    Example:
        >>> import contextlib, io
        >>> from gmeval.cli import main
        >>> err = io.StringIO()
        >>> with contextlib.redirect_stderr(err):
        ...     main(["sanity", "--real", "cifar:test", "--quick"])
        2
        >>> print(err.getvalue(), end="")
        gmeval sanity: error: Argument `real` must be a split of ['fashion-mnist', 'mnist'] (the degradations need labels and a second dataset), but got 'cifar:test'.
    """
    from ..evaluation.sanity import sanity
    from ..reports.sanity import detection_markdown, write_sanity_report
    from . import print_json

    res = sanity(args.real, quick=args.quick, extractor=args.extractor, n=args.n, bootstrap=args.bootstrap, seed=args.seed,
                 data_root=args.data_root, progress=not args.no_progress,
                 families=args.families.split(",") if args.families else None)
    paths = write_sanity_report(res, args.out)
    if args.json:
        print_json({"detection": res["detection"], **paths, "seconds": res["seconds"]})
        return 0
    print(detection_markdown(res))
    print(f"({res['seconds']:.0f} s); report: {paths['sanity_html']}")
    return 0
