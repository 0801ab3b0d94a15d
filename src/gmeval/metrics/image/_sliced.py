"""Inner products of float rows through exact int8 GEMMs on three 8-bit slices ("int8x3").

Each row x (any float dtype) is written as

    x ~= s (d0 + d1 / B + d2 / B^2),    B = 254,  d0, d1, d2 int8 vectors in [-127, 127],

with s a power of two such that max |x| / s <= 127 (so max |x| / s > 63.5) and each digit the rounded
remainder of the previous one, scaled by B (the remainder of a rounding is at most 1/2, so B / 2 = 127 keeps
every digit in int8). What the three slices leave out is at most s / (2 B^2) per feature, i.e. at most
max|x| / (2 * 63.5 * 254^2) ~ 2^-23 of the row's largest magnitude: the precision float32 gives that feature.

An inner product of two rows is then, with c_kl = d_k(a) . d_l(b) computed exactly in int32,

    a . b ~= s_a s_b (c00 + (c01 + c10) / B + (c02 + c11 + c20) / B^2)

(the products c12, c21, c22, below B^-3, are dropped). The six int8 GEMMs run on oneDNN's int8 kernels
(`torch.ops.onednn.qlinear_pointwise`, AMX or VNNI), each adding its float32 result into the previous one as a
"sum" post-op, smallest first; the result is (a . b) / (s_a s_b) in float32, whatever the magnitude of the rows,
and the caller applies the power-of-two scales s_a, s_b in float64. The right-hand rows are reordered into
oneDNN's blocked layout once (`qlinear_prepack`, ~4 ns per byte here) and reused for every tile they meet,
so this route pays off when each block of rows meets many others (KID's single pool).

Measured on 1000 x 1000 products of 2048-d Inception-like rows (one thread, Xeon with AMX): a mean relative
error of 4.1e-8 against float64 (float32 GEMM: 1.1e-7), and 6 int8 GEMMs of 1024 x 1024 x 2048 at about 2 TOP/s,
against 144 GFLOP/s for one float32 GEMM. Without AMX, oneDNN's int8 matmul is slow here (capped at
AVX512_CORE: under 1 GOP/s) or inexact (capped at AVX2: saturating int16 pair sums, which `available` detects),
so `available(fast=True)` holds only where oneDNN may use AMX.
"""

from __future__ import annotations

import functools
import os

import numpy as np

from ...utils.hardware import cpu_flags as _cpu_flags

BASE = 254.0  # digit base: the remainder of a rounding is <= 1/2, times 254 stays within int8's +-127
LEVELS = ((2, 0), (1, 1), (0, 2), (1, 0), (0, 1), (0, 0))  # (a digit, b digit) products, smallest first


def _ops():
    import torch

    return torch, torch.ops.onednn.qlinear_prepack, torch.ops.onednn.qlinear_pointwise


def _int8_product(a, x_scale: float, w, w_scale, w_zp, add_to=None):
    """x_scale * w_scale[j] * (a . w_j) in float32 for int8 rows `a` and packed int8 rows `w` (exact int32
    accumulation), added into the float32 tensor `add_to` as oneDNN's "sum" post-op when given."""
    torch, _, linear = _ops()
    if add_to is None:
        return linear(a, x_scale, 0, w, w_scale, w_zp, None, 1.0, 0, torch.float32, "none", [], "")
    return linear.binary(a, x_scale, 0, w, w_scale, w_zp, add_to, None, 1.0, 0, torch.float32, 1.0, 0,
                         "sum", 1.0, "none", [], "")


@functools.lru_cache(maxsize=None)
def _exact_here() -> bool:
    """Whether the oneDNN int8 ops exist in this torch build and give the exact integer product, checked once on
    random digits and on rows of +-127 against numpy's int64 matmul. Capped at AVX2 (DNNL_MAX_CPU_ISA=AVX2),
    oneDNN's int8 kernels add pairs of u8 x s8 products in saturating int16 and fail this check."""
    try:
        torch, prepack, _ = _ops()
        rng = np.random.default_rng(0)
        a = rng.integers(-127, 128, (37, 300), dtype=np.int8)
        b = rng.integers(-127, 128, (29, 300), dtype=np.int8)
        a[:2], b[:2], b[2] = 127, 127, -127  # extreme products, where saturation would show
        w = prepack(torch.from_numpy(b), [37, 300])
        out = _int8_product(torch.from_numpy(a), 1.0, w, torch.ones(29), torch.zeros(29, dtype=torch.int64))
        return bool(np.array_equal(out.numpy().astype(np.int64), a.astype(np.int64) @ b.astype(np.int64).T))
    except Exception:  # no oneDNN (non-x86 build) or a changed internal op: the caller falls back to float32
        return False


