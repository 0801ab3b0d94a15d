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
    """Base: subclasses set `allowed` (a phrase: 'an integer >= 1') and implement `ok(value)`.

    `check` and `parse` are shared by every constraint; a subclass only says what it allows and,
    for command-line texts that are not strings in the library, how to `convert` them.

    Example:
        >>> class Even(Constraint):
        ...     allowed = "an even integer"
        ...     def ok(self, value):
        ...         return isinstance(value, int) and value % 2 == 0
        ...     def convert(self, text):
        ...         return int(text)
        >>> Even().check("batch", 4)
        4
        >>> Even().parse("6", "--batch")
        6
        >>> Even().check("batch", 3)
        Traceback (most recent call last):
        ...
        gmeval.errors.InvalidArgumentError: Argument `batch` must be an even integer, but got 3.
    """

    allowed: str = "a value"

    def ok(self, value) -> bool:
        """Whether `value` is allowed (subclasses implement it).

        Args:
            value: the value to test.

        Returns:
            True if allowed, else False.

        Raises:
            NotImplementedError: on the base class.

        Example:
            >>> Range(int, 1).ok(0)
            False
        """
        raise NotImplementedError

    def convert(self, text: str):
        """The value a command-line text stands for (ValueError if it stands for none).

        Args:
            text: the flag's text.

        Returns:
            The converted value (the text itself on the base class).

        Raises:
            ValueError: if the text stands for no value of the kind.

        Example:
            >>> OneOf(["a", "b"]).convert("a")
            'a'
        """
        return text

    def check(self, name: str, value):
        """`value` if allowed, else InvalidArgumentError naming `name`.

        Args:
            name: the argument's name, quoted in the error.
            value: the value to check.

        Returns:
            `value` unchanged.

        Raises:
            InvalidArgumentError: if the constraint does not allow `value`.

        Example:
            >>> Range(int, 1).check("steps", 5)
            5
        """
        if not self.ok(value):
            raise InvalidArgumentError(name, self.allowed, value)
        return value

    def parse(self, text: str, name: str = "value"):
        """Convert a command-line text and check it; InvalidArgumentError (with the text as given) if either fails.

        Args:
            text: the flag's text.
            name: the argument's name, quoted in the error.

        Returns:
            The converted, allowed value.

        Raises:
            InvalidArgumentError: if the text does not convert or the value is not allowed.

        Example:
            >>> Range(int, 1).parse("3", "--steps")
            3
            >>> Range(int, 1).parse("three", "--steps")
            Traceback (most recent call last):
            ...
            gmeval.errors.InvalidArgumentError: Argument `--steps` must be an integer >= 1, but got 'three'.
        """
        try:
            value = self.convert(text)
        except ValueError:
            raise InvalidArgumentError(name, self.allowed, text) from None
        if not self.ok(value):
            raise InvalidArgumentError(name, self.allowed, text)
        return value


