"""Bench venv only: let torchvision's pure-Python parts import with a CPU torch whose ops library did not load.

torchvision/_meta_registrations.py registers fake kernels with ``@torch.library.register_fake("torchvision::nms")``
(and ``::qnms``) unconditionally; without the compiled extension those operators do not exist and the
import fails ("operator torchvision::nms does not exist"). torch-fidelity, clean-fid and pytorch-fid
import torchvision, so the bench venv rewrites the two decorators into ones that register only when
``torchvision.extension._has_ops()`` (the check the file's own ``register_meta`` already makes).
Idempotent: a patched file is left as it is. Run with the bench venv's python:

    .venv-bench/bin/python benchmarks/patch_torchvision.py
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

MARK = "# gmeval bench patch: fake kernels only when the torchvision ops library loaded"
HELPER = f'''

{MARK}
def _register_fake_if_ops(name):
    def wrapper(fn):
        if torchvision.extension._has_ops():
            return torch.library.register_fake(name)(fn)
        return fn

    return wrapper
'''


def main() -> int:
    spec = importlib.util.find_spec("torchvision")
    if spec is None or not spec.submodule_search_locations:
        print("torchvision is not installed in this environment", file=sys.stderr)
        return 1
    path = Path(list(spec.submodule_search_locations)[0]) / "_meta_registrations.py"
    text = path.read_text()
    if MARK in text:
        print(f"already patched: {path}")
        return 0
    anchor = "import torchvision.extension  # noqa: F401\n"
    targets = ('@torch.library.register_fake("torchvision::nms")', '@torch.library.register_fake("torchvision::qnms")')
    if anchor not in text or not all(t in text for t in targets):
        print(f"unexpected content, not patched: {path}", file=sys.stderr)
        return 1
    text = text.replace(anchor, anchor + HELPER, 1)
    for t in targets:
        text = text.replace(t, t.replace("@torch.library.register_fake(", "@_register_fake_if_ops("))
    tmp = path.with_suffix(".py.tmp")
    tmp.write_text(text)
    tmp.replace(path)
    print(f"patched: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
