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
    """A `StorageError` for an operating-system error, with a short reason.

    Args:
        exc: the OSError (its ``errno`` picks the reason, its ``filename`` the path).
        path: the path to name when `exc` names none.

    Returns:
        The StorageError (not raised).

    Example:
        >>> import errno
        >>> err = as_storage_error(OSError(errno.ENOSPC, "No space left on device"), "out.npz")
        >>> str(err)
        'out.npz: no space left on device'
    """
    reason = _REASONS.get(exc.errno) or (exc.strerror or type(exc).__name__).lower()
    return StorageError(exc.filename if exc.filename is not None else path, reason, exc.errno)


@contextlib.contextmanager
def storage_errors(path: object, errnos: frozenset = STORAGE_ERRNOS) -> Iterator[None]:
    """Context manager: an OSError with one of `errnos` raised inside becomes a `StorageError`.

    Args:
        path: the path to name when the operating system names none.
        errnos: which error codes to translate (default `STORAGE_ERRNOS`: disk full, no permission,
            read-only file system, ...); other OSErrors pass through unchanged.

    Raises:
        StorageError: for an OSError whose errno is in `errnos`.

    Example:
        >>> import errno
        >>> with storage_errors("runs/x"):
        ...     raise PermissionError(errno.EACCES, "Permission denied")
        Traceback (most recent call last):
        ...
        gmeval.errors.StorageError: runs/x: permission denied
    """
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
    """Remove temp files and folders matching `pattern` in `folder` that were not modified for `older_than` seconds.

    Args:
        folder: where to look (nothing happens if it is not a folder).
        pattern: a glob pattern (default: every ``.*.tmp``).
        older_than: the age in seconds above which a temp file is a leftover of a killed process.

    Returns:
        The paths removed.

    Example:
        >>> import os, tempfile
        >>> from pathlib import Path
        >>> with tempfile.TemporaryDirectory() as d:
        ...     old = Path(d, ".a.npz.x1.tmp"); old.write_bytes(b"")
        ...     os.utime(old, (0, 0))  # last modified in 1970
        ...     [p.name for p in sweep_stale_temp(d)], sorted(os.listdir(d))
        0
        (['.a.npz.x1.tmp'], [])
    """
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
    """The glob pattern of the temp files written beside `path` (``.<name>.*.tmp``).

    Args:
        path: the target file.

    Returns:
        The pattern, relative to `path`'s folder.

    Example:
        >>> from pathlib import Path
        >>> temp_sibling_pattern(Path("runs/a/stats.npz"))
        '.stats.npz.*.tmp'
    """
    return f".{path.name}.*.tmp"


