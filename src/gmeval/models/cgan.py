"""Class-conditional GAN (Mirza & Osindero 2014, "Conditional Generative Adversarial Nets").

Both networks receive the label as a one-hot vector concatenated to their input:
    G(z, y) = MLP([z, onehot(y)])          -> image in [0, 1] (sigmoid)
    D(x, y) = MLP([flatten(x), onehot(y)]) -> logit
D is the textbook MLP GAN's discriminator (mlp_gan.py) on the longer input. G has two hidden
layers with batch norm (`batch_norm=True`, the DCGAN guideline): with PyTorch's default
initialisation an MLP generator's output barely depends on z at the start (per-pixel std over z
0.019 without batch norm, 0.090 with it; docs/models.md), and in our runs the plain MLP collapsed
to one image while the batch-norm generator learned all ten classes. The paper used maxout units,
dropout and separate input layers for z and y; dropout is left out because it would draw from the
global random state, and input concatenation is the simplest form of the same conditioning.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import InvalidArgumentError
from .base import GenerativeModel
from .dcgan import check_image_shape
from .mlp_gan import MLPDiscriminator
from .registry import register_model


def one_hot_labels(labels, n: int, num_classes: int, dtype=torch.float32, device=None) -> torch.Tensor:
    """Validate `labels` (n integers in [0, num_classes)) and return them one-hot.

    Args:
        labels: n integer labels (a tensor, array or list).
        n: the expected count.
        num_classes: K.
        dtype: the output dtype.
        device: the output device.

    Returns:
        Tensor n x K.

    Raises:
        InvalidArgumentError: labels missing, not n integers, or out of range.

    Example:
        >>> one_hot_labels([2, 0], 2, 3).tolist()
        [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
        >>> one_hot_labels([3], 1, 3)
        Traceback (most recent call last):
        ...
        gmeval.errors.InvalidArgumentError: Argument `labels` must be integers in [0, 3), but got 'values in [3, 3]'.
    """
    if labels is None:
        raise InvalidArgumentError("labels", f"{n} integer class labels in [0, {num_classes}) for a conditional model",
                                   None)
    y = torch.as_tensor(labels, device=device)
    if y.dtype.is_floating_point or y.dtype == torch.bool or y.shape != (n,):
        raise InvalidArgumentError("labels", f"an integer tensor of shape ({n},)",
                                   f"{y.dtype} tensor of shape {tuple(y.shape)}")
    if n and (int(y.min()) < 0 or int(y.max()) >= num_classes):
        raise InvalidArgumentError("labels", f"integers in [0, {num_classes})",
                                   f"values in [{int(y.min())}, {int(y.max())}]")
    return F.one_hot(y.long(), num_classes).to(dtype)


class ConditionalMLPGenerator(nn.Module):
    """[z, onehot(y)] -> (Linear [BatchNorm] LeakyReLU) x 2 -> Linear -> sigmoid.

    Args:
        latent_dim: latent size.
        num_classes: K.
        out_dim: output size (C * H * W).
        hidden: width of the hidden layers.
        slope: LeakyReLU slope.
        batch_norm: batch norm after the hidden linear layers.

    Example:
        >>> import torch
        >>> g = ConditionalMLPGenerator(4, 10, 64, hidden=16, slope=0.2).eval()
        >>> g(torch.zeros(2, 4), torch.tensor([3, 7])).shape
        torch.Size([2, 64])
    """

    def __init__(self, latent_dim: int, num_classes: int, out_dim: int, hidden: int, slope: float,
                 batch_norm: bool = True):
        super().__init__()
        self.num_classes = num_classes
        layers: list[nn.Module] = []
        d_in = latent_dim + num_classes
        for _ in range(2):
            layers.append(nn.Linear(d_in, hidden, bias=not batch_norm))
            if batch_norm:
                layers.append(nn.BatchNorm1d(hidden))
            layers.append(nn.LeakyReLU(slope))
            d_in = hidden
        layers += [nn.Linear(hidden, out_dim), nn.Sigmoid()]
        self.net = nn.Sequential(*layers)

    def forward(self, z, labels):  # N x latent, N labels -> N x out_dim in [0, 1]
        """N x latent and N labels -> N x out_dim in [0, 1]."""
        y = one_hot_labels(labels, z.shape[0], self.num_classes, z.dtype, z.device)  # N x K
        return self.net(torch.cat([z, y], dim=1))


class ConditionalMLPDiscriminator(nn.Module):
    """[flatten(x), onehot(y)] -> the MLP GAN's discriminator: one logit per image.

    Args:
        in_dim: image size (C * H * W).
        num_classes: K.
        hidden: width of the hidden layers.
        slope: LeakyReLU slope.

    Example:
        >>> import torch
        >>> ConditionalMLPDiscriminator(64, 10, 16, 0.2)(torch.zeros(2, 1, 8, 8), [1, 2]).shape
        torch.Size([2])
    """
    def __init__(self, in_dim: int, num_classes: int, hidden: int, slope: float):
        super().__init__()
        self.num_classes = num_classes
        self.net = MLPDiscriminator(in_dim + num_classes, hidden, slope)

    def forward(self, x, labels):  # N x C x H x W, N labels -> N logits
        """N x C x H x W and N labels -> N logits."""
        x = x.flatten(1)  # N x D
        y = one_hot_labels(labels, x.shape[0], self.num_classes, x.dtype, x.device)  # N x K
        return self.net(torch.cat([x, y], dim=1))


@register_model("cgan")
class ConditionalGAN(GenerativeModel):
    """Class-conditional MLP GAN ("cgan") on any (C, H, W); output range [0, 1] (sigmoid), like mlp-gan.

    ``sample(n, seed=..., labels=y)`` draws images of the given classes; without labels the base
    contract uses balanced labels 0, 1, ..., K-1, 0, 1, ...

    Args:
        image_shape: (C, H, W).
        latent_dim: the latent dimension.
        num_classes: K >= 2.
        hidden: width of the hidden layers.
        slope: LeakyReLU slope.
        batch_norm: batch norm in the generator (see the module docstring).

    Raises:
        InvalidArgumentError: a bad shape, fewer than 2 classes, or a bad width.

    Example:
        >>> gan = ConditionalGAN(image_shape=(1, 8, 8), latent_dim=4, num_classes=3, hidden=16)
        >>> gan.sample(4, seed=0, labels=[2, 2, 0, 1]).shape
        torch.Size([4, 1, 8, 8])
        >>> gan.sample(1, labels=[5])
        Traceback (most recent call last):
        ...
        gmeval.errors.InvalidArgumentError: Argument `labels` must be 1 integers in [0, 3), but got tensor([5]).
    """

    kind = "gan"
    output_range = "unit"
    conditional = True

    def __init__(self, image_shape=(1, 28, 28), latent_dim: int = 100, num_classes: int = 10, hidden: int = 256,
                 slope: float = 0.2, batch_norm: bool = True):
        check_image_shape(image_shape, "cgan")
        if int(num_classes) < 2:
            raise InvalidArgumentError("num_classes", "an integer >= 2", num_classes)
        if int(hidden) < 1:
            raise InvalidArgumentError("hidden", "a positive integer", hidden)
        super().__init__(image_shape, latent_dim, num_classes)
        self.hidden, self.slope, self.batch_norm = int(hidden), float(slope), bool(batch_norm)
        dim = math.prod(self.image_shape)
        self.generator = ConditionalMLPGenerator(self.latent_dim, self.num_classes, dim, self.hidden, self.slope,
                                                 self.batch_norm)
        self.discriminator = ConditionalMLPDiscriminator(dim, self.num_classes, self.hidden, self.slope)

    def config(self) -> dict:
        """Constructor options that rebuild the model (``num_classes``, ``hidden``, ``slope``, ``batch_norm`` and the base ones)."""
        return {**super().config(), "num_classes": self.num_classes, "hidden": self.hidden, "slope": self.slope,
                "batch_norm": self.batch_norm}

    def decode(self, z, labels=None):  # N x latent, N labels -> N x C x H x W in [0, 1]
        """N x latent and N labels -> N x C x H x W in [0, 1]."""
        return self.generator(z, labels).view(-1, *self.image_shape)

    def discriminate(self, x, labels=None):  # images in [0, 1], N labels -> N logits
        """Images in [0, 1] and N labels -> N logits."""
        return self.discriminator(x, labels)
