"""Every CLI verb on a corpus of damaged files: exit code 2, one message line, no traceback, and no file
changed or created. (Damaged feature-cache entries are the exception by design: they are recomputed.)"""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from .conftest import TRAIN, assert_one_line_error, listing, run_cli, snapshot, tiny_images

pytestmark = pytest.mark.filterwarnings("ignore:the (first|second) statistics have N=:RuntimeWarning")


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Damaged checkpoints, arrays, images, IDX files, statistics, text and a study database."""
    root = tmp_path_factory.mktemp("corpus")
    c = {}
    # checkpoints: one good, then damaged copies
    from gmeval.training.config import TrainConfig
    from gmeval.training.trainer import Trainer

    good_data = tiny_images(root / "good.npy", 0)
    run = root / "goodrun"
    Trainer(TrainConfig(model="mlp-gan", model_options={"latent_dim": 4, "hidden": 16}, data=str(good_data), out=str(run),
                        steps=2, batch_size=16, sample_every=0), progress=False).run()
    ck = (run / "checkpoint.pt").read_bytes()
    (root / "ck_truncated.pt").write_bytes(ck[: len(ck) // 2])
    flipped = bytearray(ck)
    for i in range(len(ck) // 2, len(ck) // 2 + 16):
        flipped[i] ^= 0xFF
    (root / "ck_flipped.pt").write_bytes(bytes(flipped))
    (root / "ck_empty.pt").write_bytes(b"")
    (root / "ck_random.pt").write_bytes(np.random.default_rng(0).bytes(4096))
    torch.save({"format": "gmeval-checkpoint/2", "x": _Evil(str(root / "pwned"))}, root / "ck_evil.pt")
    torch.save({"weight": torch.zeros(3)}, root / "ck_statedict.pt")
    c["checkpoints"] = sorted(root.glob("ck_*.pt"))
    # arrays
    good = np.load(good_data)
    arr = good_data.read_bytes()
    (root / "a_truncated.npy").write_bytes(arr[: len(arr) // 2])
    np.save(root / "a_object.npy", np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    np.save(root / "a_nan.npy", np.full((4, 1, 8, 8), np.nan, np.float32))
    np.save(root / "a_range.npy", np.full((4, 1, 8, 8), 7.0, np.float32))
    np.save(root / "a_shape.npy", good[:, :, :, :5].reshape(64, 5, 8, 1).repeat(8, 3)[:, :, :, :8])
    np.save(root / "a_empty.npy", np.zeros((0, 1, 8, 8), np.uint8))
    np.savez(root / "a_nokey.npz", foo=np.zeros(3))
    (root / "a_garbage.npz").write_bytes(b"PK\x03\x04" + b"\0" * 100)
    c["arrays"] = sorted(root.glob("a_*.np*"))
    # image folders
    for name in ("i_corrupt", "i_truncated", "i_empty"):
        (root / name).mkdir()
    (root / "i_corrupt" / "x.png").write_bytes(np.random.default_rng(1).bytes(300))
    from PIL import Image
    import io

    buf = io.BytesIO()
    Image.fromarray(good[0, 0]).resize((32, 32)).save(buf, format="PNG")
    (root / "i_truncated" / "x.png").write_bytes(buf.getvalue()[:60])
    c["folders"] = [root / "i_corrupt", root / "i_truncated", root / "i_empty"]
    # IDX files (a data root whose MNIST files are damaged)
    droot = root / "idxroot" / "mnist"
    droot.mkdir(parents=True)
    (droot / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(b"\x00\x00\x08\x03" + b"\x00" * 10))
    (droot / "t10k-labels-idx1-ubyte.gz").write_bytes(b"not gzip at all")
    (droot / "train-images-idx3-ubyte.gz").write_bytes(b"")
    (droot / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(b"\x00\x00\x08\x01\x00\x00\x00\x05ab"))
    c["idx_root"] = root / "idxroot"
    # statistics
    np.savez(root / "s_bad_stats.npz", mu=np.zeros(3), sigma=np.zeros((2, 2)))
    (root / "s_garbage_stats.npz").write_bytes(b"PK\x05\x06" + b"\0" * 18)
    c["stats"] = [root / "s_bad_stats.npz", root / "s_garbage_stats.npz"]
    # text
    (root / "t_utf16.txt").write_bytes("a b c\nd e f\n".encode("utf-16-le"))
    (root / "t_utf16bom.txt").write_bytes("a b c\nd e f\n".encode("utf-16"))
    (root / "t_nul.txt").write_bytes(b"a b\x00c\nd\n")
    (root / "t_latin1.txt").write_bytes("caf\u00e9\n".encode("latin-1"))
    (root / "t_empty.txt").write_bytes(b"")
    (root / "t_dir.txt").mkdir()
    c["texts"] = sorted(root.glob("t_*.txt"))
    # a study database that is not SQLite
    (root / "study.sqlite").write_bytes(b"SQLite format 2\0" + np.random.default_rng(2).bytes(2000))
    c["good_data"], c["good_ckpt"], c["root"] = good_data, run / "checkpoint.pt", root
    return c


def _check(capsys, corpus, tmp_path, *argv) -> None:
    before_corpus, before_out = snapshot(corpus["root"]), listing(tmp_path)
    rc, _, err = run_cli(capsys, *argv)
    assert_one_line_error(rc, err)
    assert snapshot(corpus["root"]) == before_corpus, argv
    assert listing(tmp_path) == before_out, argv  # nothing created
    assert not (corpus["root"] / "pwned").exists()


def test_damaged_checkpoints(corpus, tmp_path, capsys):
    for ck in corpus["checkpoints"]:
        _check(capsys, corpus, tmp_path, "sample", ck, "-n", 2, "-o", tmp_path / "s.npz")
        _check(capsys, corpus, tmp_path, "evaluate", "--real", corpus["good_data"], "--fake", ck, "-n", 4,
               "--extractor", "mnist", "--no-progress")
        _check(capsys, corpus, tmp_path, "stats", "compute", ck, "-n", 4, "-o", tmp_path / "st.npz",
               "--extractor", "mnist", "--no-progress")
        _check(capsys, corpus, tmp_path, "human", "serve", "--real", corpus["good_data"], "--fake", ck,
               "--db", tmp_path / "study.sqlite", "--port", 0)


def test_damaged_checkpoint_on_resume(corpus, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(corpus["good_ckpt"].parent, run)
    for ck in corpus["checkpoints"]:
        shutil.copyfile(ck, run / "checkpoint.pt")
        before = snapshot(run)
        rc, _, err = run_cli(capsys, *TRAIN, "--data", corpus["good_data"], "--out", run, "--resume", "--steps", 4)
        assert_one_line_error(rc, err, "checkpoint.pt")
        assert snapshot(run) == before


def test_damaged_arrays_and_image_folders(corpus, tmp_path, capsys):
    for src in corpus["arrays"] + corpus["folders"]:
        _check(capsys, corpus, tmp_path, "evaluate", "--real", src, "--fake", corpus["good_data"], "--extractor", "mnist",
               "--no-progress")
        _check(capsys, corpus, tmp_path, "stats", "compute", src, "-o", tmp_path / "st.npz", "--extractor", "mnist",
               "--no-progress")
        _check(capsys, corpus, tmp_path, *TRAIN, "--data", src, "--out", tmp_path / "run")
        _check(capsys, corpus, tmp_path, "human", "serve", "--real", src, "--fake", corpus["good_data"],
               "--db", tmp_path / "study.sqlite", "--port", 0)


def test_damaged_idx_files(corpus, tmp_path, capsys):
    root = corpus["idx_root"]
    _check(capsys, corpus, tmp_path, "evaluate", "--real", "mnist:test", "--fake", corpus["good_data"],
           "--data-root", root, "--extractor", "mnist", "--no-progress")
    _check(capsys, corpus, tmp_path, *TRAIN, "--data", "mnist:train", "--data-root", root, "--out", tmp_path / "run")
    _check(capsys, corpus, tmp_path, "classifier", "evaluate", "mnist", "--data-root", root)
    _check(capsys, corpus, tmp_path, "classifier", "train", "mnist", "--data-root", root, "--out", tmp_path / "w")
    _check(capsys, corpus, tmp_path, "stats", "compute", "mnist:test", "--data-root", root, "-o", tmp_path / "st.npz",
           "--extractor", "mnist", "--no-progress")


def test_damaged_statistics_and_study(corpus, tmp_path, capsys):
    for st in corpus["stats"]:
        _check(capsys, corpus, tmp_path, "stats", "show", st)
        _check(capsys, corpus, tmp_path, "evaluate", "--real", st, "--fake", corpus["good_data"], "--extractor", "mnist",
               "--no-progress")
    _check(capsys, corpus, tmp_path, "human", "score", corpus["root"] / "study.sqlite")


def test_damaged_text(corpus, tmp_path, capsys):
    good = tmp_path.parent / f"{tmp_path.name}-good.txt"
    good.write_text("a b c\nd e f\n")
    for t in corpus["texts"]:
        _check(capsys, corpus, tmp_path, "text", "--hyp", t, "--out", tmp_path / "r.json")
        _check(capsys, corpus, tmp_path, "text", "--hyp", good, "--ref", t, "--metrics", "bleu,rouge")


def test_damaged_cache_entries_are_recomputed_by_every_verb_that_reads_them(corpus, tmp_path, capsys):
    from gmeval.utils.paths import cache_dir

    argv = ("evaluate", "--real", corpus["good_data"], "--fake", corpus["good_ckpt"], "-n", 64, "--extractor", "mnist",
            "--no-progress")
    rc, first, err = run_cli(capsys, *argv)
    assert rc == 0, err
    for damage in (lambda b: b[: len(b) // 3], lambda b: b[:100] + bytes(x ^ 0xFF for x in b[100:108]) + b[108:],
                   lambda b: b"", lambda b: b[:-30] + bytes(30)):  # truncated, flipped, empty, zeroed directory
        for entry in cache_dir("features").glob("*.npz"):
            entry.write_bytes(damage(entry.read_bytes()))
        rc, again, err = run_cli(capsys, *argv)
        assert rc == 0, err
        assert again.splitlines()[0] == first.splitlines()[0]  # the same FID, recomputed
        damaged = [ln for ln in err.splitlines() if "feature cache entry" in ln]
        assert damaged and all(ln.startswith("gmeval: warning: ") and "is damaged" in ln for ln in damaged), err
