"""Declared value constraints: each one describes what it allows and checks a value against it.

A constraint is used twice from one declaration: by the library (`check(name, value)` raises
InvalidArgumentError naming the argument, the allowed values and the value given) and by the command
line (`parse(text)` converts a flag's text, then checks it; `cli/validate.py` turns the error into
argparse's one-line message naming the flag). `TrainConfig` declares its fields' constraints this way.

    >>> Range(int, 1).allowed
    'an integer >= 1'
    >>> Range(float, 0.0, 1.0, hi_open=True).check("beta1", 1.0)
    Traceback (most recent call last):
    ...
    gmeval.errors.InvalidArgumentError: Argument `beta1` must be a finite number in [0, 1), but got 1.0.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Callable, Iterable

from ..errors import InvalidArgumentError


class Constraint:
    """Base: subclasses set `allowed` (a phrase: 'an integer >= 1') and implement `ok(value)`."""

    allowed: str = "a value"

    def ok(self, value) -> bool:
        raise NotImplementedError

    def convert(self, text: str):
        """The value a command-line text stands for (ValueError if it stands for none)."""
        return text

    def check(self, name: str, value):
        """`value` if allowed, else InvalidArgumentError naming `name`."""
        if not self.ok(value):
            raise InvalidArgumentError(name, self.allowed, value)
        return value

    def parse(self, text: str, name: str = "value"):
        """Convert a command-line text and check it; InvalidArgumentError (with the text as given) if either fails."""
        try:
            value = self.convert(text)
        except ValueError:
            raise InvalidArgumentError(name, self.allowed, text) from None
        if not self.ok(value):
            raise InvalidArgumentError(name, self.allowed, text)
        return value


@dataclass(frozen=True)
class Range(Constraint):
    """An integer (`kind=int`) or a finite real number (`kind=float`) in an optional, open or closed, range."""

    kind: type = int
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    hi_open: bool = False

    @property
    def allowed(self) -> str:  # type: ignore[override]
        what = "an integer" if self.kind is int else "a finite number"
        lo, hi = (None if b is None else str(int(b)) if self.kind is int else f"{b:g}" for b in (self.lo, self.hi))
        if lo is not None and hi is not None:
            return f"{what} in {'(' if self.lo_open else '['}{lo}, {hi}{')' if self.hi_open else ']'}"
        if lo is not None:
            return f"{what} {'>' if self.lo_open else '>='} {lo}"
        if hi is not None:
            return f"{what} {'<' if self.hi_open else '<='} {hi}"
        return what

    def ok(self, value) -> bool:
        if isinstance(value, bool) or not isinstance(value, numbers.Integral if self.kind is int else numbers.Real):
            return False
        if not math.isfinite(value):
            return False
        return ((self.lo is None or (value > self.lo if self.lo_open else value >= self.lo))
                and (self.hi is None or (value < self.hi if self.hi_open else value <= self.hi)))

    def convert(self, text: str):
        return self.kind(text)


class OneOf(Constraint):
    """One of a set of names; `names` may be a callable so a registry is read only when needed."""

    def __init__(self, names: Iterable[str] | Callable[[], Iterable[str]]):
        self._names = names

    @property
    def choices(self) -> list[str]:
        return sorted(self._names() if callable(self._names) else self._names)

    @property
    def allowed(self) -> str:  # type: ignore[override]
        return f"one of {self.choices}"

    def ok(self, value) -> bool:
        return isinstance(value, str) and value in self.choices


class Satisfies(Constraint):
    """A text accepted by `predicate` (which returns a bool), described by `allowed`."""

    def __init__(self, allowed: str, predicate: Callable[[str], bool]):
        self.allowed, self._predicate = allowed, predicate

    def ok(self, value) -> bool:
        return isinstance(value, str) and self._predicate(value)
