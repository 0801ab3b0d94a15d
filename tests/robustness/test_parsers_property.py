"""Property-based tests (hypothesis) for the file parsers: whatever the bytes, a parser returns a valid
result or raises its typed error, never anything else; valid files round-trip."""

from __future__ import annotations

import io
import os
import struct
import warnings

import numpy as np
import pytest
import torch

hypothesis = pytest.importorskip("hypothesis", reason="the test extra's `hypothesis` is not installed")
from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

from gmeval.data.idx import parse_idx  # noqa: E402
from gmeval.errors import CheckpointError, CorruptFileError, DataError, GmevalError  # noqa: E402
from gmeval.metrics.text.io import TextInputError, read_lines, split_lines  # noqa: E402

# database=None: no .hypothesis folder in the checkout (tests write only into tmp_path).
# derandomize=True: the same examples on every run, so CI never fails by chance; exploring with fresh
# random examples is `HYPOTHESIS_RANDOM=1 pytest tests/robustness` (found the numpy-header case once).
FAST = settings(max_examples=150 if not os.environ.get("HYPOTHESIS_RANDOM") else 1000, deadline=None, database=None,
                derandomize=not os.environ.get("HYPOTHESIS_RANDOM"),
                suppress_health_check=[HealthCheck.function_scoped_fixture])


# -- IDX ----------------------------------------------------------------------------------------------
@FAST
@given(st.binary(max_size=200))
def test_idx_any_bytes(data):
    try:
        arr = parse_idx(data)
    except CorruptFileError:
        return
    assert arr.ndim == data[3] and arr.size * arr.itemsize == len(data) - 4 - 4 * data[3]


@FAST
@given(st.sampled_from([(0x08, np.uint8), (0x09, np.int8), (0x0B, ">i2"), (0x0C, ">i4"), (0x0D, ">f4")]),
       st.lists(st.integers(0, 5), min_size=1, max_size=3), st.data())
def test_idx_round_trip_and_any_truncation(code_dtype, dims, data):
    code, dtype = code_dtype
    arr = np.arange(int(np.prod(dims)), dtype=np.int64).astype(dtype).reshape(dims)
    blob = struct.pack(">HBB", 0, code, len(dims)) + struct.pack(">" + "I" * len(dims), *dims) + arr.tobytes()
    np.testing.assert_array_equal(parse_idx(blob), arr)
    cut = data.draw(st.integers(0, len(blob) - 1)) if blob else 0
    if cut < len(blob):
        with pytest.raises(CorruptFileError):
            parse_idx(blob[:cut])


# -- text -----------------------------------------------------------------------------------------------
@FAST
@given(st.binary(max_size=300))
def test_text_any_bytes(tmp_path, data):
    f = tmp_path / "t.txt"
    f.write_bytes(data)
    try:
        lines = read_lines(f, allow_empty_lines=True)
    except TextInputError:
        return
    assert all(isinstance(x, str) and "\n" not in x and "\x00" not in x for x in lines)


@FAST
@given(st.lists(st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r\x00"), min_size=1),
                min_size=1, max_size=8))
def test_text_round_trip(tmp_path, lines):
    lines = [x for x in lines if x.strip()] or ["x"]
    f = tmp_path / "t.txt"
    f.write_bytes(("\n".join(lines) + "\n").encode("utf-8"))
    assert read_lines(f) == lines == split_lines("\n".join(lines))


# -- checkpoints, arrays, statistics, cache entries ------------------------------------------------------
@pytest.fixture(scope="module")
def checkpoint_bytes(tmp_path_factory):
    from gmeval.models import build_model
    from gmeval.training.checkpoint import save_checkpoint

    torch.manual_seed(0)
    model = build_model("mlp-gan", image_shape=(1, 4, 4), latent_dim=2, hidden=4)
    path = tmp_path_factory.mktemp("ck") / "c.pt"
    save_checkpoint(path, model=model, optimizers={}, rng={}, cursor={}, step=3, config={"a": [1, 2.5, None]})
    return path.read_bytes()


@FAST
@given(st.data())
def test_checkpoint_any_byte_changed(tmp_path, checkpoint_bytes, data):
    """A changed byte is refused, or lands where it changes nothing (zip padding): the content is verified."""
    from gmeval.training.checkpoint import read_checkpoint

    i = data.draw(st.integers(0, len(checkpoint_bytes) - 1))
    x = data.draw(st.integers(1, 255))
    blob = bytearray(checkpoint_bytes)
    blob[i] ^= x
    f = tmp_path / "c.pt"
    f.write_bytes(bytes(blob))
    try:
        ck = read_checkpoint(f)
    except CheckpointError:
        return
    f.write_bytes(checkpoint_bytes)
    assert ck["sha256"] == read_checkpoint(f)["sha256"]


def _read_checkpoint(path):
    from gmeval.training.checkpoint import read_checkpoint

    return read_checkpoint(path)


def _load_stats(path):
    from gmeval.stats.gaussian import load_stats

    return load_stats(path)


@pytest.mark.parametrize("reader,name,error", [(_read_checkpoint, "c.pt", CheckpointError), (_load_stats, "s.npz", DataError)])
@FAST
@given(data=st.binary(max_size=400))
def test_any_bytes_are_refused(tmp_path, reader, name, error, data):
    f = tmp_path / name
    f.write_bytes(data)
    with pytest.raises(error):
        reader(f)


def _npz_bytes(**arrays) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


@FAST
@given(st.data(), st.sampled_from(["a.npy", "a.npz"]))
def test_array_file_any_damage(tmp_path, data, name):
    from gmeval.data.arrays import load_array_file

    imgs = np.arange(2 * 16, dtype=np.uint8).reshape(2, 1, 4, 4)
    if name.endswith(".npz"):
        blob = _npz_bytes(images=imgs)
    else:
        buf = io.BytesIO()
        np.save(buf, imgs)
        blob = buf.getvalue()
    cut = data.draw(st.integers(0, len(blob)))
    blob = bytearray(blob[:cut])
    if blob:
        i = data.draw(st.integers(0, len(blob) - 1))
        blob[i] ^= data.draw(st.integers(0, 255))
    f = tmp_path / name
    f.write_bytes(bytes(blob))
    try:
        out = load_array_file(f)
    except (DataError, GmevalError):
        return
    assert out.images.dtype == np.uint8 and out.images.ndim == 4


@FAST
@given(st.data())
def test_cache_entry_any_damage(tmp_path, monkeypatch, data):
    """A damaged entry is either recognised (None + warning, file deleted) or still holds the stored arrays."""
    from gmeval.evaluation import cache

    monkeypatch.setenv("GMEVAL_CACHE", str(tmp_path / "c"))
    feats = {"pool": np.arange(12, dtype=np.float32).reshape(3, 4)}
    cache.store("k", feats)
    path = cache.entry_path("k")
    blob = bytearray(path.read_bytes())
    for _ in range(data.draw(st.integers(1, 4))):
        blob[data.draw(st.integers(0, len(blob) - 1))] ^= data.draw(st.integers(1, 255))
    blob = blob[: data.draw(st.integers(0, len(blob)))]
    path.write_bytes(bytes(blob))
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        got = cache.load_cached("k")
    if got is None:
        assert not path.exists() and any(issubclass(w.category, cache.CacheEntryWarning) for w in rec)
    else:
        np.testing.assert_array_equal(got["pool"], feats["pool"])
