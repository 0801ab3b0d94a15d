"""Shapes, the sampling contract, autoencoder priors and the VAE objective of every model.

Tolerances (docs/tolerances.md): torch.equal / exact equalities are B1-B5 (same machine and threads);
`approx`/`allclose` bounds are T1 (float64 formulas) or T3 (float32 across shapes), as each states.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from gmeval.errors import InvalidArgumentError
from gmeval.models import MODELS, build_model
from gmeval.models.autoencoder import PRIOR_RIDGE, LatentPriorNotFittedError
from gmeval.utils.seeding import as_torch_generator

SHAPES = [(1, 8, 8), (1, 28, 28), (3, 32, 32)]
GANS = ["mlp-gan", "dcgan", "cgan"]
AUTOENCODERS = ["ae", "conv-ae"]
ALL = GANS + AUTOENCODERS + ["vae"]
#: small configs for the contract tests (the shape tests use the defaults)
SMALL = {"mlp-gan": {"hidden": 16}, "dcgan": {"base_width": 4}, "cgan": {"hidden": 16}, "ae": {"hidden": [16]},
         "conv-ae": {"base_width": 4}, "vae": {"hidden": [16]}}


def make(name, shape=(1, 28, 28), small=True, seed=0, **kw):
    torch.manual_seed(seed)  # layer initialisation (PyTorch's own init uses the global RNG)
    model = build_model(name, image_shape=shape, **({**SMALL[name], **kw} if small else kw))
    if model.kind == "autoencoder":
        g = as_torch_generator(seed)
        model.fit_latent_prior(torch.randn(64, model.latent_dim, generator=g) * 0.5 + 0.1)
    return model


def test_registry_lists_every_model():
    assert set(ALL) <= set(MODELS)
    kinds = {name: MODELS[name].kind for name in ALL}
    assert kinds == {"mlp-gan": "gan", "dcgan": "gan", "cgan": "gan", "ae": "autoencoder",
                     "conv-ae": "autoencoder", "vae": "vae"}
    assert {MODELS[n].output_range for n in ALL} <= {"unit", "tanh"}
    assert MODELS["dcgan"].output_range == "tanh" and MODELS["cgan"].conditional and not MODELS["dcgan"].conditional


# -- shapes ---------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", GANS)
@torch.no_grad()
def test_gan_shapes(name, shape):
    model = make(name, shape, small=False)
    n = 4
    z = model.sample_latent(n, as_torch_generator(0))
    assert z.shape == (n, model.latent_dim)
    labels = torch.tensor([0, 3, 9, 1]) if model.conditional else None
    x = model.decode(z, labels)
    assert x.shape == (n, *shape) and x.dtype == torch.float32
    lo, hi = (-1.0, 1.0) if model.output_range == "tanh" else (0.0, 1.0)
    assert float(x.min()) >= lo and float(x.max()) <= hi
    logits = model.discriminate(x, labels)
    assert logits.shape == (n,) and torch.isfinite(logits).all()
    assert isinstance(model.generator, nn.Module) and isinstance(model.discriminator, nn.Module)
    # generator and discriminator are disjoint parameter sets (separate optimisers)
    assert not {id(p) for p in model.generator.parameters()} & {id(p) for p in model.discriminator.parameters()}


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", AUTOENCODERS + ["vae"])
@torch.no_grad()
def test_encoder_decoder_shapes(name, shape):
    model = make(name, shape, small=False)
    x = torch.rand(4, *shape, generator=as_torch_generator(1))
    if model.kind == "vae":
        mu, logvar = model.encode(x)
        assert mu.shape == logvar.shape == (4, model.latent_dim)
        z = mu
        out = model.negative_elbo(x, as_torch_generator(0))
        assert out["per_sample"].shape == (4,) and out["loss"].ndim == 0
    else:
        z = model.encode(x)
        assert z.shape == (4, model.latent_dim)
        assert model.reconstruct(x).shape == (4, *shape)
        loss = model.reconstruction_loss(x)
        assert loss.ndim == 0 and torch.isfinite(loss)
    assert model.decode_logits(z).shape == (4, *shape)
    y = model.decode(z)
    assert y.shape == (4, *shape) and float(y.min()) >= 0.0 and float(y.max()) <= 1.0


@pytest.mark.parametrize("name", ["dcgan", "conv-ae"])
@pytest.mark.parametrize("shape", [(1, 16, 16), (1, 28, 32), (1, 64, 64), (28, 28)])
def test_conv_models_reject_unsupported_shapes(name, shape):
    with pytest.raises(InvalidArgumentError, match=r"image_shape.*\(C, 8, 8\), \(C, 28, 28\), \(C, 32, 32\)"):
        build_model(name, image_shape=shape)


@pytest.mark.parametrize("name", ["cgan", "ae", "vae", "dcgan", "conv-ae"])
def test_models_reject_malformed_shapes(name):
    for bad in [(28, 28), (1, 0, 28), "abc"]:
        with pytest.raises(InvalidArgumentError, match="image_shape"):
            build_model(name, image_shape=bad)


def test_cgan_batch_norm_option():
    with_bn, without = make("cgan", batch_norm=True), make("cgan", batch_norm=False)
    assert any(isinstance(m, nn.BatchNorm1d) for m in with_bn.generator.modules())
    assert not any(isinstance(m, nn.BatchNorm1d) for m in without.modules())
    assert not any(isinstance(m, nn.BatchNorm1d) for m in with_bn.discriminator.modules())  # wgan-gp compatible
    assert without.sample(4, seed=0).shape == (4, 1, 28, 28)


def test_dcgan_norm_option():
    def has_bn(m):
        return any(isinstance(x, nn.BatchNorm2d) for x in m.modules())

    batch = make("dcgan", norm="batch")
    none = make("dcgan", norm="none")
    assert has_bn(batch.discriminator) and not has_bn(none.discriminator)
    assert has_bn(none.generator)  # G keeps batch norm either way (Radford et al.)
    with pytest.raises(InvalidArgumentError, match=r"norm.*\('batch', 'none'\).*'layer'"):
        build_model("dcgan", norm="layer")


@pytest.mark.parametrize("name", ALL)
def test_config_rebuilds_an_identical_model(name):
    model = make(name, (1, 8, 8), latent_dim=6)
    clone = build_model(name, **model.config())
    clone.load_state_dict(model.state_dict())  # strict: same architecture, incl. prior buffers
    assert clone.config() == model.config()
    assert torch.equal(clone.sample(5, seed=3), model.sample(5, seed=3))


# -- the sampling contract ------------------------------------------------------------------
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", ALL)
def test_sampling_contract(name, shape):
    model = make(name, shape)
    model.train()
    a = model.sample(6, seed=11)
    assert a.dtype == torch.uint8 and a.shape == (6, *shape)
    assert model.training  # sample() restores the mode it found
    assert torch.equal(a, model.sample(6, seed=11))
    assert not torch.equal(a, model.sample(6, seed=12))
    assert torch.equal(a, model.sample(6, generator=as_torch_generator(11)))
    # an explicit generator is consumed: two draws from one generator differ
    g = as_torch_generator(11)
    first, second = model.sample(6, generator=g), model.sample(6, generator=g)
    assert torch.equal(first, a) and not torch.equal(first, second)


@pytest.mark.parametrize("name", [n for n in ALL if n != "cgan"])
def test_labels_rejected_on_unconditional_models(name):
    with pytest.raises(InvalidArgumentError, match="labels"):
        make(name).sample(4, seed=0, labels=[0, 1, 2, 3])


def test_conditional_labels_are_respected():
    model = make("cgan", (1, 8, 8))
    y = torch.tensor([3, 3, 7, 0, 9])
    imgs = model.sample(5, seed=4, labels=y)
    # sample() == decode(the contract's latents, the given labels), in one fixed-shape block
    from gmeval.models.base import DECODE_BLOCK

    z = model.sample_latent(DECODE_BLOCK, as_torch_generator(4))
    y_block = torch.cat([y, y[-1:].expand(DECODE_BLOCK - 5)])
    model.eval()  # sample() decodes in eval mode (batch norm running statistics)
    with torch.no_grad():
        assert torch.equal(imgs, model.to_uint8(model.decode(z, y_block))[:5])
    z = z[:5]
    # same latents, different classes -> different images
    zeros = model.sample(5, seed=4, labels=torch.zeros(5, dtype=torch.long))
    ones = model.sample(5, seed=4, labels=torch.ones(5, dtype=torch.long))
    assert not torch.equal(zeros, ones)
    # default labels are balanced 0..K-1
    assert torch.equal(model.sample(20, seed=4), model.sample(20, seed=4, labels=torch.arange(20) % 10))
    for bad in ([0, 1, 10, 2, 3], [0, 1], [-1, 0, 0, 0, 0]):
        with pytest.raises(InvalidArgumentError, match="labels"):
            model.sample(5, seed=0, labels=bad)
    x = model.decode(z, y)
    with pytest.raises(InvalidArgumentError, match="labels"):
        model.discriminate(x)
    with pytest.raises(InvalidArgumentError, match="labels"):
        model.discriminate(x, torch.rand(5))
    # the discriminator sees the label: same image, different label -> different logit
    assert not torch.allclose(model.discriminate(x, y), model.discriminate(x, (y + 1) % 10))


# -- autoencoders: ex-post density estimation -------------------------------------------------
@pytest.mark.parametrize("name", AUTOENCODERS)
def test_autoencoder_sampling_needs_a_fitted_prior(name):
    model = build_model(name, image_shape=(1, 8, 8), **SMALL[name])
    assert not model.latent_prior_fitted
    with pytest.raises(LatentPriorNotFittedError, match=r"fit_latent_prior"):
        model.sample(3, seed=0)
    model.fit_latent_prior(torch.randn(10, model.latent_dim, generator=as_torch_generator(0)))
    assert model.latent_prior_fitted and model.sample(3, seed=0).shape == (3, 1, 8, 8)
    for key in ("prior_mean", "prior_scale_tril", "prior_fitted"):
        assert key in model.state_dict()
    fresh = build_model(name, **model.config())
    fresh.load_state_dict(model.state_dict())  # the prior travels with the weights
    assert torch.equal(fresh.sample(3, seed=5), model.sample(3, seed=5))


def test_latent_prior_matches_float64_estimate_and_sampling_distribution():
    model = build_model("ae", image_shape=(1, 8, 8), latent_dim=3, hidden=[8])
    rng = np.random.default_rng(0)
    true_cov = np.array([[2.0, 0.6, 0.0], [0.6, 1.0, -0.3], [0.0, -0.3, 0.5]])
    z = rng.multivariate_normal([1.0, -2.0, 0.5], true_cov, size=500)
    model.fit_latent_prior(torch.from_numpy(z).float())
    mean, tril = model.prior_mean.double().numpy(), model.prior_scale_tril.double().numpy()
    z32 = torch.from_numpy(z).float().double().numpy()  # the codes as the model saw them
    cov = np.cov(z32, rowvar=False)
    ridge = PRIOR_RIDGE * np.trace(cov) / 3
    np.testing.assert_allclose(mean, z32.mean(0), rtol=1e-6, atol=1e-6)  # float32 storage
    np.testing.assert_allclose(tril @ tril.T, cov + ridge * np.eye(3), rtol=1e-5, atol=1e-6)
    assert np.allclose(tril, np.tril(tril))
    # 40000 draws: sample moments within 0.05 of the fitted ones (standard errors ~0.01)
    draws = model.sample_latent(40000, as_torch_generator(1)).double().numpy()
    np.testing.assert_allclose(draws.mean(0), mean, atol=0.05)
    np.testing.assert_allclose(np.cov(draws, rowvar=False), tril @ tril.T, atol=0.05)


def test_fit_latent_prior_rejects_bad_codes():
    model = build_model("ae", image_shape=(1, 8, 8), latent_dim=3, hidden=[8])
    for bad in (torch.zeros(10, 4), torch.zeros(1, 3), torch.zeros(10), torch.full((5, 3), float("nan"))):
        with pytest.raises(InvalidArgumentError, match="z_train"):
            model.fit_latent_prior(bad)
    model.fit_latent_prior(torch.zeros(10, 3))  # degenerate codes: the ridge keeps Cholesky defined
    assert torch.isfinite(model.prior_scale_tril).all() and model.latent_prior_fitted


@pytest.mark.parametrize("name", AUTOENCODERS)
def test_reconstruction_loss_is_per_image_bernoulli_cross_entropy(name):
    model = make(name, (1, 8, 8)).double()
    x = torch.rand(5, 1, 8, 8, generator=as_torch_generator(2), dtype=torch.float64)
    p = model.reconstruct(x).detach().numpy()
    xn = x.numpy()
    by_hand = -(xn * np.log(p) + (1 - xn) * np.log(1 - p)).reshape(5, -1).sum(1).mean()
    assert float(model.reconstruction_loss(x).detach()) == pytest.approx(by_hand, rel=1e-9)


def test_encode_images_uses_model_range_and_eval_mode():
    model = make("conv-ae", (1, 8, 8))
    model.train()
    imgs = torch.randint(0, 256, (7, 1, 8, 8), dtype=torch.uint8, generator=as_torch_generator(0))
    z = model.encode_images(imgs, batch_size=3)
    assert z.shape == (7, model.latent_dim) and model.training
    with torch.no_grad():
        assert torch.allclose(z, model.encode(imgs.float() / 255.0), atol=1e-6)


# -- VAE ------------------------------------------------------------------------------------
def _tiny_vae(**kw):
    """Linear encoder/decoder (hidden=[]) on 1 x 1 x 3 images, float64: computable by hand."""
    return build_model("vae", image_shape=(1, 1, 3), latent_dim=2, hidden=[], **kw).double()


def test_negative_elbo_zero_weights_is_d_log_2():
    model = _tiny_vae()
    for p in model.parameters():
        nn.init.zeros_(p)
    # mu = 0, logvar = 0 -> KL = 0; logits = 0 -> -log p(x|z) = 3 log 2 for binary AND continuous x
    x = torch.tensor([[[[1.0, 0.0, 1.0]]], [[[0.2, 0.5, 0.9]]]], dtype=torch.float64)
    out = model.negative_elbo(x, as_torch_generator(0))
    assert torch.allclose(out["kl"], torch.zeros((), dtype=torch.float64), atol=1e-15)
    assert torch.allclose(out["per_sample"], torch.full((2,), 3 * math.log(2), dtype=torch.float64), atol=1e-12)
    assert float(model.bits_per_dim(out["loss"].detach())) == pytest.approx(1.0, abs=1e-12)  # 3 ln2 / (3 ln2)


def test_negative_elbo_matches_hand_computation():
    model = _tiny_vae()
    gw = as_torch_generator(7)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=gw, dtype=torch.float64) * 0.7)
    x = torch.rand(4, 1, 1, 3, generator=as_torch_generator(3), dtype=torch.float64)
    out = model.negative_elbo(x, as_torch_generator(5))

    # by hand, numpy float64: encoder Linear(3 -> 4) = [mu, logvar], decoder Linear(2 -> 3)
    enc, dec = model.encoder[1][0], model.decoder[0]
    We, be = enc.weight.detach().numpy(), enc.bias.detach().numpy()
    Wd, bd = dec.weight.detach().numpy(), dec.bias.detach().numpy()
    xf = x.numpy().reshape(4, 3)
    h = xf @ We.T + be
    mu, logvar = h[:, :2], h[:, 2:]
    eps = torch.randn(4, 2, generator=as_torch_generator(5), dtype=torch.float64).numpy()  # same noise stream
    z = mu + np.exp(logvar / 2) * eps
    logits = z @ Wd.T + bd
    prob = 1 / (1 + np.exp(-logits))
    recon = -(xf * np.log(prob) + (1 - xf) * np.log(1 - prob)).sum(1)
    kl = 0.5 * (mu ** 2 + np.exp(logvar) - 1 - logvar).sum(1)
    np.testing.assert_allclose(out["per_sample"].detach().numpy(), recon + kl, rtol=1e-12)
    assert float(out["recon"].detach()) == pytest.approx(recon.mean(), rel=1e-12)
    assert float(out["kl"].detach()) == pytest.approx(kl.mean(), rel=1e-12)
    assert float(out["loss"].detach()) == pytest.approx((recon + kl).mean(), rel=1e-12)


def test_negative_elbo_is_deterministic_given_the_generator():
    model = make("vae", (1, 8, 8))
    x = torch.rand(8, 1, 8, 8, generator=as_torch_generator(0))
    torch.manual_seed(123)
    a = model.negative_elbo(x, as_torch_generator(1))
    torch.manual_seed(456)  # the global RNG plays no part
    b = model.negative_elbo(x, as_torch_generator(1))
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not torch.equal(a["per_sample"], model.negative_elbo(x, as_torch_generator(2))["per_sample"])
    g = as_torch_generator(1)
    first, second = model.negative_elbo(x, g), model.negative_elbo(x, g)
    assert torch.equal(first["loss"], a["loss"]) and not torch.equal(first["loss"], second["loss"])
    for bad in (None, 1):
        with pytest.raises(InvalidArgumentError, match="generator"):
            model.negative_elbo(x, bad)


def test_negative_elbo_gradients_reach_encoder_and_decoder():
    model = make("vae", (1, 8, 8))
    x = torch.rand(8, 1, 8, 8, generator=as_torch_generator(0))
    model.negative_elbo(x, as_torch_generator(0))["loss"].backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())
    assert float(model.encoder[1][0].weight.grad.abs().sum()) > 0


# -- a few optimisation steps actually learn (digits, 8x8) -------------------------------------
@pytest.mark.parametrize("name", ["ae", "conv-ae", "vae"])
def test_objectives_decrease_on_digits(name):
    from sklearn.datasets import load_digits

    x = torch.from_numpy(load_digits().images[:256] / 16.0).float().unsqueeze(1)  # 256 x 1 x 8 x 8 in [0, 1]
    size = {"ae": {"hidden": [64]}, "conv-ae": {"base_width": 8}, "vae": {"hidden": [64]}}[name]
    model = make(name, (1, 8, 8), small=False, latent_dim=8, **size)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    g = as_torch_generator(0)

    def objective():
        return model.negative_elbo(x, g)["loss"] if name == "vae" else model.reconstruction_loss(x)

    start = float(objective().detach())
    for _ in range(100):
        opt.zero_grad()
        loss = objective()
        loss.backward()
        opt.step()
    end = float(objective().detach())
    assert end < 0.8 * start, (start, end)


@pytest.mark.parametrize("name", ["mlp-gan", "vae", "cgan", "dcgan"])
def test_samples_are_a_prefix_bitwise(name):
    """Guarantee B1 (docs/tolerances.md): on one machine and thread count, sample i is the same bits for
    any n > i. True by construction: every decoder pass has DECODE_BLOCK rows (padding dropped)."""
    from gmeval.models import build_model
    from gmeval.models.base import DECODE_BLOCK

    torch.manual_seed(0)
    model = build_model(name, image_shape=(1, 28, 28), latent_dim=7)  # 7: not a multiple of 16
    if model.kind == "autoencoder":
        model.fit_latent_prior(torch.randn(20, model.latent_dim, generator=as_torch_generator(0)))
    n = 2 * DECODE_BLOCK + 13
    full = model.sample(n, seed=3)
    for k in (1, 7, DECODE_BLOCK, DECODE_BLOCK + 1, n - 1):
        assert torch.equal(model.sample(k, seed=3), full[:k]), k  # cgan: default labels arange(k) % 10 are a prefix too


def test_decoder_sees_only_fixed_shape_batches():
    from gmeval.models import build_model
    from gmeval.models.base import DECODE_BLOCK

    model = build_model("mlp-gan", image_shape=(1, 8, 8), latent_dim=4)
    shapes = []
    decode = model.decode
    model.decode = lambda z, y=None: shapes.append(tuple(z.shape)) or decode(z, y)
    assert model.sample(DECODE_BLOCK + 3, seed=0).shape[0] == DECODE_BLOCK + 3
    assert model.sample(1, seed=0).shape[0] == 1
    assert shapes == [(DECODE_BLOCK, 4)] * 3