@contextlib.contextmanager
def atomic_paths(paths: Sequence[str | os.PathLike]) -> Iterator[list[Path]]:
    """Context manager: one temporary path beside each of `paths`; on success they replace their targets together.

    When the block succeeds, every temp file is flushed to disk and only then are they renamed over
    their targets. The files are a set: a failure while any of them is written (disk full, an
    exception) removes all the temp files and leaves every target as it was, so readers never see a
    new file beside an old one.

    Args:
        paths: the target files (their folders are created).

    Yields:
        The temporary paths, in the order of `paths`.

    Raises:
        StorageError: an OSError such as ENOSPC or EACCES, naming the target file.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> with tempfile.TemporaryDirectory() as d:
        ...     a, b = Path(d, "a.txt"), Path(d, "b.txt")
        ...     with atomic_paths([a, b]) as (ta, tb):
        ...         _ = ta.write_text("A"), tb.write_text("B")
        ...     a.read_text() + b.read_text()
        'AB'
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
    """Context manager: a temporary path beside `path` that replaces `path` atomically on success.

    On any exception the temporary file is removed and `path` is untouched, so a reader
    never sees a half-written file, and a process killed mid-write leaves the old file.

    Args:
        path: the target file.

    Yields:
        The temporary path to write.

    Raises:
        StorageError: the folder or file cannot be written (disk full, no permission, ...).

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> with tempfile.TemporaryDirectory() as d:
        ...     target = Path(d, "x.txt"); _ = target.write_text("old")
        ...     try:
        ...         with atomic_path(target) as tmp:
        ...             _ = tmp.write_text("half")
        ...             raise KeyboardInterrupt
        ...     except KeyboardInterrupt:
        ...         pass
        ...     target.read_text(), len(list(Path(d).iterdir()))
        ('old', 1)
    """
    with atomic_paths([path]) as (tmp,):
        yield tmp


def write_all(path: str | os.PathLike, data: bytes) -> None:
    r"""Write `data` to `path` with ``os.write``, continuing short writes.

    A full disk raises ENOSPC here (not later at close), with the file's name in the error.

    Args:
        path: the file to create or truncate.
        data: the bytes.

    Raises:
        OSError: the write failed; ``filename`` is `path`.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> with tempfile.TemporaryDirectory() as d:
        ...     write_all(Path(d, "f.bin"), b"\x00" * 10)
        ...     Path(d, "f.bin").stat().st_size
        10
    """
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
    """Write `data` to `path` atomically (see `atomic_path`).

    Args:
        path: the target file (its folder is created).
        data: the bytes.

    Returns:
        `path` as a Path.

    Raises:
        StorageError: the file cannot be written.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     atomic_write_bytes(d + "/sub/a.bin", b"abc").read_bytes()
        b'abc'
    """
    with atomic_path(path) as tmp:
        write_all(tmp, data)
    return Path(path)


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    r"""Write `text` to `path` atomically, UTF-8 encoded (see `atomic_path`).

    Args:
        path: the target file (its folder is created).
        text: the text.

    Returns:
        `path` as a Path.

    Raises:
        StorageError: the file cannot be written.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     atomic_write_text(d + "/a.txt", "é").read_bytes()
        b'\xc3\xa9'
    """
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_set(files: dict) -> list[Path]:
    """Write several files as a set: all new, or (on any failure) all old (see `atomic_paths`).

    Args:
        files: path -> contents (bytes, or str written as UTF-8).

    Returns:
        The paths written, in the order of `files`.

    Raises:
        StorageError: one of the files cannot be written; none was replaced.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     [p.name for p in atomic_write_set({d + "/a.json": "{}", d + "/b.bin": b"1"})]
        ['a.json', 'b.bin']
    """
    paths = list(files)
    with atomic_paths(paths) as tmps:
        for tmp, path in zip(tmps, paths):
            data = files[path]
            write_all(tmp, data.encode("utf-8") if isinstance(data, str) else data)
    return [Path(p) for p in paths]


def torch_bytes(obj) -> bytes:
    """``torch.save`` into memory, so that equal objects give equal bytes.

    torch names the zip archive's root folder after the file it writes, so saving to a random temp
    name would make identical tensors produce different bytes (and different SHA-256s) on every save;
    serialising in memory keeps saves byte-reproducible.

    Args:
        obj: anything ``torch.save`` accepts.

    Returns:
        The serialised bytes.

    Example:
        >>> import torch
        >>> torch_bytes({"w": torch.zeros(3)}) == torch_bytes({"w": torch.zeros(3)})
        True
    """
    import io

    import torch

    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def atomic_save_torch(obj, path: str | os.PathLike) -> Path:
    """``torch.save`` to `path`, atomically and byte-reproducibly (see `torch_bytes`).

    Args:
        obj: anything ``torch.save`` accepts.
        path: the target file.

    Returns:
        `path` as a Path.

    Raises:
        StorageError: the file cannot be written.

    Example:
        >>> import tempfile, torch
        >>> with tempfile.TemporaryDirectory() as d:
        ...     p = atomic_save_torch({"w": torch.ones(2)}, d + "/ckpt.pt")
        ...     torch.load(p)["w"].tolist()
        [1.0, 1.0]
    """
    return atomic_write_bytes(path, torch_bytes(obj))


def sha256_bytes(data: bytes) -> str:
    """The SHA-256 of `data`, as lowercase hex.

    Args:
        data: the bytes.

    Returns:
        64 hex characters.

    Example:
        >>> sha256_bytes(b"")[:16]
        'e3b0c44298fc1c14'
    """
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """The SHA-256 of a file's contents, read in chunks, as lowercase hex.

    Args:
        path: the file.
        chunk: the read size in bytes.

    Returns:
        64 hex characters.

    Raises:
        OSError: the file cannot be read.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     sha256_file(atomic_write_bytes(d + "/a", b"abc")) == sha256_bytes(b"abc")
        True
    """
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            h.update(block)
    return h.hexdigest()