@dataclass(frozen=True)
class Range(Constraint):
    """An integer (`kind=int`) or a finite real number (`kind=float`) in an optional, open or closed, range.

    Booleans, NaN and infinities are never allowed.

    Attributes:
        kind: `int` or `float`; also converts command-line texts.
        lo: the lower bound, or None for none.
        hi: the upper bound, or None for none.
        lo_open: whether `lo` itself is excluded.
        hi_open: whether `hi` itself is excluded.

    Example:
        >>> Range(float, 0.0, 1.0, lo_open=True).allowed
        'a finite number in (0, 1]'
        >>> Range(int, hi=10).allowed
        'an integer <= 10'
        >>> Range(int, 1).ok(True), Range(float).ok(float("nan")), Range(float, 0.0).ok(2)
        (False, False, True)
        >>> Range(float, 0.0).parse("0.5", "--lr")
        0.5
    """

    kind: type = int
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    hi_open: bool = False

    @property
    def allowed(self) -> str:  # type: ignore[override]
        """What the range allows, as a phrase for error messages.

        Example:
            >>> Range(int, 0, 9, hi_open=True).allowed
            'an integer in [0, 9)'
        """
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
        """Whether `value` is a number of the kind (not a bool), finite and inside the range.

        Args:
            value: the value to test.

        Returns:
            True if allowed, else False.

        Example:
            >>> Range(int, 1).ok(1), Range(int, 1, lo_open=True).ok(1), Range(int).ok(1.0)
            (True, False, False)
        """
        if isinstance(value, bool) or not isinstance(value, numbers.Integral if self.kind is int else numbers.Real):
            return False
        if not math.isfinite(value):
            return False
        return ((self.lo is None or (value > self.lo if self.lo_open else value >= self.lo))
                and (self.hi is None or (value < self.hi if self.hi_open else value <= self.hi)))

    def convert(self, text: str):
        """`text` as an int or a float (`kind`).

        Args:
            text: the flag's text.

        Returns:
            `kind(text)`.

        Raises:
            ValueError: if the text is not a number of the kind.

        Example:
            >>> Range(int).convert("12"), Range(float).convert("1e-3")
            (12, 0.001)
        """
        return self.kind(text)


class OneOf(Constraint):
    """One of a set of names; `names` may be a callable so a registry is read only when needed.

    Args:
        names: the allowed names, or a function returning them (called on every use).

    Example:
        >>> loss = OneOf(["wgan-gp", "bce"])
        >>> loss.choices
        ['bce', 'wgan-gp']
        >>> loss.check("loss", "hinge")
        Traceback (most recent call last):
        ...
        gmeval.errors.InvalidArgumentError: Argument `loss` must be one of ['bce', 'wgan-gp'], but got 'hinge'.
        >>> OneOf(lambda: {"x", "y"}).ok("y")
        True
    """

    def __init__(self, names: Iterable[str] | Callable[[], Iterable[str]]):
        self._names = names

    @property
    def choices(self) -> list[str]:
        """The allowed names, sorted.

        Example:
            >>> OneOf(("b", "a")).choices
            ['a', 'b']
        """
        return sorted(self._names() if callable(self._names) else self._names)

    @property
    def allowed(self) -> str:  # type: ignore[override]
        """'one of [...]' with the sorted names.

        Example:
            >>> OneOf(["b", "a"]).allowed
            "one of ['a', 'b']"
        """
        return f"one of {self.choices}"

    def ok(self, value) -> bool:
        """Whether `value` is a string among the names.

        Args:
            value: the value to test.

        Returns:
            True if allowed, else False.

        Example:
            >>> OneOf(["a"]).ok("a"), OneOf(["a"]).ok("b")
            (True, False)
        """
        return isinstance(value, str) and value in self.choices


class Satisfies(Constraint):
    """A text accepted by `predicate` (which returns a bool), described by `allowed`.

    Args:
        allowed: the phrase naming what is allowed, used in error messages.
        predicate: a function of the text returning True when it is allowed.

    Example:
        >>> stem = Satisfies("a name without '/'", lambda s: s != "" and "/" not in s)
        >>> stem.parse("run1", "--name")
        'run1'
        >>> stem.check("name", "a/b")
        Traceback (most recent call last):
        ...
        gmeval.errors.InvalidArgumentError: Argument `name` must be a name without '/', but got 'a/b'.
    """

    def __init__(self, allowed: str, predicate: Callable[[str], bool]):
        self.allowed, self._predicate = allowed, predicate

    def ok(self, value) -> bool:
        """Whether `value` is a string the predicate accepts.

        Args:
            value: the value to test.

        Returns:
            True if allowed, else False.

        Example:
            >>> Satisfies("a digit", str.isdigit).ok("7"), Satisfies("a digit", str.isdigit).ok(7)
            (True, False)
        """
        return isinstance(value, str) and self._predicate(value)
