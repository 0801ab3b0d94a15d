"""Build the HTML API reference from the docstrings with pdoc (`make docs`; docs/api.md).

pdoc follows a package's `__all__` and so skips the submodules a package does not re-export
(`gmeval.utils.io`, `gmeval.data.idx`, ...). Their public functions are part of the API too, so
they are passed to pdoc explicitly. Everything is rendered locally: the pages load nothing from
the network.

    python docs/build_api.py [OUT]      # default OUT: build/api
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path

import pdoc
import pdoc.render


def modules(root: str = "gmeval") -> list[str]:
    """`root` plus every module pdoc's own walk from `root` would miss (hidden by an `__all__`)."""
    pkg = importlib.import_module(root)
    hidden = []
    for info in pkgutil.walk_packages(pkg.__path__, root + "."):
        parent, _, name = info.name.rpartition(".")
        if name.startswith("_"):
            continue
        exported = getattr(importlib.import_module(parent), "__all__", None)
        ancestors_hidden = any(info.name.startswith(h + ".") for h in hidden)
        if (exported is not None and name not in exported) and not ancestors_hidden:
            hidden.append(info.name)
    return [root, *hidden]


def main(argv: list[str]) -> int:
    out = Path(argv[0] if argv else "build/api")
    pdoc.render.configure(docformat="google", footer_text="gmeval API reference")
    pdoc.pdoc(*modules(), output_directory=out)
    print(f"API reference: {out / 'index.html'} ({sum(1 for _ in out.rglob('*.html'))} pages)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
