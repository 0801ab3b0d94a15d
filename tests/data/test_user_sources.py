import numpy as np
import pytest
import torch
from PIL import Image

from gmeval.data import as_image_data, as_uint8_nchw, load_array_file, load_image_folder
from gmeval.errors import CorruptFileError, EmptySourceError, InvalidArgumentError, ShapeMismatchError


def _img(path, arr, mode=None):
    Image.fromarray(arr, mode=mode).save(path)


def test_folder_grayscale_sorted(tmp_path):
    for i in range(3):
        _img(tmp_path / f"{i}.png", np.full((5, 4), 10 * i, np.uint8))
    (tmp_path / "notes.txt").write_text("ignored")
    d = load_image_folder(tmp_path)
    assert d.images.shape == (3, 1, 5, 4)
    assert [int(x) for x in d.images[:, 0, 0, 0]] == [0, 10, 20]


def test_folder_mixed_modes_rgb_and_alpha_on_black(tmp_path):
    _img(tmp_path / "a.png", np.full((4, 4), 200, np.uint8))  # L
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[..., 0] = 255
    rgba[..., 3] = 128  # half-transparent red
    _img(tmp_path / "b.png", rgba, "RGBA")
    Image.fromarray(np.full((4, 4, 3), 7, np.uint8)).save(tmp_path / "c.webp", lossless=True)
    Image.fromarray(np.full((4, 4, 3), 90, np.uint8)).save(tmp_path / "d.JPG", quality=100)
    d = load_image_folder(tmp_path)
    assert d.images.shape == (4, 3, 4, 4)
    assert (d.images[0] == 200).all()  # grayscale replicated
    assert abs(int(d.images[1, 0, 0, 0]) - 128) <= 1 and d.images[1, 1:].max() == 0  # composited on black
    assert (d.images[2] == 7).all()
    assert abs(int(d.images[3].mean()) - 90) <= 2


def test_folder_mixed_sizes(tmp_path):
    _img(tmp_path / "a.png", np.zeros((4, 4), np.uint8))
    _img(tmp_path / "b.png", np.zeros((6, 5), np.uint8))
    with pytest.raises(ShapeMismatchError, match=r"a\.png is 4x4.*b\.png is 5x6"):
        load_image_folder(tmp_path)
    assert load_image_folder(tmp_path, size=(8, 8)).images.shape == (2, 1, 8, 8)


def test_folder_corrupt_and_empty(tmp_path):
    (tmp_path / "e").mkdir()
    with pytest.raises(EmptySourceError, match="no image files"):
        load_image_folder(tmp_path / "e")
    _img(tmp_path / "ok.png", np.zeros((4, 4), np.uint8))
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage")
    with pytest.raises(CorruptFileError, match="broken.png"):
        load_image_folder(tmp_path)
    with pytest.raises(InvalidArgumentError, match="existing directory"):
        load_image_folder(tmp_path / "missing")


def test_array_files(tmp_path):
    x = np.random.default_rng(0).random((5, 6, 6, 3))
    np.savez(tmp_path / "a.npz", images=x, labels=np.arange(5))
    d = load_array_file(tmp_path / "a.npz")
    assert d.images.shape == (5, 3, 6, 6) and d.labels.tolist() == [0, 1, 2, 3, 4]
    np.testing.assert_array_equal(d.images, np.round(x * 255).astype(np.uint8).transpose(0, 3, 1, 2))
    np.save(tmp_path / "b.npy", np.zeros((2, 1, 3, 3), np.uint8))
    assert load_array_file(tmp_path / "b.npy").images.shape == (2, 1, 3, 3)
    np.savez(tmp_path / "c.npz", foo=np.zeros(3), bar=np.zeros(3))
    with pytest.raises(Exception, match=r"c\.npz.*no image array"):
        load_array_file(tmp_path / "c.npz")
    (tmp_path / "d.npz").write_bytes(b"PK\x03\x04broken")
    with pytest.raises(CorruptFileError, match="d.npz"):
        load_array_file(tmp_path / "d.npz")
    np.savez(tmp_path / "e.npz", images=np.zeros((3, 4, 4), np.uint8), labels=np.arange(2))
    with pytest.raises(ShapeMismatchError, match="labels"):
        load_array_file(tmp_path / "e.npz")


def test_canonical_conversion_errors():
    with pytest.raises(InvalidArgumentError, match=r"floating point in \[0, 1\]"):
        as_uint8_nchw(np.full((1, 1, 2, 2), 2.0))
    with pytest.raises(ShapeMismatchError, match="1 or 3 channels"):
        as_uint8_nchw(np.zeros((2, 5, 4, 4), np.uint8))
    with pytest.raises(ShapeMismatchError):
        as_uint8_nchw(np.zeros((4, 4), np.uint8))
    with pytest.raises(InvalidArgumentError, match=r"integers in \[0, 255\]"):
        as_uint8_nchw(np.full((1, 1, 2, 2), 300, np.int64))
    with pytest.raises(EmptySourceError):
        as_uint8_nchw(np.zeros((0, 1, 2, 2), np.uint8))


def test_iterables_and_tensors():
    t = torch.rand(3, 1, 4, 4)
    assert as_image_data(t).images.shape == (3, 1, 4, 4)
    batches = [(torch.zeros(2, 1, 4, 4), torch.tensor([1, 2])), (torch.ones(1, 1, 4, 4), torch.tensor([3]))]
    d = as_image_data(batches)
    assert d.images.shape == (3, 1, 4, 4) and d.labels.tolist() == [1, 2, 3] and d.images[2].max() == 255
    with pytest.raises(ShapeMismatchError, match="item 1"):
        as_image_data([np.zeros((1, 1, 4, 4), np.uint8), np.zeros((1, 1, 5, 5), np.uint8)])
    with pytest.raises(EmptySourceError):
        as_image_data(iter([]))
