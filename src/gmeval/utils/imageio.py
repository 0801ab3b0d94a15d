"""Writing uint8 N x C x H x W images: PNG files and tiled grids (Pillow)."""

from __future__ import annotations

import io
import math
import os
from pathlib import Path

import numpy as np

from .io import atomic_write_bytes, storage_errors, sweep_stale_temp, temp_sibling_pattern, write_all


def make_grid(images: np.ndarray, nrow: int | None = None, pad: int = 2, pad_value: int = 64) -> np.ndarray:
    """Tile N x C x H x W uint8 images into one H' x W' x C image (C in 1, 3)."""
    images = np.asarray(images)
    n, c, h, w = images.shape
    nrow = nrow or int(math.ceil(math.sqrt(n)))
    ncol = nrow
    nlines = int(math.ceil(n / ncol))
    grid = np.full((nlines * (h + pad) + pad, ncol * (w + pad) + pad, c), pad_value, np.uint8)
    for i in range(n):
        r, k = divmod(i, ncol)
        y0, x0 = pad + r * (h + pad), pad + k * (w + pad)
        grid[y0:y0 + h, x0:x0 + w] = images[i].transpose(1, 2, 0)
    return grid


def png_bytes(image_hwc: np.ndarray, scale: int = 1) -> bytes:
    from PIL import Image

    arr = image_hwc[..., 0] if image_hwc.shape[-1] == 1 else image_hwc
    im = Image.fromarray(np.ascontiguousarray(arr))
    if scale != 1:
        im = im.resize((im.width * scale, im.height * scale), Image.NEAREST)
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


def caption_image(image_hwc: np.ndarray, text: str, height: int = 14, value: int = 255) -> np.ndarray:
    """`image_hwc` with a band of `height` pixels on top holding `text` (Pillow's default font)."""
    from PIL import Image, ImageDraw

    h, w, c = image_hwc.shape
    band = Image.new("L", (w, height), 0)
    ImageDraw.Draw(band).text((2, 1), text, fill=value)
    top = np.repeat(np.asarray(band, np.uint8)[..., None], c, axis=2)
    return np.concatenate([top, image_hwc], axis=0)


def save_grid(images: np.ndarray, path: str | os.PathLike, nrow: int | None = None, scale: int = 2,
              caption: str | None = None) -> Path:
    grid = make_grid(images, nrow)
    return atomic_write_bytes(path, png_bytes(caption_image(grid, caption) if caption else grid, scale))


def save_png_folder(images: np.ndarray, folder: str | os.PathLike, labels=None) -> Path:
    """Write one PNG per image into a new folder, atomically (temp folder ".<name>.<random>.tmp", then
    rename). Temp folders of earlier writes that were killed are swept once stale (`sweep_stale_temp`)."""
    import shutil
    import tempfile

    folder = Path(folder)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        from ..errors import InvalidArgumentError

        raise InvalidArgumentError("output", "a new or empty folder", str(folder))
    with storage_errors(folder):
        folder.parent.mkdir(parents=True, exist_ok=True)
        sweep_stale_temp(folder.parent, temp_sibling_pattern(folder))
        tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".tmp", dir=folder.parent))
        try:
            width = max(6, len(str(len(images))))
            for i, img in enumerate(images):
                name = f"{i:0{width}d}" + (f"_label{int(labels[i])}" if labels is not None else "") + ".png"
                write_all(tmp / name, png_bytes(img.transpose(1, 2, 0)))
            os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp creates 0700; give the folder ordinary permissions
            if folder.exists():
                folder.rmdir()
            os.replace(tmp, folder)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return folder


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
