"""Training objectives, one per model kind. Each owns its optimizers and does one step.

`step(next_batch, gen)` pulls batches with `next_batch()` (images in the model's range, labels),
draws every random number from `gen` (a torch.Generator), and returns scalar metrics.

Data-parallel training (under torchrun, `distribute(rank, world, device)`): `next_batch()` returns
this rank's strided rows of the global batch, the networks run through DistributedDataParallel
(gradients averaged over ranks = the gradient of the global batch, since every rank holds
batch_size / world rows), and `gen` holds the same state on every rank. Latents and fake labels
are drawn for the whole global batch from `gen` and each rank keeps its rows, so a GAN step
computes what the single process computes. Noise drawn inside helpers that only see the local
batch (the gradient-penalty weights, the VAE's reparameterisation noise) comes from a per-rank
generator seeded each step from `gen` (`_local_generator`), so it is independent across ranks
and reproducible on resume (the checkpointed `gen` state determines it).
"""

from __future__ import annotations

import torch
from torch import nn

from ..utils.seeding import derive_seed
from .losses import check_loss_compatible, get_loss, gradient_penalty


def grad_norm(params) -> float:
    """The 2-norm of the gradients of `params` taken together (parameters without a gradient skipped).

    Args:
        params: an iterable of parameters (e.g. `module.parameters()`).

    Returns:
        A float; 0.0 when no parameter has a gradient.

    Example:
        >>> import torch
        >>> w = torch.nn.Parameter(torch.zeros(2))
        >>> grad_norm([w])
        0.0
        >>> w.grad = torch.tensor([3.0, 4.0])
        >>> grad_norm([w])
        5.0
    """
    sq = [p.grad.detach().pow(2).sum() for p in params if p.grad is not None]
    return float(torch.stack(sq).sum().sqrt()) if sq else 0.0


def _adam(params, lr, betas):
    return torch.optim.Adam(params, lr=lr, betas=tuple(betas))


class _Method(nn.Module):
    """`owner.<method>` as a module that owns exactly `part`'s parameters.

    Wrapped in DistributedDataParallel it synchronises the gradients of `part` (the generator, the
    discriminator, or the whole model) while the model's own method (reshapes, labels) runs
    unchanged and the model's state_dict keeps its single-process key names.
    """

    def __init__(self, owner: nn.Module, method: str, part: nn.Module):
        super().__init__()
        self.part = part  # registered: what DDP broadcasts and reduces
        object.__setattr__(self, "_owner", owner)  # not registered (no duplicate parameters)
        self._method = method

    def forward(self, *args):
        return getattr(self._owner, self._method)(*args)


def _ddp(owner, method, part, device):
    from torch.nn.parallel import DistributedDataParallel

    kw = {"device_ids": [device.index]} if device.type == "cuda" else {}
    return DistributedDataParallel(_Method(owner, method, part), **kw)


class _DataParallel:
    """Rank bookkeeping shared by the objectives; world == 1 leaves every step unchanged."""

    rank, world = 0, 1

    def _device(self):
        return next(self.model.parameters()).device

    def _global_rows(self, draw, n_local: int):
        """Draw for the global batch (n_local * world rows) and keep this rank's strided rows."""
        if self.world == 1:
            return draw(n_local)
        return draw(n_local * self.world)[self.rank::self.world]

    def _local_generator(self, gen: torch.Generator) -> torch.Generator:
        """`gen` itself in one process; else a per-rank generator seeded from one draw of `gen`."""
        if self.world == 1:
            return gen
        base = int(torch.randint(0, 2**62, (1,), generator=gen))
        return torch.Generator().manual_seed(derive_seed(base, "rank", self.rank))


