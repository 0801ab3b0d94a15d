"""DCGAN (Radford, Metz & Chintala, ICLR 2016, "Unsupervised Representation Learning with Deep
Convolutional Generative Adversarial Networks"), sized for 8x8, 28x28 and 32x32 images.

Architecture guidelines of the paper (section 3) that this follows:
- no pooling: strided convolutions in D, fractionally strided (transposed) convolutions in G;
- batch norm in G (all layers but the output) and, optionally, in D (all layers but the input);
- ReLU in G with tanh at the output; LeakyReLU(0.2) in D;
- weights initialised from N(0, 0.02) (batch-norm scales from N(1, 0.02)).
The paper's D ends in a sigmoid; ours ends in a linear layer returning a logit (the losses in
`gmeval.training.losses` take logits).

The conv stacks are built from one spatial plan per image size (`CONV_PLANS`); the
convolutional autoencoder (`autoencoder.py`) reuses the same builders.
"""

from __future__ import annotations

from torch import nn

from ..errors import InvalidArgumentError
from .base import GenerativeModel
from .registry import register_model

#: image side -> (side at the lowest resolution, number of stride-2 stages)
#: every stage is a 4x4 kernel, stride 2, padding 1 (doubles or halves the side exactly)
CONV_PLANS: dict[int, tuple[int, int]] = {8: (2, 2), 28: (7, 2), 32: (4, 3)}

NORMS = ("batch", "none")


def check_image_shape(image_shape, model: str) -> tuple[int, int, int]:
    """Validate a (C, H, W) triple of positive ints.

    Args:
        image_shape: the shape to check (any sequence of ints).
        model: the model's name, for the error message.

    Returns:
        The shape as a tuple of ints.

    Raises:
        InvalidArgumentError: not three positive integers.

    Example:
        >>> check_image_shape([1, 28, 28], "vae")
        (1, 28, 28)
        >>> check_image_shape((28, 28), "vae")
        Traceback (most recent call last):
        ...
        gmeval.errors.InvalidArgumentError: Argument `image_shape` must be three positive integers (C, H, W) for model 'vae', but got (28, 28).
    """
    try:
        shape = tuple(int(s) for s in image_shape)
    except (TypeError, ValueError):
        shape = ()
    if len(shape) != 3 or min(shape) < 1:
        raise InvalidArgumentError("image_shape", f"three positive integers (C, H, W) for model {model!r}", image_shape)
    return shape


def conv_plan(image_shape, model: str) -> tuple[int, int]:
    """The spatial plan of the conv models for a square image: (side at the lowest resolution, number of stride-2 stages).

    Args:
        image_shape: (C, H, W) with H = W in `CONV_PLANS` (8, 28 or 32).
        model: the model's name, for the error message.

    Returns:
        (start side, stages).

    Raises:
        InvalidArgumentError: an unsupported shape.

    Example:
        >>> conv_plan((1, 28, 28), "dcgan"), conv_plan((3, 32, 32), "dcgan")
        ((7, 2), (4, 3))
    """
    allowed = ", ".join(f"(C, {s}, {s})" for s in sorted(CONV_PLANS))
    try:
        c, h, w = check_image_shape(image_shape, model)
    except InvalidArgumentError:
        h, w = 0, -1
    if h != w or h not in CONV_PLANS:
        raise InvalidArgumentError("image_shape", f"one of {allowed} with C >= 1 for model {model!r}", image_shape)
    return CONV_PLANS[h]


