"""Where gmeval keeps its user cache (never inside site-packages or /tmp)."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir(*parts: str) -> Path:
    """gmeval's user cache folder, joined with `parts` (never inside site-packages or /tmp).

    ``$GMEVAL_CACHE``, else ``$XDG_CACHE_HOME/gmeval``, else ``~/.cache/gmeval``. Nothing is created.

    Args:
        *parts: path components below the cache root.

    Returns:
        The path.

    Example:
        >>> import os
        >>> from unittest import mock
        >>> with mock.patch.dict(os.environ, {"GMEVAL_CACHE": "/data/cache"}):
        ...     str(cache_dir("features", "abc.npz"))
        '/data/cache/features/abc.npz'
    """
    root = os.environ.get("GMEVAL_CACHE")
    if root:
        base = Path(root)
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        base = (Path(xdg) if xdg else Path.home() / ".cache") / "gmeval"
    return base.joinpath(*parts)
