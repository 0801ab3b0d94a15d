"""`gmeval sample CHECKPOINT -n N -o PATH`: a folder of PNGs, or a .npz (images, labels)."""

from __future__ import annotations


def register(sub) -> None:
    from . import _validate as V

    p = sub.add_parser("sample", help="sample images from a checkpoint", description="Sample N images from a checkpoint "
                       "with the model's sampling contract; writes a folder of PNGs or a .npz (keys images, labels).")
    p.add_argument("checkpoint")
    p.add_argument("-n", type=V.positive_int, required=True, help="number of samples")
    p.add_argument("-o", "--output", required=True, type=V.output_folder_or_file(".npz"), help="output folder (new or empty) or FILE.npz")
    p.add_argument("--seed", type=V.seed, default=0)
    p.add_argument("--batch-size", type=V.positive_int, default=1000)
    p.set_defaults(func=run)


def run(args) -> int:
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
    data = sample_images(model, args.n, seed=args.seed, batch_size=args.batch_size)
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