class ConvDecoder(nn.Module):
    """Latent -> image: linear projection, reshape, then stride-2 transposed convolutions.

    Channels: base_width * 2^(stages-1) at the lowest resolution, halved at every stage, and C at the
    output. `batch_norm` adds BatchNorm after the projection and after every hidden transposed conv
    (DCGAN generator); `out_act` is applied at the end (None = logits).

    Args:
        latent_dim: input size.
        image_shape: (C, H, W), a shape `conv_plan` supports.
        base_width: channels of the last hidden layer.
        batch_norm: use batch norm (and no biases before it).
        out_act: the output activation module, or None.

    Raises:
        InvalidArgumentError: an unsupported image shape.

    Example:
        >>> import torch
        >>> ConvDecoder(4, (1, 28, 28), 8, batch_norm=False, out_act=None)(torch.zeros(2, 4)).shape
        torch.Size([2, 1, 28, 28])
    """

    def __init__(self, latent_dim: int, image_shape, base_width: int, batch_norm: bool, out_act: nn.Module | None):
        super().__init__()
        c = image_shape[0]
        start, stages = conv_plan(image_shape, "conv decoder")
        top = base_width * 2 ** (stages - 1)
        self.top, self.start = top, start
        self.project = nn.Linear(latent_dim, top * start * start, bias=not batch_norm)
        head: list[nn.Module] = [nn.BatchNorm2d(top)] if batch_norm else []
        head.append(nn.ReLU())
        self.head = nn.Sequential(*head)
        layers: list[nn.Module] = []
        ch = top
        for _ in range(stages - 1):
            layers.append(nn.ConvTranspose2d(ch, ch // 2, 4, 2, 1, bias=not batch_norm))
            if batch_norm:
                layers.append(nn.BatchNorm2d(ch // 2))
            layers.append(nn.ReLU())
            ch //= 2
        layers.append(nn.ConvTranspose2d(ch, c, 4, 2, 1))
        if out_act is not None:
            layers.append(out_act)
        self.body = nn.Sequential(*layers)

    def forward(self, z):  # N x latent
        """N x latent -> N x C x H x W."""
        h = self.project(z).view(-1, self.top, self.start, self.start)  # N x top x s0 x s0
        return self.body(self.head(h))  # N x C x H x W


class ConvEncoder(nn.Module):
    """Image -> vector: stride-2 convolutions (no norm on the first), flatten, linear to `out_dim`.

    Channels: base_width after the first conv, doubled at every further stage.

    Args:
        image_shape: (C, H, W), a shape `conv_plan` supports.
        base_width: channels of the first conv.
        out_dim: output size.
        norm: ``"batch"`` or ``"none"``.
        slope: LeakyReLU slope (0 gives ReLU).

    Raises:
        InvalidArgumentError: an unsupported image shape or norm.

    Example:
        >>> import torch
        >>> ConvEncoder((3, 32, 32), 8, 5)(torch.zeros(2, 3, 32, 32)).shape
        torch.Size([2, 5])
    """

    def __init__(self, image_shape, base_width: int, out_dim: int, norm: str = "none", slope: float = 0.2):
        super().__init__()
        if norm not in NORMS:
            raise InvalidArgumentError("norm", f"one of {NORMS}", norm)
        c = image_shape[0]
        start, stages = conv_plan(image_shape, "conv encoder")

        def act():
            return nn.LeakyReLU(slope) if slope > 0 else nn.ReLU()

        layers: list[nn.Module] = [nn.Conv2d(c, base_width, 4, 2, 1), act()]
        ch = base_width
        for _ in range(stages - 1):
            layers.append(nn.Conv2d(ch, ch * 2, 4, 2, 1, bias=norm == "none"))
            if norm == "batch":
                layers.append(nn.BatchNorm2d(ch * 2))
            layers.append(act())
            ch *= 2
        self.features = nn.Sequential(*layers)
        self.out = nn.Linear(ch * start * start, out_dim)

    def forward(self, x):  # N x C x H x W
        """N x C x H x W -> N x out_dim."""
        h = self.features(x)  # N x (base_width * 2^(stages-1)) x s0 x s0
        return self.out(h.flatten(1))  # N x out_dim


def dcgan_init_(module: nn.Module) -> None:
    """Radford et al. (2016) initialisation, in place: conv/linear weights ~ N(0, 0.02), biases 0,
    batch-norm scale ~ N(1, 0.02), shift 0.

    Draws from torch's global RNG, exactly like PyTorch's own default layer initialisation (the
    trainer seeds model construction).

    Args:
        module: the module whose layers are re-initialised.

    Example:
        >>> import torch
        >>> bn = torch.nn.BatchNorm2d(4); dcgan_init_(bn)
        >>> bn.bias.tolist(), bool((bn.weight - 1).abs().max() < 0.2)
        ([0.0, 0.0, 0.0, 0.0], True)
    """
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.modules.batchnorm._BatchNorm):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


class DCGANGenerator(ConvDecoder):
    """The DCGAN generator: a `ConvDecoder` with batch norm and a tanh output.

    Args:
        latent_dim: input size.
        image_shape: (C, H, W), a shape `conv_plan` supports.
        base_width: channels of the last hidden layer.

    Example:
        >>> import torch
        >>> g = DCGANGenerator(8, (1, 8, 8), 4).eval()
        >>> y = g(torch.zeros(2, 8)); y.shape, bool(y.abs().max() <= 1)
        (torch.Size([2, 1, 8, 8]), True)
    """
    def __init__(self, latent_dim: int, image_shape, base_width: int):
        super().__init__(latent_dim, image_shape, base_width, batch_norm=True, out_act=nn.Tanh())


class DCGANDiscriminator(nn.Module):
    """The DCGAN discriminator: a `ConvEncoder` to one logit per image.

    Args:
        image_shape: (C, H, W), a shape `conv_plan` supports.
        base_width: channels of the first conv.
        norm: ``"batch"`` or ``"none"``.
        slope: LeakyReLU slope.

    Example:
        >>> import torch
        >>> DCGANDiscriminator((1, 8, 8), 4, "none", 0.2)(torch.zeros(3, 1, 8, 8)).shape
        torch.Size([3])
    """
    def __init__(self, image_shape, base_width: int, norm: str, slope: float):
        super().__init__()
        self.net = ConvEncoder(image_shape, base_width, 1, norm=norm, slope=slope)

    def forward(self, x):  # N x C x H x W in [-1, 1] -> N logits
        """N x C x H x W in [-1, 1] -> N logits."""
        return self.net(x).squeeze(1)


@register_model("dcgan")
class DCGAN(GenerativeModel):
    """DCGAN ("dcgan") for (C, 8, 8), (C, 28, 28) or (C, 32, 32) images, output range [-1, 1] (tanh).

    Args:
        image_shape: (C, H, W), a shape `conv_plan` supports.
        latent_dim: the latent dimension.
        base_width: channels of D's first conv and of G's last hidden layer (doubled per stage).
        norm: ``"batch"`` (the paper) or ``"none"`` in the discriminator; use ``"none"`` with the
            wgan-gp loss, whose gradient penalty is defined per sample while batch norm mixes the
            samples of a batch (Gulrajani et al. 2017, section 4).
        slope: the discriminator's LeakyReLU slope.

    Raises:
        InvalidArgumentError: an unsupported image shape, norm or width.

    Example:
        >>> gan = DCGAN(image_shape=(1, 8, 8), latent_dim=8, base_width=4, norm="none")
        >>> x = gan.sample(2, seed=0)
        >>> x.dtype, gan.discriminate(gan.to_model_range(x)).shape
        (torch.uint8, torch.Size([2]))
    """

    kind = "gan"
    output_range = "tanh"

    def __init__(self, image_shape=(1, 28, 28), latent_dim: int = 100, base_width: int = 64, norm: str = "batch",
                 slope: float = 0.2):
        conv_plan(image_shape, "dcgan")
        if norm not in NORMS:
            raise InvalidArgumentError("norm", f"one of {NORMS}", norm)
        if int(base_width) < 1:
            raise InvalidArgumentError("base_width", "a positive integer", base_width)
        super().__init__(image_shape, latent_dim)
        self.base_width, self.norm, self.slope = int(base_width), norm, float(slope)
        self.generator = DCGANGenerator(self.latent_dim, self.image_shape, self.base_width)
        self.discriminator = DCGANDiscriminator(self.image_shape, self.base_width, norm, self.slope)
        dcgan_init_(self)

    def config(self) -> dict:
        """Constructor options that rebuild the model: ``image_shape``, ``latent_dim``, ``base_width``, ``norm``, ``slope``."""
        return {**super().config(), "base_width": self.base_width, "norm": self.norm, "slope": self.slope}

    def decode(self, z, labels=None):  # N x latent -> N x C x H x W in [-1, 1]
        """N x latent -> N x C x H x W in [-1, 1] (`labels` ignored)."""
        return self.generator(z)

    def discriminate(self, x, labels=None):  # images in [-1, 1] -> N logits
        """Images in [-1, 1] -> N logits (`labels` ignored)."""
        return self.discriminator(x)

