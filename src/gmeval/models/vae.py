"""Variational autoencoder (Kingma & Welling, ICLR 2014, "Auto-Encoding Variational Bayes").

    q(z | x) = N(mu(x), diag(exp(logvar(x))))      MLP encoder, one head for [mu, logvar]
    p(z)     = N(0, I)
    p(x | z) = prod_i Bernoulli(x_i; sigmoid(l_i(z)))  MLP decoder returning logits l

negative ELBO per image, one reparameterised sample z = mu + exp(logvar / 2) * eps:

    nelbo(x) = -log p(x | z) + KL(q(z | x) || p(z))
    -log p(x | z)          = sum_i softplus(l_i) - x_i l_i                (stable BCE with logits)
    KL(q || N(0, I))       = 1/2 sum_j (mu_j^2 + exp(logvar_j) - 1 - logvar_j)   (paper, appendix B)

in nats per image. Bits per dimension: nelbo / (D ln 2), D = C * H * W (`bits_per_dim`).
Caveat: the Bernoulli likelihood is evaluated at continuous pixels in [0, 1], where it is not a
normalised density (nor a distribution over the 256 pixel levels), so this "bits/dim" is not a
bound on the data's log-likelihood and is not comparable with bits/dim of discrete-likelihood
models; it is exact only for binarised images. (Loaiza-Ganem & Cunningham 2019, "The continuous
Bernoulli", quantify the missing normaliser.)
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ..errors import InvalidArgumentError
from .autoencoder import bernoulli_nll, hidden_sizes, mlp
from .base import GenerativeModel
from .dcgan import check_image_shape
from .registry import register_model


def gaussian_kl_standard_normal(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, diag exp(logvar)) || N(0, I)) per row (nats), Kingma & Welling appendix B.

    Args:
        mu: means N x latent.
        logvar: log-variances N x latent.

    Returns:
        N values.

    Example:
        >>> import torch
        >>> gaussian_kl_standard_normal(torch.zeros(2, 3), torch.zeros(2, 3)).tolist()
        [0.0, 0.0]
        >>> gaussian_kl_standard_normal(torch.ones(1, 2), torch.zeros(1, 2)).tolist()
        [1.0]
    """
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(1)


@register_model("vae")
class VAE(GenerativeModel):
    """MLP VAE ("vae") on any (C, H, W): D -> hidden... -> 2 x latent; latent -> reversed(hidden) -> D logits.

    Output range [0, 1]: `decode` returns the Bernoulli means sigmoid(logits). Training minimises
    `negative_elbo` (module docstring).

    Args:
        image_shape: (C, H, W).
        latent_dim: the latent size (positive).
        hidden: hidden widths (an int or a list, possibly empty).

    Raises:
        InvalidArgumentError: a bad shape, latent size or widths.

    Example:
        >>> import torch
        >>> vae = VAE(image_shape=(1, 8, 8), latent_dim=2, hidden=[16])
        >>> out = vae.negative_elbo(torch.full((4, 1, 8, 8), 0.5), torch.Generator().manual_seed(0))
        >>> sorted(out), out["per_sample"].shape
        (['kl', 'loss', 'per_sample', 'recon'], torch.Size([4]))
    """

    kind = "vae"
    output_range = "unit"

    def __init__(self, image_shape=(1, 28, 28), latent_dim: int = 20, hidden=(512, 256)):
        check_image_shape(image_shape, "vae")
        hidden = hidden_sizes(hidden)
        super().__init__(image_shape, latent_dim)
        if self.latent_dim < 1:
            raise InvalidArgumentError("latent_dim", "a positive integer", latent_dim)
        self.hidden = hidden
        dim = math.prod(self.image_shape)
        self.encoder = nn.Sequential(nn.Flatten(1), mlp(dim, hidden, 2 * self.latent_dim))
        self.decoder = mlp(self.latent_dim, hidden[::-1], dim)

    def config(self) -> dict:
        """Constructor options that rebuild the model: ``image_shape``, ``latent_dim``, ``hidden``."""
        return {**super().config(), "hidden": list(self.hidden)}

    def encode(self, x):  # N x C x H x W in [0, 1] -> (mu, logvar), each N x latent
        """N x C x H x W in [0, 1] -> (mu, logvar), each N x latent."""
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        return mu, logvar

    def decode_logits(self, z):  # N x latent -> N x C x H x W logits
        """N x latent -> N x C x H x W logits."""
        return self.decoder(z).view(-1, *self.image_shape)

    def decode(self, z, labels=None):  # N x latent -> N x C x H x W in [0, 1]
        """N x latent -> N x C x H x W Bernoulli means in [0, 1] (`labels` ignored)."""
        return torch.sigmoid(self.decode_logits(z))

    def negative_elbo(self, x_unit: torch.Tensor, generator: torch.Generator) -> dict:
        """Single-sample negative ELBO of images in [0, 1], in nats per image.

        Args:
            x_unit: images N x C x H x W in [0, 1].
            generator: a torch.Generator (required) for the reparameterisation noise, so the value is a
                deterministic function of (weights, x, generator state).

        Returns:
            ``{"loss": mean nelbo, "recon": mean -log p(x|z), "kl": mean KL, "per_sample": N nelbos}``.

        Raises:
            InvalidArgumentError: `generator` is not a torch.Generator.
        """
        if not isinstance(generator, torch.Generator):
            raise InvalidArgumentError("generator", "a torch.Generator (the reparameterisation noise source)",
                                       type(generator).__name__)
        mu, logvar = self.encode(x_unit)
        eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype, device=generator.device).to(mu.device)
        z = mu + (0.5 * logvar).exp() * eps  # N x latent
        recon = bernoulli_nll(self.decode_logits(z), x_unit)  # N
        kl = gaussian_kl_standard_normal(mu, logvar)  # N
        per_sample = recon + kl
        return {"loss": per_sample.mean(), "recon": recon.mean(), "kl": kl.mean(), "per_sample": per_sample}

    def bits_per_dim(self, nelbo_nats):
        """nats per image -> bits per dimension: nelbo / (D ln 2). See the module caveat.

        Args:
            nelbo_nats: a value or tensor in nats per image.

        Returns:
            The same in bits per dimension.

        Example:
            >>> import math
            >>> VAE(image_shape=(1, 2, 2), latent_dim=1, hidden=[]).bits_per_dim(4 * math.log(2))
            1.0
        """
        return nelbo_nats / (math.prod(self.image_shape) * math.log(2.0))
