"""The one sampling contract every generative model follows.

    model.sample(n, seed=0)            -> torch.uint8 tensor, n x C x H x W (canonical form)
    model.sample(n, generator=g)       -> same, drawing from an explicit torch.Generator
    model.sample(n, seed=0, labels=y)  -> class-conditional models only

Evaluation and `gmeval sample` draw through `gmeval.sources.sample_images`, which samples in chunks of
1000 (chunk c seeded by derive_seed(seed, "sample-chunk", c); chunk 0 by the seed itself) so that the
set of samples does not depend on the number of processes; for n <= 1000 both give the same images.

Bitwise reproducibility by construction: `sample()` draws latents and decodes them in blocks of
exactly `DECODE_BLOCK` rows aligned to the sample index (the generator always advances by a whole
block; rows past n in the last block are dropped, and class labels of those rows are padded with the
last label). Every latent draw and forward pass therefore has the same shape whatever n is, and a
sample's row position inside its block depends only on its index, so on one machine with one thread count the images of indices [0, n) are the same bits for
any n and any chunking (float32 kernels choose code paths by batch shape; a fixed shape removes that
freedom). Across CPUs, instruction sets and thread counts, samples agree only to float32 rounding
(docs/tolerances.md).

Internally a model maps latents to images in its `output_range` ("unit": [0, 1] for sigmoid
outputs, "tanh": [-1, 1]); `to_model_range` / `to_uint8` convert between that and uint8, so
training and evaluation treat every model alike.
"""

from __future__ import annotations

import torch
from torch import nn

from ..errors import InvalidArgumentError
from ..utils.seeding import as_torch_generator


#: rows per decoder forward pass in sample(); divides SAMPLE_CHUNK (1000) so chunks stay aligned
DECODE_BLOCK = 100


