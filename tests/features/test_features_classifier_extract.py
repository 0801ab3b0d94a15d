"""Classifier adapter, registry and the batched extraction loop (fast: small stand-in networks).

Tolerances (docs/tolerances.md): torch.equal / exact equalities are B1-B5 (same machine and threads);
`approx`/`allclose` bounds are T1 (float64 formulas) or T3 (float32 across shapes), as each states.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from gmeval.data import ImageData, load_dataset
from gmeval.errors import DataError, InvalidArgumentError, WeightsError
from gmeval.features import (
    EXTRACTORS, ClassifierExtractor, extract_features, extractor_options, get_extractor, to_classifier_input,
)
from ..tolerances import FEATURE_RTOL


class StandIn(nn.Module):
    """The classifier interface (features -> N x 128, forward -> N x 10 on N x 1 x 28 x 28), no `head`."""

    def __init__(self, seed=0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.w1 = nn.Parameter(torch.randn(128, 784, generator=g) * 0.05)
        self.w2 = nn.Parameter(torch.randn(10, 128, generator=g) * 0.1)
        self.weights_sha256 = "ab" * 32

    def features(self, x):
        return torch.relu(x.flatten(1) @ self.w1.T)

    def forward(self, x):
        return self.features(x) @ self.w2.T


def random_mnist_classifier(seed=0):
    """The project's classifier architecture with seeded random weights (global RNG state untouched)."""
    from gmeval.models.classifier import MNISTClassifier

    with torch.random.fork_rng():
        model = MNISTClassifier("mnist")
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.1)
    return model.eval()


@pytest.fixture(scope="module")
def gray_images():
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, size=(40, 1, 28, 28), dtype=np.uint8)


def test_adapter_matches_module_on_28x28(gray_images):
    net = StandIn()
    ext = ClassifierExtractor(net, "mnist")
    x = torch.from_numpy(gray_images[:10])
    out = ext(x)
    assert set(out) == {"features", "logits"} and ext.layers == {"features": 128, "logits": 10}
    with torch.no_grad():
        xf = x.float() / 255
        torch.testing.assert_close(out["features"], net.features(xf), rtol=0, atol=1e-6)
        torch.testing.assert_close(out["logits"], net(xf), rtol=0, atol=1e-6)


