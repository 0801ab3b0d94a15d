"""Stop conditions (`--stop-when 'fid<=40'`): checked against every logged value, validated up front.

The Trainer keeps the latest value of every key it has logged (losses and D outputs at each log
step, monitor values at each check, evaluation metrics at each evaluation) and asks `hold(latest)`
after every record: all conditions must hold at once, each on its key's latest value. Keys are
checked at start against what the run will produce (`validate`), so a misspelt key or a metric
no hook computes is an error instead of a condition that never fires.
"""

from __future__ import annotations

from typing import Iterable

from ..errors import InvalidArgumentError
from .config import parse_stop_condition


class StopConditions:
    """Conditions on logged values that end a run when they all hold (`--stop-when`).

    Args:
        texts: conditions like "fid<=40" or "d_real>=0.6".

    Raises:
        InvalidArgumentError: if a text is not a condition.

    Example:
        >>> stops = StopConditions(["fid<=40", "d_real>=0.6"])
        >>> bool(stops), stops.keys()
        (True, ['fid', 'd_real'])
        >>> stops.hold({"fid": 35.0, "d_real": 0.7}), stops.hold({"fid": 35.0}), StopConditions([]).hold({})
        (True, False, False)
        >>> stops.validate({"fid", "d_real", "loss_g"})
        >>> stops.validate({"d_real"})
        Traceback (most recent call last):
        ...
        gmeval.errors.InvalidArgumentError: Argument `stop_when` must be a condition on a value this run produces: one of ['d_real'], but got 'fid<=40'. ...
    """

    def __init__(self, texts: Iterable[str]):
        self.texts = list(texts)
        self.conditions = [parse_stop_condition(t) for t in self.texts]

    def __bool__(self) -> bool:
        return bool(self.conditions)

    def keys(self) -> list[str]:
        """The keys the conditions read, in order.

        Returns:
            A list of value names.

        Example:
            >>> StopConditions(["loss_g<=1"]).keys()
            ['loss_g']
        """
        return [k for k, _, _ in self.conditions]

    def validate(self, available: Iterable[str]) -> None:
        """Raise unless every condition's key is among the values the run produces.

        Args:
            available: the names the run logs (`Trainer.produced_keys()`).

        Raises:
            InvalidArgumentError: naming the first condition on a value not produced, and those produced.

        Example:
            >>> StopConditions(["fid<=40"]).validate(["fid"])
        """
        avail = set(available)
        for text, (key, _, _) in zip(self.texts, self.conditions):
            if key not in avail:
                raise InvalidArgumentError(
                    "stop_when", f"a condition on a value this run produces: one of {sorted(avail)}", text,
                    hint="Evaluation metrics (fid, modes_covered, ...) need an evaluation hook computing them "
                         "(the CLI adds one for a metric key); a hook declares the names it returns in a `keys` attribute.")

    def hold(self, latest: dict) -> bool:
        """Whether every condition holds on the latest value of its key (False with no conditions).

        Args:
            latest: {name: latest logged value}; a missing key fails its condition.

        Returns:
            True if all hold.

        Example:
            >>> StopConditions(["d_real>=0.6"]).hold({"d_real": 0.5})
            False
        """
        if not self.conditions:
            return False
        for key, op, target in self.conditions:
            v = latest.get(key)
            if v is None or not (v <= target if op == "<=" else v >= target):
                return False
        return True
