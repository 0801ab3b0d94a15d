"""Argument types that validate flags at the CLI boundary.

Each factory returns an argparse `type=` callable. A bad value raises FlagValueError (a GmevalError and an
argparse.ArgumentTypeError), which argparse reports as one line naming the flag, the allowed values and
what was given, with exit code 2:

    gmeval train: error: argument --steps: must be an integer >= 1, but got '0' (see gmeval train --help)
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import GmevalError, InvalidArgumentError
from ..utils.checks import Constraint, Range


class FlagValueError(GmevalError, argparse.ArgumentTypeError):
    """A command-line flag has a value outside its allowed range.

    Args:
        allowed: what the flag allows, as a phrase ("an integer >= 1").
        got: the text given.

    Example:
        >>> import argparse
        >>> exc = FlagValueError("an integer >= 1", "0")
        >>> str(exc), isinstance(exc, argparse.ArgumentTypeError)
        ("must be an integer >= 1, but got '0'", True)
    """

    def __init__(self, allowed: str, got: str):
        self.allowed, self.got = allowed, got
        super().__init__(f"must be {allowed}, but got {got!r}")


def flag_type(constraint: Constraint):
    """An argparse `type=` that converts and checks a flag's text with a declared constraint
    (gmeval.utils.checks); a bad value is a FlagValueError naming the allowed values.

    Args:
        constraint: the declared constraint (Range, OneOf, Satisfies, ...).

    Returns:
        A function of the flag's text returning the converted, allowed value.

    Example:
        >>> from gmeval.utils.checks import OneOf
        >>> flag_type(Range(int, 1))("3")
        3
        >>> flag_type(OneOf(["a", "b"]))("c")
        Traceback (most recent call last):
        ...
        gmeval.cli.validate.FlagValueError: must be one of ['a', 'b'], but got 'c'
    """

    def parse(text: str):
        """A flag's text converted and checked (the `type=` the constraint's factory made).

        The module's usual ones are made this way: `positive_int`, `non_negative_int`, `seed`,
        `positive_number`, `probability` and `beta` (Adam's beta1/beta2, in [0, 1)).

        Args:
            text: the flag's text.

        Returns:
            The converted value.

        Raises:
            FlagValueError: naming the allowed values and the text given.

        Example:
            >>> positive_int("3"), non_negative_int("0"), seed("42"), probability("1"), beta("0.5")
            (3, 0, 42, 1.0, 0.5)
            >>> positive_number("0")
            Traceback (most recent call last):
            ...
            gmeval.cli.validate.FlagValueError: must be a finite number > 0, but got '0'
        """
        try:
            return constraint.parse(text)
        except InvalidArgumentError as exc:
            raise FlagValueError(exc.allowed, text) from None

    parse.__name__ = constraint.allowed  # argparse names the type in some messages
    return parse


def integer(lo: int | None = None, hi: int | None = None):
    """An integer in [lo, hi] (either bound optional).

    Args:
        lo: the smallest allowed value, or None.
        hi: the largest allowed value, or None.

    Returns:
        An argparse `type=` (see `flag_type`).

    Example:
        >>> import argparse
        >>> p = argparse.ArgumentParser(prog="demo")
        >>> _ = p.add_argument("--port", type=integer(0, 65535))
        >>> p.parse_args(["--port", "8000"]).port
        8000
        >>> integer(0, 65535)("70000")
        Traceback (most recent call last):
        ...
        gmeval.cli.validate.FlagValueError: must be an integer in [0, 65535], but got '70000'
    """
    return flag_type(Range(int, lo, hi))


def number(lo: float | None = None, hi: float | None = None, lo_open: bool = False, hi_open: bool = False):
    """A finite real number in the given (open or closed) range.

    Args:
        lo: the lower bound, or None.
        hi: the upper bound, or None.
        lo_open: whether `lo` itself is excluded.
        hi_open: whether `hi` itself is excluded.

    Returns:
        An argparse `type=` (see `flag_type`).

    Example:
        >>> confidence = number(0.0, 1.0, lo_open=True, hi_open=True)
        >>> confidence("0.95")
        0.95
        >>> confidence("nan")
        Traceback (most recent call last):
        ...
        gmeval.cli.validate.FlagValueError: must be a finite number in (0, 1), but got 'nan'
    """
    return flag_type(Range(float, lo, hi, lo_open, hi_open))


#: the usual ones
positive_int = integer(1)
non_negative_int = integer(0)
seed = integer(0, 2**63 - 1)
positive_number = number(0.0, lo_open=True)
probability = number(0.0, 1.0)
beta = number(0.0, 1.0, hi_open=True)  # Adam's beta1/beta2


def output_file(*suffixes: str):
    """A file to write: not an existing folder, and (if `suffixes` are given) ending in one of them.

    Args:
        *suffixes: the allowed suffixes, lower case with the dot (".npz"); none: any.

    Returns:
        An argparse `type=` returning the text unchanged, or raising FlagValueError.

    Example:
        >>> output_file(".npz")("out/stats.npz")
        'out/stats.npz'
        >>> output_file(".npz")("out/stats.json")
        Traceback (most recent call last):
        ...
        gmeval.cli.validate.FlagValueError: must be a file path ending in .npz (not a folder), but got 'out/stats.json'
    """
    allowed = "a file path" + (f" ending in {' or '.join(suffixes)}" if suffixes else "") + " (not a folder)"

    def parse(text: str) -> str:
        p = Path(text)
        if p.is_dir() or text.endswith(("/", "\\")) or (suffixes and p.suffix.lower() not in suffixes):
            raise FlagValueError(allowed, text)
        if p.parent.exists() and not p.parent.is_dir():
            raise FlagValueError(allowed + " inside a folder", text)
        return text

    parse.__name__ = "output file"
    return parse


def output_folder(text: str) -> str:
    """A folder to write into: it may exist, but not as a file.

    Args:
        text: the flag's text.

    Returns:
        The text unchanged.

    Raises:
        FlagValueError: if the path is an existing file.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> with tempfile.TemporaryDirectory() as d:
        ...     _ = Path(d, "f.txt").write_text("")
        ...     new = output_folder(str(Path(d, "new")))
        ...     try:
        ...         output_folder(str(Path(d, "f.txt")))
        ...     except FlagValueError as exc:
        ...         print(exc)
        must be a folder (this path is an existing file), but got '.../f.txt'
        >>> Path(new).name
        'new'
    """
    p = Path(text)
    if p.exists() and not p.is_dir():
        raise FlagValueError("a folder (this path is an existing file)", text)
    return text


def output_folder_or_file(*suffixes: str):
    """A folder (a path without suffix) or a file ending in one of `suffixes` (e.g. `sample -o`).

    Args:
        *suffixes: the allowed file suffixes (".npz").

    Returns:
        An argparse `type=` returning the text unchanged, or raising FlagValueError.

    Example:
        >>> out = output_folder_or_file(".npz")
        >>> out("samples"), out("samples.npz")
        ('samples', 'samples.npz')
        >>> out("samples.png")
        Traceback (most recent call last):
        ...
        gmeval.cli.validate.FlagValueError: must be a folder (a path without suffix) or a file ending in .npz, but got 'samples.png'
    """
    allowed = f"a folder (a path without suffix) or a file ending in {' or '.join(suffixes)}"

    def parse(text: str) -> str:
        p = Path(text)
        if p.suffix.lower() in suffixes:
            return output_file(*suffixes)(text)
        if p.suffix or (p.exists() and not p.is_dir()):
            raise FlagValueError(allowed, text)
        return text

    parse.__name__ = "output path"
    return parse


def existing_folder(text: str) -> str:
    """A folder that exists (to read from).

    Args:
        text: the flag's text.

    Returns:
        The text unchanged.

    Raises:
        FlagValueError: if it is not an existing folder.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     existing_folder(d) == d
        True
        >>> existing_folder("no/such/folder")
        Traceback (most recent call last):
        ...
        gmeval.cli.validate.FlagValueError: must be an existing folder, but got 'no/such/folder'
    """
    if not Path(text).is_dir():
        raise FlagValueError("an existing folder", text)
    return text


def existing_file(text: str) -> str:
    """A file that exists (to read from).

    Args:
        text: the flag's text.

    Returns:
        The text unchanged.

    Raises:
        FlagValueError: if it is not an existing file.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     existing_file(d)
        Traceback (most recent call last):
        ...
        gmeval.cli.validate.FlagValueError: must be an existing file, but got '...'
    """
    if not Path(text).is_file():
        raise FlagValueError("an existing file", text)
    return text