class GANObjective(_DataParallel):
    """Alternating updates: `d_steps` discriminator updates (one real batch each), then one generator update.

    Owns one Adam optimizer per network ("d" with `lr_d` or `lr`, "g" with `lr`); the loss is
    `cfg.loss`, plus `gp_weight` times the gradient penalty for "wgan-gp".

    Args:
        model: a GAN (`generator`, `discriminator`, `decode`, `discriminate`, `sample_latent`).
        cfg: the TrainConfig (loss, lr, lr_d, betas, d_steps, gp_weight, batch_size).

    Raises:
        InvalidArgumentError: unknown loss, or a gradient-penalty loss with a batch-norm discriminator.

    Example:
        >>> import torch
        >>> from gmeval.models import build_model
        >>> from gmeval.training.config import TrainConfig
        >>> cfg = TrainConfig("mlp-gan", batch_size=4, d_steps=2)
        >>> gan = build_model("mlp-gan", image_shape=(1, 8, 8), latent_dim=2, hidden=16)
        >>> obj = GANObjective(gan, cfg)
        >>> batches = []
        >>> def next_batch():
        ...     batches.append(1)
        ...     return torch.zeros(4, 1, 8, 8), None
        >>> metrics = obj.step(next_batch, torch.Generator().manual_seed(0))
        >>> sorted(metrics) == sorted(obj.metric_names), len(batches), sorted(obj.optimizers)
        (True, 2, ['d', 'g'])
    """

    batches_per_step_attr = "d_steps"
    #: the keys `step()` returns (stop conditions are validated against them)
    metric_names = ("loss_d", "loss_g", "d_real", "d_fake", "grad_norm_d", "grad_norm_g")

    def __init__(self, model, cfg):
        self.model, self.cfg = model, cfg
        self.loss = get_loss(cfg.loss)
        check_loss_compatible(self.loss, model)
        self.optimizers = {
            "d": _adam(model.discriminator.parameters(), cfg.lr_d or cfg.lr, cfg.betas),
            "g": _adam(model.generator.parameters(), cfg.lr, cfg.betas),
        }
        self.batches_per_step = cfg.d_steps
        # d_real / d_fake are mean sigmoid(D) probabilities, except raw critic values for WGAN-GP
        self.d_probabilities = not self.loss.needs_gradient_penalty
        self.decode, self.discriminate = model.decode, model.discriminate

    def distribute(self, rank: int, world: int, device) -> None:
        """Train data-parallel: generator and discriminator each under DistributedDataParallel."""
        self.rank, self.world = rank, world
        self.decode = _ddp(self.model, "decode", self.model.generator, device)
        self.discriminate = _ddp(self.model, "discriminate", self.model.discriminator, device)

    def _labels(self, y, n, gen):
        if not self.model.conditional:
            return None
        k = self.model.num_classes
        return self._global_rows(lambda m: torch.randint(0, k, (m,), generator=gen), n).to(self._device())

    def _latents(self, n, gen):
        return self._global_rows(lambda m: self.model.sample_latent(m, gen), n).to(self._device())

    def step(self, next_batch, gen) -> dict:
        """One training step: `d_steps` discriminator updates, then one generator update.

        Args:
            next_batch: a function returning (images in the model's range, labels or None).
            gen: the torch.Generator every latent and label is drawn from.

        Returns:
            {name: float} for each of `metric_names` (d_real / d_fake: mean sigmoid(D), or the raw
            critic mean for wgan-gp).
        """
        m, loss = self.model, self.loss
        opt_d, opt_g = self.optimizers["d"], self.optimizers["g"]
        gp_gen = self._local_generator(gen) if loss.needs_gradient_penalty else None
        for _ in range(self.cfg.d_steps):
            x, y = next_batch()
            n = x.shape[0]  # this rank's rows: batch_size / world
            yc = y if m.conditional else None
            yf = self._labels(y, n, gen)
            with torch.no_grad():
                fake = m.decode(self._latents(n, gen), yf)
            real_logits = self.discriminate(x, yc)
            fake_logits = self.discriminate(fake, yf)
            d_loss = loss.d_loss(real_logits, fake_logits)
            if loss.needs_gradient_penalty:
                d_loss = d_loss + self.cfg.gp_weight * gradient_penalty(self.discriminate, x, fake, gp_gen, labels=yc)
            opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            gnorm_d = grad_norm(m.discriminator.parameters())
            opt_d.step()
        n = self.cfg.batch_size // self.world
        yf = self._labels(None, n, gen)
        fake = self.decode(self._latents(n, gen), yf)
        # D called directly: its gradients from this step are discarded (zeroed before its next update)
        g_loss = loss.g_loss(m.discriminate(fake, yf))
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        gnorm_g = grad_norm(m.generator.parameters())
        opt_g.step()
        to_p = (lambda t: t.mean()) if loss.needs_gradient_penalty else (lambda t: torch.sigmoid(t).mean())
        return {
            "loss_d": float(d_loss.detach()), "loss_g": float(g_loss.detach()),
            "d_real": float(to_p(real_logits.detach())), "d_fake": float(to_p(fake_logits.detach())),
            "grad_norm_d": gnorm_d, "grad_norm_g": gnorm_g,
        }


