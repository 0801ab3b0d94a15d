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
    """Validate `labels` (n integers in [0, num_classes)) and return them one-hot, n x num_classes."""
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
    """[z, onehot(y)] -> (Lin [BN] LReLU) x 2 -> Lin D -> sigmoid."""

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
        y = one_hot_labels(labels, z.shape[0], self.num_classes, z.dtype, z.device)  # N x K
        return self.net(torch.cat([z, y], dim=1))


class ConditionalMLPDiscriminator(nn.Module):
    def __init__(self, in_dim: int, num_classes: int, hidden: int, slope: float):
        super().__init__()
        self.num_classes = num_classes
        self.net = MLPDiscriminator(in_dim + num_classes, hidden, slope)

    def forward(self, x, labels):  # N x C x H x W, N labels -> N logits
        x = x.flatten(1)  # N x D
        y = one_hot_labels(labels, x.shape[0], self.num_classes, x.dtype, x.device)  # N x K
        return self.net(torch.cat([x, y], dim=1))


@register_model("cgan")
class ConditionalGAN(GenerativeModel):
    """Class-conditional MLP GAN on any (C, H, W); output range [0, 1] (sigmoid), like mlp-gan.

    `sample(n, seed=..., labels=y)` draws images of the given classes; without labels the
    base contract uses balanced labels 0, 1, ..., K-1, 0, 1, ...
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
        return {**super().config(), "num_classes": self.num_classes, "hidden": self.hidden, "slope": self.slope,
                "batch_norm": self.batch_norm}

    def decode(self, z, labels=None):  # N x latent, N labels -> N x C x H x W in [0, 1]
        return self.generator(z, labels).view(-1, *self.image_shape)

    def discriminate(self, x, labels=None):  # images in [0, 1], N labels -> N logits
        return self.discriminator(x, labels)
