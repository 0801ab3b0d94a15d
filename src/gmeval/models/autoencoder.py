"""Deterministic autoencoders ("ae": MLP, "conv-ae": convolutional) that generate by ex-post
density estimation (Ghosh, Sajjadi, Vergari, Black & Schoelkopf, ICLR 2020, "From Variational
to Deterministic Autoencoders").

Training minimises `reconstruction_loss(x)`: the Bernoulli cross-entropy between the image in
[0, 1] and the decoder's sigmoid output, summed over pixels and averaged over images (nats per
image, the same unit as the VAE's reconstruction term, so the two are directly comparable).
On non-binary pixels its minimum is the pixels' own entropy, not 0.

An autoencoder has no prior of its own. After training, `fit_latent_prior(z_train)` fits a
full-covariance Gaussian to the codes of the training images (`encode_images` computes them)
and stores its mean and Cholesky factor as buffers, so they travel in state_dict and
checkpoints. `sample()` then draws z ~ N(mean, L L^T) and decodes. Before the fit, sampling
raises LatentPriorNotFittedError.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import GmevalError, InvalidArgumentError
from ..stats.gaussian import GaussianStats
from .base import GenerativeModel
from .dcgan import ConvDecoder, ConvEncoder, check_image_shape, conv_plan
from .registry import register_model

#: ridge added to the fitted covariance, relative to its mean variance (keeps the Cholesky
#: factor defined when codes are degenerate, e.g. a collapsed latent dimension)
PRIOR_RIDGE = 1e-6


class LatentPriorNotFittedError(GmevalError, RuntimeError):
    """An autoencoder was asked to sample before `Autoencoder.fit_latent_prior` was called.

    Example:
        >>> MLPAutoencoder(image_shape=(1, 8, 8), latent_dim=2, hidden=[8]).sample(1)
        Traceback (most recent call last):
        ...
        gmeval.models.autoencoder.LatentPriorNotFittedError: the 'ae' autoencoder has no latent prior yet: ...
    """


def hidden_sizes(hidden, name: str = "hidden") -> list[int]:
    """Normalise an int or a sequence of ints (possibly empty) to a list of positive ints.

    Args:
        hidden: an int or a sequence of ints.
        name: the argument's name, for the error message.

    Returns:
        The list.

    Raises:
        InvalidArgumentError: anything else (bools, zeros, floats).

    Example:
        >>> hidden_sizes(64), hidden_sizes((512, 256)), hidden_sizes([])
        ([64], [512, 256], [])
    """
    vals = [hidden] if isinstance(hidden, int) else list(hidden) if isinstance(hidden, Sequence) else None
    if vals is None or any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in vals):
        raise InvalidArgumentError(name, "a positive integer or a (possibly empty) list of positive integers", hidden)
    return vals


def mlp(in_dim: int, hidden: Sequence[int], out_dim: int) -> nn.Sequential:
    """Linear layers in_dim -> hidden[0] -> ... -> out_dim with ReLU between (none after the last).

    Args:
        in_dim: input size.
        hidden: hidden widths (may be empty: one linear layer).
        out_dim: output size.

    Returns:
        The ``nn.Sequential``.

    Example:
        >>> mlp(4, [8], 2)
        Sequential(
          (0): Linear(in_features=4, out_features=8, bias=True)
          (1): ReLU()
          (2): Linear(in_features=8, out_features=2, bias=True)
        )
    """
    dims = [in_dim, *hidden, out_dim]
    layers: list[nn.Module] = []
    for i in range(len(dims) - 1):
        layers.append(nn.Linear(dims[i], dims[i + 1]))
        if i < len(dims) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def bernoulli_nll(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """-log p(x | logits) under independent Bernoulli pixels, summed per image (nats).

    Stable form ``softplus(l) - x l`` (binary_cross_entropy_with_logits), no sigmoid then log.

    Args:
        logits: N x ... logits.
        x: targets in [0, 1], the same shape.

    Returns:
        N values.

    Example:
        >>> import torch
        >>> round(bernoulli_nll(torch.zeros(1, 4), torch.ones(1, 4)).item() / 4, 6)  # log 2 per pixel
        0.693147
    """
    return F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)


class Autoencoder(GenerativeModel):
    """Shared machinery of the deterministic autoencoders (ex-post density estimation, Ghosh et al. 2020).

    Subclasses set ``.encoder`` (image -> N x latent) and ``.decoder`` (N x latent -> logits with
    N x D elements). After training, `fit_latent_prior` fits the Gaussian that `sample` draws codes from.

    Args:
        image_shape: (C, H, W).
        latent_dim: the code size (positive).

    Raises:
        InvalidArgumentError: `latent_dim` < 1.

    Example:
        >>> import torch
        >>> ae = MLPAutoencoder(image_shape=(1, 8, 8), latent_dim=2, hidden=[16])
        >>> codes = ae.encode_images(torch.randint(0, 256, (10, 1, 8, 8), dtype=torch.uint8,
        ...                                        generator=torch.Generator().manual_seed(0)))
        >>> ae.fit_latent_prior(codes).latent_prior_fitted, ae.sample(3, seed=0).shape
        (True, torch.Size([3, 1, 8, 8]))
    """

    kind = "autoencoder"
    output_range = "unit"

    def __init__(self, image_shape, latent_dim: int):
        super().__init__(image_shape, latent_dim)
        if self.latent_dim < 1:
            raise InvalidArgumentError("latent_dim", "a positive integer", latent_dim)
        d = self.latent_dim
        self.register_buffer("prior_mean", torch.zeros(d))
        self.register_buffer("prior_scale_tril", torch.eye(d))
        self.register_buffer("prior_fitted", torch.tensor(False))

    # -- the autoencoder -------------------------------------------------------------------
    def encode(self, x):  # N x C x H x W in [0, 1] -> N x latent
        """N x C x H x W in [0, 1] -> N x latent codes."""
        return self.encoder(x)

    def decode_logits(self, z):  # N x latent -> N x C x H x W logits
        """N x latent -> N x C x H x W logits."""
        return self.decoder(z).view(-1, *self.image_shape)

    def decode(self, z, labels=None):  # N x latent -> N x C x H x W in [0, 1]
        """N x latent -> N x C x H x W in [0, 1] (sigmoid of the logits; `labels` ignored)."""
        return torch.sigmoid(self.decode_logits(z))

    def reconstruct(self, x):  # N x C x H x W in [0, 1] -> same shape in [0, 1]
        """N x C x H x W in [0, 1] -> its reconstruction, the same shape in [0, 1]."""
        return self.decode(self.encode(x))

    def reconstruction_loss(self, x) -> torch.Tensor:
        """Mean over images of the per-image Bernoulli cross-entropy (nats per image).

        Args:
            x: images N x C x H x W in [0, 1].

        Returns:
            A scalar tensor.
        """
        return bernoulli_nll(self.decode_logits(self.encode(x)), x).mean()

    @torch.no_grad()
    def encode_images(self, images_uint8: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
        """Codes of canonical uint8 images, in eval mode, returned on the CPU.

        Args:
            images_uint8: uint8 tensor N x C x H x W.
            batch_size: images per forward pass.

        Returns:
            float tensor N x latent.
        """
        was_training = self.training
        self.eval()
        device = next(self.parameters()).device
        try:
            out = [self.encode(self.to_model_range(images_uint8[i:i + batch_size]).to(device)).cpu()
                   for i in range(0, len(images_uint8), batch_size)]
        finally:
            self.train(was_training)
        return torch.cat(out)

    # -- ex-post density estimation (Ghosh et al. 2020) ------------------------------------
    @property
    def latent_prior_fitted(self) -> bool:
        """Whether `fit_latent_prior` has been called (the flag travels in the state dict)."""
        return bool(self.prior_fitted)

    @torch.no_grad()
    def fit_latent_prior(self, z_train) -> "Autoencoder":
        """Fit N(mean, cov) to training codes, in float64, and store it in the model's buffers.

        cov uses the N-1 convention (`GaussianStats`), plus a ridge of `PRIOR_RIDGE` times its mean
        variance on the diagonal; the buffers ``prior_mean`` and ``prior_scale_tril`` (lower Cholesky
        factor L, cov = L L^T) are overwritten and ``prior_fitted`` set.

        Args:
            z_train: codes N x latent (tensor or array), N >= 2.

        Returns:
            self.

        Raises:
            InvalidArgumentError: wrong shape, fewer than 2 codes, non-finite codes, or a covariance
                that is not positive definite even after the ridge.
        """
        z = z_train.detach().cpu().double() if isinstance(z_train, torch.Tensor) else torch.as_tensor(
            np.asarray(z_train, dtype=np.float64))
        if z.ndim != 2 or z.shape[1] != self.latent_dim or z.shape[0] < 2:
            raise InvalidArgumentError("z_train", f"an N x {self.latent_dim} array of codes with N >= 2",
                                       f"shape {tuple(z.shape)}")
        if not torch.isfinite(z).all():
            raise InvalidArgumentError("z_train", "finite codes", "codes containing NaN or inf")
        stats = GaussianStats.from_features(z.numpy())
        mean = torch.from_numpy(stats.mean)
        cov = torch.from_numpy(stats.cov)
        scale = float(torch.diagonal(cov).mean())
        ridge = PRIOR_RIDGE * (scale if scale > 0 else 1.0)
        cov = cov + ridge * torch.eye(self.latent_dim, dtype=torch.float64)
        tril, info = torch.linalg.cholesky_ex(cov)
        if int(info) != 0:
            raise InvalidArgumentError("z_train", "codes whose covariance is positive definite after a ridge",
                                       f"a covariance that failed Cholesky at column {int(info)}")
        self.prior_mean.copy_(mean.to(self.prior_mean))
        self.prior_scale_tril.copy_(tril.to(self.prior_scale_tril))
        self.prior_fitted.fill_(True)
        return self

    def sample_latent(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """Draw n codes from the fitted prior: mean + eps L^T.

        Args:
            n: how many.
            generator: the torch.Generator for eps.

        Returns:
            float tensor n x latent.

        Raises:
            LatentPriorNotFittedError: `fit_latent_prior` was not called.
        """
        if not self.latent_prior_fitted:
            raise LatentPriorNotFittedError(
                f"the {self.name!r} autoencoder has no latent prior yet: call "
                f"model.fit_latent_prior(model.encode_images(train_images)) after training (the trainer does this "
                f"at the end of training) before sampling from it")
        eps = torch.randn(n, self.latent_dim, generator=generator)  # N x latent, CPU
        eps = eps.to(self.prior_mean)
        return self.prior_mean + eps @ self.prior_scale_tril.T


@register_model("ae")
class MLPAutoencoder(Autoencoder):
    """MLP autoencoder ("ae") on any (C, H, W): D -> hidden... -> latent -> reversed(hidden) -> D.

    Args:
        image_shape: (C, H, W).
        latent_dim: the code size.
        hidden: hidden widths (an int or a list, possibly empty).

    Raises:
        InvalidArgumentError: a bad shape, code size or widths.

    Example:
        >>> import torch
        >>> ae = MLPAutoencoder(image_shape=(1, 8, 8), latent_dim=2, hidden=[16])
        >>> ae.reconstruct(torch.zeros(3, 1, 8, 8)).shape, ae.config()["hidden"]
        (torch.Size([3, 1, 8, 8]), [16])
    """

    def __init__(self, image_shape=(1, 28, 28), latent_dim: int = 16, hidden=(512, 256)):
        check_image_shape(image_shape, "ae")
        hidden = hidden_sizes(hidden)
        super().__init__(image_shape, latent_dim)
        self.hidden = hidden
        dim = math.prod(self.image_shape)
        self.encoder = nn.Sequential(nn.Flatten(1), mlp(dim, self.hidden, self.latent_dim))
        self.decoder = mlp(self.latent_dim, self.hidden[::-1], dim)

    def config(self) -> dict:
        """Constructor options that rebuild the model: ``image_shape``, ``latent_dim``, ``hidden``."""
        return {**super().config(), "hidden": list(self.hidden)}


@register_model("conv-ae")
class ConvAutoencoder(Autoencoder):
    """Convolutional autoencoder ("conv-ae") for (C, 8, 8), (C, 28, 28), (C, 32, 32) images.

    The DCGAN conv stacks (`ConvEncoder`, `ConvDecoder`) without batch norm, with ReLU
    activations and a linear bottleneck of `latent_dim`.

    Args:
        image_shape: (C, H, W), a shape `conv_plan` supports.
        latent_dim: the code size.
        base_width: channels of the first conv (doubled per stage).

    Raises:
        InvalidArgumentError: an unsupported shape or width.

    Example:
        >>> import torch
        >>> ae = ConvAutoencoder(image_shape=(1, 28, 28), latent_dim=4, base_width=4)
        >>> ae.encode(torch.zeros(2, 1, 28, 28)).shape, ae.reconstruct(torch.zeros(2, 1, 28, 28)).shape
        (torch.Size([2, 4]), torch.Size([2, 1, 28, 28]))
    """

    def __init__(self, image_shape=(1, 28, 28), latent_dim: int = 16, base_width: int = 32):
        conv_plan(image_shape, "conv-ae")
        if int(base_width) < 1:
            raise InvalidArgumentError("base_width", "a positive integer", base_width)
        super().__init__(image_shape, latent_dim)
        self.base_width = int(base_width)
        self.encoder = ConvEncoder(self.image_shape, self.base_width, self.latent_dim, norm="none", slope=0.0)
        self.decoder = ConvDecoder(self.latent_dim, self.image_shape, self.base_width, batch_norm=False, out_act=None)

    def config(self) -> dict:
        """Constructor options that rebuild the model: ``image_shape``, ``latent_dim``, ``base_width``."""
        return {**super().config(), "base_width": self.base_width}
