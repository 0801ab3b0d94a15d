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
    r"""The decompressed bytes of an IDX file (``.gz`` or raw).

    Args:
        path: the file.

    Returns:
        The bytes.

    Raises:
        CorruptFileError: the file cannot be read, or its gzip stream is damaged.

    Example:
        >>> import gzip, tempfile
        >>> from pathlib import Path
        >>> with tempfile.TemporaryDirectory() as d:
        ...     _ = Path(d, "x.gz").write_bytes(gzip.compress(b"\x00\x00\x08\x01"))
        ...     read_idx_bytes(Path(d, "x.gz"))
        b'\x00\x00\x08\x01'
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            return gzip.decompress(raw)
        return raw
    except (OSError, EOFError, zlib.error) as exc:
        raise CorruptFileError(f"cannot decompress/read IDX file ({exc})", path) from exc


def parse_idx(data: bytes, name: object = "<bytes>") -> np.ndarray:
    """Parse IDX bytes (LeCun et al.'s format, as MNIST ships) into a native-endian numpy array.

    Args:
        data: the decompressed file content.
        name: what to call it in error messages (the file name).

    Returns:
        The array, with the dtype and dims the header gives.

    Raises:
        CorruptFileError: wrong magic number, short header, or a payload of the wrong length.

    Example:
        >>> import struct
        >>> parse_idx(struct.pack(">HBBI", 0, 0x08, 1, 3) + bytes([7, 8, 9])).tolist()
        [7, 8, 9]
    """
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
    """Read an IDX file (``.gz`` or raw) into a numpy array.

    Args:
        path: the file.

    Returns:
        The array (see `parse_idx`).

    Raises:
        CorruptFileError: the file cannot be read or parsed (named).

    Example:
        >>> import struct, tempfile
        >>> from pathlib import Path
        >>> with tempfile.TemporaryDirectory() as d:
        ...     _ = Path(d, "labels").write_bytes(struct.pack(">HBBI", 0, 0x08, 1, 2) + bytes([4, 2]))
        ...     read_idx(Path(d, "labels")).tolist()
        [4, 2]
    """
    return parse_idx(read_idx_bytes(path), path)
