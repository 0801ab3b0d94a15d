"""Writing uint8 N x C x H x W images: PNG files and tiled grids (Pillow)."""

from __future__ import annotations

import io
import math
import os
from pathlib import Path

import numpy as np

from .io import atomic_write_bytes, storage_errors, sweep_stale_temp, temp_sibling_pattern, write_all


def make_grid(images: np.ndarray, nrow: int | None = None, pad: int = 2, pad_value: int = 64) -> np.ndarray:
    """Tile N x C x H x W uint8 images into one H' x W' x C image, row by row.

    Args:
        images: uint8 array N x C x H x W, C in (1, 3).
        nrow: images per row (default: ceil(sqrt(N))).
        pad: padding in pixels between and around the tiles.
        pad_value: the padding's grey level.

    Returns:
        The uint8 grid, (rows * (H + pad) + pad) x (nrow * (W + pad) + pad) x C.

    Example:
        >>> import numpy as np
        >>> make_grid(np.zeros((5, 1, 8, 8), np.uint8), nrow=3).shape
        (22, 32, 1)
    """
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
    r"""Encode one H x W x C uint8 image as PNG (Pillow).

    Args:
        image_hwc: uint8 array H x W x C, C in (1, 3).
        scale: integer upscaling factor (nearest neighbour).

    Returns:
        The PNG file's bytes.

    Example:
        >>> import numpy as np
        >>> data = png_bytes(np.zeros((8, 8, 1), np.uint8), scale=2)
        >>> data[:8] == b"\x89PNG\r\n\x1a\n"
        True
    """
    from PIL import Image

    arr = image_hwc[..., 0] if image_hwc.shape[-1] == 1 else image_hwc
    im = Image.fromarray(np.ascontiguousarray(arr))
    if scale != 1:
        im = im.resize((im.width * scale, im.height * scale), Image.NEAREST)
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


def caption_image(image_hwc: np.ndarray, text: str, height: int = 14, value: int = 255) -> np.ndarray:
    """`image_hwc` with a band of `height` pixels on top holding `text` (Pillow's default font).

    Args:
        image_hwc: uint8 array H x W x C.
        text: the caption.
        height: the band's height in pixels.
        value: the text's grey level.

    Returns:
        uint8 array (H + height) x W x C.

    Example:
        >>> import numpy as np
        >>> caption_image(np.zeros((20, 40, 3), np.uint8), "step 10").shape
        (34, 40, 3)
    """
    from PIL import Image, ImageDraw

    h, w, c = image_hwc.shape
    band = Image.new("L", (w, height), 0)
    ImageDraw.Draw(band).text((2, 1), text, fill=value)
    top = np.repeat(np.asarray(band, np.uint8)[..., None], c, axis=2)
    return np.concatenate([top, image_hwc], axis=0)


def save_grid(images: np.ndarray, path: str | os.PathLike, nrow: int | None = None, scale: int = 2,
              caption: str | None = None) -> Path:
    """Write N x C x H x W uint8 images as one tiled PNG, atomically.

    Args:
        images: uint8 array N x C x H x W.
        path: the PNG file to write.
        nrow: images per row (see `make_grid`).
        scale: integer upscaling factor.
        caption: optional text written above the grid.

    Returns:
        `path` as a Path.

    Raises:
        StorageError: the file cannot be written.

    Example:
        >>> import tempfile
        >>> import numpy as np
        >>> from PIL import Image
        >>> with tempfile.TemporaryDirectory() as d:
        ...     Image.open(save_grid(np.zeros((4, 1, 8, 8), np.uint8), d + "/grid.png", scale=1)).size
        (22, 22)
    """
    grid = make_grid(images, nrow)
    return atomic_write_bytes(path, png_bytes(caption_image(grid, caption) if caption else grid, scale))


def save_png_folder(images: np.ndarray, folder: str | os.PathLike, labels=None) -> Path:
    """Write one PNG per image into a new folder, atomically.

    The images go into a temp folder ``.<name>.<random>.tmp`` that is then renamed; temp folders of
    earlier writes that were killed are swept once stale (`sweep_stale_temp`). Files are named by
    index (``000000.png``), with ``_label<k>`` appended when `labels` are given.

    Args:
        images: uint8 array N x C x H x W.
        folder: the folder to create (it may exist if empty).
        labels: optional N class labels.

    Returns:
        `folder` as a Path.

    Raises:
        InvalidArgumentError: `folder` exists and is not an empty folder.
        StorageError: the folder cannot be written.

    Example:
        >>> import os, tempfile
        >>> import numpy as np
        >>> with tempfile.TemporaryDirectory() as d:
        ...     sorted(os.listdir(save_png_folder(np.zeros((2, 1, 8, 8), np.uint8), d + "/out", labels=[3, 5])))
        ['000000_label3.png', '000001_label5.png']
    """
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
