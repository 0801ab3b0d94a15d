"""Reading hypothesis/reference files: every bad input is a typed error naming the file and the line.

Tolerances (docs/tolerances.md): exact equalities are B5 (deterministic code on the same input);
float64 comparisons are T1; encoder outputs across batch sizes are T3.
"""

import pytest

from gmeval.errors import DataError, EmptySourceError, ShapeMismatchError
from gmeval.metrics.text import (EmptyLineError, EmptyTextFileError, LineCountMismatchError, TextEncodingError,
                                 TextFileNotFoundError, read_lines, read_text_files)


def _write(path, data: bytes):
    path.write_bytes(data)
    return path


def test_reads_utf8_lines_crlf_bom_and_final_newline(tmp_path):
    f = _write(tmp_path / "h.txt", "\ufeffeins zwei\r\n猫坐在垫子上\r\nlast line without newline".encode("utf-8"))
    assert read_lines(f) == ["eins zwei", "猫坐在垫子上", "last line without newline"]
    g = _write(tmp_path / "g.txt", b"a\nb\n")
    assert read_lines(g) == ["a", "b"]  # the final newline does not start a third line
    # U+2028 (line separator) is an ordinary character inside a line, only \n splits
    u = _write(tmp_path / "u.txt", "x\u2028y\nz\n".encode("utf-8"))
    assert read_lines(u) == ["x\u2028y", "z"]


def test_missing_file(tmp_path):
    with pytest.raises(TextFileNotFoundError, match=r"nope\.txt: hypotheses file does not exist"):
        read_lines(tmp_path / "nope.txt", role="hypotheses")
    with pytest.raises(FileNotFoundError):  # also a FileNotFoundError, for generic handlers
        read_lines(tmp_path / "nope.txt")
    with pytest.raises(TextFileNotFoundError, match="is a directory"):
        read_lines(tmp_path)


def test_non_utf8_names_file_and_line(tmp_path):
    f = _write(tmp_path / "latin1.txt", "good line\ncaf\u00e9 au lait\n".encode("latin-1"))
    with pytest.raises(TextEncodingError, match=r"latin1\.txt: line 2: not valid UTF-8: byte\(s\) b'\\xe9'") as exc:
        read_lines(f)
    assert exc.value.line == 2 and exc.value.path == f
    assert isinstance(exc.value, DataError)


def test_empty_file(tmp_path):
    for name, data in (("empty.txt", b""), ("bom.txt", b"\xef\xbb\xbf")):
        with pytest.raises(EmptyTextFileError, match=rf"{name}: references file is empty"):
            read_lines(_write(tmp_path / name, data), role="references")
    with pytest.raises(EmptySourceError):
        read_lines(tmp_path / "empty.txt")


@pytest.mark.parametrize("data, line", [(b"a\n\nb\n", 2), (b"a\n   \nb\n", 2), (b"a\nb\n\n", 3), (b"\n", 1),
                                        (b"a\r\n\r\nb", 2)])
def test_empty_lines_are_errors_with_line_number(tmp_path, data, line):
    f = _write(tmp_path / "gaps.txt", data)
    with pytest.raises(EmptyLineError, match=rf"gaps\.txt: line {line}: empty line") as exc:
        read_lines(f)
    assert exc.value.line == line


def test_allow_empty_lines_keeps_them(tmp_path):
    f = _write(tmp_path / "gaps.txt", b"a\n\n  \nb\n")
    assert read_lines(f, allow_empty_lines=True) == ["a", "", "  ", "b"]


def test_mismatched_line_counts_name_the_reference_file(tmp_path):
    hyp = _write(tmp_path / "hyp.txt", b"a\nb\nc\n")
    ok = _write(tmp_path / "ref1.txt", b"x\ny\nz\n")
    short = _write(tmp_path / "ref2.txt", b"x\ny\n")
    with pytest.raises(LineCountMismatchError, match=r"ref2\.txt: line 3: has 2 lines but the hypotheses .*hyp\.txt.* have 3") as exc:
        read_text_files(hyp, [ok, short])
    assert isinstance(exc.value, ShapeMismatchError) and exc.value.line == 3
    longer = _write(tmp_path / "ref3.txt", b"x\ny\nz\nw\n")
    with pytest.raises(LineCountMismatchError, match=r"ref3\.txt: line 4: has 4 lines.*no hypothesis"):
        read_text_files(hyp, [longer])
    # distribution metrics do not pair lines: counts may differ
    hyps, refs = read_text_files(hyp, [short, longer], aligned=False)
    assert len(hyps) == 3 and [len(r) for r in refs] == [2, 4]
