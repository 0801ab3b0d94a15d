"""``gmeval text`` end to end: JSON output, human output, strict parsing, typed errors -> exit code 2.

Tolerances (docs/tolerances.md): exact equalities are B5 (deterministic code on the same input);
float64 comparisons are T1; encoder outputs across batch sizes are T3.
"""

import json
import re

import pytest

from gmeval.cli import main
from gmeval.cli.text import METRIC_NAMES
from gmeval.metrics.text import TEXT_METRICS, bleu_score

from .conftest import needs_minilm, topic_sentences

SYS = ["The dog bit the man.", "It wasn't surprising.", "The man had just bitten him."]
REF1 = ["The dog bit the man.", "It was not unexpected.", "The man bit him first."]
REF2 = ["The dog had bit the man.", "No one was surprised.", "The man had bitten the dog."]


@pytest.fixture
def files(tmp_path):
    def write(name, lines):
        p = tmp_path / name
        p.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        return str(p)

    return write


def _run_json(capsys, argv):
    code = main(argv)
    out = capsys.readouterr().out
    assert code == 0
    return json.loads(out)


def test_choices_come_from_the_registry():
    assert METRIC_NAMES == tuple(TEXT_METRICS)


def test_json_end_to_end_matches_library(files, capsys):
    hyp, r1, r2 = files("hyp.txt", SYS), files("r1.txt", REF1), files("r2.txt", REF2)
    res = _run_json(capsys, ["text", "--hyp", hyp, "--ref", r1, "--ref", r2,
                             "--metrics", "bleu,rouge,self-bleu,distinct", "--json"])
    m = res["metrics"]
    assert set(m) == {"bleu", "rouge", "self-bleu", "distinct"}
    assert m["bleu"]["value"] == pytest.approx(48.530827, abs=1e-6)
    assert m["bleu"]["value"] == bleu_score(SYS, [REF1, REF2]).score
    assert m["bleu"]["signature"].startswith("nrefs:2|case:mixed|eff:no|tok:13a|smooth:exp|version:")
    assert 0 < m["rouge"]["scores"]["rougeL"]["fmeasure"] <= 1 and "nrefs:2" in m["rouge"]["signature"]
    assert m["self-bleu"]["signature"].startswith("self-bleu|n:3|nrefs:2")
    assert m["distinct"]["scores"]["distinct-1"] == pytest.approx(13 / 17)  # 17 13a tokens, 13 distinct
    assert res["n_hypotheses"] == 3 and res["n_reference_streams"] == 2 and res["files"]["ref"] == [r1, r2]


def test_chinese_and_human_readable_output(files, capsys):
    hyp = files("h.txt", ["猫坐在垫子上", "今天天气很好"])
    ref = files("r.txt", ["猫在垫子上坐着", "今天的天气很好"])
    assert main(["text", "--hyp", hyp, "--ref", ref, "--lang", "zh"]) == 0
    out = capsys.readouterr().out
    assert "tok:zh" in out and "tok:unicode-words" in out and "self-BLEU" in out
    res = _run_json(capsys, ["text", "--hyp", hyp, "--ref", ref, "--lang", "zh", "--json"])
    for name, label, digits in (("bleu", "BLEU", 2), ("rouge", "ROUGE-L F", 4), ("self-bleu", "self-BLEU", 2),
                                ("distinct", "distinct-2", 4)):  # every line leads with the entry's "value"
        e = res["metrics"][name]
        assert f"\n{label} = {e['value']:.{digits}f}  " in out and out.rstrip().count(f"({e['signature']})") == 1
    res = _run_json(capsys, ["text", "--hyp", hyp, "--ref", ref, "--lang", "zh", "--metrics", "rouge", "--json"])
    assert res["metrics"]["rouge"]["scores"]["rouge1"]["fmeasure"] > 0.8


def test_reference_free_default_and_out_file(files, capsys, tmp_path):
    hyp = files("hyp.txt", SYS)
    out_file = tmp_path / "res" / "text.json"
    res = _run_json(capsys, ["text", "--hyp", hyp, "--json", "--out", str(out_file)])
    assert set(res["metrics"]) == {"self-bleu", "distinct"}
    assert json.loads(out_file.read_text(encoding="utf-8")) == res


@pytest.mark.parametrize("argv_tail, message", [
    (["--ref", "{short}"], r"short\.txt: line 3: has 2 lines but the hypotheses"),
    (["--ref", "{gap}"], r"gap\.txt: line 2: empty line"),
    (["--ref", "{missing}"], r"missing\.txt: references file does not exist"),
    (["--ref", "{latin}"], r"latin\.txt: line 1: not valid UTF-8"),
    (["--ref", "{empty}"], r"empty\.txt: references file is empty"),
    (["--metrics", "bleu"], r"`references` must be reference text for the metrics \['bleu'\]"),
    (["--lang", "english"], r"`lang` must be an ISO 639 code"),
])
def test_bad_input_exits_2_with_file_and_line(files, tmp_path, capsys, argv_tail, message):
    paths = {
        "short": files("short.txt", REF1[:2]), "gap": files("gap.txt", ["a", "", "c"]),
        "missing": str(tmp_path / "missing.txt"), "empty": files("empty.txt", []),
    }
    latin = tmp_path / "latin.txt"
    latin.write_bytes("caf\u00e9\nb\nc\n".encode("latin-1"))
    paths["latin"] = str(latin)
    hyp = files("hyp.txt", SYS)
    argv = ["text", "--hyp", hyp] + [a.format(**paths) for a in argv_tail]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("gmeval text: error: ")
    assert re.search(message, err), err


def test_allow_empty_lines_flag(files, capsys):
    hyp = files("hyp.txt", SYS)
    gap = files("gap.txt", ["The dog bit the man.", "", "The man bit him first."])
    res = _run_json(capsys, ["text", "--hyp", hyp, "--ref", gap, "--metrics", "bleu", "--allow-empty-lines", "--json"])
    assert 0 < res["metrics"]["bleu"]["value"] < 100


@pytest.mark.parametrize("bad", [["--metrics", "bleu,perplexity"], ["--tokenize", "moses"], ["--mauve-clusters", "1"],
                                 ["--bogus"]])
def test_strict_parsing(files, capsys, bad):
    with pytest.raises(SystemExit) as exc:
        main(["text", "--hyp", files("hyp.txt", SYS)] + bad)
    assert exc.value.code == 2
    assert "error" in capsys.readouterr().err


@needs_minilm
@pytest.mark.filterwarnings("ignore:the (first|second) statistics have N=:RuntimeWarning")
def test_mauve_and_fd_through_the_cli(files, capsys, minilm):
    hyp = files("hyp.txt", topic_sentences("food", 40, seed=20))
    ref = files("ref.txt", topic_sentences("sport", 50, seed=21))
    res = _run_json(capsys, ["text", "--hyp", hyp, "--ref", ref, "--metrics", "mauve,fd", "--json", "--no-progress",
                             "--threads", "1", "--seed", "3", "--mauve-seeds", "2"])
    mauve, fd = res["metrics"]["mauve"], res["metrics"]["fd"]
    assert 0 < mauve["value"] < 0.5 and len(mauve["scores"]) == 2 and mauve["std"] is not None
    assert mauve["n_hypotheses"] == 40 and mauve["n_references"] == 50 and mauve["num_clusters"] == 4
    assert fd["value"] > 0.3 and fd["n_hypotheses"] == 40 and fd["dim"] == 384
    assert "encoder:all-MiniLM-L6-v2" in mauve["signature"] and "encoder:all-MiniLM-L6-v2" in fd["signature"]
