"""Typed errors. Every message says what was wrong, where, and what is allowed."""

from __future__ import annotations


class GmevalError(Exception):
    """Base class of every error gmeval raises on purpose.

    Catch it to tell gmeval's own, explained failures from bugs; the CLI turns it into a one-line
    message and exit code 2.

    Example:
        >>> issubclass(InvalidArgumentError, GmevalError), issubclass(DataError, GmevalError)
        (True, True)
    """


class InvalidArgumentError(GmevalError, ValueError):
    """An argument has a value outside what is allowed.

    Args:
        name: the argument's name, as the caller wrote it (``"n"``, ``"--size"``).
        allowed: what is allowed, phrased to follow "must be" (``"a positive integer"``).
        got: the value that was given (shown with ``repr``).
        hint: an optional extra sentence (how to fix it).

    Example:
        >>> raise InvalidArgumentError("n", "a positive integer", -3, hint="Pass n >= 1.")
        Traceback (most recent call last):
        ...
        gmeval.errors.InvalidArgumentError: Argument `n` must be a positive integer, but got -3. Pass n >= 1.
    """

    def __init__(self, name: str, allowed: str, got: object, hint: str = ""):
        self.name, self.allowed, self.got = name, allowed, got
        msg = f"Argument `{name}` must be {allowed}, but got {got!r}."
        if hint:
            msg += " " + hint
        super().__init__(msg)


class DataError(GmevalError):
    """Base class for problems with input data.

    Args:
        message: what is wrong with the data.
        path: the offending file or folder, if any; it prefixes the message and is kept as ``.path``.

    Example:
        >>> err = DataError("no images found", "samples/")
        >>> str(err), err.path
        ('samples/: no images found', 'samples/')
    """

    def __init__(self, message: str, path: object = None):
        self.path = path
        super().__init__(f"{path}: {message}" if path is not None else message)


class DatasetNotFoundError(DataError, FileNotFoundError):
    """Dataset files could not be found locally nor downloaded.

    Also a ``FileNotFoundError``. Arguments as `DataError`.

    Example:
        >>> isinstance(DatasetNotFoundError("not in GMEVAL_DATA", "mnist"), FileNotFoundError)
        True
    """


class ChecksumError(DataError):
    """A file's SHA-256 does not match the expected value. Arguments as `DataError`.

    Example:
        >>> str(ChecksumError("sha256 abc..., expected def...", "t10k-images-idx3-ubyte"))
        't10k-images-idx3-ubyte: sha256 abc..., expected def...'
    """


class CorruptFileError(DataError):
    """A file could not be parsed (wrong magic number, short payload, unreadable image...).
    Arguments as `DataError`.

    Example:
        >>> from gmeval.data.idx import parse_idx
        >>> parse_idx(b"\\x00\\x00")
        Traceback (most recent call last):
        ...
        gmeval.errors.CorruptFileError: <bytes>: IDX file is 2 bytes long, shorter than its 4-byte magic number
    """


class EmptySourceError(DataError):
    """A source yielded no items. Arguments as `DataError`.

    Example:
        >>> issubclass(EmptySourceError, DataError)
        True
    """


class ShapeMismatchError(DataError):
    """Items of one source have inconsistent shapes, or an array has an unsupported shape.
    Arguments as `DataError`.

    Example:
        >>> import numpy as np
        >>> from gmeval.stats import GaussianStats
        >>> GaussianStats().update(np.zeros(3))
        Traceback (most recent call last):
        ...
        gmeval.errors.ShapeMismatchError: features must be N x D, got shape (3,)
    """


class WeightsError(GmevalError):
    """Model weights are missing, truncated, tampered with, or do not fit the architecture.

    Example:
        >>> issubclass(WeightsError, GmevalError)
        True
    """


class CheckpointError(GmevalError):
    """A checkpoint cannot be read or does not match what was asked of it.

    Example:
        >>> issubclass(CheckpointError, GmevalError)
        True
    """


class StorageError(GmevalError, OSError):
    """A file or folder could not be written or read: disk full, no permission, read-only file system,
    a folder where a file was expected...

    Args:
        path: the file or folder (kept as ``.path``).
        reason: a short reason (``"no space left on device"``), kept as ``.reason``.
        errno: the operating system's error code, if any (kept as ``.errno``).

    Example:
        >>> import errno
        >>> err = StorageError("runs/a/ckpt.pt", "no space left on device", errno.ENOSPC)
        >>> str(err), err.errno == errno.ENOSPC, isinstance(err, OSError)
        ('runs/a/ckpt.pt: no space left on device', True, True)
    """

    def __init__(self, path: object, reason: str, errno: int | None = None):
        self.path, self.reason = path, reason
        GmevalError.__init__(self, f"{path}: {reason}")
        self.errno = errno

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


class RunFolderError(GmevalError):
    """A run folder cannot be used as asked (it holds another run, or its files are missing).

    Example:
        >>> issubclass(RunFolderError, GmevalError)
        True
    """


class TrainingDivergedError(GmevalError):
    """A loss became NaN or infinite; the last good checkpoint was kept.

    Example:
        >>> issubclass(TrainingDivergedError, GmevalError)
        True
    """


class MissingDependencyError(GmevalError, ImportError):
    """An optional dependency is not installed; the message gives the install command.

    Args:
        package: the PyPI package that is missing.
        feature: what needs it, as the start of a sentence (``"Text metrics"``).
        extra: gmeval's extra that installs it (the command then is ``pip install 'gmeval[extra]'``).

    Example:
        >>> print(MissingDependencyError("flask", "The human-evaluation app", extra="human"))
        The human-evaluation app needs the optional package `flask`, which is not installed. Install it with: pip install 'gmeval[human]'
    """

    def __init__(self, package: str, feature: str, extra: str | None = None):
        cmd = f"pip install 'gmeval[{extra}]'" if extra else f"pip install {package}"
        super().__init__(f"{feature} needs the optional package `{package}`, which is not installed. Install it with: {cmd}")


def require(module: str, feature: str, extra: str | None = None, package: str | None = None):
    """Import an optional dependency, or explain how to install it.

    Args:
        module: the module to import (``"flask"``, ``"sentence_transformers"``).
        feature: what needs it, for the error message.
        extra: gmeval's extra that installs it, if any.
        package: the PyPI name when it differs from `module` (default: `module`).

    Returns:
        The imported module.

    Raises:
        MissingDependencyError: the module cannot be imported; the message gives the install command.

    Example:
        >>> require("json", "Reading reports").dumps([1])
        '[1]'
        >>> require("no_such_module_xyz", "This example", package="no-such-package")
        Traceback (most recent call last):
        ...
        gmeval.errors.MissingDependencyError: This example needs the optional package `no-such-package`, ...
    """
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - depends on environment
        raise MissingDependencyError(package or module, feature, extra) from exc
