"""The textbook MLP GAN (generator z -> 128 -> 128 -> 784, discriminator 784 -> 128 -> 128 -> 1).

Differences from the classic tutorial this reproduces (see docs/models.md):
- the tutorial's discriminator ends in a sigmoid and its output is then fed to
  sigmoid_cross_entropy_with_logits, i.e. a sigmoid is applied twice; here the discriminator
  returns logits and the losses use the numerically stable log-sigmoid forms;
- the tutorial's loop feeds random noise as "real images"; here training uses real data.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .base import GenerativeModel
from .registry import register_model


class MLPGenerator(nn.Module):
    def __init__(self, latent_dim: int, out_dim: int, hidden: int = 128, slope: float = 0.2):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(latent_dim, hidden), nn.LeakyReLU(slope),
            nn.Linear(hidden, hidden), nn.LeakyReLU(slope),
            nn.Linear(hidden, out_dim), nn.Sigmoid(),
        )

    def forward(self, z):  # N x latent -> N x out_dim in [0, 1]
        return self.net(z)


class MLPDiscriminator(nn.Module):
    def __init__(self, in_dim: int, hidden: int = 128, slope: float = 0.2):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(in_dim, hidden), nn.LeakyReLU(slope),
            nn.Linear(hidden, hidden), nn.LeakyReLU(slope),
            nn.Linear(hidden, 1),
        )

    def forward(self, x):  # N x C x H x W -> N logits
        return self.net(x.flatten(1)).squeeze(1)


def glorot_init_(module: nn.Module) -> None:
    """Glorot/Xavier-uniform weights and zero biases: the Keras `Dense` default the classic tutorial
    relies on. PyTorch's default Linear init gives a generator whose output barely depends on z
    (pixel std over z ~0.02 at init), and training then collapses to a single mode."""
    for m in module.modules():
        if isinstance(m, nn.Linear):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)


@register_model("mlp-gan")
class MLPGAN(GenerativeModel):
    kind = "gan"
    output_range = "unit"

    def __init__(self, image_shape=(1, 28, 28), latent_dim: int = 100, hidden: int = 128, slope: float = 0.2):
        super().__init__(image_shape, latent_dim)
        self.hidden, self.slope = hidden, slope
        dim = math.prod(self.image_shape)
        self.generator = MLPGenerator(latent_dim, dim, hidden, slope)
        self.discriminator = MLPDiscriminator(dim, hidden, slope)
        glorot_init_(self)

    def config(self) -> dict:
        return {**super().config(), "hidden": self.hidden, "slope": self.slope}

    def decode(self, z, labels=None):  # N x latent -> N x C x H x W in [0, 1]
        return self.generator(z).view(-1, *self.image_shape)

    def discriminate(self, x, labels=None):  # images in model range -> N logits
        return self.discriminator(x)
