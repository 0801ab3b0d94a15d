"""The ```python blocks of README.md run, in order, in one namespace: the quick starts stay correct.

They use the built-in `digits:` dataset and the shipped MNIST classifier, so nothing is downloaded.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"

#: the image metrics the README's quick start must show through their class API
QUICK_START_CLASSES = ("FID", "KID", "InceptionScore", "FIDInfinity", "ISInfinity", "PrecisionRecall",
                       "DensityCoverage", "ModeCoverage", "C2ST", "Memorization")


def python_blocks(text: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", text, re.S | re.M)


def test_python_blocks_are_found():
    blocks = python_blocks("intro\n```python\nx = 1\n```\ntext\n```\nshell\n```\n```python\ny = x\n```\n")
    assert blocks == ["x = 1\n", "y = x\n"]


def test_readme_python_blocks_run():
    import torch
    from threadpoolctl import threadpool_limits

    blocks = python_blocks(README.read_text(encoding="utf-8"))
    ns: dict = {}
    threads = torch.get_num_threads()
    # one thread: on the shared, oversubscribed machine the 180-image extractions take ~0.25 s each
    # instead of ~1.4 s with two spinning threads; the README's results do not depend on it
    torch.set_num_threads(1)
    try:
        with warnings.catch_warnings(), threadpool_limits(1):
            # FID-infinity's smallest sample sizes on 180 digits have N < D = 128: a warned, expected bias
            warnings.filterwarnings("ignore", message=".*the covariance is singular", category=RuntimeWarning)
            for i, block in enumerate(blocks):
                exec(compile(block, f"README.md python block {i + 1}", "exec"), ns)  # noqa: S102 - our own README
    finally:
        torch.set_num_threads(threads)
    missing = [name for name in QUICK_START_CLASSES if name not in ns]
    assert not missing, f"README quick start lacks {missing}"
    assert ns["real_features"].shape == (180, 128) and ns["fake_features"].shape == (180, 128)
    assert 0.0 <= ns["r"].coverage <= 1.0
