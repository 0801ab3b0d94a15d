"""The canonical in-memory image form: uint8 numpy array, N x C x H x W, C in {1, 3}."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

import numpy as np

from ..errors import EmptySourceError, InvalidArgumentError, ShapeMismatchError


@dataclass
class ImageData:
    """Images in canonical form plus optional integer labels and a description of the origin.

    The constructor converts `images` with `as_uint8_nchw` and `labels` to int64.

    Attributes:
        images: uint8 array N x C x H x W, C in (1, 3).
        labels: int64 array of N class labels, or None.
        origin: a short human-readable description (``mnist:test``) recorded in signatures.
        num_classes: the number of classes, when known.
        meta: free-form provenance (e.g. the sampling seed, the files read).

    Raises:
        ShapeMismatchError: the labels do not match the images (or the images are not a batch).
        InvalidArgumentError: the pixel values are out of range.

    Example:
        >>> import numpy as np
        >>> data = ImageData(np.zeros((3, 28, 28), np.float32), labels=[0, 1, 2], origin="zeros")
        >>> len(data), data.shape, data.images.dtype
        (3, (1, 28, 28), dtype('uint8'))
        >>> data.subset(slice(0, 2)).labels.tolist()
        [0, 1]
    """

    images: np.ndarray
    labels: np.ndarray | None = None
    origin: str = "array"
    num_classes: int | None = None
    meta: dict = field(default_factory=dict)

    def __post_init__(self):
        self.images = as_uint8_nchw(self.images, self.origin)
        if self.labels is not None:
            self.labels = np.asarray(self.labels).astype(np.int64, copy=False)
            if self.labels.shape != (len(self.images),):
                raise ShapeMismatchError(
                    f"labels must have shape ({len(self.images)},) to match the images, got {self.labels.shape}", self.origin
                )

    def __len__(self) -> int:
        return len(self.images)

    @property
    def shape(self) -> tuple[int, int, int]:
        """The shape of one image, (C, H, W).

        Example:
            >>> import numpy as np
            >>> ImageData(np.zeros((2, 3, 4, 5), np.uint8)).shape
            (3, 4, 5)
        """
        return tuple(self.images.shape[1:])  # type: ignore[return-value]

    def subset(self, idx) -> "ImageData":
        """The images (and labels) at `idx`, as a new ImageData with the same origin.

        Args:
            idx: anything numpy indexing accepts (a slice, an index array, a boolean mask).

        Returns:
            The subset.

        Example:
            >>> import numpy as np
            >>> len(ImageData(np.zeros((5, 1, 2, 2), np.uint8)).subset([0, 4]))
            2
        """
        return ImageData(self.images[idx], None if self.labels is None else self.labels[idx], self.origin, self.num_classes, dict(self.meta))

    def fingerprint(self) -> str:
        """SHA-256 of the pixel bytes and shape (labels excluded: they do not change features).

        Used in cache keys: equal images give equal fingerprints.

        Returns:
            64 hex characters.

        Example:
            >>> import numpy as np
            >>> a = ImageData(np.zeros((2, 1, 4, 4), np.uint8))
            >>> a.fingerprint() == ImageData(np.zeros((2, 4, 4), np.uint8)).fingerprint()
            True
        """
        import hashlib

        h = hashlib.sha256(repr(self.images.shape).encode())
        h.update(np.ascontiguousarray(self.images).data)
        return h.hexdigest()

    def torch(self):
        """The images as a uint8 torch tensor sharing memory with the numpy array.

        Returns:
            ``torch.Tensor`` N x C x H x W, dtype uint8.

        Example:
            >>> import numpy as np
            >>> ImageData(np.zeros((2, 1, 4, 4), np.uint8)).torch().dtype
            torch.uint8
        """
        import torch

        return torch.from_numpy(self.images)


def as_uint8_nchw(x, name: str = "images") -> np.ndarray:
    """Validate and convert images to uint8 N x C x H x W (C in {1, 3}).

    Accepted: numpy arrays or torch tensors, uint8 (0..255), integers in 0..255, or floating point in
    [0, 1] (scaled by 255 and rounded). 3-D input N x H x W is treated as grayscale; 4-D input in
    N x H x W x C layout (C in {1, 3} last, not in dim 1) is transposed. Alpha is rejected here:
    composite it first (the folder loader does).

    Args:
        x: the images.
        name: what to call them in error messages.

    Returns:
        A C-contiguous uint8 array N x C x H x W.

    Raises:
        ShapeMismatchError: not 3-D or 4-D, or not 1 or 3 channels.
        EmptySourceError: no images.
        InvalidArgumentError: values out of range, non-finite, or an unsupported dtype.

    Example:
        >>> import numpy as np
        >>> as_uint8_nchw(np.full((2, 8, 8, 3), 0.5)).shape, int(as_uint8_nchw(np.full((1, 2, 2), 0.5))[0, 0, 0, 0])
        ((2, 3, 8, 8), 128)
        >>> as_uint8_nchw(np.full((1, 2, 2), 2.0), "samples")
        Traceback (most recent call last):
        ...
        gmeval.errors.InvalidArgumentError: Argument `samples` must be uint8 in [0, 255] or floating point in [0, 1], but got 'floats in [2, 2]'. Rescale first (e.g. (x + 1) / 2 for tanh outputs).
    """
    try:
        import torch

        if isinstance(x, torch.Tensor):
            x = x.detach().cpu().numpy()
    except ImportError:  # pragma: no cover
        pass
    x = np.asarray(x)
    if x.ndim == 3:
        x = x[:, None]
    if x.ndim != 4:
        raise ShapeMismatchError(f"images must be N x C x H x W (or N x H x W), got an array of shape {x.shape}", name)
    if x.shape[1] not in (1, 3) and x.shape[-1] in (1, 3):
        x = x.transpose(0, 3, 1, 2)
    if x.shape[1] not in (1, 3):
        raise ShapeMismatchError(f"images must have 1 or 3 channels (in dim 1 or last), got shape {x.shape}", name)
    if len(x) == 0:
        raise EmptySourceError("no images", name)
    if x.dtype == np.uint8:
        return np.ascontiguousarray(x)
    if np.issubdtype(x.dtype, np.floating):
        if not np.all(np.isfinite(x)):
            raise InvalidArgumentError(name, "finite floating-point pixels in [0, 1]", "non-finite values")
        lo, hi = float(x.min()), float(x.max())
        if lo < 0.0 or hi > 1.0:
            raise InvalidArgumentError(
                name, "uint8 in [0, 255] or floating point in [0, 1]", f"floats in [{lo:.4g}, {hi:.4g}]",
                hint="Rescale first (e.g. (x + 1) / 2 for tanh outputs).",
            )
        return np.ascontiguousarray(np.round(x * 255.0).astype(np.uint8))
    if np.issubdtype(x.dtype, np.integer):
        lo, hi = int(x.min()), int(x.max())
        if lo < 0 or hi > 255:
            raise InvalidArgumentError(name, "integers in [0, 255]", f"integers in [{lo}, {hi}]")
        return np.ascontiguousarray(x.astype(np.uint8))
    raise InvalidArgumentError(name, "a uint8 or floating-point array", f"dtype {x.dtype}")


def as_image_data(x, labels=None, origin: str = "array") -> ImageData:
    """Accept ImageData, an array/tensor, or an iterable of arrays/tensors/(image, label) batches.

    Items of an iterable may be batches or single images (C x H x W or H x W); ``(images,
    labels)`` pairs give labels.

    Args:
        x: the images, in any of the forms above (ImageData is returned as is).
        labels: labels for an array/tensor (or an iterable without label pairs).
        origin: the description recorded in the result.

    Returns:
        `ImageData`.

    Raises:
        ShapeMismatchError: items of an iterable have different image shapes.
        EmptySourceError: the iterable yielded nothing.
        InvalidArgumentError: `x` is none of the accepted types.

    Example:
        >>> import numpy as np
        >>> batches = [(np.zeros((2, 1, 4, 4), np.uint8), np.array([1, 2])), (np.zeros((1, 4, 4), np.uint8), 3)]
        >>> data = as_image_data(batches)
        >>> data.images.shape, data.labels.tolist()
        ((3, 1, 4, 4), [1, 2, 3])
    """
    if isinstance(x, ImageData):
        return x
    if isinstance(x, np.ndarray) or type(x).__name__ == "Tensor":
        return ImageData(as_uint8_nchw(x, origin), labels, origin)
    if isinstance(x, Iterable):
        imgs, labs = [], []
        for i, item in enumerate(x):
            if isinstance(item, (tuple, list)) and len(item) == 2:
                item, lab = item
                labs.append(np.atleast_1d(np.asarray(lab)))
            arr = as_uint8_nchw(_batchify(item), f"{origin}[{i}]")
            if imgs and arr.shape[1:] != imgs[0].shape[1:]:
                raise ShapeMismatchError(f"item {i} has shape {arr.shape[1:]}, earlier items {imgs[0].shape[1:]}", origin)
            imgs.append(arr)
        if not imgs:
            raise EmptySourceError("the iterable yielded no images", origin)
        lab = np.concatenate(labs) if labs and len(labs) == len(imgs) else labels
        return ImageData(np.concatenate(imgs), lab, origin)
    raise InvalidArgumentError(origin, "an ImageData, array, tensor or iterable of images", type(x).__name__)


def _batchify(item):
    arr = item.detach().cpu().numpy() if type(item).__name__ == "Tensor" else np.asarray(item)
    # a single image C x H x W (C in 1, 3) or H x W becomes a batch of one
    if arr.ndim == 2 or (arr.ndim == 3 and arr.shape[0] in (1, 3)):
        return arr[None]
    return arr