def test_adapter_one_pass_head_path_equals_forward(gray_images):
    net = random_mnist_classifier()
    ext = ClassifierExtractor(net, "mnist")
    x = torch.from_numpy(gray_images[:8])
    out = ext(x, ["features", "logits"])
    with torch.no_grad():
        torch.testing.assert_close(out["logits"], net(x.float() / 255), rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(ext(x, ["logits"])["logits"], out["logits"], rtol=1e-6, atol=1e-6)


def test_rgb_is_averaged_and_gray_replication_is_exact(gray_images):
    ext = ClassifierExtractor(StandIn(), "mnist")
    gray = torch.from_numpy(gray_images[:4])
    assert torch.equal(ext(gray.expand(-1, 3, -1, -1))["features"], ext(gray)["features"])
    rgb = torch.from_numpy(np.random.default_rng(1).integers(0, 256, size=(4, 3, 28, 28), dtype=np.uint8))
    want = (rgb.float() / 255).mean(1, keepdim=True)
    torch.testing.assert_close(to_classifier_input(rgb), want, rtol=0, atol=1e-7)


def test_resize_to_28_is_antialiased(gray_images):
    ext = ClassifierExtractor(StandIn(), "mnist")
    # a one-pixel checkerboard shrunk 3x: the antialiased filter gives ~flat grey (0.5 +- 0.01);
    # plain bilinear would sample single pixels and return 0 and 1
    checker = torch.from_numpy(((np.indices((84, 84)).sum(0) % 2) * 255).astype(np.uint8))[None, None]
    small = to_classifier_input(checker)
    assert small.shape == (1, 1, 28, 28) and (small - 0.5).abs().max() < 0.01
    plain = F.interpolate(checker.float() / 255, size=(28, 28), mode="bilinear", align_corners=False)
    assert (plain - 0.5).abs().max() > 0.4
    # constant images stay constant; 28x28 input is not resized at all
    flat = torch.full((2, 3, 56, 40), 200, dtype=torch.uint8)
    torch.testing.assert_close(to_classifier_input(flat), torch.full((2, 1, 28, 28), 200 / 255), rtol=0, atol=1e-6)
    x = torch.from_numpy(gray_images[:4])
    assert torch.equal(to_classifier_input(x), x.float() / 255)
    assert ext(x.repeat_interleave(2, 2).repeat_interleave(2, 3))["features"].shape == (4, 128)


def test_batch_size_independence_classifier(gray_images):
    """Batch sizes 1, 7, 64 on 40 images agree to FEATURE_RTOL * max |feature| (T3, docs/tolerances.md)."""
    ext = ClassifierExtractor(random_mnist_classifier(), "mnist")
    runs = {bs: extract_features(ext, gray_images, layers=["features", "logits"], batch_size=bs, progress=False)
            for bs in (1, 7, 64)}
    for layer in ("features", "logits"):
        base = runs[64][layer]
        for bs in (1, 7):
            np.testing.assert_allclose(runs[bs][layer], base, rtol=0, atol=FEATURE_RTOL * float(np.abs(base).max()))


def test_signature_classifier():
    sig = ClassifierExtractor(StandIn(), "fashion-mnist").signature()
    assert sig == {"extractor": "fashion-mnist", "weights": "ab" * 32, "layers": ["features", "logits"],
                   "preprocess": "gray-mean+bilinear-aa-28"}


# ------------------------------------------------------------------------------------------ extraction loop
def test_extract_inputs_outputs_and_defaults(gray_images, capsys):
    ext = ClassifierExtractor(StandIn(), "mnist")
    a = extract_features(ext, gray_images[:20], batch_size=8, progress=False)
    assert list(a) == ["features"] and a["features"].dtype == np.float32 and a["features"].shape == (20, 128)
    for variant in (ImageData(gray_images[:20]), torch.from_numpy(gray_images[:20]), gray_images[:20, 0],
                    np.repeat(gray_images[:20], 3, axis=1)):
        # B3: the same pixels and batches whatever the container: the same bits
        np.testing.assert_array_equal(extract_features(ext, variant, batch_size=8, progress=False)["features"], a["features"])
    assert capsys.readouterr().err == ""
    extract_features(ext, gray_images[:20], batch_size=8, progress=True, desc="probe")
    err = capsys.readouterr().err
    assert "probe" in err and "20/20" in err


def test_extract_restores_training_mode(gray_images):
    ext = ClassifierExtractor(StandIn(), "mnist")
    ext.train()
    extract_features(ext, gray_images[:4], progress=False)
    assert ext.training


def test_extract_argument_errors(gray_images):
    ext = ClassifierExtractor(StandIn(), "mnist")
    for bad in (0, -1, 2.5, True):
        with pytest.raises(InvalidArgumentError, match="`batch_size` must be a positive integer"):
            extract_features(ext, gray_images[:4], batch_size=bad, progress=False)
    with pytest.raises(InvalidArgumentError, match=r"`layers`.*'pool3'"):
        extract_features(ext, gray_images[:4], layers=["pool3"], progress=False)
    with pytest.raises(DataError):
        extract_features(ext, np.zeros((4, 2, 28, 28), dtype=np.uint8), progress=False)


# ------------------------------------------------------------------------------------------ registry
def test_registry_names_and_errors():
    assert {"inception", "mnist", "fashion-mnist"} <= set(EXTRACTORS)
    with pytest.raises(InvalidArgumentError, match=r"`extractor`.*fashion-mnist.*inception.*mnist.*'vgg'"):
        get_extractor("vgg")
    assert extractor_options("inception") == ["preprocess", "weights", "download", "allow_unverified", "precision"]
    with pytest.raises(InvalidArgumentError, match=r"inception option.*preprocess.*'resize'"):
        get_extractor("inception", resize="tf1")


@pytest.mark.parametrize("dataset,min_acc", [("mnist", 0.97), ("fashion-mnist", 0.85)])
def test_shipped_classifier_through_registry(dataset, min_acc):
    try:
        ext = get_extractor(dataset)
    except WeightsError as exc:
        pytest.skip(f"the shipped {dataset} classifier weights are absent: {exc}")
    try:
        data = load_dataset(f"{dataset}:test")
    except DataError as exc:
        pytest.skip(f"{dataset} test images are absent (set GMEVAL_DATA): {exc}")
    sig = ext.signature()
    assert sig["extractor"] == dataset and len(sig["weights"]) == 64
    n = 500
    out = extract_features(ext, data.subset(slice(0, n)), layers=["logits", "features"], batch_size=100, progress=False)
    assert out["features"].shape == (n, 128)
    acc = float((out["logits"].argmax(1) == data.labels[:n]).mean())
    assert acc >= min_acc, f"{dataset} classifier accuracy {acc:.3f} through the adapter"
