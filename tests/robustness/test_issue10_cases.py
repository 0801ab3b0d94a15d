"""The twelve failures of issue 10, one test each (every one failed before the fix)."""

from __future__ import annotations

import json
import os
import time
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from gmeval.evaluation import evaluate
from gmeval.evaluation.cache import CacheEntryWarning
from gmeval.training.config import TrainConfig
from gmeval.training.runlog import LogLostWarning, read_jsonl
from gmeval.training.trainer import Trainer
from gmeval.utils.paths import cache_dir

from .conftest import TRAIN, assert_one_line_error, run_cli, snapshot, tiny_images

# the tiny image sets here have fewer samples than feature dimensions: FID warns, as it should
pytestmark = pytest.mark.filterwarnings("ignore:the (first|second) statistics have N=:RuntimeWarning")


def _mnist_like(path: Path, seed: int, n: int = 160) -> Path:  # n > 128 features: no singular-covariance warning
    rng = np.random.default_rng(seed)
    np.save(path, rng.integers(0, 256, (n, 1, 28, 28), dtype=np.uint8))
    return path


def _flip(path: Path, offset: int, n: int) -> None:
    data = bytearray(path.read_bytes())
    for i in range(offset, offset + n):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))


# 1 ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_01_damaged_cache_entry_is_recomputed_with_a_warning(tmp_path, damage):
    real, fake = _mnist_like(tmp_path / "r.npy", 1 + 10 * len(damage)), _mnist_like(tmp_path / "f.npy", 2)
    known = set(cache_dir("features").glob("*.npz"))
    first = evaluate(str(real), str(fake), "fid", extractor="mnist", progress=False)["metrics"]["fid"]["value"]
    entries = sorted(set(cache_dir("features").glob("*.npz")) - known)
    assert entries
    for entry in entries:
        size = entry.stat().st_size
        if damage == "truncate":
            entry.write_bytes(entry.read_bytes()[: size // 2])
        else:
            _flip(entry, size // 2, 8)
    with pytest.warns(CacheEntryWarning, match="is damaged") as rec:
        again = evaluate(str(real), str(fake), "fid", extractor="mnist", progress=False)["metrics"]["fid"]["value"]
    assert any(str(entries[0]) in str(w.message) for w in rec)
    assert again == first  # recomputed from the images, same machine and batch shape: bitwise
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheEntryWarning)  # the rewritten entries are whole again
        assert evaluate(str(real), str(fake), "fid", extractor="mnist", progress=False)["metrics"]["fid"]["value"] == first


# 2 ------------------------------------------------------------------------------------------------
def test_02_train_refuses_an_existing_run_folder(small_run, capsys):
    out, data = small_run
    before = snapshot(out)
    rc, _, err = run_cli(capsys, *TRAIN, "--data", data, "--out", out)
    assert_one_line_error(rc, err, str(out), "--resume", "--overwrite")
    assert snapshot(out) == before
    rc, _, err = run_cli(capsys, *TRAIN, "--data", data, "--out", out, "--overwrite", "--steps", 1)
    assert rc == 0, err
    assert [r["step"] for r in read_jsonl(out / "log.jsonl") if "event" not in r] == [1]


# 3 ------------------------------------------------------------------------------------------------
class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_03_a_crafted_checkpoint_runs_no_code(tmp_path, capsys):
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.pt"
    torch.save({"format": "gmeval-checkpoint/2", "x": _Evil(str(marker))}, evil)
    real = tiny_images(tmp_path / "real.npy", 0)
    for argv in (("sample", evil, "-n", 2, "-o", tmp_path / "x.npz"),
                 ("evaluate", "--real", real, "--fake", evil, "-n", 4, "--extractor", "mnist", "--no-progress")):
        rc, _, err = run_cli(capsys, *argv)
        assert_one_line_error(rc, err, str(evil), "refused")
        assert not marker.exists()
    from gmeval.errors import CheckpointError
    from gmeval.sources import load_images  # what `human serve --fake` uses

    with pytest.raises(CheckpointError, match="refused"):
        load_images(str(evil), n=2, seed=0)
    assert not marker.exists()


# 4 ------------------------------------------------------------------------------------------------
def _flip_inside_largest_tensor(ckpt: Path) -> None:
    with zipfile.ZipFile(ckpt) as z:
        info = max((i for i in z.infolist() if "/data/" in i.filename), key=lambda i: i.file_size)
        assert info.compress_type == zipfile.ZIP_STORED
    raw = ckpt.read_bytes()
    name_len, extra_len = int.from_bytes(raw[info.header_offset + 26: info.header_offset + 28], "little"), \
        int.from_bytes(raw[info.header_offset + 28: info.header_offset + 30], "little")
    start = info.header_offset + 30 + name_len + extra_len
    _flip(ckpt, start + info.file_size // 2, 16)


def test_04_a_changed_tensor_is_detected(small_run, tmp_path, capsys):
    out, data = small_run
    ckpt = out / "checkpoint.pt"
    _flip_inside_largest_tensor(ckpt)
    real = tiny_images(tmp_path / "real.npy", 5)
    for argv in (("sample", ckpt, "-n", 2, "-o", tmp_path / "x.npz"),
                 ("evaluate", "--real", real, "--fake", ckpt, "-n", 4, "--extractor", "mnist", "--no-progress"),
                 (*TRAIN, "--data", data, "--out", out, "--resume", "--steps", 3)):
        rc, _, err = run_cli(capsys, *argv)
        assert_one_line_error(rc, err, str(ckpt), "SHA-256")
    assert not (tmp_path / "x.npz").exists()


# 5 ------------------------------------------------------------------------------------------------
def test_05_resume_refuses_changed_training_data(small_run, capsys):
    out, data = small_run
    tiny_images(data, 99)  # other content under the same path
    before = snapshot(out)
    rc, _, err = run_cli(capsys, *TRAIN, "--data", data, "--out", out, "--resume", "--steps", 3)
    assert_one_line_error(rc, err, "changed", "fingerprint")
    assert snapshot(out) == before
    tiny_images(data, 0)  # the original content: resume goes on
    rc, _, err = run_cli(capsys, *TRAIN, "--data", data, "--out", out, "--resume", "--steps", 3)
    assert rc == 0, err


# 6 ------------------------------------------------------------------------------------------------
def test_06_disk_full_is_a_one_line_error_and_reports_stay_a_set(small_run, tmp_path, capsys, enospc):
    out, data = small_run
    real = tiny_images(tmp_path / "real.npy", 7, n=160)  # more samples than the 128 feature dimensions
    report = tmp_path / "report"
    rc, _, err = run_cli(capsys, "evaluate", "--real", real, "--fake", out / "checkpoint.pt", "-n", 160,
                         "--extractor", "mnist", "--no-progress", "--report", report)
    assert rc == 0, err
    before = snapshot(tmp_path)
    enospc(lambda head: head.startswith(b"<!doctype html>"))  # the second file of the set fails
    rc, _, err = run_cli(capsys, "evaluate", "--real", real, "--fake", out / "checkpoint.pt", "-n", 160, "--seed", 1,
                         "--extractor", "mnist", "--no-progress", "--report", report)
    assert_one_line_error(rc, err, "no space left on device", str(report))
    assert snapshot(tmp_path) == before  # old report.json and report.html both kept, no temp files left
    enospc()  # every write fails
    for argv in ((*TRAIN, "--data", data, "--out", tmp_path / "run2"),
                 ("sample", out / "checkpoint.pt", "-n", 4, "-o", tmp_path / "s.npz"),
                 ("sample", out / "checkpoint.pt", "-n", 4, "-o", tmp_path / "pngs")):
        rc, _, err = run_cli(capsys, *argv)
        assert_one_line_error(rc, err, "no space left on device")
    assert not (tmp_path / "s.npz").exists() and not (tmp_path / "pngs").exists()


def test_06_permission_denied_is_a_one_line_error(small_run, tmp_path, capsys):
    if os.geteuid() == 0:
        pytest.skip("root ignores file permissions")
    out, _ = small_run
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    rc, _, err = run_cli(capsys, "sample", out / "checkpoint.pt", "-n", 2, "-o", locked / "s.npz")
    assert_one_line_error(rc, err, "permission denied", str(locked))


# 7 ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("flag,value,allowed", [
    ("--steps", "0", "an integer >= 1"), ("--lr", "-1", "a finite number > 0"), ("--lr", "nan", "a finite number > 0"),
    ("--log-every", "0", "an integer >= 1"), ("--threads", "0", "an integer >= 1"),
    ("--checkpoint-every", "-1", "an integer >= 0"), ("--sample-every", "-1", "an integer >= 0"),
    ("--beta1", "1", "a finite number in [0, 1)"), ("--batch-size", "x", "an integer >= 1"),
])
def test_07_numeric_flags_are_validated(tmp_path, capsys, flag, value, allowed):
    rc, _, err = run_cli(capsys, "train", "mlp-gan", "--data", "digits:train", "--out", tmp_path / "r", flag, value)
    assert_one_line_error(rc, err, f"argument {flag}", allowed, repr(value))
    assert not (tmp_path / "r").exists()


def test_07_unknown_model_option_lists_the_allowed_ones(tmp_path, capsys):
    rc, _, err = run_cli(capsys, "train", "mlp-gan", "--data", "digits:train", "--out", tmp_path / "r",
                         "--steps", 1, "--model-opt", "bogus=1")
    assert_one_line_error(rc, err, "bogus", "latent_dim", "hidden", "slope")


def test_07_sample_output_suffix(small_run, tmp_path, capsys):
    out, _ = small_run
    rc, _, err = run_cli(capsys, "sample", out / "checkpoint.pt", "-n", 2, "-o", tmp_path / "x.txt")
    assert_one_line_error(rc, err, "argument -o/--output", ".npz", "x.txt")
    assert not (tmp_path / "x.txt").exists()


# 8 ------------------------------------------------------------------------------------------------
def test_08_long_lines_and_endless_files_are_refused(tmp_path, capsys):
    line = " ".join(f"w{i % 5000}" for i in range(200_000)) + "\n"
    (tmp_path / "h.txt").write_text(line)
    (tmp_path / "r.txt").write_text(line)
    t0 = time.perf_counter()
    rc, _, err = run_cli(capsys, "text", "--hyp", tmp_path / "h.txt", "--ref", tmp_path / "r.txt", "--metrics", "bleu,rouge")
    assert_one_line_error(rc, err, "line 1", "too long for ROUGE-L")
    assert time.perf_counter() - t0 < 30  # refused before any quadratic work
    rc, _, err = run_cli(capsys, "text", "--hyp", "/dev/zero", "--max-input-mb", "1")
    assert_one_line_error(rc, err, "/dev/zero", "larger than the limit")


# 9 ------------------------------------------------------------------------------------------------
ZH_HYP = ["猫坐在垫子上。", "今天天气很好。", "我喜欢读书和写字。"]
ZH_REF = ["猫坐在垫子上了。", "今天的天气很好。", "我喜欢读书。"]


def _bleu(capsys, tmp_path, *extra) -> tuple[float, str]:
    (tmp_path / "h.txt").write_text("\n".join(ZH_HYP) + "\n", encoding="utf-8")
    (tmp_path / "r.txt").write_text("\n".join(ZH_REF) + "\n", encoding="utf-8")
    rc, out, err = run_cli(capsys, "text", "--hyp", tmp_path / "h.txt", "--ref", tmp_path / "r.txt", "--metrics", "bleu",
                           "--json", *extra)
    assert rc == 0, err
    return json.loads(out)["metrics"]["bleu"]["value"], err


@pytest.mark.parametrize("code", ["zho", "chi", "cmn", "zh-Hans"])
def test_09_iso_639_codes_map_to_their_tokenizer(tmp_path, capsys, code):
    zh, _ = _bleu(capsys, tmp_path, "--lang", "zh")
    other, err = _bleu(capsys, tmp_path, "--lang", code)
    assert other == zh > 0 and "warning" not in err


@pytest.mark.parametrize("code", ["xx", "zn", "und", "qaa", "zh_CN"])
def test_09_unknown_language_codes_are_errors(tmp_path, capsys, code):
    (tmp_path / "h.txt").write_text("a\n")
    rc, _, err = run_cli(capsys, "text", "--hyp", tmp_path / "h.txt", "--lang", code)
    assert_one_line_error(rc, err, "`lang`", repr(code))


def test_09_cjk_with_13a_warns(tmp_path, capsys):
    _, err = _bleu(capsys, tmp_path)  # no --lang: en, 13a
    assert err.startswith("gmeval: warning: ") and len(err.splitlines()) == 1, err
    assert "tokenizer is '13a'" in err and "Pass --lang" in err


def test_warnings_are_one_line_on_the_command_line(tmp_path):
    import subprocess
    import sys

    (tmp_path / "h.txt").write_text("\n".join(ZH_HYP) + "\n", encoding="utf-8")
    r = subprocess.run([sys.executable, "-m", "gmeval", "text", "--hyp", tmp_path / "h.txt", "--metrics", "distinct"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stderr.startswith("gmeval: warning: ") and len(r.stderr.strip().splitlines()) == 1, r.stderr


@pytest.mark.parametrize("encoding,bom", [("utf-16-le", False), ("utf-16-be", False), ("utf-16", True)])
def test_09_utf16_is_detected(tmp_path, capsys, encoding, bom):
    (tmp_path / "h.txt").write_bytes("the cat sat\non the mat\n".encode(encoding))
    rc, _, err = run_cli(capsys, "text", "--hyp", tmp_path / "h.txt")
    assert_one_line_error(rc, err, "UTF-16", "iconv", "byte-order mark" if bom else "no byte-order mark")


def test_09_nul_bytes_are_detected(tmp_path, capsys):
    (tmp_path / "h.txt").write_bytes(b"the cat\nsat\x00 on the mat\nok\n")
    rc, _, err = run_cli(capsys, "text", "--hyp", tmp_path / "h.txt")
    assert_one_line_error(rc, err, "line 2", "NUL byte at byte offset 11")


# 10 -----------------------------------------------------------------------------------------------
def test_10_out_pointing_at_a_directory(tmp_path, capsys):
    (tmp_path / "h.txt").write_text("a b\nc d\n")
    rc, _, err = run_cli(capsys, "text", "--hyp", tmp_path / "h.txt", "--out", tmp_path)
    assert_one_line_error(rc, err, "argument --out", "not a folder")


# 11 -----------------------------------------------------------------------------------------------
def test_11_stale_temp_files_are_swept(small_run, tmp_path, capsys):
    out, _ = small_run
    old = time.time() - 2 * 3600
    feats = cache_dir("features")
    feats.mkdir(parents=True, exist_ok=True)
    stale_cache, fresh_cache = feats / ".abc.npz.x1.tmp", feats / ".def.npz.x2.tmp"
    for p in (stale_cache, fresh_cache):
        p.write_bytes(b"\0" * 2048)
    os.utime(stale_cache, (old, old))
    stale_dir = tmp_path / ".pngs.k3j2.tmp"
    stale_dir.mkdir()
    for i in range(5):
        (stale_dir / f"{i:06d}.png").write_bytes(b"png")
    os.utime(stale_dir, (old, old))
    rc, _, err = run_cli(capsys, "sample", out / "checkpoint.pt", "-n", 3, "-o", tmp_path / "pngs")
    assert rc == 0, err
    assert not stale_dir.exists() and len(list((tmp_path / "pngs").glob("*.png"))) == 3
    assert oct((tmp_path / "pngs").stat().st_mode & 0o777) != oct(0o700)  # not mkdtemp's private mode
    real = _mnist_like(tmp_path / "r.npy", 3)
    rc, _, err = run_cli(capsys, "evaluate", "--real", real, "--fake", real, "--extractor", "mnist", "--no-progress")
    assert rc == 0, err
    assert not stale_cache.exists() and fresh_cache.exists()  # a live writer's temp file is left alone


# 12 -----------------------------------------------------------------------------------------------
def test_12_deleted_or_missing_log_is_reported(tmp_path):
    data = tiny_images(tmp_path / "d.npy", 0)
    cfg = TrainConfig(model="mlp-gan", model_options={"latent_dim": 4, "hidden": 16}, data=str(data),
                      out=str(tmp_path / "run"), steps=4, batch_size=16, log_every=1, sample_every=0, checkpoint_every=2,
                      eval_every=2)

    def delete_log(trainer):
        if trainer.step == 2:
            (trainer.out / "log.jsonl").unlink()
        return {}

    with pytest.warns(LogLostWarning, match="deleted during the run"):
        Trainer(cfg, hooks=[delete_log], progress=False).run()
    recs = read_jsonl(tmp_path / "run" / "log.jsonl")
    assert recs[0]["event"] == "log_lost" and recs[0]["step"] == 2
    (tmp_path / "run" / "log.jsonl").unlink()
    with pytest.warns(LogLostWarning, match="missing on resume"):
        Trainer(TrainConfig(**{**cfg.to_json(), "steps": 5, "eval_every": 0}), resume=True, progress=False).run()
    recs = read_jsonl(tmp_path / "run" / "log.jsonl")
    assert recs[0] == {"event": "log_lost", "reason": "is missing on resume", "step": 4}
