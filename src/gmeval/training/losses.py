"""GAN losses as named choices. Every loss takes raw discriminator outputs (logits).

With D(x) = sigmoid(l) the log-probabilities are written with softplus, which is exact and
finite for every finite logit (never a sigmoid followed by a log, which underflows to log 0):

    -log D(x)       = -log sigmoid(l)  = softplus(-l)
    -log(1 - D(x))  = -log sigmoid(-l) = softplus(l)

Losses are means over the batch; the discriminator minimises `d_loss(real, fake)`, the
generator minimises `g_loss(fake)`.

- "minimax"        Goodfellow et al. 2014, eq. 1: d = softplus(-r) + softplus(f),
                   g = log(1 - D(G(z))) = -softplus(f). Saturates: dg/df = -sigmoid(f) -> 0
                   when D confidently rejects fakes (f -> -inf), i.e. early in training.
- "non-saturating" Goodfellow et al. 2014, section 3: same d, g = -log D(G(z)) = softplus(-f).
- "hinge"          Lim & Ye 2017; Miyato et al. 2018: d = relu(1 - r) + relu(1 + f), g = -f.
- "least-squares"  Mao et al. 2017 (LSGAN), with a=0 (fake), b=1 (real), c=1:
                   d = 1/2 (r - 1)^2 + 1/2 f^2, g = 1/2 (f - 1)^2.
- "wgan-gp"        Gulrajani et al. 2017, algorithm 1: d = f - r + lambda * GP, g = -f, with
                   lambda = 10 (`gp_weight`). `d_loss` returns f - r only; the trainer adds
                   `gp_weight * gradient_penalty(...)` when `needs_gradient_penalty` is set.
                   The critic must not use batch norm (`check_loss_compatible`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import InvalidArgumentError

Tensor = torch.Tensor


# -- pure loss formulas (logits in, scalar out) ------------------------------------------------
def bce_d_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """-E log D(x) - E log(1 - D(G(z))), the discriminator's loss of "minimax" and "non-saturating".

    Args:
        real_logits: D's logits on real images, shape N.
        fake_logits: D's logits on generated images, shape M.

    Returns:
        A scalar tensor.

    Example:
        >>> import torch
        >>> round(bce_d_loss(torch.zeros(4), torch.zeros(4)).item(), 4)  # 2 log 2
        1.3863
    """
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def minimax_g_loss(fake_logits: Tensor) -> Tensor:
    """E log(1 - D(G(z))), minimised by G (saturating).

    Args:
        fake_logits: D's logits on generated images, shape N.

    Returns:
        A scalar tensor.

    Example:
        >>> import torch
        >>> round(minimax_g_loss(torch.zeros(4)).item(), 4)  # log(1/2)
        -0.6931
    """
    return -F.softplus(fake_logits).mean()


def non_saturating_g_loss(fake_logits: Tensor) -> Tensor:
    """-E log D(G(z)), minimised by G.

    Args:
        fake_logits: D's logits on generated images, shape N.

    Returns:
        A scalar tensor.

    Example:
        >>> import torch
        >>> round(non_saturating_g_loss(torch.zeros(4)).item(), 4)  # -log(1/2)
        0.6931
    """
    return F.softplus(-fake_logits).mean()


def hinge_d_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """E relu(1 - D(x)) + E relu(1 + D(G(z))) (Lim & Ye 2017).

    Args:
        real_logits: D's raw outputs on real images, shape N.
        fake_logits: D's raw outputs on generated images, shape M.

    Returns:
        A scalar tensor.

    Example:
        >>> import torch
        >>> hinge_d_loss(torch.tensor([2.0, 0.0]), torch.tensor([-3.0, 1.0])).item()  # (0 + 1) / 2 + (0 + 2) / 2
        1.5
    """
    return F.relu(1.0 - real_logits).mean() + F.relu(1.0 + fake_logits).mean()


def hinge_g_loss(fake_logits: Tensor) -> Tensor:
    """-E D(G(z)), the generator's hinge loss.

    Args:
        fake_logits: D's raw outputs on generated images, shape N.

    Returns:
        A scalar tensor.

    Example:
        >>> import torch
        >>> hinge_g_loss(torch.tensor([1.0, 3.0])).item()
        -2.0
    """
    return -fake_logits.mean()


def least_squares_d_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """1/2 E (D(x) - b)^2 + 1/2 E (D(G(z)) - a)^2 with b = 1, a = 0 (D's raw output).

    Args:
        real_logits: D's raw outputs on real images, shape N.
        fake_logits: D's raw outputs on generated images, shape M.

    Returns:
        A scalar tensor.

    Example:
        >>> import torch
        >>> least_squares_d_loss(torch.tensor([1.0, 3.0]), torch.tensor([0.0, 2.0])).item()  # 4/4 + 4/4
        2.0
    """
    return 0.5 * (real_logits - 1.0).pow(2).mean() + 0.5 * fake_logits.pow(2).mean()


def least_squares_g_loss(fake_logits: Tensor) -> Tensor:
    """1/2 E (D(G(z)) - c)^2 with c = 1.

    Args:
        fake_logits: D's raw outputs on generated images, shape N.

    Returns:
        A scalar tensor.

    Example:
        >>> import torch
        >>> least_squares_g_loss(torch.tensor([1.0, 3.0])).item()
        1.0
    """
    return 0.5 * (fake_logits - 1.0).pow(2).mean()


def wasserstein_d_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """E D(G(z)) - E D(x) (the critic's loss without the gradient penalty).

    Args:
        real_logits: the critic's outputs on real images, shape N.
        fake_logits: the critic's outputs on generated images, shape M.

    Returns:
        A scalar tensor.

    Example:
        >>> import torch
        >>> wasserstein_d_loss(torch.tensor([2.0, 4.0]), torch.tensor([1.0])).item()
        -2.0
    """
    return fake_logits.mean() - real_logits.mean()


def wasserstein_g_loss(fake_logits: Tensor) -> Tensor:
    """-E D(G(z)), the generator's WGAN loss.

    Args:
        fake_logits: the critic's outputs on generated images, shape N.

    Returns:
        A scalar tensor.

    Example:
        >>> import torch
        >>> wasserstein_g_loss(torch.tensor([-1.0, -3.0])).item()
        2.0
    """
    return -fake_logits.mean()


# -- gradient penalty ---------------------------------------------------------------------------
def gradient_penalty(discriminate_fn: Callable, real: Tensor, fake: Tensor, generator: torch.Generator,
                     labels: Tensor | None = None) -> Tensor:
    """WGAN-GP penalty E (||grad_x D(x_hat)||_2 - 1)^2 on x_hat = a real + (1 - a) fake,
    a ~ U[0, 1] per sample drawn from `generator` (Gulrajani et al. 2017, eq. 3). Unweighted:
    multiply by `GANLoss.gp_weight` (10). Differentiable w.r.t. D's parameters (create_graph);
    `real` and `fake` are detached. `labels` are passed on to a conditional discriminator.

    Args:
        discriminate_fn: the critic, `fn(x)` or `fn(x, labels)`, returning shape N.
        real: real images, N x ...
        fake: generated images, same shape as `real`.
        generator: draws the interpolation weights.
        labels: class labels for a conditional critic (shape N), or None.

    Returns:
        A scalar tensor, differentiable w.r.t. the critic's parameters.

    Raises:
        InvalidArgumentError: if `generator` is not a torch.Generator or the shapes differ.

    Example:
        >>> import torch
        >>> real, fake = torch.ones(3, 1, 2, 2), torch.zeros(3, 1, 2, 2)
        >>> g = torch.Generator().manual_seed(0)
        >>> gradient_penalty(lambda x: x.flatten(1).sum(1), real, fake, g).item()  # ||grad|| = 2 everywhere
        1.0
        >>> gradient_penalty(lambda x: x.flatten(1).sum(1), real, fake[:2], g)
        Traceback (most recent call last):
        ...
        gmeval.errors.InvalidArgumentError: Argument `real/fake` must be two batches of the same shape N x ..., but got '(3, 1, 2, 2) and (2, 1, 2, 2)'.
    """
    if not isinstance(generator, torch.Generator):
        raise InvalidArgumentError("generator", "a torch.Generator (draws the interpolation weights)",
                                   type(generator).__name__)
    if real.shape != fake.shape or real.ndim < 2:
        raise InvalidArgumentError("real/fake", "two batches of the same shape N x ...",
                                   f"{tuple(real.shape)} and {tuple(fake.shape)}")
    n = real.shape[0]
    alpha = torch.rand((n,) + (1,) * (real.ndim - 1), generator=generator, dtype=real.dtype,
                       device=generator.device).to(real.device)  # N x 1 x 1 x 1
    x_hat = (alpha * real.detach() + (1.0 - alpha) * fake.detach()).requires_grad_(True)
    out = discriminate_fn(x_hat) if labels is None else discriminate_fn(x_hat, labels)  # N
    (grad,) = torch.autograd.grad(out.sum(), x_hat, create_graph=True)
    # sqrt(sum g^2 + eps): the 2-norm with a finite derivative at g = 0 (eps = 1e-12)
    norm = (grad.flatten(1).pow(2).sum(1) + 1e-12).sqrt()  # N
    return (norm - 1.0).pow(2).mean()


# -- registry -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class GANLoss:
    """A named GAN loss: the discriminator's and the generator's formula (entries of `LOSSES`).

    Attributes:
        name: the choice's name ("non-saturating").
        d_loss: `d_loss(real_logits, fake_logits)`, minimised by D.
        g_loss: `g_loss(fake_logits)`, minimised by G.
        needs_gradient_penalty: whether the trainer adds `gp_weight * gradient_penalty(...)` to d_loss.
        gp_weight: lambda of the gradient penalty (0 when the loss has none).
        description: one line for listings.

    Example:
        >>> sorted(LOSSES)
        ['hinge', 'least-squares', 'minimax', 'non-saturating', 'wgan-gp']
        >>> LOSSES["wgan-gp"].needs_gradient_penalty, LOSSES["wgan-gp"].gp_weight
        (True, 10.0)
    """

    name: str
    d_loss: Callable[[Tensor, Tensor], Tensor]
    g_loss: Callable[[Tensor], Tensor]
    needs_gradient_penalty: bool = False
    #: lambda of the gradient penalty (0 when the loss has none)
    gp_weight: float = 0.0
    description: str = ""


LOSSES: dict[str, GANLoss] = {
    loss.name: loss
    for loss in (
        GANLoss("minimax", bce_d_loss, minimax_g_loss,
                description="saturating minimax: G minimises log(1 - D(G(z)))"),
        GANLoss("non-saturating", bce_d_loss, non_saturating_g_loss,
                description="G maximises log D(G(z))"),
        GANLoss("hinge", hinge_d_loss, hinge_g_loss, description="hinge loss (Lim & Ye 2017)"),
        GANLoss("least-squares", least_squares_d_loss, least_squares_g_loss,
                description="LSGAN, a=0, b=1, c=1 (Mao et al. 2017)"),
        GANLoss("wgan-gp", wasserstein_d_loss, wasserstein_g_loss, needs_gradient_penalty=True, gp_weight=10.0,
                description="Wasserstein critic with gradient penalty, lambda=10 (Gulrajani et al. 2017)"),
    )
}


def get_loss(name: str) -> GANLoss:
    """The GANLoss registered under `name`.

    Args:
        name: a key of `LOSSES`.

    Returns:
        The GANLoss.

    Raises:
        InvalidArgumentError: if `name` is not a registered loss.

    Example:
        >>> get_loss("hinge").g_loss is hinge_g_loss
        True
        >>> get_loss("wgan")
        Traceback (most recent call last):
        ...
        gmeval.errors.InvalidArgumentError: Argument `loss` must be one of ['hinge', 'least-squares', 'minimax', 'non-saturating', 'wgan-gp'], but got 'wgan'.
    """
    if name not in LOSSES:
        raise InvalidArgumentError("loss", f"one of {sorted(LOSSES)}", name)
    return LOSSES[name]


def check_loss_compatible(loss: GANLoss | str, model: nn.Module) -> None:
    """Raise if `loss` needs a gradient penalty and the model's discriminator has batch norm
    (the penalty is a per-sample gradient; batch norm makes each output depend on the batch).

    Args:
        loss: a GANLoss or its name.
        model: the GAN (its `discriminator` is inspected) or the discriminator itself.

    Raises:
        InvalidArgumentError: if the loss needs a gradient penalty and the discriminator has batch norm.

    Example:
        >>> from torch import nn
        >>> check_loss_compatible("wgan-gp", nn.Linear(2, 1))  # no batch norm: fine
        >>> check_loss_compatible("wgan-gp", nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2)))
        Traceback (most recent call last):
        ...
        gmeval.errors.InvalidArgumentError: Argument `loss` must be a loss without gradient penalty for a discriminator with batch norm, or norm='none', but got 'wgan-gp'. ...
    """
    loss = get_loss(loss) if isinstance(loss, str) else loss
    disc = getattr(model, "discriminator", model)
    if loss.needs_gradient_penalty and any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in disc.modules()):
        raise InvalidArgumentError(
            "loss", "a loss without gradient penalty for a discriminator with batch norm, or norm='none'",
            loss.name, hint=f"Build {getattr(model, 'name', 'the model') or 'the model'} with norm='none' to use "
                            f"{loss.name!r}.")
