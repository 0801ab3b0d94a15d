"""Where gmeval keeps its user cache (never inside site-packages or /tmp)."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir(*parts: str) -> Path:
    """`$GMEVAL_CACHE`, else `$XDG_CACHE_HOME/gmeval`, else `~/.cache/gmeval`, joined with parts."""
    root = os.environ.get("GMEVAL_CACHE")
    if root:
        base = Path(root)
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        base = (Path(xdg) if xdg else Path.home() / ".cache") / "gmeval"
    return base.joinpath(*parts)
