"""The layering stated in gmeval/__init__.py is the layering of the code.

Every import of a gmeval module (module level or inside a function) is resolved and checked:
- it goes to the importer's own layer or to a layer listed before it (no upward import, hence no
  import cycle between layers);
- it never takes a private name (``_x``) or a private module from another module: what a module
  shares, it names publicly.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import gmeval

SRC = Path(gmeval.__file__).resolve().parent


def stated_layers() -> list[str]:
    block = gmeval.__doc__.split("cannot drift):", 1)[1]
    names = []
    for line in block.splitlines():
        m = re.match(r"^    ([a-z_, ]+?)\s{2,}\S", line)
        if m:
            names += [n.strip() for n in m.group(1).split(",")]
    return names


def imports(path: Path):
    """(line, target module parts, imported names) for every gmeval import in `path`."""
    mod = list(path.relative_to(SRC).with_suffix("").parts)
    pkg = mod[:-1] if path.name != "__init__.py" else mod[:-1]
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level == 0:
                if not (node.module or "").startswith("gmeval"):
                    continue
                target = (node.module or "").split(".")[1:]
            else:
                base = pkg[:len(pkg) - (node.level - 1)] if node.level > 1 else pkg
                target = base + (node.module.split(".") if node.module else [])
            yield node.lineno, target, [a.name for a in node.names]
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("gmeval."):
                    yield node.lineno, a.name.split(".")[1:], []


def layer_of(parts: list[str]) -> str:
    top = parts[0] if parts else ""
    return {"__main__": "cli", "__init__": "errors"}.get(top, top)


def test_every_import_goes_down_the_stated_layers():
    order = stated_layers()
    assert {"errors", "utils", "data", "metrics", "evaluation", "reports", "cli"} <= set(order)
    rank = {name: i for i, name in enumerate(order)}
    bad = []
    for path in sorted(SRC.rglob("*.py")):
        own = layer_of(list(path.relative_to(SRC).with_suffix("").parts))
        assert own in rank, f"{path.relative_to(SRC)}: layer {own!r} is not in gmeval/__init__.py's table"
        for line, target, names in imports(path):
            targets = [target + [n] if not target else target for n in (names or [None])] if not target else [target]
            if not target:  # "from .. import distributed"
                targets = [[n] for n in names]
            for t in targets:
                other = layer_of(t)
                if other in rank and rank[other] > rank[own]:
                    bad.append(f"{path.relative_to(SRC)}:{line} ({own}) imports {'.'.join(t)} ({other})")
    assert not bad, "upward imports:\n" + "\n".join(bad)


def test_no_private_names_cross_modules():
    bad = []
    for path in sorted(SRC.rglob("*.py")):
        me = list(path.relative_to(SRC).with_suffix("").parts)
        for line, target, names in imports(path):
            private_module = any(p.startswith("_") and not p.startswith("__") for p in target)
            same_package = target[:-1] == me[:-1] or target == me[:-1]
            if private_module and not same_package:
                bad.append(f"{path.relative_to(SRC)}:{line} imports the private module {'.'.join(target)}")
            for n in names:
                if n.startswith("_") and not n.startswith("__") and target != me:
                    bad.append(f"{path.relative_to(SRC)}:{line} imports the private name {n} from {'.'.join(target)}")
    assert not bad, "\n".join(bad)
