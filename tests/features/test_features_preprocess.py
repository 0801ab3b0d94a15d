"""Named Inception preprocessing: the TF1 resize formula, constants, antialiasing, grayscale.

Tolerances (docs/tolerances.md): torch.equal / exact equalities are B1-B5 (same machine and threads);
`approx`/`allclose` bounds are T1 (float64 formulas) or T3 (float32 across shapes), as each states.
"""

import numpy as np
import pytest
import torch

from gmeval.errors import InvalidArgumentError
from gmeval.features import PREPROCESSING, preprocess_images, to_rgb
from gmeval.features.preprocess import resize_pil_bicubic, resize_tf1_bilinear


def tf1_reference(img: np.ndarray, oh: int, ow: int) -> np.ndarray:
    """Direct four-corner TF1 ResizeBilinear (align_corners=False, no half-pixel), one pixel at a time.

    Source coordinates in float32 as TF computes them (``float scale = in / out; float in = i * scale``),
    the interpolation in float64.
    """
    h, w = img.shape
    out = np.empty((oh, ow))
    for i in range(oh):
        sy = float(np.float32(i) * np.float32(h / oh))
        y0 = int(np.floor(sy)); y1 = min(y0 + 1, h - 1); ty = sy - y0
        for j in range(ow):
            sx = float(np.float32(j) * np.float32(w / ow))
            x0 = int(np.floor(sx)); x1 = min(x0 + 1, w - 1); tx = sx - x0
            top = img[y0, x0] + (img[y0, x1] - img[y0, x0]) * tx
            bottom = img[y1, x0] + (img[y1, x1] - img[y1, x0]) * tx
            out[i, j] = top + (bottom - top) * ty
    return out


@pytest.mark.parametrize("shape,size", [((5, 7), (11, 13)), ((13, 11), (4, 5)), ((28, 28), (299, 299))])
def test_tf1_resize_matches_direct_formula(shape, size):
    rng = np.random.default_rng(1)
    img = rng.uniform(0, 255, size=shape)
    got = resize_tf1_bilinear(torch.tensor(img, dtype=torch.float32)[None, None], size)[0, 0].numpy()
    want = tf1_reference(img.astype(np.float32).astype(np.float64), *size)
    # float32 arithmetic vs float64 reference on values up to 255
    np.testing.assert_allclose(got, want, rtol=0, atol=255 * 1e-6)


def test_tf1_resize_semantics_no_half_pixel_offset():
    # 2x upsampling of [0, 10]: source coordinates 0, 0.5, 1, 1.5 (clamped) -> 0, 5, 10, 10.
    # align_corners=True would give 0, 3.33, 6.67, 10; half-pixel centres 0, 2.5, 7.5, 10.
    x = torch.tensor([[[[0.0, 10.0]]]])
    assert resize_tf1_bilinear(x, (1, 4))[0, 0, 0].tolist() == [0.0, 5.0, 10.0, 10.0]


def test_identity_size_is_exact():
    rng = np.random.default_rng(2)
    x = torch.from_numpy(rng.integers(0, 256, size=(2, 3, 299, 299), dtype=np.uint8))
    for name in PREPROCESSING:
        y = preprocess_images(x, name)
        want = (x.float() - 128) / 128 if name != "pytorch-fid" else 2 * (x.float() / 255) - 1
        assert torch.equal(y, want), name


@pytest.mark.parametrize("value", [0, 128, 255])
def test_normalisation_constants_on_uniform_images(value):
    x = torch.full((1, 1, 28, 28), value, dtype=torch.uint8)
    tf = (value - 128) / 128  # the TF graph: Sub 128, Mul 1/128 -> 255 maps to 0.9921875
    expected = {"tf1": tf, "clean": tf, "pytorch-fid": 2 * value / 255 - 1}
    for name, v in expected.items():
        y = preprocess_images(x, name)
        assert y.shape == (1, 3, 299, 299) and y.dtype == torch.float32
        # a constant image stays constant under every filter (bicubic weights sum to 1: float rounding only)
        assert torch.allclose(y, torch.full_like(y, v), rtol=0, atol=1e-5), name


def test_clean_is_antialiased_and_tf1_is_not():
    # a one-pixel checkerboard shrunk 2x: an antialiased filter returns ~ the mean grey everywhere,
    # TF1 bilinear samples pixel centres (source coordinates 2i, 2j, all the same colour) and aliases.
    checker = ((np.indices((598, 598)).sum(0) % 2) * 255).astype(np.uint8)[None, None]
    x = torch.from_numpy(checker)
    clean = preprocess_images(x, "clean")[0, 0] * 128 + 128
    tf1 = preprocess_images(x, "tf1")[0, 0] * 128 + 128
    inner = clean[4:-4, 4:-4]
    assert (inner - 127.5).abs().max() < 1.0
    assert tf1.std() < 1e-6 and abs(float(tf1.mean()) - 127.5) > 100  # aliased to one flat colour


def test_clean_clips_the_bicubic_overshoot_like_clean_fid():
    # clean-fid 0.1.35 (cleanfid/resize.py, mode "clean") clips the float Pillow bicubic output to [0, 255]
    # before its (x - 128) / 128. A sharp 0/255 edge makes bicubic overshoot on both sides.
    x = torch.zeros(1, 1, 28, 28, dtype=torch.uint8)
    x[..., 8:20, 8:20] = 255
    raw = resize_pil_bicubic(x.float())
    assert raw.min() < -5 and raw.max() > 260  # the overshoot exists
    y = preprocess_images(x, "clean")
    assert y.min() == -1.0 and y.max() == 127 / 128
    assert torch.equal(y[:, :1], (raw.clamp(0, 255) - 128) / 128)


def test_preprocessings_differ_on_upsampling(digits_u8):
    x = torch.from_numpy(digits_u8[:2])
    a, b, c = (preprocess_images(x, n) for n in ("tf1", "pytorch-fid", "clean"))
    assert (a - b).abs().max() > 0.05 and (a - c).abs().max() > 0.05 and (b - c).abs().max() > 0.05


def test_grayscale_replication_equals_rgb_copy(digits_u8):
    gray = torch.from_numpy(digits_u8[:3])
    rgb = gray.expand(-1, 3, -1, -1).contiguous()
    assert to_rgb(gray).shape == (3, 3, 8, 8) and torch.equal(to_rgb(gray), rgb)
    for name in PREPROCESSING:
        assert torch.equal(preprocess_images(gray, name), preprocess_images(rgb, name)), name


def test_unknown_preprocess_is_a_typed_error():
    with pytest.raises(InvalidArgumentError, match=r"`preprocess`.*clean.*pytorch-fid.*tf1.*'bicubic'"):
        preprocess_images(torch.zeros(1, 3, 8, 8, dtype=torch.uint8), "bicubic")
