"""Atomic file writes (temp file in the same folder, fsync, os.replace), hashing, and the translation
of operating-system write failures (disk full, permission denied, ...) into one typed error.

Temporary files are named ``.<name>.<random>.tmp`` beside their target. A process killed mid-write
leaves one behind; every later write of the same target removes such leftovers once they are older
than `STALE_TEMP_SECONDS` (a live writer of the same target, e.g. a concurrent `gmeval evaluate`
storing the same cache entry, keeps its temp file fresh and is left alone).
"""

from __future__ import annotations

import contextlib
import errno as _errno
import hashlib
import os
import shutil
import tempfile
import time
import tokenize
import zipfile
from pathlib import Path
from typing import Iterator, Sequence

from ..errors import StorageError

#: what `np.load` raises on a damaged .npy/.npz: bad zip members, truncated data, and a damaged
#: header, which numpy parses with tokenize and ast.literal_eval (TokenError / SyntaxError)
NPY_READ_ERRORS = (ValueError, OSError, EOFError, zipfile.BadZipFile, SyntaxError, tokenize.TokenError)

#: temp files older than this (seconds) are leftovers of a killed process and are swept
STALE_TEMP_SECONDS = 3600.0

_REASONS = {
    _errno.ENOSPC: "no space left on device",
    _errno.EDQUOT: "disk quota exceeded",
    _errno.EACCES: "permission denied",
    _errno.EPERM: "operation not permitted",
    _errno.EROFS: "read-only file system",
    _errno.EISDIR: "is a directory, expected a file",
    _errno.ENOTDIR: "a component of the path is not a directory",
    _errno.ENAMETOOLONG: "file name too long",
    _errno.EFBIG: "file too large",
}
#: errno values that mean "this path cannot be written here" (as opposed to a bug): converted by `storage_errors`
STORAGE_ERRNOS = frozenset(_REASONS)


def as_storage_error(exc: OSError, path: object = None) -> StorageError:
    """A StorageError naming `exc.filename` (else `path`) with a short reason."""
    reason = _REASONS.get(exc.errno) or (exc.strerror or type(exc).__name__).lower()
    return StorageError(exc.filename if exc.filename is not None else path, reason, exc.errno)


@contextlib.contextmanager
def storage_errors(path: object, errnos: frozenset = STORAGE_ERRNOS) -> Iterator[None]:
    """Turn an OSError with one of `errnos` raised inside the block into a StorageError naming `path`
    (or the file the operating system named)."""
    try:
        yield
    except StorageError:
        raise
    except OSError as exc:
        if exc.errno in errnos:
            raise as_storage_error(exc, path) from exc
        raise


def sweep_stale_temp(folder: str | os.PathLike, pattern: str = ".*.tmp",
                     older_than: float = STALE_TEMP_SECONDS) -> list[Path]:
    """Remove temp files/folders matching `pattern` in `folder` not modified for `older_than` seconds."""
    removed = []
    now = time.time()
    folder = Path(folder)
    if not folder.is_dir():
        return removed
    for p in folder.glob(pattern):
        try:
            if now - p.lstat().st_mtime < older_than:
                continue
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink(missing_ok=True)
        except OSError:  # raced with another process or not ours to remove: leave it
            continue
        removed.append(p)
    return removed


def temp_sibling_pattern(path: Path) -> str:
    return f".{path.name}.*.tmp"


@contextlib.contextmanager
def atomic_paths(paths: Sequence[str | os.PathLike]) -> Iterator[list[Path]]:
    """Yield one temporary path beside each of `paths`; when the block succeeds, every temp file is
    flushed to disk and only then are they renamed over their targets.

    The files are a set: a failure while any of them is written (disk full, an exception) removes
    all the temp files and leaves every target as it was, so readers never see a new file beside an
    old one. OSErrors such as ENOSPC or EACCES become a StorageError naming the file.
    """
    paths = [Path(p) for p in paths]
    tmps: list[Path] = []

    def _final(exc: OSError) -> object:
        if exc.filename is not None:
            for p, t in zip(paths, tmps):
                if str(t) == str(exc.filename):
                    return p
            return exc.filename
        return paths[0] if len(paths) == 1 else paths[0].parent

    try:
        umask = os.umask(0)
        os.umask(umask)
        for path in paths:
            path.parent.mkdir(parents=True, exist_ok=True)
            sweep_stale_temp(path.parent, temp_sibling_pattern(path))
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            os.close(fd)
            tmps.append(Path(tmp))
            os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; give the file ordinary permissions
        yield list(tmps)
        for tmp in tmps:
            fd = os.open(tmp, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        for tmp, path in zip(tmps, paths):
            os.replace(tmp, path)
    except BaseException as exc:
        for tmp in tmps:
            with contextlib.suppress(OSError):
                tmp.unlink()
        if isinstance(exc, OSError) and not isinstance(exc, StorageError) and exc.errno in STORAGE_ERRNOS:
            raise StorageError(_final(exc), as_storage_error(exc).reason, exc.errno) from exc
        raise


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside `path`; on success it replaces `path` atomically.

    On any exception the temporary file is removed and `path` is untouched, so a reader
    never sees a half-written file, and a process killed mid-write leaves the old file.
    """
    with atomic_paths([path]) as (tmp,):
        yield tmp


def write_all(path: str | os.PathLike, data: bytes) -> None:
    """Write `data` to `path` with os.write (short writes continued; a full disk raises ENOSPC here)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    try:
        view = memoryview(data)
        while view:
            n = os.write(fd, view[: 1 << 22])
            view = view[n:]
    except OSError as exc:
        if exc.filename is None:  # os.write knows no file name: add it, so the error can say which file
            raise OSError(exc.errno, exc.strerror, str(path)) from exc
        raise
    finally:
        os.close(fd)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    with atomic_path(path) as tmp:
        write_all(tmp, data)
    return Path(path)


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_set(files: dict) -> list[Path]:
    """Write several files (path -> bytes or str) as a set: all new, or (on any failure) all old."""
    paths = list(files)
    with atomic_paths(paths) as tmps:
        for tmp, path in zip(tmps, paths):
            data = files[path]
            write_all(tmp, data.encode("utf-8") if isinstance(data, str) else data)
    return [Path(p) for p in paths]


def torch_bytes(obj) -> bytes:
    """torch.save into memory. torch names the zip archive's root folder after the file it writes, so
    saving to a random temp name would make identical tensors produce different bytes (and different
    SHA-256s) on every save; serialising in memory keeps saves byte-reproducible."""
    import io

    import torch

    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def atomic_save_torch(obj, path: str | os.PathLike) -> Path:
    """torch.save, atomically (see `torch_bytes`)."""
    return atomic_write_bytes(path, torch_bytes(obj))


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            h.update(block)
    return h.hexdigest()
