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
    """A command-line flag has a value outside its allowed range."""

    def __init__(self, allowed: str, got: str):
        self.allowed, self.got = allowed, got
        super().__init__(f"must be {allowed}, but got {got!r}")


def flag_type(constraint: Constraint):
    """An argparse `type=` that converts and checks a flag's text with a declared constraint
    (gmeval.utils.checks); a bad value is a FlagValueError naming the allowed values."""

    def parse(text: str):
        try:
            return constraint.parse(text)
        except InvalidArgumentError as exc:
            raise FlagValueError(exc.allowed, text) from None

    parse.__name__ = constraint.allowed  # argparse names the type in some messages
    return parse


def integer(lo: int | None = None, hi: int | None = None):
    """An integer in [lo, hi] (either bound optional)."""
    return flag_type(Range(int, lo, hi))


def number(lo: float | None = None, hi: float | None = None, lo_open: bool = False, hi_open: bool = False):
    """A finite real number in the given (open or closed) range."""
    return flag_type(Range(float, lo, hi, lo_open, hi_open))


#: the usual ones
positive_int = integer(1)
non_negative_int = integer(0)
seed = integer(0, 2**63 - 1)
positive_number = number(0.0, lo_open=True)
probability = number(0.0, 1.0)
beta = number(0.0, 1.0, hi_open=True)  # Adam's beta1/beta2


def output_file(*suffixes: str):
    """A file to write: not an existing folder, and (if `suffixes` are given) ending in one of them."""
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
    """A folder to write into: it may exist, but not as a file."""
    p = Path(text)
    if p.exists() and not p.is_dir():
        raise FlagValueError("a folder (this path is an existing file)", text)
    return text


def output_folder_or_file(*suffixes: str):
    """A folder (a path without suffix) or a file ending in one of `suffixes` (e.g. `sample -o`)."""
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
    if not Path(text).is_dir():
        raise FlagValueError("an existing folder", text)
    return text


def existing_file(text: str) -> str:
    if not Path(text).is_file():
        raise FlagValueError("an existing file", text)
    return text
