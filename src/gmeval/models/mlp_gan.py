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
    """z -> (Linear, LeakyReLU) x 2 -> Linear -> sigmoid: the textbook MLP generator.

    Args:
        latent_dim: input size.
        out_dim: output size (C * H * W).
        hidden: width of the two hidden layers.
        slope: LeakyReLU slope.

    Example:
        >>> import torch
        >>> MLPGenerator(4, 64)(torch.zeros(2, 4)).shape
        torch.Size([2, 64])
    """
    def __init__(self, latent_dim: int, out_dim: int, hidden: int = 128, slope: float = 0.2):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(latent_dim, hidden), nn.LeakyReLU(slope),
            nn.Linear(hidden, hidden), nn.LeakyReLU(slope),
            nn.Linear(hidden, out_dim), nn.Sigmoid(),
        )

    def forward(self, z):  # N x latent -> N x out_dim in [0, 1]
        """N x latent -> N x out_dim in [0, 1]."""
        return self.net(z)


class MLPDiscriminator(nn.Module):
    """Flattened image -> (Linear, LeakyReLU) x 2 -> Linear: one logit per image.

    Args:
        in_dim: input size (C * H * W).
        hidden: width of the two hidden layers.
        slope: LeakyReLU slope.

    Example:
        >>> import torch
        >>> MLPDiscriminator(64)(torch.zeros(2, 1, 8, 8)).shape
        torch.Size([2])
    """
    def __init__(self, in_dim: int, hidden: int = 128, slope: float = 0.2):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(in_dim, hidden), nn.LeakyReLU(slope),
            nn.Linear(hidden, hidden), nn.LeakyReLU(slope),
            nn.Linear(hidden, 1),
        )

    def forward(self, x):  # N x C x H x W -> N logits
        """N x C x H x W -> N logits."""
        return self.net(x.flatten(1)).squeeze(1)


def glorot_init_(module: nn.Module) -> None:
    """Glorot/Xavier-uniform weights and zero biases for every Linear layer, in place.

    The Keras ``Dense`` default the classic tutorial relies on. PyTorch's default Linear init gives a
    generator whose output barely depends on z (pixel std over z ~0.02 at init), and training then
    collapses to a single mode. Draws from torch's global RNG, like PyTorch's own layer init.

    Args:
        module: the module whose Linear layers are re-initialised.

    Example:
        >>> import torch
        >>> lin = torch.nn.Linear(3, 2); glorot_init_(lin)
        >>> lin.bias.tolist(), bool(lin.weight.abs().max() <= (6 / 5) ** 0.5)
        ([0.0, 0.0], True)
    """
    for m in module.modules():
        if isinstance(m, nn.Linear):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)


@register_model("mlp-gan")
class MLPGAN(GenerativeModel):
    """The textbook MLP GAN ("mlp-gan"): generator z -> 128 -> 128 -> D (sigmoid), discriminator D -> 128 -> 128 -> 1.

    Output range [0, 1]. Differences from the tutorial are in the module docstring.

    Args:
        image_shape: (C, H, W).
        latent_dim: the latent dimension.
        hidden: width of the hidden layers (both networks).
        slope: LeakyReLU slope.

    Example:
        >>> gan = MLPGAN(image_shape=(1, 8, 8), latent_dim=4, hidden=16)
        >>> x = gan.sample(2, seed=1)
        >>> x.shape, gan.discriminate(gan.to_model_range(x)).shape
        (torch.Size([2, 1, 8, 8]), torch.Size([2]))
    """
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
        """Constructor options that rebuild the model: ``image_shape``, ``latent_dim``, ``hidden``, ``slope``."""
        return {**super().config(), "hidden": self.hidden, "slope": self.slope}

    def decode(self, z, labels=None):  # N x latent -> N x C x H x W in [0, 1]
        """N x latent -> N x C x H x W in [0, 1] (`labels` ignored)."""
        return self.generator(z).view(-1, *self.image_shape)

    def discriminate(self, x, labels=None):  # images in model range -> N logits
        """Images in the model range (N x C x H x W) -> N logits (`labels` ignored)."""
        return self.discriminator(x)