class _SingleNetworkObjective(_DataParallel):
    """One optimizer over the whole model, minimising the model method named `loss_method`."""

    loss_method = ""
    metric_names: tuple = ()
    d_probabilities = False

    def __init__(self, model, cfg):
        self.model, self.cfg = model, cfg
        self.optimizers = {"model": _adam(model.parameters(), cfg.lr, cfg.betas)}
        self.batches_per_step = 1
        self.loss_fn = getattr(model, self.loss_method)

    def distribute(self, rank: int, world: int, device) -> None:
        self.rank, self.world = rank, world
        self.loss_fn = _ddp(self.model, self.loss_method, self.model, device)

    def _loss(self, x, gen):
        """Returns (scalar loss to minimise, metrics of this step)."""
        raise NotImplementedError

    def step(self, next_batch, gen) -> dict:
        x, _ = next_batch()
        loss, metrics = self._loss(x, gen)
        opt = self.optimizers["model"]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gn = grad_norm(self.model.parameters())
        opt.step()
        return {**metrics, "grad_norm": gn}


class AutoencoderObjective(_SingleNetworkObjective):
    """Minimise the autoencoder's reconstruction loss with one Adam optimizer over the whole model.

    Args:
        model: an autoencoder (`reconstruction_loss(x)`).
        cfg: the TrainConfig (lr, betas).

    Example:
        >>> import torch
        >>> from gmeval.models import build_model
        >>> from gmeval.training.config import TrainConfig
        >>> ae = build_model("ae", image_shape=(1, 8, 8), latent_dim=2, hidden=[16])
        >>> obj = AutoencoderObjective(ae, TrainConfig("ae"))
        >>> m = obj.step(lambda: (torch.zeros(4, 1, 8, 8), None), torch.Generator().manual_seed(0))
        >>> sorted(m), obj.batches_per_step
        (['grad_norm', 'loss_recon'], 1)
    """

    loss_method = "reconstruction_loss"
    metric_names = ("loss_recon", "grad_norm")

    def _loss(self, x, gen):
        loss = self.loss_fn(x)
        return loss, {"loss_recon": float(loss.detach())}


class VAEObjective(_SingleNetworkObjective):
    """Minimise the VAE's negative ELBO (reconstruction + KL) with one Adam optimizer.

    The reparameterisation noise is drawn from the step's generator.

    Args:
        model: a VAE (`negative_elbo(x, generator)`).
        cfg: the TrainConfig (lr, betas).

    Example:
        >>> import torch
        >>> from gmeval.models import build_model
        >>> from gmeval.training.config import TrainConfig
        >>> vae = build_model("vae", image_shape=(1, 8, 8), latent_dim=2, hidden=[16])
        >>> obj = VAEObjective(vae, TrainConfig("vae"))
        >>> m = obj.step(lambda: (torch.zeros(4, 1, 8, 8), None), torch.Generator().manual_seed(0))
        >>> sorted(m) == sorted(obj.metric_names)
        True
    """

    loss_method = "negative_elbo"
    metric_names = ("loss_nelbo", "loss_recon", "loss_kl", "grad_norm")

    def _loss(self, x, gen):
        out = self.loss_fn(x, self._local_generator(gen))
        return out["loss"], {"loss_nelbo": float(out["loss"].detach()), "loss_recon": float(out["recon"].detach()),
                             "loss_kl": float(out["kl"].detach())}


OBJECTIVES = {"gan": GANObjective, "autoencoder": AutoencoderObjective, "vae": VAEObjective}
