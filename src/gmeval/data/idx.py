"""IDX file format (LeCun et al.): big-endian magic 0x0000 <dtype> <ndim>, ndim uint32 dims, payload."""

from __future__ import annotations

import gzip
import math
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from ..errors import CorruptFileError

_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx_bytes(path: str | os.PathLike) -> bytes:
    """The decompressed bytes of an IDX file (`.gz` or raw). Corrupt gzip -> CorruptFileError."""
    path = Path(path)
    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            return gzip.decompress(raw)
        return raw
    except (OSError, EOFError, zlib.error) as exc:
        raise CorruptFileError(f"cannot decompress/read IDX file ({exc})", path) from exc


def parse_idx(data: bytes, name: object = "<bytes>") -> np.ndarray:
    if len(data) < 4:
        raise CorruptFileError(f"IDX file is {len(data)} bytes long, shorter than its 4-byte magic number", name)
    zero, dtype_code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype_code not in _DTYPES or ndim == 0:
        raise CorruptFileError(
            f"wrong IDX magic number 0x{data[:4].hex()} (expected 0x0000 then a type code in "
            f"{sorted(hex(c) for c in _DTYPES)} and a dimension count >= 1)", name
        )
    header = 4 + 4 * ndim
    if len(data) < header:
        raise CorruptFileError(f"IDX header needs {header} bytes, file has {len(data)}", name)
    dims = struct.unpack(">" + "I" * ndim, data[4:header])
    dtype = np.dtype(_DTYPES[dtype_code])
    expected = math.prod(dims) * dtype.itemsize  # Python ints: no int64 overflow for hostile dims
    got = len(data) - header
    if got != expected:
        kind = "short" if got < expected else "long"
        raise CorruptFileError(f"IDX payload is too {kind}: dims {dims} need {expected} bytes, found {got}", name)
    arr = np.frombuffer(data, dtype=dtype, offset=header).reshape(dims)
    return arr.astype(dtype.newbyteorder("="), copy=True)


def read_idx(path: str | os.PathLike) -> np.ndarray:
    return parse_idx(read_idx_bytes(path), path)
