"""`gmeval classifier train|eval DATASET`: the project's MNIST / Fashion-MNIST classifiers."""

from __future__ import annotations


def register(sub) -> None:
    """Add `gmeval classifier train DATASET` and `gmeval classifier eval DATASET`.

    Args:
        sub: the subparsers of the `gmeval` parser.

    Example:
        >>> import argparse
        >>> sub = argparse.ArgumentParser(prog="gmeval").add_subparsers()
        >>> register(sub)
        >>> args = sub.choices["classifier"].parse_args(["train", "fashion-mnist", "--epochs", "2"])
        >>> args.dataset, args.epochs, args.seed, args.func is run_train
        ('fashion-mnist', 2, 0, True)
    """
    from . import validate as V

    p = sub.add_parser("classifier", help="train or check the shipped MNIST/Fashion-MNIST classifiers")
    csub = p.add_subparsers(dest="action", required=True)
    t = csub.add_parser("train", help="retrain (deterministic) and write weights + manifest")
    t.add_argument("dataset", choices=["mnist", "fashion-mnist"])
    t.add_argument("--seed", type=V.seed, default=0)
    t.add_argument("--epochs", type=V.positive_int, default=4)
    t.add_argument("--out", default=None, type=V.output_folder, help="weights folder [the package's models/weights]")
    t.add_argument("--data-root", default=None, type=V.existing_folder)
    t.add_argument("--threads", type=V.positive_int, default=None)
    t.set_defaults(func=run_train)
    e = csub.add_parser("eval", help="test accuracy of the shipped weights")
    e.add_argument("dataset", choices=["mnist", "fashion-mnist"])
    e.add_argument("--data-root", default=None, type=V.existing_folder)
    e.add_argument("--json", action="store_true")
    e.set_defaults(func=run_eval)


def run_train(args) -> int:
    """Retrain a classifier (gmeval.training.classifier.train_classifier) and print its manifest entry.

    Args:
        args: the parsed namespace (dataset, seed, epochs, out, data_root, threads).

    Returns:
        0.

    Raises:
        DatasetNotFoundError: the dataset files are missing.

    Example:
        >>> import contextlib, io, os, tempfile
        >>> from unittest import mock
        >>> from gmeval.cli import main
        >>> err = io.StringIO()
        >>> with tempfile.TemporaryDirectory() as d, mock.patch.dict(os.environ, {"GMEVAL_DATA": d}):
        ...     with contextlib.redirect_stderr(err):  # an empty data folder: MNIST is not found
        ...         main(["classifier", "train", "mnist", "--data-root", d, "--out", d])
        2
        >>> print(err.getvalue(), end="")
        gmeval classifier: error: mnist: file 'train-images-idx3-ubyte' of dataset 'mnist' not found. Looked in: ...
    """
    import torch

    from ..training.classifier import train_classifier
    from . import print_json

    if args.threads:
        torch.set_num_threads(args.threads)
    print_json(train_classifier(args.dataset, seed=args.seed, epochs=args.epochs, data_root=args.data_root, out=args.out))
    return 0


def run_eval(args) -> int:
    """Print the test accuracy of the shipped weights (and their SHA-256).

    Args:
        args: the parsed namespace (dataset, data_root, json).

    Returns:
        0.

    Raises:
        DatasetNotFoundError: the test split is missing.

    Example:
        >>> import contextlib, io, os, tempfile
        >>> from unittest import mock
        >>> from gmeval.cli import main
        >>> err = io.StringIO()
        >>> with tempfile.TemporaryDirectory() as d, mock.patch.dict(os.environ, {"GMEVAL_DATA": d}):
        ...     with contextlib.redirect_stderr(err):  # an empty data folder: MNIST is not found
        ...         main(["classifier", "eval", "mnist", "--data-root", d])
        2
        >>> print(err.getvalue(), end="")
        gmeval classifier: error: mnist: file 't10k-images-idx3-ubyte' of dataset 'mnist' not found. Looked in: ...
    """
    import torch

    from ..data import load_dataset
    from ..models.classifier import load_classifier
    from ..training.classifier import accuracy
    from . import print_json

    model = load_classifier(args.dataset)
    test = load_dataset(f"{args.dataset}:test", args.data_root)
    acc = accuracy(model, torch.from_numpy(test.images), torch.from_numpy(test.labels))
    res = {"dataset": args.dataset, "test_accuracy": acc, "weights_sha256": model.weights_sha256}
    print_json(res) if args.json else print(f"{args.dataset} test accuracy {acc:.4f} (weights {model.weights_sha256[:12]})")
    return 0
