"""Training objectives, one per model kind. Each owns its optimizers and does one step.

`step(next_batch, gen)` pulls batches with `next_batch()` (images in the model's range, labels),
draws every random number from `gen` (a torch.Generator), and returns scalar metrics.
"""

from __future__ import annotations

import torch

from ..errors import InvalidArgumentError
from .losses import check_loss_compatible, get_loss, gradient_penalty


def grad_norm(params) -> float:
    sq = [p.grad.detach().pow(2).sum() for p in params if p.grad is not None]
    return float(torch.stack(sq).sum().sqrt()) if sq else 0.0


def _adam(params, lr, betas):
    return torch.optim.Adam(params, lr=lr, betas=tuple(betas))


class GANObjective:
    """Alternating updates: `d_steps` discriminator updates (one real batch each), then one generator update."""

    batches_per_step_attr = "d_steps"

    def __init__(self, model, cfg):
        if cfg.d_steps < 1:
            raise InvalidArgumentError("d_steps", "an integer >= 1", cfg.d_steps)
        self.model, self.cfg = model, cfg
        self.loss = get_loss(cfg.loss)
        check_loss_compatible(self.loss, model)
        self.optimizers = {
            "d": _adam(model.discriminator.parameters(), cfg.lr_d or cfg.lr, cfg.betas),
            "g": _adam(model.generator.parameters(), cfg.lr, cfg.betas),
        }
        self.batches_per_step = cfg.d_steps

    def _labels(self, y, n, gen):
        if not self.model.conditional:
            return None
        return torch.randint(0, self.model.num_classes, (n,), generator=gen)

    def step(self, next_batch, gen) -> dict:
        m, loss = self.model, self.loss
        opt_d, opt_g = self.optimizers["d"], self.optimizers["g"]
        for _ in range(self.cfg.d_steps):
            x, y = next_batch()
            n = x.shape[0]
            yc = y if m.conditional else None
            yf = self._labels(y, n, gen)
            with torch.no_grad():
                fake = m.decode(m.sample_latent(n, gen), yf)
            real_logits = m.discriminate(x, yc)
            fake_logits = m.discriminate(fake, yf)
            d_loss = loss.d_loss(real_logits, fake_logits)
            if loss.needs_gradient_penalty:
                d_loss = d_loss + self.cfg.gp_weight * gradient_penalty(m.discriminate, x, fake, gen, labels=yc)
            opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            gnorm_d = grad_norm(m.discriminator.parameters())
            opt_d.step()
        n = self.cfg.batch_size
        yf = self._labels(None, n, gen)
        fake = m.decode(m.sample_latent(n, gen), yf)
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


class AutoencoderObjective:
    def __init__(self, model, cfg):
        self.model, self.cfg = model, cfg
        self.optimizers = {"model": _adam(model.parameters(), cfg.lr, cfg.betas)}
        self.batches_per_step = 1

    def step(self, next_batch, gen) -> dict:
        x, _ = next_batch()
        loss = self.model.reconstruction_loss(x)
        opt = self.optimizers["model"]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gn = grad_norm(self.model.parameters())
        opt.step()
        return {"loss_recon": float(loss.detach()), "grad_norm": gn}


class VAEObjective:
    def __init__(self, model, cfg):
        self.model, self.cfg = model, cfg
        self.optimizers = {"model": _adam(model.parameters(), cfg.lr, cfg.betas)}
        self.batches_per_step = 1

    def step(self, next_batch, gen) -> dict:
        x, _ = next_batch()
        out = self.model.negative_elbo(x, gen)
        opt = self.optimizers["model"]
        opt.zero_grad(set_to_none=True)
        out["loss"].backward()
        gn = grad_norm(self.model.parameters())
        opt.step()
        return {"loss_nelbo": float(out["loss"].detach()), "loss_recon": float(out["recon"].detach()),
                "loss_kl": float(out["kl"].detach()), "grad_norm": gn}


OBJECTIVES = {"gan": GANObjective, "autoencoder": AutoencoderObjective, "vae": VAEObjective}
