"""GAN losses on known inputs, their numerical stability, and the WGAN-GP gradient penalty.

Tolerances (docs/tolerances.md): torch.equal / exact equalities are B1-B5 (same machine and threads);
`approx`/`allclose` bounds are T1 (float64 formulas) or T3 (float32 across shapes), as each states.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from gmeval.errors import InvalidArgumentError
from gmeval.models import build_model
from gmeval.training.losses import LOSSES, check_loss_compatible, get_loss, gradient_penalty
from gmeval.utils.seeding import as_torch_generator

NAMES = ["minimax", "non-saturating", "hinge", "least-squares", "wgan-gp"]
LN2 = math.log(2.0)


def _nlog_sigmoid(x: float) -> float:
    """-log(1 / (1 + e^-x)) computed by hand in float64 (moderate x only)."""
    return -math.log(1.0 / (1.0 + math.exp(-x)))


def test_registry_and_unknown_name():
    assert sorted(LOSSES) == sorted(NAMES)
    assert all(get_loss(n).name == n for n in NAMES)
    assert [n for n in NAMES if get_loss(n).needs_gradient_penalty] == ["wgan-gp"]
    assert get_loss("wgan-gp").gp_weight == 10.0
    with pytest.raises(InvalidArgumentError, match=r"loss.*hinge.*least-squares.*minimax.*non-saturating.*wgan-gp.*'bce'"):
        get_loss("bce")


def test_values_at_zero_logits():
    z = torch.zeros(5)
    expected = {  # (d_loss, g_loss) with D(x) = sigmoid(0) = 1/2 for the log losses
        "minimax": (2 * LN2, -LN2),       # -log 1/2 - log 1/2 ; log(1 - 1/2)
        "non-saturating": (2 * LN2, LN2),  # ... ; -log 1/2
        "hinge": (2.0, 0.0),               # relu(1) + relu(1) ; -0
        "least-squares": (0.5, 0.5),       # 1/2 (0-1)^2 + 1/2 0^2 ; 1/2 (0-1)^2
        "wgan-gp": (0.0, 0.0),
    }
    for name, (d, g) in expected.items():
        loss = get_loss(name)
        assert float(loss.d_loss(z, z)) == pytest.approx(d, abs=1e-7), name
        assert float(loss.g_loss(z)) == pytest.approx(g, abs=1e-7), name


def test_values_on_known_logits():
    r = torch.tensor([1.0, -2.0], dtype=torch.float64)
    f = torch.tensor([0.5, 3.0], dtype=torch.float64)
    bce_d = (_nlog_sigmoid(1) + _nlog_sigmoid(-2)) / 2 + (_nlog_sigmoid(-0.5) + _nlog_sigmoid(-3)) / 2
    expected = {
        "minimax": (bce_d, (math.log(1 - 1 / (1 + math.exp(-0.5))) + math.log(1 - 1 / (1 + math.exp(-3)))) / 2),
        "non-saturating": (bce_d, (_nlog_sigmoid(0.5) + _nlog_sigmoid(3)) / 2),
        # hinge d: mean(relu(0), relu(3)) + mean(relu(1.5), relu(4)) = 1.5 + 2.75 ; g: -mean(0.5, 3)
        "hinge": (4.25, -1.75),
        # LSGAN d: 1/2 mean(0, 9) + 1/2 mean(0.25, 9) = 2.25 + 2.3125 ; g: 1/2 mean(0.25, 4)
        "least-squares": (4.5625, 1.0625),
        # WGAN critic: mean(f) - mean(r) = 1.75 + 0.5 ; g: -mean(f)
        "wgan-gp": (2.25, -1.75),
    }
    for name, (d, g) in expected.items():
        loss = get_loss(name)
        assert float(loss.d_loss(r, f)) == pytest.approx(d, rel=1e-12), name
        assert float(loss.g_loss(f)) == pytest.approx(g, rel=1e-12), name


@pytest.mark.parametrize("name", NAMES)
def test_gradient_signs(name):
    """D is pushed to raise real scores and lower fake ones; G to raise fake scores (for scores
    between LSGAN's targets 0 and 1; beyond them LSGAN pulls back towards the target)."""
    loss = get_loss(name)
    r = torch.linspace(0.05, 0.95, 7, requires_grad=True)
    f = torch.linspace(0.05, 0.95, 7, requires_grad=True)
    gr, gf = torch.autograd.grad(loss.d_loss(r, f), (r, f))
    assert (gr <= 0).all() and (gf >= 0).all() and gr.sum() < 0 and gf.sum() > 0
    f2 = torch.linspace(0.05, 0.95, 7, requires_grad=True)
    (gg,) = torch.autograd.grad(loss.g_loss(f2), f2)
    assert (gg <= 0).all() and gg.sum() < 0


def test_large_logits_stay_finite_and_exact():
    big = torch.tensor([200.0, 1e4])  # float32
    # the naive formula underflows: sigmoid(-200) == 0 in float32, log 0 = -inf
    assert torch.isinf(torch.log(torch.sigmoid(-big))).all()
    ns, mm = get_loss("non-saturating"), get_loss("minimax")
    # D rejects the fakes with logit -200 / -1e4: G's non-saturating loss -log sigmoid(f) = -f exactly
    assert float(ns.g_loss(-big)) == pytest.approx((200.0 + 1e4) / 2, rel=1e-6)
    # D wrong on both sides: -log sigmoid(-200) + -log(1 - sigmoid(200)) = 200 + 200
    assert float(ns.d_loss(-big[:1], big[:1])) == pytest.approx(400.0, rel=1e-6)
    for loss in (ns, mm):
        for x in (big, -big):
            assert torch.isfinite(loss.d_loss(x, -x)) and torch.isfinite(loss.g_loss(x))


def test_double_sigmoid_formulation_is_bounded_and_saturates():
    """The tutorial's D applies a sigmoid, and its loss applies sigmoid cross-entropy with logits
    to that probability: a double sigmoid. Its loss is bounded and its gradient vanishes."""

    def double_sigmoid_g_loss(logit):  # G's target label 1, tutorial style
        return F.binary_cross_entropy_with_logits(torch.sigmoid(logit), torch.ones_like(logit))

    logits = torch.tensor([-1e4, -20.0, -5.0, 0.0, 5.0, 20.0, 1e4], dtype=torch.float64, requires_grad=True)
    values = torch.stack([double_sigmoid_g_loss(l) for l in logits])
    # bounded: -log sigmoid(p) for p in (0, 1) lies in (softplus(-1), log 2] = (0.3133, 0.6931]
    lo, hi = math.log1p(math.exp(-1)), LN2
    assert ((values >= lo - 1e-12) & (values <= hi + 1e-12)).all()
    # D confidently rejects a fake (logit -20): double-sigmoid gradient ~ 1e-9, stable NS gradient ~ -1
    l = torch.tensor([-20.0], dtype=torch.float64, requires_grad=True)
    (g_double,) = torch.autograd.grad(double_sigmoid_g_loss(l), l)
    (g_stable,) = torch.autograd.grad(get_loss("non-saturating").g_loss(l), l)
    assert abs(float(g_double)) < 1e-8
    assert float(g_stable) == pytest.approx(-1.0, abs=1e-8)
    # and the double-sigmoid gradient is at most 1/8 in magnitude anywhere: sigma'(l) <= 1/4, sigma(-p) < 1/2
    grid = torch.linspace(-30, 30, 601, dtype=torch.float64, requires_grad=True)
    (g_grid,) = torch.autograd.grad(double_sigmoid_g_loss(grid) * grid.numel(), grid)
    assert float(g_grid.abs().max()) <= 0.125 + 1e-12


# -- gradient penalty -----------------------------------------------------------------------
def _batch(seed, n=6, shape=(1, 4, 4), dtype=torch.float64):
    g = as_torch_generator(seed)
    return torch.randn(n, *shape, generator=g, dtype=dtype), torch.randn(n, *shape, generator=g, dtype=dtype)


def test_gradient_penalty_zero_for_unit_norm_linear_critic():
    real, fake = _batch(0)
    w = torch.randn(16, generator=as_torch_generator(1), dtype=torch.float64)
    w = w / w.norm()
    gp = gradient_penalty(lambda x: x.flatten(1) @ w, real, fake, as_torch_generator(2))
    assert abs(float(gp)) < 1e-10  # ||grad|| = ||w|| = 1 everywhere


def test_gradient_penalty_known_value_and_gradient_for_linear_critic():
    real, fake = _batch(0)
    critic = nn.Linear(16, 1).double()
    with torch.no_grad():
        critic.weight.copy_(torch.randn(1, 16, generator=as_torch_generator(3), dtype=torch.float64))
        critic.weight.mul_(2.5 / critic.weight.norm())  # ||w|| = 2.5
    gp = gradient_penalty(lambda x: critic(x.flatten(1)).squeeze(1), real, fake, as_torch_generator(2))
    assert float(gp.detach()) == pytest.approx((2.5 - 1.0) ** 2, rel=1e-10)
    gp.backward()  # d/dw (||w|| - 1)^2 = 2 (||w|| - 1) w / ||w||
    w = critic.weight.detach()
    assert torch.allclose(critic.weight.grad, 2 * 1.5 * w / 2.5, rtol=1e-9, atol=1e-12)


def test_gradient_penalty_positive_for_nonlinear_critic_and_deterministic():
    real, fake = _batch(0)
    torch.manual_seed(0)
    critic = nn.Sequential(nn.Flatten(1), nn.Linear(16, 8), nn.Tanh(), nn.Linear(8, 1)).double()

    def fn(x):
        return critic(x).squeeze(1)

    a = gradient_penalty(fn, real, fake, as_torch_generator(4))
    assert float(a.detach()) > 1e-3
    assert torch.equal(a, gradient_penalty(fn, real, fake, as_torch_generator(4)))
    assert not torch.equal(a, gradient_penalty(fn, real, fake, as_torch_generator(5)))  # other interpolates
    a.backward()
    # every parameter but the last bias (which does not change grad_x D) receives a gradient
    assert all(p.grad is not None and torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0
               for p in list(critic.parameters())[:-1])


def test_gradient_penalty_passes_labels_and_validates():
    model = build_model("cgan", image_shape=(1, 4, 4), hidden=8)
    real, fake = _batch(0, dtype=torch.float32)
    labels = torch.arange(6) % 10
    gp = gradient_penalty(model.discriminate, real, fake, as_torch_generator(0), labels=labels)
    assert gp.ndim == 0 and torch.isfinite(gp)
    with pytest.raises(InvalidArgumentError, match="labels"):
        gradient_penalty(model.discriminate, real, fake, as_torch_generator(0))
    with pytest.raises(InvalidArgumentError, match="real/fake"):
        gradient_penalty(model.discriminate, real, fake[:3], as_torch_generator(0), labels=labels)
    with pytest.raises(InvalidArgumentError, match="generator"):
        gradient_penalty(model.discriminate, real, fake, None, labels=labels)


def test_wgan_gp_needs_a_discriminator_without_batch_norm():
    torch.manual_seed(0)
    with_bn = build_model("dcgan", image_shape=(1, 8, 8), base_width=4, norm="batch")
    without = build_model("dcgan", image_shape=(1, 8, 8), base_width=4, norm="none")
    with pytest.raises(InvalidArgumentError, match="norm='none'"):
        check_loss_compatible("wgan-gp", with_bn)
    check_loss_compatible("wgan-gp", without)
    for name in NAMES[:-1]:
        check_loss_compatible(name, with_bn)
    # the penalty on the DCGAN critic runs and reaches its parameters
    x = torch.rand(4, 1, 8, 8, generator=as_torch_generator(0)) * 2 - 1
    fake = without.decode(without.sample_latent(4, as_torch_generator(1))).detach()
    gp = gradient_penalty(without.discriminate, x, fake, as_torch_generator(2))
    gp.backward()
    assert torch.isfinite(gp) and without.discriminator.net.out.weight.grad is not None
