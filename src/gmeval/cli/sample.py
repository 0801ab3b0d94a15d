"""`gmeval sample CHECKPOINT -n N -o PATH`: a folder of PNGs, or a .npz (images, labels)."""

from __future__ import annotations


def register(sub) -> None:
    """Add `gmeval sample CHECKPOINT -n N -o PATH [--seed S] [--label L]` to the subcommands.

    Args:
        sub: the subparsers of the `gmeval` parser.

    Example:
        >>> import argparse
        >>> sub = argparse.ArgumentParser(prog="gmeval").add_subparsers()
        >>> register(sub)
        >>> args = sub.choices["sample"].parse_args(["run/checkpoint.pt", "-n", "16", "-o", "s.npz"])
        >>> args.checkpoint, args.n, args.output, args.seed, args.func is run
        ('run/checkpoint.pt', 16, 's.npz', 0, True)
    """
    from . import validate as V

    p = sub.add_parser("sample", help="sample images from a checkpoint", description="Sample N images from a checkpoint "
                       "with the model's sampling contract; writes a folder of PNGs or a .npz (keys images, labels).")
    p.add_argument("checkpoint")
    p.add_argument("-n", type=V.positive_int, required=True, help="number of samples")
    p.add_argument("-o", "--output", required=True, type=V.output_folder_or_file(".npz"), help="output folder (new or empty) or FILE.npz")
    p.add_argument("--seed", type=V.seed, default=0)
    p.add_argument("--label", default=None, metavar="K|K1,K2,...|balanced",
                   help="conditional models: the class of every sample (K), classes taken in turn (a list), or "
                   "balanced 0..K-1 [balanced]")
    p.set_defaults(func=run)


def parse_labels(text: str | None, n: int, num_classes: int, model_name: str):
    """--label -> n labels, or None for the model's default (balanced).

    Args:
        text: the flag's text: "K", "K1,K2,...", "balanced", or None.
        n: the number of samples.
        num_classes: the model's classes (0 for an unconditional model).
        model_name: the model's name, for the error message.

    Returns:
        An int array of n labels (the listed classes taken in turn), or None.

    Raises:
        InvalidArgumentError: a class outside [0, num_classes), bad text, or a label for an
            unconditional model.

    Example:
        >>> parse_labels("3,7", 5, 10, "cgan").tolist(), parse_labels("balanced", 4, 3, "cgan").tolist()
        ([3, 7, 3, 7, 3], [0, 1, 2, 0])
        >>> parse_labels(None, 5, 10, "cgan") is None
        True
        >>> parse_labels("10", 5, 10, "cgan")
        Traceback (most recent call last):
        ...
        gmeval.errors.InvalidArgumentError: Argument `--label` must be an integer in [0, 10), a comma list of them, or 'balanced', but got '10'.
    """
    import numpy as np

    from ..errors import InvalidArgumentError

    if text is None:
        return None
    allowed = f"an integer in [0, {num_classes}), a comma list of them, or 'balanced'"
    if not num_classes:
        raise InvalidArgumentError("--label", f"absent: {model_name!r} is not a conditional model", text)
    if text.strip().lower() == "balanced":
        return np.arange(n) % num_classes
    try:
        classes = [int(v) for v in text.split(",")]
    except ValueError:
        raise InvalidArgumentError("--label", allowed, text) from None
    if not classes or min(classes) < 0 or max(classes) >= num_classes:
        raise InvalidArgumentError("--label", allowed, text)
    return np.resize(np.asarray(classes, np.int64), n)  # the listed classes in turn


def run(args) -> int:
    """Sample from a checkpoint and write a folder of PNGs or a .npz (keys images, labels).

    Args:
        args: the parsed namespace (checkpoint, n, output, seed, label).

    Returns:
        0.

    Raises:
        CheckpointError: the checkpoint is missing or invalid.
        InvalidArgumentError: a bad --label.

    Example:
        >>> import contextlib, io, tempfile
        >>> import numpy as np
        >>> from pathlib import Path
        >>> from gmeval.cli import main
        >>> from gmeval.models import build_model
        >>> from gmeval.training.checkpoint import save_checkpoint
        >>> out = io.StringIO()
        >>> with tempfile.TemporaryDirectory() as d:
        ...     vae = build_model("vae", image_shape=(1, 8, 8), latent_dim=2, hidden=[16])
        ...     ckpt = save_checkpoint(Path(d, "c.pt"), model=vae, optimizers={}, rng={}, cursor={}, step=0, config={})
        ...     with contextlib.redirect_stdout(out):
        ...         code = main(["sample", str(ckpt), "-n", "6", "-o", str(Path(d, "s.npz"))])
        ...     with np.load(Path(d, "s.npz")) as f:
        ...         shape, dtype = f["images"].shape, f["images"].dtype
        >>> code, shape, dtype
        (0, (6, 1, 8, 8), dtype('uint8'))
        >>> print(out.getvalue(), end="")
        wrote 6 samples (1x8x8) from vae to .../s.npz
    """
    import io
    from pathlib import Path

    import numpy as np

    from ..sources import sample_images
    from ..training.checkpoint import load_model
    from ..utils.imageio import save_png_folder
    from ..utils.io import atomic_write_bytes
    from ..errors import InvalidArgumentError

    if args.n < 1:
        raise InvalidArgumentError("-n", "a positive integer", args.n)
    model = load_model(args.checkpoint)
    # the same chunked sampling rule as `gmeval evaluate`, so the written images are the ones it scores
    labels = parse_labels(args.label, args.n, model.num_classes if model.conditional else 0, model.name)
    data = sample_images(model, args.n, seed=args.seed, labels=labels)
    images, labels = data.images, data.labels
    out = Path(args.output)
    if out.suffix.lower() == ".npz":
        buf = io.BytesIO()
        arrays = {"images": images, **({"labels": labels} if labels is not None else {})}
        np.savez_compressed(buf, **arrays)
        atomic_write_bytes(out, buf.getvalue())
    else:
        save_png_folder(images, out, labels)
    print(f"wrote {args.n} samples ({images.shape[1]}x{images.shape[2]}x{images.shape[3]}) from {model.name} to {out}")
    return 0
