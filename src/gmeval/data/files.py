"""Finding dataset files: explicit root, $GMEVAL_DATA, user cache, then download (checksummed).

Every file is verified by the SHA-256 of its *decompressed* bytes (gzip headers differ between
otherwise identical copies). Downloads go to a temporary file in the cache and are renamed into
place only after verification, so no partial file is ever left in the cache.
"""

from __future__ import annotations

import gzip
import os
import urllib.error
import urllib.request
from pathlib import Path

from ..errors import ChecksumError, DatasetNotFoundError
from ..utils.io import atomic_path, sha256_bytes
from ..utils.paths import cache_dir
from .idx import read_idx_bytes

ENV_DATA_ROOT = "GMEVAL_DATA"
ENV_OFFLINE = "GMEVAL_OFFLINE"


def data_roots(root: str | os.PathLike | None = None) -> list[tuple[str, Path]]:
    """The local roots searched for dataset files, in order, each labelled by where it came from.

    Args:
        root: an explicit root (``--data-root``), searched first.

    Returns:
        (label, path) pairs: `root`, ``$GMEVAL_DATA``, then the user cache's ``data`` folder.

    Example:
        >>> [label for label, _ in data_roots("/data")][0]
        '--data-root'
        >>> data_roots()[-1][0]
        'user cache'
    """
    roots: list[tuple[str, Path]] = []
    if root is not None:
        roots.append(("--data-root", Path(root)))
    env = os.environ.get(ENV_DATA_ROOT)
    if env:
        roots.append((f"${ENV_DATA_ROOT}", Path(env)))
    roots.append(("user cache", cache_dir("data")))
    return roots


def candidate_paths(root: Path, dataset: str, filename: str) -> list[Path]:
    """Where a dataset file may lie under a data root: compressed first, then raw.

    Args:
        root: a data root.
        dataset: the dataset name (its folder).
        filename: the file name without ``.gz``.

    Returns:
        The two candidate paths.

    >>> [p.name for p in candidate_paths(Path("/data"), "mnist", "t10k-labels-idx1-ubyte")]
    ['t10k-labels-idx1-ubyte.gz', 't10k-labels-idx1-ubyte']
    """
    return [root / dataset / (filename + ".gz"), root / dataset / filename]


def verified_bytes(path: Path, sha256: str) -> bytes:
    """The decompressed bytes of an IDX file, checked against the expected SHA-256.

    Args:
        path: the file (``.gz`` or raw).
        sha256: the expected SHA-256 of the decompressed content.

    Returns:
        The decompressed bytes.

    Raises:
        ChecksumError: the content's SHA-256 differs.
        CorruptFileError: the file cannot be read or decompressed.

    Example:
        >>> import gzip, tempfile
        >>> from pathlib import Path
        >>> from gmeval.utils import sha256_bytes
        >>> with tempfile.TemporaryDirectory() as d:
        ...     p = Path(d, "f.gz"); _ = p.write_bytes(gzip.compress(b"abc"))
        ...     verified_bytes(p, sha256_bytes(b"abc"))
        b'abc'
    """
    data = read_idx_bytes(path)
    got = sha256_bytes(data)
    if got != sha256:
        raise ChecksumError(
            f"SHA-256 of the decompressed content is {got}, expected {sha256}. The file is corrupt or not the "
            "official one: delete or replace it.", path
        )
    return data


def resolve_dataset_file(
    dataset: str, filename: str, sha256: str, mirrors: tuple[str, ...] = (), root: str | os.PathLike | None = None
) -> bytes:
    """The verified decompressed bytes of ``<dataset>/<filename>``, found locally or downloaded.

    Looks in `root`, ``$GMEVAL_DATA``, the user cache, then downloads from `mirrors` into the
    cache (unless ``$GMEVAL_OFFLINE`` is set). Every file is verified by the SHA-256 of its
    decompressed bytes; a download is renamed into place only after verification.

    Args:
        dataset: the dataset's folder name (``"mnist"``).
        filename: the file's name without ``.gz`` (``"t10k-labels-idx1-ubyte"``).
        sha256: the expected SHA-256 of the decompressed content.
        mirrors: base URLs to download ``<mirror>/<filename>.gz`` from.
        root: an explicit data root, searched first.

    Returns:
        The decompressed bytes.

    Raises:
        DatasetNotFoundError: not found locally and not downloadable; the message lists every place tried.
        ChecksumError: a local copy has the wrong content.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     resolve_dataset_file("mnist", "nothing-here", "0" * 64, root=d)
        Traceback (most recent call last):
        ...
        gmeval.errors.DatasetNotFoundError: mnist: file 'nothing-here' of dataset 'mnist' not found. Looked in: ...
    """
    looked: list[str] = []
    for label, base in data_roots(root):
        for cand in candidate_paths(base, dataset, filename):
            if cand.is_file():
                return verified_bytes(cand, sha256)
            looked.append(f"{cand} ({label})")
    errors: list[str] = []
    if os.environ.get(ENV_OFFLINE) or not mirrors:
        errors.append("download disabled" if mirrors else "no download mirror known")
    else:
        target = cache_dir("data") / dataset / (filename + ".gz")
        for mirror in mirrors:
            url = mirror.rstrip("/") + "/" + filename + ".gz"
            try:
                return _download(url, target, sha256)
            except (urllib.error.URLError, OSError, ChecksumError) as exc:
                errors.append(f"{url}: {exc}")
    raise DatasetNotFoundError(
        f"file {filename!r} of dataset {dataset!r} not found. Looked in: " + "; ".join(looked)
        + ". Download: " + "; ".join(errors)
        + f". Provide it with --data-root DIR or ${ENV_DATA_ROOT}=DIR (files as DIR/{dataset}/{filename}.gz).",
        dataset,
    )


def _download(url: str, target: Path, sha256: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as resp:  # noqa: S310 - fixed https mirrors
        payload = resp.read()
    data = gzip.decompress(payload) if payload[:2] == b"\x1f\x8b" else payload
    if sha256_bytes(data) != sha256:
        raise ChecksumError(f"downloaded content has the wrong SHA-256 (expected {sha256})", url)
    with atomic_path(target) as tmp:
        tmp.write_bytes(gzip.compress(data) if payload[:2] != b"\x1f\x8b" else payload)
    return data
