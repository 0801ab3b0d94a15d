"""Repository-wide pytest settings; tests/conftest.py holds the test fixtures.

`--doctest-modules` (pyproject.toml) imports every `.py` file under the test paths to look for
`>>>` examples, so files that are scripts rather than modules are left out here.
"""

from __future__ import annotations

import pytest

# torchrun worker scripts (tests/distributed): they read sys.argv and join a process group on import
collect_ignore_glob = ["tests/distributed/workers/*.py"]


@pytest.fixture(autouse=True)
def _doctest_isolation(request, tmp_path, monkeypatch):
    """Docstring examples run offline and never touch the user's cache (tests get the same from
    tests/conftest.py)."""
    if isinstance(request.node, pytest.DoctestItem):
        monkeypatch.setenv("GMEVAL_CACHE", str(tmp_path / "gmeval-cache"))
        monkeypatch.setenv("GMEVAL_OFFLINE", "1")
