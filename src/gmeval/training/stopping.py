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
    def __init__(self, texts: Iterable[str]):
        self.texts = list(texts)
        self.conditions = [parse_stop_condition(t) for t in self.texts]

    def __bool__(self) -> bool:
        return bool(self.conditions)

    def keys(self) -> list[str]:
        return [k for k, _, _ in self.conditions]

    def validate(self, available: Iterable[str]) -> None:
        avail = set(available)
        for text, (key, _, _) in zip(self.texts, self.conditions):
            if key not in avail:
                raise InvalidArgumentError(
                    "stop_when", f"a condition on a value this run produces: one of {sorted(avail)}", text,
                    hint="Evaluation metrics (fid, modes_covered, ...) need an evaluation hook computing them "
                         "(the CLI adds one for a metric key); a hook declares the names it returns in a `keys` attribute.")

    def hold(self, latest: dict) -> bool:
        if not self.conditions:
            return False
        for key, op, target in self.conditions:
            v = latest.get(key)
            if v is None or not (v <= target if op == "<=" else v >= target):
                return False
        return True
