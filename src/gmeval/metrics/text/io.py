"""Reading and validating hypothesis / reference files: one sentence per line, UTF-8.

The rules (also in docs/text.md):

* A file must exist, be a regular file, and decode as UTF-8 (a leading byte-order mark is
  dropped). An invalid byte sequence is reported with its line number and byte offset.
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
    """A hypothesis or reference text file (or list) is unusable. ``path`` and ``line`` (1-based) say where."""

    def __init__(self, message: str, path: object = None, line: int | None = None):
        self.line = line
        if line is not None:
            message = f"line {line}: {message}"
        super().__init__(message, path)


class TextFileNotFoundError(TextInputError, FileNotFoundError):
    """The file does not exist (or is not a regular file)."""


class TextEncodingError(TextInputError):
    """The file is not valid UTF-8."""


class EmptyTextFileError(TextInputError, EmptySourceError):
    """The file has no lines at all."""


class EmptyLineError(TextInputError):
    """A line is empty or whitespace only (see the empty-line rule above)."""


class LineCountMismatchError(TextInputError, ShapeMismatchError):
    """A reference file does not have one line per hypothesis."""


def _decode(data: bytes, path: Path) -> str:
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
    """Split on ``\\n`` only, drop one trailing ``\\r`` per line and the empty piece after a final newline."""
    if text == "":
        return []
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return [ln[:-1] if ln.endswith("\r") else ln for ln in lines]


def read_lines(path: str | os.PathLike, *, allow_empty_lines: bool = False, role: str = "text") -> list[str]:
    """Read one sentence per line from a UTF-8 file, applying the rules in this module's docstring.

    ``role`` (e.g. "hypotheses", "references") only makes error messages clearer.
    """
    path = Path(path)
    if path.is_dir():
        raise TextFileNotFoundError(f"{role} file is a directory, expected a UTF-8 text file", path)
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise TextFileNotFoundError(f"{role} file does not exist", path) from exc
    except PermissionError as exc:
        raise TextInputError(f"{role} file cannot be read (permission denied)", path) from exc
    lines = split_lines(_decode(data, path))
    if not lines:
        raise EmptyTextFileError(f"{role} file is empty: expected one sentence per line", path)
    if not allow_empty_lines:
        check_no_empty_lines(lines, path)
    return lines


def check_no_empty_lines(lines: Sequence[str], source: object) -> None:
    for i, line in enumerate(lines):
        if not line.strip():
            raise EmptyLineError(
                "empty line (empty lines usually mean a misaligned or truncated file; remove it, or pass "
                "allow_empty_lines=True / --allow-empty-lines to score it as an empty sentence)",
                source, i + 1,
            )


def check_line_counts(n_hyp: int, ref_counts: Sequence[tuple[object, int]], hyp_source: object = "hypotheses") -> None:
    """Every reference source must have ``n_hyp`` lines."""
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
) -> tuple[list[str], list[list[str]]]:
    """Read a hypothesis file and zero or more reference files.

    Returns ``(hypotheses, references)`` with ``references`` a list of streams (one per file, the
    sacreBLEU convention). With ``aligned=True`` every reference file must have one line per
    hypothesis (needed by BLEU and ROUGE); with ``aligned=False`` (distribution metrics only) the
    counts may differ.
    """
    hyps = read_lines(hyp_path, allow_empty_lines=allow_empty_lines, role="hypotheses")
    refs = [read_lines(p, allow_empty_lines=allow_empty_lines, role="references") for p in ref_paths]
    if aligned:
        check_line_counts(len(hyps), [(Path(p), len(r)) for p, r in zip(ref_paths, refs)], Path(hyp_path))
    return hyps, refs


# -- validation of in-memory inputs (library API) -------------------------------------------------
def as_sentences(value, name: str, *, min_count: int = 1) -> list[str]:
    """Check that ``value`` is a sequence of strings (not a single string) and return it as a list."""
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
    """
    if isinstance(references, (str, bytes)) or not isinstance(references, Sequence) or len(references) == 0:
        raise InvalidArgumentError(name, "a non-empty list of reference streams (lists of strings)", references if isinstance(references, str) else type(references).__name__)
    if all(isinstance(r, str) for r in references):
        streams = [list(references)]
    else:
        streams = [as_sentences(s, f"{name}[{j}]") for j, s in enumerate(references)]
    check_line_counts(n_hyp, [(f"{name}[{j}]", len(s)) for j, s in enumerate(streams)])
    return streams
