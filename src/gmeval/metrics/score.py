"""One protocol for every reported number: `Signature`, `Score` and `Registry`.

Image metrics, text metrics and human-evaluation scores all report through these three classes
(after sacreBLEU's `Score` and `Signature` objects; Post 2018, "A Call for Clarity in Reporting
BLEU Scores"):

- `Signature`: the ingredients that produced a number, as ordered ``key:value`` fields after a
  head (the metric or family name). ``format()`` gives the long form stored in JSON, e.g.
  ``fid|ext:inception|w:7ff4a85c3a63|layer:pool3|...|v:0.1.0``; ``format(short=True)`` a compact
  one for tables (keys abbreviated, long values cut to 12 characters).
- `Score`: a value, its direction, its signature and any further fields (interval, unit, details).
  ``to_dict()`` is the one export: the value is always under the key ``"value"``.
- `Registry`: the names a family of metrics answers to, with aliases and deprecated names
  (a `FutureWarning` for one release), parsed from ``"a,b"`` strings or lists with a typed error
  that lists the allowed names.

>>> sig = Signature("fid", [("ext", "mnist"), ("nreal", 100), ("seed", None), ("v", "0.1.0")])
>>> str(sig)
'fid|ext:mnist|nreal:100|v:0.1.0'
>>> Score("fid", 12.5, sig, higher_is_better=False).to_dict()["value"]
12.5
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Generic, Iterable, Iterator, Mapping, Sequence, TypeVar

from ..errors import InvalidArgumentError

#: abbreviations of the short signature format (keys not listed keep their first three letters)
SHORT_KEYS = {"ext": "e", "w": "w", "layer": "l", "pre": "p", "prec": "pr", "real": "r", "nreal": "nr",
              "fake": "f", "nfake": "nf", "seed": "s", "v": "v", "version": "v"}


@dataclass(frozen=True)
class Signature:
    """The ingredients of a number: ``head|key:value|...``. Fields whose value is None are left
    out; a field whose key is ``""`` is written as its value alone (a free-form item). An empty
    head is not written: sacreBLEU's own signatures (``nrefs:1|case:mixed|...``) have none.

    Args:
        head: the metric or family name, the first item of the string.
        fields: ordered ``(key, value)`` pairs.

    Attributes:
        head: the metric or family name.
        fields: the ``(key, value)`` pairs, in order, without the None values.

    >>> s = Signature("kid", [("ext", "inception"), ("size", 1000), ("v", "0.1.0")])
    >>> s.format()
    'kid|ext:inception|size:1000|v:0.1.0'
    >>> s.format(short=True)
    'kid|e:inception|siz:1000|v:0.1.0'
    >>> Signature.parse(s.format()).format() == s.format()
    True
    """

    head: str
    fields: tuple = ()

    def __init__(self, head: str, fields: Iterable[tuple[str, Any]] | Mapping[str, Any] = ()):
        items = fields.items() if isinstance(fields, Mapping) else fields
        object.__setattr__(self, "head", str(head))
        object.__setattr__(self, "fields", tuple((str(k), v) for k, v in items if v is not None))

    def get(self, key: str, default=None):
        """The value of field `key` (the first one), or `default`."""
        return next((v for k, v in self.fields if k == key), default)

    def with_fields(self, **updates) -> "Signature":
        """A copy with fields replaced (in place) or appended; a value of None removes the field."""
        out = [(k, updates.pop(k) if k in updates else v) for k, v in self.fields]
        out += list(updates.items())
        return Signature(self.head, out)

    def format(self, short: bool = False) -> str:
        """The long form (stored in JSON, compared across runs) or, with `short`, a compact form for tables."""
        items = [self.head] if self.head else []
        for k, v in self.fields:
            if short:
                v = str(v)
                v = v if len(v) <= 12 else v[:11] + "…"
                k = SHORT_KEYS.get(k, k[:3])
            items.append(f"{k}:{v}" if k else str(v))
        return "|".join(items)

    def __str__(self) -> str:
        return self.format()

    def as_dict(self) -> dict:
        """The head and the named fields as one dict (free-form items are left out)."""
        return {"head": self.head, **{k: v for k, v in self.fields if k}}

    @classmethod
    def parse(cls, text: str, headless: bool = False) -> "Signature":
        """Read a long-form signature string back (values are kept as strings).

        Args:
            text: a ``head|key:value|...`` string.
            headless: the string has no head (every item is a field), as sacreBLEU's signatures.

        Raises:
            InvalidArgumentError: `text` is not a non-empty string.

        >>> Signature.parse("nrefs:1|case:mixed|version:2.6.0", headless=True).get("case")
        'mixed'
        """
        if not isinstance(text, str) or not text:
            raise InvalidArgumentError("signature", "a non-empty 'head|key:value|...' string", text)
        head, *rest = ([""] if headless else []) + text.split("|")
        fields = []
        for item in rest:
            k, sep, v = item.partition(":")
            fields.append((k, v) if sep else ("", item))
        return cls(head, fields)


def _plain(v):
    """JSON-ready scalars: numpy numbers to Python, NaN to None (recursively)."""
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, Mapping):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, Signature):
        return v.format()
    if hasattr(v, "item") and callable(v.item) and getattr(v, "ndim", 1) == 0:
        return _plain(v.item())
    return v


@dataclass(frozen=True)
class Score:
    """One reported number.

    Args:
        name: the value's name (``"fid"``, ``"precision"``, ``"bleu"``, ``"hype_inf"`` ...).
        value: the number (None when it could not be computed, e.g. no answers yet).
        signature: how it was produced (a `Signature`, a signature string, or None).
        higher_is_better: True / False, or None when the value is not a quality (a p-value, 0.5-is-best).
        extra: further fields exported beside the value (interval, unit, sub-scores, details).

    Attributes:
        name: the value's name.
        value: the number, or None.
        signature: how it was produced.
        higher_is_better: the direction of `value` (None: not a quality).
        extra: further exported fields.

    >>> Score("precision", 0.75, "precision|k:3", True, {"ci_low": 0.7}).to_dict()
    {'value': 0.75, 'higher_is_better': True, 'signature': 'precision|k:3', 'ci_low': 0.7}
    """

    name: str
    value: float | None
    signature: Signature | str | None = None
    higher_is_better: bool | None = None
    extra: Mapping = field(default_factory=dict)

    def to_dict(self) -> dict:
        """The one export: ``{"value": ..., "higher_is_better": ..., "signature": str, **extra}``."""
        out = {"value": _plain(self.value), "higher_is_better": self.higher_is_better}
        if self.signature is not None:
            out["signature"] = str(self.signature)
        out.update(_plain(dict(self.extra)))
        return out

    def __float__(self) -> float:
        return float("nan") if self.value is None else float(self.value)

    def __str__(self) -> str:
        v = "n/a" if self.value is None else f"{self.value:.6g}"
        return f"{self.name} = {v}" + (f"  [{self.signature}]" if self.signature is not None else "")


T = TypeVar("T")


class Registry(Generic[T]):
    """Named entries of one metric family (each entry has a ``.name``), with aliases and deprecated names.

    Args:
        kind: what the names are, for error messages (``"metrics"``).
        entries: the entries, in their output order.
        aliases: name -> tuple of entry names it expands to (``"all"`` is added automatically).
        deprecated: old name -> new name; parsing the old name warns (FutureWarning) and gives the new one.

    >>> from types import SimpleNamespace as E
    >>> reg = Registry("metrics", [E(name="pr"), E(name="dc")], aliases={"prdc": ("pr", "dc")}, deprecated={"prd": "pr"})
    >>> reg.parse("prdc")
    ('pr', 'dc')
    >>> reg.parse("dc,pr,dc")
    ('dc', 'pr')
    """

    def __init__(self, kind: str, entries: Iterable[T], aliases: Mapping[str, Sequence[str]] | None = None,
                 deprecated: Mapping[str, str] | None = None):
        self.kind = kind
        self._entries: dict[str, T] = {}
        for e in entries:
            if e.name in self._entries:
                raise ValueError(f"duplicate {kind} entry {e.name!r}")
            self._entries[e.name] = e
        self.aliases = {"all": tuple(self._entries), **{k: tuple(v) for k, v in (aliases or {}).items()}}
        self.deprecated = dict(deprecated or {})
        for target in [t for v in self.aliases.values() for t in v] + list(self.deprecated.values()):
            if target not in self._entries:
                raise ValueError(f"{kind} alias target {target!r} is not an entry")

    def __getitem__(self, name: str) -> T:
        return self._entries[self.canonical(name)]

    def __contains__(self, name) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def names(self) -> tuple[str, ...]:
        """The entry names, in their output order."""
        return tuple(self._entries)

    def values(self):
        """The entries, in their output order."""
        return self._entries.values()

    def items(self):
        """``(name, entry)`` pairs, in their output order."""
        return self._entries.items()

    def allowed(self) -> list[str]:
        """Every name `parse` accepts (entries, aliases, deprecated names)."""
        return sorted(set(self._entries) | set(self.aliases) | set(self.deprecated))

    def canonical(self, name: str) -> str:
        """An entry name for `name` (deprecated names warn); unknown names raise InvalidArgumentError."""
        if name in self._entries:
            return name
        if name in self.deprecated:
            new = self.deprecated[name]
            warnings.warn(f"the {self.kind} name {name!r} is deprecated and will be removed in the next release; "
                          f"use {new!r}", FutureWarning, stacklevel=3)
            return new
        raise InvalidArgumentError(self.kind, f"names from {self.allowed()}", name)

    def parse(self, spec: str | Sequence[str], argument: str | None = None) -> tuple[str, ...]:
        """``"a,b"`` or ``["a", "b"]`` -> entry names, aliases expanded, duplicates dropped, order kept.

        Raises:
            InvalidArgumentError: an unknown name, or no name at all (names the argument and the allowed names).
        """
        arg = argument or self.kind
        if spec is None:
            raise InvalidArgumentError(arg, f"at least one of {self.allowed()}", spec)
        items = spec.split(",") if isinstance(spec, str) else list(spec)
        out: list[str] = []
        for raw in items:
            if not isinstance(raw, str):
                raise InvalidArgumentError(arg, f"names from {self.allowed()}", raw)
            m = raw.strip().lower()
            if not m:
                continue
            expanded = self.aliases.get(m)
            if expanded is None:
                if m not in self._entries and m not in self.deprecated:
                    raise InvalidArgumentError(arg, f"names from {self.allowed()}", raw.strip())
                expanded = (self.canonical(m),)
            out.extend(n for n in expanded if n not in out)
        if not out:
            raise InvalidArgumentError(arg, f"at least one of {self.allowed()}", spec)
        return tuple(out)


class ScoreResult:
    """Base of typed metric results (``BLEUResult``, ``MauveResult`` ...): ``to_score()`` gives the
    one `Score`, and ``to_dict()`` is its export (the value under ``"value"``).

    Example:
        >>> class Half(ScoreResult):
        ...     def to_score(self):
        ...         return Score("half", 0.5, Signature("half", [("v", "1")]), higher_is_better=None)
        >>> Half().to_dict()
        {'value': 0.5, 'higher_is_better': None, 'signature': 'half|v:1'}
    """

    def to_score(self) -> Score:
        """The result as one `Score` (subclasses implement it)."""
        raise NotImplementedError

    def to_dict(self) -> dict:
        """The export of `to_score()`: ``{"value": ..., "higher_is_better": ..., "signature": ..., ...}``."""
        return self.to_score().to_dict()