class GenerativeModel(nn.Module):
    #: "gan", "autoencoder" or "vae": selects the training objective
    """Base class of every generative model: one sampling contract (see the module docstring).

    Subclasses set `kind`, `output_range` (and `conditional`), implement `decode` (and `config`
    when they add constructor options), and register with `register_model`.

    Args:
        image_shape: (C, H, W) of the images.
        latent_dim: the latent dimension.
        num_classes: the number of classes (conditional models), else 0.

    Example:
        >>> import torch
        >>> from gmeval.models import build_model
        >>> model = build_model("mlp-gan", image_shape=(1, 8, 8), latent_dim=4, hidden=16)
        >>> isinstance(model, GenerativeModel), model.kind, model.output_range
        (True, 'gan', 'unit')
        >>> x = model.sample(3, seed=0)
        >>> x.shape, x.dtype, torch.equal(x, model.sample(5, seed=0)[:3])
        (torch.Size([3, 1, 8, 8]), torch.uint8, True)
    """
    kind: str = "gan"
    #: registry name (set by the registry decorator)
    name: str = ""
    #: whether sample() accepts labels
    conditional: bool = False
    #: "unit" ([0, 1]) or "tanh" ([-1, 1])
    output_range: str = "unit"

    def __init__(self, image_shape=(1, 28, 28), latent_dim: int = 100, num_classes: int = 0):
        super().__init__()
        self.image_shape = tuple(int(s) for s in image_shape)
        self.latent_dim = int(latent_dim)
        self.num_classes = int(num_classes)

    # -- subclasses implement -------------------------------------------------------------
    def config(self) -> dict:
        """Constructor keyword arguments that rebuild this model (saved in checkpoints).

        Returns:
            A JSON-serialisable dict: ``build_model(model.name, **model.config())`` rebuilds the architecture.

        Example:
            >>> from gmeval.models import build_model
            >>> build_model("mlp-gan", image_shape=(1, 8, 8), latent_dim=4, hidden=16).config()
            {'image_shape': [1, 8, 8], 'latent_dim': 4, 'hidden': 16, 'slope': 0.2}
        """
        return {"image_shape": list(self.image_shape), "latent_dim": self.latent_dim}

    def sample_latent(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """Draw `n` latents from the model's prior (standard normal unless overridden).

        Args:
            n: how many.
            generator: the torch.Generator to draw from.

        Returns:
            float tensor n x latent_dim (CPU).
        """
        return torch.randn(n, self.latent_dim, generator=generator)

    def decode(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Latents -> images in the model's output range, N x C x H x W float.

        Args:
            z: latents N x latent_dim.
            labels: N class labels (conditional models; ignored otherwise).

        Returns:
            float tensor N x C x H x W in `output_range`.
        """
        raise NotImplementedError

    # -- shared -----------------------------------------------------------------------------
    def to_model_range(self, x_uint8: torch.Tensor) -> torch.Tensor:
        """uint8 pixels -> floats in the model's output range ([0, 1] or [-1, 1]).

        Args:
            x_uint8: uint8 tensor.

        Returns:
            float32 tensor of the same shape.

        Example:
            >>> import torch
            >>> from gmeval.models import build_model
            >>> model = build_model("dcgan", image_shape=(1, 8, 8), base_width=4)
            >>> model.to_model_range(torch.tensor([0, 255], dtype=torch.uint8)).tolist()
            [-1.0, 1.0]
        """
        x = x_uint8.float() / 255.0
        return x * 2.0 - 1.0 if self.output_range == "tanh" else x

    def to_unit(self, x: torch.Tensor) -> torch.Tensor:
        """Model-range floats -> [0, 1] floats (identity for ``output_range == "unit"``).

        Args:
            x: float tensor in the model's range.

        Returns:
            float tensor in [0, 1] (not clamped).
        """
        return (x + 1.0) / 2.0 if self.output_range == "tanh" else x

    def to_uint8(self, x: torch.Tensor) -> torch.Tensor:
        """Model-range floats -> uint8 pixels (clamped to the range, rounded).

        Args:
            x: float tensor in the model's range.

        Returns:
            uint8 tensor of the same shape.

        Example:
            >>> import torch
            >>> from gmeval.models import build_model
            >>> build_model("mlp-gan", image_shape=(1, 8, 8)).to_uint8(torch.tensor([-0.5, 0.5, 2.0])).tolist()
            [0, 128, 255]
        """
        return (self.to_unit(x).clamp(0.0, 1.0) * 255.0).round().to(torch.uint8)

    def default_labels(self, n: int) -> torch.Tensor:
        """Balanced labels 0, 1, ..., K-1, 0, 1, ... for conditional sampling.

        Args:
            n: how many.

        Returns:
            int64 tensor of n labels.

        Example:
            >>> from gmeval.models import build_model
            >>> build_model("cgan", image_shape=(1, 8, 8), num_classes=3).default_labels(5).tolist()
            [0, 1, 2, 0, 1]
        """
        return torch.arange(n) % max(self.num_classes, 1)

    @torch.no_grad()
    def sample(self, n: int, *, seed: int | None = None, generator: torch.Generator | None = None,
               labels=None) -> torch.Tensor:
        """Draw `n` images in canonical form, bitwise reproducible for a seed (module docstring).

        Args:
            n: how many images (a positive int).
            seed: an int seed (default 0 when neither `seed` nor `generator` is given).
            generator: an explicit torch.Generator instead of `seed`.
            labels: n class labels (conditional models only; default: `default_labels`).

        Returns:
            uint8 tensor n x C x H x W on the CPU.

        Raises:
            InvalidArgumentError: a bad `n`, both `seed` and `generator`, labels for an unconditional
                model, or labels out of range.
        """
        if not isinstance(n, int) or n < 1:
            raise InvalidArgumentError("n", "a positive integer", n)
        if seed is not None and generator is not None:
            raise InvalidArgumentError("seed/generator", "one of seed or generator, not both", "both")
        if labels is not None and not self.conditional:
            raise InvalidArgumentError("labels", f"None for the unconditional model {self.name!r}", "labels")
        g = as_torch_generator(generator if generator is not None else seed)
        if self.conditional:
            labels = self.default_labels(n) if labels is None else torch.as_tensor(labels, dtype=torch.long)
            if labels.shape != (n,) or int(labels.min()) < 0 or int(labels.max()) >= self.num_classes:
                raise InvalidArgumentError("labels", f"{n} integers in [0, {self.num_classes})", labels)
        was_training = self.training
        self.eval()
        device = next(self.parameters()).device
        out = []
        # latents and images in fixed-shape blocks (module docstring): the generator is advanced by
        # whole blocks, so block b's latents do not depend on n
        try:
            for start in range(0, n, DECODE_BLOCK):
                stop = min(start + DECODE_BLOCK, n)
                z = self.sample_latent(DECODE_BLOCK, g).to(device)
                y = None if labels is None else _pad_rows(labels[start:stop], DECODE_BLOCK).to(device)
                out.append(self.to_uint8(self.decode(z, y))[:stop - start].cpu())
        finally:
            self.train(was_training)
        return torch.cat(out)


def _pad_rows(t: torch.Tensor, rows: int) -> torch.Tensor:
    """`t` with its last row repeated up to `rows` rows (rows are independent in eval mode)."""
    missing = rows - t.shape[0]
    return t if missing == 0 else torch.cat([t, t[-1:].expand(missing, *t.shape[1:])])
