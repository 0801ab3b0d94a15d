import gzip
import hashlib
import io
import struct

import numpy as np
import pytest

from gmeval.data import load_dataset, parse_idx, read_idx, resolve_dataset_file, dataset_status
from gmeval.data.registry import parse_dataset_spec
from gmeval.errors import ChecksumError, CorruptFileError, DatasetNotFoundError, InvalidArgumentError
from tests.conftest import needs_mnist


def idx_bytes(arr: np.ndarray) -> bytes:
    assert arr.dtype == np.uint8
    return struct.pack(">HBB", 0, 0x08, arr.ndim) + struct.pack(">" + "I" * arr.ndim, *arr.shape) + arr.tobytes()


def test_parse_idx_roundtrip():
    arr = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    np.testing.assert_array_equal(parse_idx(idx_bytes(arr)), arr)


def test_parse_idx_wrong_magic():
    data = bytearray(idx_bytes(np.zeros((2, 2), np.uint8)))
    data[0] = 7
    with pytest.raises(CorruptFileError, match="wrong IDX magic"):
        parse_idx(bytes(data), "x.idx")


@pytest.mark.parametrize("cut,kind", [(-1, "short"), (+1, "long")])
def test_parse_idx_payload_length(cut, kind):
    data = idx_bytes(np.zeros((3, 4, 4), np.uint8))
    data = data[:cut] if cut < 0 else data + b"\0"
    with pytest.raises(CorruptFileError, match=f"too {kind}"):
        parse_idx(data, "f")


def test_parse_idx_header_truncated():
    with pytest.raises(CorruptFileError, match="header needs"):
        parse_idx(struct.pack(">HBB", 0, 8, 3) + b"\0\0\0\1", "f")
    with pytest.raises(CorruptFileError, match="shorter than its 4-byte magic"):
        parse_idx(b"\0\0", "f")


def test_truncated_gzip_names_file(tmp_path):
    p = tmp_path / "bad.gz"
    p.write_bytes(gzip.compress(idx_bytes(np.zeros((5, 5), np.uint8)))[:-12])
    with pytest.raises(CorruptFileError, match="bad.gz"):
        read_idx(p)


def _write_fake(root, dataset, name, payload: bytes):
    (root / dataset).mkdir(parents=True, exist_ok=True)
    (root / dataset / (name + ".gz")).write_bytes(gzip.compress(payload))


def test_checksum_mismatch_names_file(tmp_path):
    _write_fake(tmp_path, "mnist", "t10k-labels-idx1-ubyte", idx_bytes(np.zeros(10, np.uint8)))
    with pytest.raises(ChecksumError, match=r"t10k-labels-idx1-ubyte\.gz.*SHA-256"):
        load_dataset("mnist:test", root=tmp_path)


def test_resolution_order_explicit_root_wins(tmp_path, monkeypatch):
    payload = idx_bytes(np.arange(6, dtype=np.uint8))
    sha = hashlib.sha256(payload).hexdigest()
    a, b = tmp_path / "a", tmp_path / "b"
    _write_fake(a, "toy", "f", payload)
    _write_fake(b, "toy", "f", b"other")
    monkeypatch.setenv("GMEVAL_DATA", str(b))
    assert resolve_dataset_file("toy", "f", sha, root=a) == payload  # explicit root before $GMEVAL_DATA
    with pytest.raises(ChecksumError):
        resolve_dataset_file("toy", "f", sha)  # only $GMEVAL_DATA (bad copy) and the cache


def test_offline_missing_lists_places(tmp_path, monkeypatch):
    monkeypatch.delenv("GMEVAL_DATA", raising=False)
    with pytest.raises(DatasetNotFoundError) as exc:
        load_dataset("fashion-mnist:test", root=tmp_path / "nowhere")
    msg = str(exc.value)
    assert "nowhere" in msg and "user cache" in msg and "--data-root" in msg and "GMEVAL_DATA" in msg


class _Resp(io.BytesIO):
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


def test_download_verifies_and_caches_atomically(tmp_path, monkeypatch):
    import gmeval.data.files as files

    payload = idx_bytes(np.arange(12, dtype=np.uint8))
    sha = hashlib.sha256(payload).hexdigest()
    monkeypatch.delenv("GMEVAL_OFFLINE")
    monkeypatch.delenv("GMEVAL_DATA", raising=False)
    calls = []

    def fake_urlopen(url, timeout):
        calls.append(url)
        return _Resp(gzip.compress(payload if "good" in url else b"tampered"))

    monkeypatch.setattr(files.urllib.request, "urlopen", fake_urlopen)
    got = resolve_dataset_file("toy", "f", sha, mirrors=("https://bad.example", "https://good.example"))
    assert got == payload and len(calls) == 2
    cached = files.cache_dir("data") / "toy" / "f.gz"
    assert cached.is_file() and gzip.decompress(cached.read_bytes()) == payload
    assert not [p for p in cached.parent.iterdir() if p.name.endswith(".tmp")]
    # now served from the cache without any network call
    monkeypatch.setattr(files.urllib.request, "urlopen", lambda *a, **k: pytest.fail("network used"))
    assert resolve_dataset_file("toy", "f", sha, mirrors=("https://good.example",)) == payload


def test_download_bad_checksum_leaves_nothing(tmp_path, monkeypatch):
    import gmeval.data.files as files

    monkeypatch.delenv("GMEVAL_OFFLINE")
    monkeypatch.delenv("GMEVAL_DATA", raising=False)
    monkeypatch.setattr(files.urllib.request, "urlopen", lambda url, timeout: _Resp(gzip.compress(b"junk")))
    with pytest.raises(DatasetNotFoundError, match="wrong SHA-256"):
        resolve_dataset_file("toy2", "f", "0" * 64, mirrors=("https://m.example",))
    folder = files.cache_dir("data") / "toy2"
    assert not folder.exists() or not any(folder.iterdir())


def test_spec_parsing():
    assert parse_dataset_spec("mnist") == ("mnist", "train")
    assert parse_dataset_spec("Fashion-MNIST:test") == ("fashion-mnist", "test")
    with pytest.raises(InvalidArgumentError, match="must be one of"):
        parse_dataset_spec("cifar10:test")
    with pytest.raises(InvalidArgumentError, match="split"):
        parse_dataset_spec("mnist:valid")


def test_digits_needs_nothing():
    tr, te = load_dataset("digits:train"), load_dataset("digits:test")
    assert tr.images.shape == (1437, 1, 8, 8) and te.images.shape == (360, 1, 8, 8)
    assert tr.images.dtype == np.uint8 and tr.images.max() == 255 and set(np.unique(te.labels)) == set(range(10))


@needs_mnist
@pytest.mark.parametrize("name", ["mnist", "fashion-mnist"])
def test_real_datasets(name):
    te = load_dataset(f"{name}:test")
    assert te.images.shape == (10000, 1, 28, 28) and te.images.dtype == np.uint8
    assert np.bincount(te.labels).min() >= 800 and te.origin == f"{name}:test"
    status = {r["name"]: r for r in dataset_status()}
    assert status[name]["available"]
