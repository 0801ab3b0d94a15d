"""Typed errors. Every message says what was wrong, where, and what is allowed."""

from __future__ import annotations


class GmevalError(Exception):
    """Base class of every error gmeval raises on purpose."""


class InvalidArgumentError(GmevalError, ValueError):
    """An argument has a value outside what is allowed."""

    def __init__(self, name: str, allowed: str, got: object, hint: str = ""):
        self.name, self.allowed, self.got = name, allowed, got
        msg = f"Argument `{name}` must be {allowed}, but got {got!r}."
        if hint:
            msg += " " + hint
        super().__init__(msg)


class DataError(GmevalError):
    """Base class for problems with input data. `path` names the offending file, if any."""

    def __init__(self, message: str, path: object = None):
        self.path = path
        super().__init__(f"{path}: {message}" if path is not None else message)


class DatasetNotFoundError(DataError, FileNotFoundError):
    """Dataset files could not be found locally nor downloaded."""


class ChecksumError(DataError):
    """A file's SHA-256 does not match the expected value."""


class CorruptFileError(DataError):
    """A file could not be parsed (wrong magic number, short payload, unreadable image...)."""


class EmptySourceError(DataError):
    """A source yielded no items."""


class ShapeMismatchError(DataError):
    """Items of one source have inconsistent shapes, or an array has an unsupported shape."""


class WeightsError(GmevalError):
    """Model weights are missing, truncated, tampered with, or do not fit the architecture."""


class CheckpointError(GmevalError):
    """A checkpoint cannot be read or does not match what was asked of it."""


class StorageError(GmevalError, OSError):
    """A file or folder could not be written or read: disk full, no permission, read-only file system,
    a folder where a file was expected... `path` names it; `errno` keeps the operating system's code."""

    def __init__(self, path: object, reason: str, errno: int | None = None):
        self.path, self.reason = path, reason
        GmevalError.__init__(self, f"{path}: {reason}")
        self.errno = errno

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


class RunFolderError(GmevalError):
    """A run folder cannot be used as asked (it holds another run, or its files are missing)."""


class TrainingDivergedError(GmevalError):
    """A loss became NaN or infinite; the last good checkpoint was kept."""


class MissingDependencyError(GmevalError, ImportError):
    """An optional dependency is not installed; the message gives the install command."""

    def __init__(self, package: str, feature: str, extra: str | None = None):
        cmd = f"pip install 'gmeval[{extra}]'" if extra else f"pip install {package}"
        super().__init__(f"{feature} needs the optional package `{package}`, which is not installed. Install it with: {cmd}")


def require(module: str, feature: str, extra: str | None = None, package: str | None = None):
    """Import an optional dependency or raise MissingDependencyError with the install command."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - depends on environment
        raise MissingDependencyError(package or module, feature, extra) from exc
