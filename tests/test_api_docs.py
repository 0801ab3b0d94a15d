"""Every public function and class of the documented layers has a Google-style docstring with
an `Args:` entry per parameter, a `Returns:` (or `Yields:`) section when it returns a value, and a
`>>>` example (run by doctest in `make test`; docs/api.md). Public methods have a docstring.

Public means: listed in its package's `__all__`, or defined in a module under a name without a
leading underscore. Extend DOCUMENTED as more layers get their API docs.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import textwrap

import pytest

DOCUMENTED = [
    "gmeval.errors", "gmeval.utils", "gmeval.data", "gmeval.stats", "gmeval.features", "gmeval.models",
    "gmeval.distributed", "gmeval.sources", "gmeval.metrics", "gmeval.evaluation", "gmeval.reports",
    "gmeval.human", "gmeval.training", "gmeval.cli",
]


def _modules(names: list[str]) -> list[str]:
    out = []
    for name in names:
        mod = importlib.import_module(name)
        out.append(name)
        if hasattr(mod, "__path__"):
            out += [m.name for m in pkgutil.walk_packages(mod.__path__, name + ".")
                    if not m.name.rpartition(".")[2].startswith("_")]
    return out


def public_objects(modname: str) -> dict[str, object]:
    """Public functions and classes of `modname`: its `__all__`, plus what it defines under
    public names."""
    mod = importlib.import_module(modname)
    found = {}
    for name in getattr(mod, "__all__", []):
        found[name] = getattr(mod, name)
    for name, obj in vars(mod).items():
        if not name.startswith("_") and getattr(obj, "__module__", None) == modname:
            found[name] = obj
    return {k: v for k, v in found.items() if inspect.isfunction(v) or inspect.isclass(v)}


def _parameters(obj) -> list[str]:
    """Names the docstring's Args section must list. A class documents its own __init__'s arguments
    (an inherited __init__ is documented on the parent; a dataclass documents Attributes)."""
    if inspect.isclass(obj):
        if is_dataclass_like(obj) or "__init__" not in obj.__dict__:
            return []
        obj = obj.__dict__["__init__"]
    try:
        params = inspect.signature(obj).parameters.values()
    except (TypeError, ValueError):
        return []
    return [p.name for p in params if p.name not in ("self", "cls")]


def is_dataclass_like(cls) -> bool:
    import dataclasses

    return dataclasses.is_dataclass(cls) or hasattr(cls, "_fields")


def returns_value(fn) -> bool:
    """Whether `fn`'s own body returns or yields a value (nested functions and lambdas excluded)."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(fn))).body[0]
    except (OSError, TypeError, SyntaxError):
        return False
    found = False
    stack = list(ast.iter_child_nodes(tree))
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        if isinstance(node, (ast.Return, ast.Yield, ast.YieldFrom)) and node.value is not None:
            found = found or not (isinstance(node.value, ast.Constant) and node.value.value is None)
        stack.extend(ast.iter_child_nodes(node))
    return found


def undocumented_methods(cls) -> list[str]:
    """Public methods and properties `cls` defines itself that have no docstring."""
    out = []
    for name, member in vars(cls).items():
        if name.startswith("_") and name != "__call__":
            continue
        fn = member.fget if isinstance(member, property) else getattr(member, "__func__", member)
        if inspect.isfunction(fn) and not fn.__doc__:
            out.append(name)
    return out


def docstring_problems(name: str, obj) -> list[str]:
    doc = inspect.getdoc(obj) if obj.__doc__ else None
    if not doc:
        return [f"{name}: no docstring"]
    problems = []
    if ">>> " not in doc:
        problems.append(f"{name}: no `>>>` example")
    params = _parameters(obj)
    if is_dataclass_like(obj) and "Attributes:" not in doc:
        problems.append(f"{name}: no Attributes section")
    if params:
        args = doc.split("Args:", 1)[1] if "Args:" in doc else ""
        missing = [p for p in params if not any(line.strip().startswith((p + " ", p + ":", "*" + p, "**" + p))
                                                for line in args.splitlines())]
        if "Args:" not in doc:
            problems.append(f"{name}: no Args section")
        elif missing:
            problems.append(f"{name}: Args does not describe {missing}")
    if inspect.isfunction(obj) and returns_value(obj) and "Returns:" not in doc and "Yields:" not in doc:
        problems.append(f"{name}: no Returns section")
    if inspect.isclass(obj):
        problems += [f"{name}.{m}: no docstring" for m in undocumented_methods(obj)]
    return problems


@pytest.mark.parametrize("modname", _modules(DOCUMENTED))
def test_public_api_is_documented_with_examples(modname):
    problems = [p for name, obj in sorted(public_objects(modname).items()) for p in docstring_problems(name, obj)]
    assert not problems, f"{modname}: {len(problems)} documentation gaps:\n" + "\n".join(problems)


def test_checker_catches_a_gap():
    def documented(x):
        """Double `x`.

        Args:
            x: a number.

        Returns:
            2 x.

        >>> documented(2)
        4
        """
        return 2 * x

    def no_example(x):
        """Double `x`.

        Args:
            x: a number.
        """

    def undocumented_arg(x, y):
        """Add.

        Args:
            x: a number.

        >>> undocumented_arg(1, 2)
        3
        """

    def no_returns(x):
        """Double `x`.

        Args:
            x: a number.

        >>> no_returns(2)
        4
        """
        return 2 * x

    class Undocumented:
        """A class.

        >>> Undocumented().method()
        """

        def method(self):
            pass

    assert docstring_problems("documented", documented) == []
    assert docstring_problems("no_returns", no_returns) == ["no_returns: no Returns section"]
    assert docstring_problems("Undocumented", Undocumented) == ["Undocumented.method: no docstring"]
    assert docstring_problems("no_example", no_example) == ["no_example: no `>>>` example"]
    assert docstring_problems("undocumented_arg", undocumented_arg) == ["undocumented_arg: Args does not describe ['y']"]
    assert docstring_problems("bare", lambda: None) == ["bare: no docstring"]
