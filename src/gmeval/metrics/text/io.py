"""Reading and validating hypothesis / reference files: one sentence per line, UTF-8.

The rules (also in docs/text.md):

* A file must exist, not be a directory, be at most ``max_bytes`` long (``DEFAULT_MAX_BYTES``,
  64 MiB; CLI ``--max-input-mb``; read with a cap, so ``/dev/zero`` or an endless pipe stops at the
  limit), and decode as UTF-8 (a leading UTF-8 byte-order mark is dropped). An invalid byte
  sequence is reported with its line number and byte offset.
* UTF-16 and UTF-32 files are reported as such (with the ``iconv`` command to convert them): by their
  byte-order mark, or, without one, by NUL bytes in every second position (ASCII-range UTF-16,
  which would otherwise decode as "valid" UTF-8 full of NULs). Any other NUL byte is an error
  naming its line and offset (a binary file is not text).
* Lines are separated by ``\\n``; a trailing ``\\r`` (Windows line end) is removed; a final
  newline at the end of the file does not start another line. Nothing else is stripped (sacreBLEU
  removes trailing whitespace itself). Other Unicode line separators (U+2028, form feed, ...) are
  ordinary characters inside a line.
* An empty file (no lines) is an error.
* An empty line -- empty or whitespace only -- is an error naming the file and line, because in
  practice it almost always means a misaligned or truncated file (a blank line in the middle
  shifts every following reference; a blank last line cannot be told apart from a lost last
  sentence). Pass
  ``allow_empty_lines=True`` (CLI: ``--allow-empty-lines``) to keep such lines as empty strings,
  e.g. for a model that sometimes generates nothing; they then score as sacreBLEU and rouge-score
  score empty strings (0, and they still count in every average).
* When references are used line by line (BLEU, ROUGE), every reference file must have as many
  lines as the hypothesis file; the error names the reference file, both counts, and the first
  line that has no counterpart.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

from ...errors import DataError, EmptySourceError, InvalidArgumentError, ShapeMismatchError


class TextInputError(DataError):
    """A hypothesis or reference text file (or list) is unusable. ``path`` and ``line`` (1-based) say where.

    Args:
        message: what is wrong.
        path: the file (or the argument name), if any; it prefixes the message.
        line: the 1-based line, if any; it prefixes the message after the path.

    Example:
        >>> err = TextInputError("empty line", "hyp.txt", 3)
        >>> str(err), err.path, err.line
        ('hyp.txt: line 3: empty line', 'hyp.txt', 3)
    """

    def __init__(self, message: str, path: object = None, line: int | None = None):
        self.line = line
        if line is not None:
            message = f"line {line}: {message}"
        super().__init__(message, path)


class TextFileNotFoundError(TextInputError, FileNotFoundError):
    """The file does not exist (or is not a regular file). Also a ``FileNotFoundError``.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> with tempfile.TemporaryDirectory() as d:
        ...     read_lines(Path(d) / "missing.txt", role="hypotheses")
        Traceback (most recent call last):
        ...
        gmeval.metrics.text.io.TextFileNotFoundError: .../missing.txt: hypotheses file does not exist
    """


class TextEncodingError(TextInputError):
    r"""The file is not valid UTF-8.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> with tempfile.TemporaryDirectory() as d:
        ...     p = Path(d) / "latin1.txt"
        ...     _ = p.write_bytes("café\n".encode("latin1"))
        ...     read_lines(p)
        Traceback (most recent call last):
        ...
        gmeval.metrics.text.io.TextEncodingError: .../latin1.txt: line 1: not valid UTF-8: byte(s) b'\xe9' at byte offset 3 (byte 4 of the line); ...
    """


class EmptyTextFileError(TextInputError, EmptySourceError):
    """The file has no lines at all.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> with tempfile.TemporaryDirectory() as d:
        ...     p = Path(d) / "empty.txt"
        ...     _ = p.write_text("")
        ...     read_lines(p, role="references")
        Traceback (most recent call last):
        ...
        gmeval.metrics.text.io.EmptyTextFileError: .../empty.txt: references file is empty: expected one sentence per line
    """


class EmptyLineError(TextInputError):
    """A line is empty or whitespace only (see the empty-line rule above).

    Example:
        >>> check_no_empty_lines(["a", " "], "hyp.txt")
        Traceback (most recent call last):
        ...
        gmeval.metrics.text.io.EmptyLineError: hyp.txt: line 2: empty line (empty lines usually mean a misaligned or truncated file; ...
    """


class LineCountMismatchError(TextInputError, ShapeMismatchError):
    """A reference file does not have one line per hypothesis. Also a ``ShapeMismatchError``.

    Example:
        >>> check_line_counts(3, [("ref.txt", 2)], "hyp.txt")
        Traceback (most recent call last):
        ...
        gmeval.metrics.text.io.LineCountMismatchError: ref.txt: line 3: has 2 lines but the hypotheses (hyp.txt) have 3: ...
    """


#: largest text file read (bytes); larger files are a TextInputError
DEFAULT_MAX_BYTES = 64 * 2**20

_BOMS = ((b"\xff\xfe\x00\x00", "UTF-32LE"), (b"\x00\x00\xfe\xff", "UTF-32BE"),
         (b"\xff\xfe", "UTF-16LE"), (b"\xfe\xff", "UTF-16BE"))


def _utf16_without_bom(data: bytes) -> str | None:
    """'UTF-16LE'/'UTF-16BE' when NUL bytes fill at least half of the odd/even positions of the first 64 KiB."""
    head = data[:65536]
    half = max(len(head) // 2, 1)
    if head[1::2].count(0) >= half / 2 and head[0::2].count(0) < half / 4:
        return "UTF-16LE"
    if head[0::2].count(0) >= half / 2 and head[1::2].count(0) < half / 4:
        return "UTF-16BE"
    return None


def _check_not_utf16(data: bytes, path: Path) -> None:
    for bom, name in _BOMS:
        if data.startswith(bom):
            break
    else:
        name = _utf16_without_bom(data) if b"\x00" in data[:65536] else None
        bom = b""
    if name is not None:
        how = f"byte-order mark {bom.hex(' ').upper()}" if bom else "no byte-order mark; NUL bytes in every second position"
        raise TextEncodingError(f"the file is {name} ({how}), not UTF-8; convert it with "
                                f"`iconv -f {name} -t UTF-8 FILE > FILE.utf8`", path)
    nul = data.find(b"\x00")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        raise TextEncodingError(f"NUL byte at byte offset {nul}: text files must not contain NUL bytes "
                                "(a binary file, or UTF-16/UTF-32?)", path, line)


def _decode(data: bytes, path: Path) -> str:
    _check_not_utf16(data, path)
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1)
        bad = data[exc.start:exc.end]
        raise TextEncodingError(
            f"not valid UTF-8: byte(s) {bad!r} at byte offset {exc.start} (byte {col + 1} of the line); "
            "text files must be UTF-8 (convert with e.g. `iconv -f latin1 -t utf-8`)",
            path, line,
        ) from exc


def split_lines(text: str) -> list[str]:
    r"""Split on ``\n`` only, drop one trailing ``\r`` per line and the empty piece after a final newline.

    Args:
        text: the decoded file.

    Returns:
        The lines (other Unicode line breaks stay inside lines).

    Example:
        >>> split_lines("a\r\nb\u2028c\n")
        ['a', 'b\u2028c']
    """
    if text == "":
        return []
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return [ln[:-1] if ln.endswith("\r") else ln for ln in lines]


def read_capped(path: Path, max_bytes: int, role: str = "text") -> bytes:
    r"""Read at most `max_bytes` bytes; a longer file (or endless stream) is a TextInputError.

    Args:
        path: the file.
        max_bytes: the limit in bytes.
        role: what the file is, for messages ("hypotheses", "references").

    Returns:
        The file's bytes.

    Raises:
        TextFileNotFoundError: the file is missing or a directory.
        TextInputError: the file is too large or cannot be read.
        InvalidArgumentError: `max_bytes` is not a positive integer.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> tmp = tempfile.TemporaryDirectory()
        >>> p = Path(tmp.name) / "h.txt"
        >>> _ = p.write_text("abc\n")
        >>> read_capped(p, 10)
        b'abc\n'
        >>> read_capped(p, 2)
        Traceback (most recent call last):
        ...
        gmeval.metrics.text.io.TextInputError: .../h.txt: text file is larger than the limit of 2 bytes (...
        >>> tmp.cleanup()
    """
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 1:
        raise InvalidArgumentError("max_bytes", "a positive integer", max_bytes)
    if path.is_dir():
        raise TextFileNotFoundError(f"{role} file is a directory, expected a UTF-8 text file", path)
    try:
        with open(path, "rb") as fh:
            data = fh.read(max_bytes + 1)
    except FileNotFoundError as exc:
        raise TextFileNotFoundError(f"{role} file does not exist", path) from exc
    except PermissionError as exc:
        raise TextInputError(f"{role} file cannot be read (permission denied)", path) from exc
    except OSError as exc:
        raise TextInputError(f"{role} file cannot be read ({exc.strerror or exc})", path) from exc
    if len(data) > max_bytes:
        raise TextInputError(f"{role} file is larger than the limit of {max_bytes:,} bytes ({max_bytes / 2**20:g} MiB); "
                             "raise it with max_bytes= / --max-input-mb if the file is really text", path)
    return data


def read_lines(path: str | os.PathLike, *, allow_empty_lines: bool = False, role: str = "text",
               max_bytes: int = DEFAULT_MAX_BYTES) -> list[str]:
    r"""Read one sentence per line from a UTF-8 file, applying the rules in this module's docstring.

    Args:
        path: the file.
        allow_empty_lines: keep empty lines (as empty sentences) instead of raising.
        role: e.g. "hypotheses", "references"; only makes error messages clearer.
        max_bytes: the largest file read.

    Returns:
        The lines, without line terminators (a UTF-8 byte-order mark is dropped).

    Raises:
        TextFileNotFoundError: the file is missing.
        TextEncodingError: not UTF-8 (UTF-16/32, NUL bytes, invalid bytes; names the line).
        EmptyTextFileError: no lines.
        EmptyLineError: an empty line without `allow_empty_lines`.
        TextInputError: the file is too large or unreadable.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> with tempfile.TemporaryDirectory() as d:
        ...     p = Path(d) / "h.txt"
        ...     _ = p.write_bytes(b"\xef\xbb\xbfthe cat\r\n\na dog\n")
        ...     read_lines(p, allow_empty_lines=True)
        ['the cat', '', 'a dog']
    """
    path = Path(path)
    data = read_capped(path, max_bytes, role)
    lines = split_lines(_decode(data, path))
    if not lines:
        raise EmptyTextFileError(f"{role} file is empty: expected one sentence per line", path)
    if not allow_empty_lines:
        check_no_empty_lines(lines, path)
    return lines


def check_no_empty_lines(lines: Sequence[str], source: object) -> None:
    """Raise EmptyLineError at the first empty or whitespace-only line.

    Args:
        lines: the lines.
        source: the file (or name) the message names.

    Raises:
        EmptyLineError: a line is empty or whitespace only (names the line).

    Example:
        >>> check_no_empty_lines(["a", "b"], "hyp.txt") is None
        True
    """
    for i, line in enumerate(lines):
        if not line.strip():
            raise EmptyLineError(
                "empty line (empty lines usually mean a misaligned or truncated file; remove it, or pass "
                "allow_empty_lines=True / --allow-empty-lines to score it as an empty sentence)",
                source, i + 1,
            )


def check_line_counts(n_hyp: int, ref_counts: Sequence[tuple[object, int]], hyp_source: object = "hypotheses") -> None:
    """Every reference source must have ``n_hyp`` lines.

    Args:
        n_hyp: the number of hypotheses.
        ref_counts: (source, line count) per reference source.
        hyp_source: the hypotheses' source, for the message.

    Raises:
        LineCountMismatchError: a source has another count (names the first unmatched line).

    Example:
        >>> check_line_counts(2, [("ref1.txt", 2), ("ref2.txt", 2)]) is None
        True
    """
    for source, n in ref_counts:
        if n != n_hyp:
            first_unmatched = min(n, n_hyp) + 1
            side = "reference" if n < n_hyp else "hypothesis"
            raise LineCountMismatchError(
                f"has {n} lines but the hypotheses ({hyp_source}) have {n_hyp}: references are matched to "
                f"hypotheses line by line, and this line has no {side}",
                source, first_unmatched,
            )


def read_text_files(
    hyp_path: str | os.PathLike,
    ref_paths: Sequence[str | os.PathLike] = (),
    *,
    aligned: bool = True,
    allow_empty_lines: bool = False,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> tuple[list[str], list[list[str]]]:
    r"""Read a hypothesis file and zero or more reference files.

    Args:
        hyp_path: the hypothesis file.
        ref_paths: reference files.
        aligned: every reference file must have one line per hypothesis (needed by BLEU and ROUGE);
            with ``aligned=False`` (distribution metrics only) the counts may differ.
        allow_empty_lines: as `read_lines`.
        max_bytes: as `read_lines`.

    Returns:
        ``(hypotheses, references)`` with ``references`` a list of streams (one per file, the
        sacreBLEU convention).

    Raises:
        TextInputError: any of `read_lines`'s errors, or a LineCountMismatchError.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> tmp = tempfile.TemporaryDirectory()
        >>> hyp, ref = Path(tmp.name) / "h.txt", Path(tmp.name) / "r.txt"
        >>> _ = hyp.write_text("a b\nc d\n"), ref.write_text("a b\n")
        >>> read_text_files(hyp, [ref], aligned=False)
        (['a b', 'c d'], [['a b']])
        >>> read_text_files(hyp, [ref])
        Traceback (most recent call last):
        ...
        gmeval.metrics.text.io.LineCountMismatchError: .../r.txt: line 2: has 1 lines but the hypotheses (.../h.txt) have 2: ...
        >>> tmp.cleanup()
    """
    hyps = read_lines(hyp_path, allow_empty_lines=allow_empty_lines, role="hypotheses", max_bytes=max_bytes)
    refs = [read_lines(p, allow_empty_lines=allow_empty_lines, role="references", max_bytes=max_bytes) for p in ref_paths]
    if aligned:
        check_line_counts(len(hyps), [(Path(p), len(r)) for p, r in zip(ref_paths, refs)], Path(hyp_path))
    return hyps, refs


# -- validation of in-memory inputs (library API) -------------------------------------------------
def as_sentences(value, name: str, *, min_count: int = 1) -> list[str]:
    """Check that ``value`` is a sequence of strings (not a single string) and return it as a list.

    Args:
        value: the sentences.
        name: the argument's name, for messages.
        min_count: the fewest sentences accepted.

    Returns:
        A new list of the strings.

    Raises:
        InvalidArgumentError: a single string, a non-sequence, a non-string item, or too few items.

    Example:
        >>> as_sentences(("a", "b"), "hypotheses")
        ['a', 'b']
        >>> as_sentences("a b", "hypotheses")
        Traceback (most recent call last):
        ...
        gmeval.errors.InvalidArgumentError: Argument `hypotheses` must be a list of strings (one sentence each), but got 'str'.
    """
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise InvalidArgumentError(name, "a list of strings (one sentence each)", type(value).__name__)
    out = list(value)
    for i, s in enumerate(out):
        if not isinstance(s, str):
            raise InvalidArgumentError(f"{name}[{i}]", "a string", type(s).__name__)
    if len(out) < min_count:
        raise InvalidArgumentError(name, f"at least {min_count} sentence(s)", f"{len(out)} sentence(s)")
    return out


def as_reference_streams(references, n_hyp: int, name: str = "references") -> list[list[str]]:
    """Normalise references to a list of streams aligned with the hypotheses.

    Accepts sacreBLEU's layout (a list of streams, each a list with one reference per hypothesis)
    or a single stream (a list of strings, one reference per hypothesis).

    Args:
        references: the references.
        n_hyp: the number of hypotheses.
        name: the argument's name, for messages.

    Returns:
        A list of streams, each a list of `n_hyp` strings.

    Raises:
        InvalidArgumentError: not a non-empty list of strings or of string lists.
        LineCountMismatchError: a stream without one reference per hypothesis.

    Example:
        >>> as_reference_streams(["r1", "r2"], 2)
        [['r1', 'r2']]
        >>> as_reference_streams([["r1", "r2"], ["s1", "s2"]], 2)
        [['r1', 'r2'], ['s1', 's2']]
    """
    if isinstance(references, (str, bytes)) or not isinstance(references, Sequence) or len(references) == 0:
        raise InvalidArgumentError(name, "a non-empty list of reference streams (lists of strings)", references if isinstance(references, str) else type(references).__name__)
    if all(isinstance(r, str) for r in references):
        streams = [list(references)]
    else:
        streams = [as_sentences(s, f"{name}[{j}]") for j, s in enumerate(references)]
    check_line_counts(n_hyp, [(f"{name}[{j}]", len(s)) for j, s in enumerate(streams)])
    return streams