def _amx_allowed() -> bool:
    """Whether the CPU has AMX int8 and oneDNN is not capped below it (DNNL_MAX_CPU_ISA / ONEDNN_MAX_CPU_ISA)."""
    if "amx_int8" not in _cpu_flags():
        return False
    cap = (os.environ.get("ONEDNN_MAX_CPU_ISA") or os.environ.get("DNNL_MAX_CPU_ISA") or "ALL").upper()
    return cap in ("ALL", "DEFAULT") or "AMX" in cap


def available(fast: bool = False) -> bool:
    """Whether the int8x3 route can run here (`fast`: and is faster than float32 GEMMs, i.e. AMX is usable).
    The CPU-flag test comes first, so that without AMX `fast` neither imports torch nor runs the check."""
    return (not fast or _amx_allowed()) and _exact_here()


def power_of_two_scales(x: np.ndarray) -> np.ndarray:
    """Per-row s = 2^e, the smallest power of two with max |x_i| / s <= 127 (1 for an all-zero row), float64."""
    top = np.abs(x).max(axis=1).astype(np.float64) / 127.0
    s = np.ones(len(x))
    nz = top > 0
    s[nz] = np.exp2(np.ceil(np.log2(top[nz])))
    return s


def digits(x: np.ndarray, scale: np.ndarray) -> list[np.ndarray]:
    """The three int8 slices d0, d1, d2 of the rows `x` with row scales `scale` (module docstring).

    float32 rows are sliced in float32 (half the memory traffic): x / s and r - rint(r) are exact, and the
    two products by B round by at most 2^-18 of a digit, so the rows are represented to within
    (1 + 0.004) s / (2 B^2) per feature instead of s / (2 B^2). Other dtypes, and float32 rows so small that
    a scale is below float32's normal range, are sliced in float64."""
    small = len(scale) and scale.min() < 2.0 ** -126
    dt = np.float32 if x.dtype == np.float32 and not small else np.float64
    r = np.asarray(x, dt) / scale.astype(dt)[:, None]
    out = []
    for level in range(3):
        d = np.rint(r)
        out.append(d.astype(np.int8))
        if level < 2:
            r -= d
            r *= dt(BASE)
    return out


class SlicedRows:
    """Rows held as three int8 slices, with their power-of-two row scales; `prepare` slices a block of rows
    and reorders it for use as the right-hand side of `gram` (call it for every block first; blocks are
    disjoint, so they can be prepared concurrently)."""

    def __init__(self, x: np.ndarray):
        self.torch = _ops()[0]
        self.n, self.dim = x.shape
        self.scale = np.empty(self.n)
        self.slices = [self.torch.empty((self.n, self.dim), dtype=self.torch.int8) for _ in range(3)]
        self._x = x
        self._packed: dict[tuple[int, int], tuple] = {}

    def __len__(self) -> int:
        return self.n

    def prepare(self, r0: int, r1: int, lhs_rows: int) -> None:
        """Slice rows r0:r1 and reorder their slices for use as the right-hand side against left blocks of about
        `lhs_rows` rows (disjoint ranges may be prepared concurrently)."""
        self.scale[r0:r1] = power_of_two_scales(self._x[r0:r1])
        for t, d in zip(self.slices, digits(self._x[r0:r1], self.scale[r0:r1])):
            t[r0:r1] = self.torch.from_numpy(d)
        prepack = _ops()[1]
        w = tuple(prepack(s[r0:r1], [lhs_rows, self.dim]) for s in self.slices)
        self._packed[(r0, r1)] = (w, self.torch.ones(r1 - r0), self.torch.zeros(r1 - r0, dtype=self.torch.int64))

    def gram(self, a_r0: int, a_r1: int, other: "SlicedRows", b_r0: int, b_r1: int) -> np.ndarray:
        """float32 (a_i . b_j) / (s_a[i] s_b[j]) for rows a_r0:a_r1 of self and the packed block b_r0:b_r1 of
        `other` (the power-of-two row scales are the caller's to apply, in float64)."""
        w, w_scale, w_zp = other._packed[(b_r0, b_r1)]
        out = None
        for i, j in LEVELS:
            out = _int8_product(self.slices[i][a_r0:a_r1], BASE ** -(i + j), w[j], w_scale, w_zp, add_to=out)
        return out.numpy()
