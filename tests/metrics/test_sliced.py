"""int8x3 inner products (gmeval.metrics.image._sliced): slicing bounds, exactness of the int8 GEMMs, route gating.

Tolerances are derived in each test from the slicing bound in the module docstring (docs/tolerances.md, T8).
"""

from __future__ import annotations

import numpy as np
import pytest

from gmeval.metrics.image import _sliced

B = _sliced.BASE


def _rows(seed, n=50, d=300):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d)) * np.exp(rng.uniform(-6, 6, (n, 1)))  # rows over 5 decades of magnitude
    x[3] = 0.0  # an all-zero row
    x[4, :] = 1e-30 * rng.standard_normal(d)  # a tiny row: its own scale, not the block's
    x[5, 0] = 1e4  # one large feature among small ones
    x[6] *= 1e30  # a huge row
    x[7] = 0.0
    x[7, :3] = 1e-44  # float32 subnormals: scales below float32's normal range
    return x


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_three_slices_represent_each_row_to_its_bound(dtype):
    x = _rows(0).astype(dtype)
    s = _sliced.power_of_two_scales(x)
    top = np.abs(x).max(axis=1)
    nz = top > 0
    assert np.all(np.log2(s) == np.round(np.log2(s)))  # powers of two: scaling is exact
    assert np.all(top[nz] / s[nz] <= 127) and np.all(top[nz] / s[nz] > 63.5)
    d = _sliced.digits(x, s)
    assert all(v.dtype == np.int8 and np.abs(v.astype(int)).max() <= 127 for v in d)
    rebuilt = (d[0] + d[1] / B + d[2] / B ** 2) * s[:, None]
    slack = 1.004 if dtype == np.float32 else 1.0 + 1e-9  # float32 slicing: two roundings of 2^-18 of a digit
    assert np.all(np.abs(rebuilt - x.astype(np.float64)) <= slack * s[:, None] / (2 * B ** 2))
    assert np.all(rebuilt[3] == 0.0)


def _or_skip():
    if not _sliced.available():
        pytest.skip("int8x3 needs PyTorch's oneDNN int8 kernels with exact integer products; this build or oneDNN "
                    "ISA cap (e.g. DNNL_MAX_CPU_ISA=AVX2) does not give them")


def test_gram_is_within_its_bound_of_float64():
    # Bound per inner product: representation <= 2 * 1.004 / (2 * 63.5 * B^2) of D max|a| max|b|, the dropped slice
    # products <= (127 / 63.5)^2 * (2 / B^3 + 1 / B^4), six float32 roundings of the running sum <= 6 * 2^-24:
    # <= 1.1e-6 * D * max|a| * max|b| in all (rows 0.. in blocks of 7 and 16, not a multiple of either).
    _or_skip()
    from gmeval.metrics.image._common import one_torch_thread

    a = np.abs(_rows(1, 40, 257)).astype(np.float32)
    b = _rows(2, 23, 257).astype(np.float32)
    ref = a.astype(np.float64) @ b.astype(np.float64).T
    with one_torch_thread():
        sa, sb = _sliced.SlicedRows(a), _sliced.SlicedRows(b)
        for r0 in range(0, len(a), 16):
            sa.prepare(r0, min(r0 + 16, len(a)), lhs_rows=7)
        for c0 in range(0, len(b), 7):
            sb.prepare(c0, min(c0 + 7, len(b)), lhs_rows=16)
        got = np.zeros_like(ref)
        for r0 in range(0, len(a), 16):
            for c0 in range(0, len(b), 7):
                r1, c1 = min(r0 + 16, len(a)), min(c0 + 7, len(b))
                got[r0:r1, c0:c1] = sa.gram(r0, r1, sb, c0, c1) * sa.scale[r0:r1, None] * sb.scale[c0:c1]
    top_a, top_b = (np.abs(v).max(axis=1).astype(np.float64) for v in (a, b))
    bound = 1.1e-6 * a.shape[1] * top_a[:, None] * top_b[None, :]  # float64: the tiny rows' bound is ~1e-56
    assert np.all(np.abs(got - ref) <= bound)
    assert np.all(got[:, 3] == 0.0)  # the zero row of b


def test_gram_of_integer_rows_is_exact():
    # rows that three slices hold exactly (integers below 127 * 2^k): every slice product is exact in int32 and
    # every float32 partial is an integer below 2^24, so the result is the exact inner product, bitwise
    _or_skip()
    from gmeval.metrics.image._common import one_torch_thread

    rng = np.random.default_rng(3)
    a = rng.integers(-127, 128, (9, 64)).astype(np.float32)
    b = rng.integers(-127, 128, (5, 64)).astype(np.float32)
    a[:, 0], b[:, 0] = 127, 127  # every row has the same scale, 1
    with one_torch_thread():
        sa, sb = _sliced.SlicedRows(a), _sliced.SlicedRows(b)
        sa.prepare(0, 9, lhs_rows=9)
        sb.prepare(0, 5, lhs_rows=9)
        got = sa.gram(0, 9, sb, 0, 5) * sa.scale[:, None] * sb.scale
    assert np.array_equal(got, a.astype(np.float64) @ b.astype(np.float64).T)


@pytest.mark.parametrize("flags, cap, expected", [
    ({"avx512f", "amx_int8", "amx_tile"}, None, True),
    ({"avx512f", "amx_int8", "amx_tile"}, "AVX2", False),
    ({"avx512f", "amx_int8", "amx_tile"}, "AVX512_CORE_VNNI", False),
    ({"avx512f", "amx_int8", "amx_tile"}, "AVX512_CORE_AMX", True),
    ({"avx512f", "avx512_vnni"}, None, False),
    (set(), None, False),
])
def test_amx_gate_reads_cpu_flags_and_the_onednn_cap(monkeypatch, flags, cap, expected):
    monkeypatch.setattr(_sliced, "_cpu_flags", lambda: flags)
    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA", raising=False)
    monkeypatch.delenv("DNNL_MAX_CPU_ISA", raising=False)
    if cap is not None:
        monkeypatch.setenv("DNNL_MAX_CPU_ISA", cap)
    assert _sliced._amx_allowed() is expected


def test_available_requires_the_exactness_check(monkeypatch):
    monkeypatch.setattr(_sliced, "_exact_here", lambda: False)
    monkeypatch.setattr(_sliced, "_amx_allowed", lambda: True)
    assert not _sliced.available() and not _sliced.available(fast=True)
    monkeypatch.setattr(_sliced, "_exact_here", lambda: True)
    assert _sliced.available() and _sliced.available(fast=True)
    monkeypatch.setattr(_sliced, "_amx_allowed", lambda: False)
    assert _sliced.available() and not _sliced.available(fast=True)


def test_onednn_capped_at_avx2_is_detected_as_inexact():
    # Capped at AVX2 (a CPU path users have: no VNNI, no AMX), oneDNN adds pairs of u8 x s8 products in saturating
    # int16; the exactness check must see it, so that "auto" falls back to float32 and "int8x3" raises. oneDNN
    # reads the cap once per process: a child process.
    import platform
    import subprocess
    import sys

    if platform.machine() not in ("x86_64", "AMD64"):
        pytest.skip("DNNL_MAX_CPU_ISA=AVX2 is an x86 kernel path; this machine is " + platform.machine())
    code = ("from gmeval.metrics.image import _sliced, kid; "
            "print(_sliced.available(), _sliced.available(fast=True), kid._routes('auto'))")
    env = {**__import__("os").environ, "DNNL_MAX_CPU_ISA": "AVX2"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split("\n")[0] == "False False ('float32',)"
