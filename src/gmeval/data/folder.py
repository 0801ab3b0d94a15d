"""A folder of images as a source.

Policy (documented in docs/data.md):
- files with extensions .png .jpg .jpeg .webp (any case), found recursively, sorted by relative path;
  other files are ignored; hidden files (leading dot) are ignored;
- mode: if every image is grayscale (L, 1, I;16, LA) the result has 1 channel, otherwise 3 (RGB);
  grayscale images in a mixed folder are replicated to 3 channels;
- alpha (RGBA, LA, P with transparency) is composited onto a black background;
- sizes: all images must have the same size unless `size=(H, W)` is given, in which case every image
  whose size differs is resized with PIL bicubic; without it, mixed sizes raise ShapeMismatchError
  naming two files of different sizes;
- an unreadable or truncated image raises CorruptFileError naming it; no images raises EmptySourceError.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import CorruptFileError, EmptySourceError, InvalidArgumentError, ShapeMismatchError
from .canonical import ImageData

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp")
_GRAY_MODES = {"1", "L", "LA", "I", "I;16", "F"}


def list_image_files(folder: str | os.PathLike) -> list[Path]:
    """The image files under `folder`, recursively, sorted by relative path.

    Extensions `IMAGE_EXTENSIONS` in any case; hidden files and folders (leading dot) are skipped.

    Args:
        folder: the folder.

    Returns:
        The files' paths.

    Raises:
        InvalidArgumentError: `folder` is not an existing directory.
        EmptySourceError: it holds no image files.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> with tempfile.TemporaryDirectory() as d:
        ...     for name in ("b.PNG", "a/c.jpg", ".hidden.png", "notes.txt"):
        ...         Path(d, name).parent.mkdir(exist_ok=True); _ = Path(d, name).write_bytes(b"")
        ...     [p.relative_to(d).as_posix() for p in list_image_files(d)]
        ['a/c.jpg', 'b.PNG']
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InvalidArgumentError("folder", "an existing directory of images", str(folder))
    files = sorted(
        p for p in folder.rglob("*")
        if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )
    if not files:
        raise EmptySourceError(f"no image files with extensions {IMAGE_EXTENSIONS}", folder)
    return files


def _open(path: Path):
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            im.load()
            return im.copy()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise CorruptFileError(f"cannot read image ({exc})", path) from exc


def _to_array(im, rgb: bool) -> np.ndarray:
    from PIL import Image

    has_alpha = im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info)
    if has_alpha:
        rgba = im.convert("RGBA")
        black = Image.new("RGBA", rgba.size, (0, 0, 0, 255))
        im = Image.alpha_composite(black, rgba)
    if im.mode in ("I", "I;16", "F"):
        arr = np.asarray(im, dtype=np.float64)
        peak = 65535.0 if arr.max() > 255 else 255.0
        im = Image.fromarray(np.round(arr / peak * 255.0).clip(0, 255).astype(np.uint8))
    im = im.convert("RGB" if rgb else "L")
    arr = np.asarray(im, dtype=np.uint8)
    return arr.transpose(2, 0, 1) if rgb else arr[None]


def load_image_folder(folder: str | os.PathLike, size: tuple[int, int] | None = None, limit: int | None = None) -> ImageData:
    """Load every image under `folder` (the policy is in this module's docstring).

    Args:
        folder: the folder of images.
        size: (H, W) to resize images of another size to (PIL bicubic); without it mixed sizes are an error.
        limit: read only the first `limit` files (in sorted order).

    Returns:
        `ImageData` with origin ``folder:<folder>`` and the files read in ``meta["files"]``.

    Raises:
        InvalidArgumentError: `folder` is not a directory.
        EmptySourceError: no image files.
        CorruptFileError: an image cannot be read (named).
        ShapeMismatchError: images of different sizes and no `size` (two of them are named).

    Example:
        >>> import tempfile
        >>> import numpy as np
        >>> from gmeval.utils.imageio import save_png_folder
        >>> with tempfile.TemporaryDirectory() as d:
        ...     _ = save_png_folder(np.full((3, 1, 8, 8), 200, np.uint8), d + "/imgs")
        ...     data = load_image_folder(d + "/imgs", size=(4, 4))
        >>> data.images.shape, int(data.images.max())
        ((3, 1, 4, 4), 200)
    """
    from PIL import Image

    files = list_image_files(folder)
    if limit is not None:
        files = files[:limit]
    images = [_open(p) for p in files]
    rgb = any(im.mode not in _GRAY_MODES for im in images)
    arrays = []
    first_size = images[0].size
    for path, im in zip(files, images):
        if size is not None:
            h, w = size
            if im.size != (w, h):
                im = im.resize((w, h), Image.BICUBIC)
        elif im.size != first_size:
            raise ShapeMismatchError(
                f"images have different sizes: {files[0].name} is {first_size[0]}x{first_size[1]}, {path.name} is "
                f"{im.size[0]}x{im.size[1]} (WxH). Pass size=(H, W) / --size HxW to resize them", folder
            )
        arrays.append(_to_array(im, rgb))
    return ImageData(np.stack(arrays), None, f"folder:{Path(folder)}", meta={"files": [str(p) for p in files]})
