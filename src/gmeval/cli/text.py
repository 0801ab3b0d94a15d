"""``gmeval text``: BLEU, ROUGE, self-BLEU, distinct-n, MAUVE and embedding FD for text files.

    gmeval text --hyp generated.txt --ref refs.txt [--ref more.txt] \\
        --metrics bleu,rouge,self-bleu,distinct,mauve,fd --lang en --json

One sentence per line, UTF-8 (rules: gmeval.metrics.text.io / docs/text.md).
"""

from __future__ import annotations

import argparse
import sys

# light modules (no numpy/scipy/sacrebleu): the choices come straight from the registries
from ..errors import InvalidArgumentError
from ..metrics.text.registry import DEFAULT_METRICS, TEXT_METRICS
from ..metrics.text.tokenizers import BLEU_TOKENIZERS
from . import validate as V

METRIC_NAMES = tuple(TEXT_METRICS)


def _metric_list(value: str) -> tuple[str, ...]:
    try:
        return TEXT_METRICS.parse(value, "--metrics")
    except InvalidArgumentError as exc:
        unknown = "" if exc.got == value else f" (unknown: {exc.got})"
        raise argparse.ArgumentTypeError(f"must be a comma-separated list of {', '.join(TEXT_METRICS.allowed())}; "
                                         f"got {value!r}{unknown}") from exc


def _clusters(value: str):
    if value == "auto":
        return value
    try:
        return V.integer(2)(value)
    except V.FlagValueError:
        raise V.FlagValueError("'auto' or an integer >= 2", value) from None


def register(subparsers) -> None:
    """Add `gmeval text --hyp FILE [--ref FILE ...] [--metrics LIST] ...` to the subcommands.

    Args:
        subparsers: the subparsers of the `gmeval` parser.

    Example:
        >>> import argparse
        >>> sub = argparse.ArgumentParser(prog="gmeval").add_subparsers()
        >>> register(sub)
        >>> args = sub.choices["text"].parse_args(["--hyp", "gen.txt", "--ref", "a.txt", "--ref", "b.txt",
        ...                                        "--metrics", "bleu,distinct"])
        >>> args.ref, args.metrics, args.lang, args.func is run
        (['a.txt', 'b.txt'], ('bleu', 'distinct'), 'en', True)
    """
    p = subparsers.add_parser(
        "text", help="evaluate generated text: BLEU, ROUGE, self-BLEU, distinct-n, MAUVE, embedding FD",
        description="Evaluate generated text (one sentence per line, UTF-8) against reference files. "
                    "BLEU/ROUGE match line i of --hyp with line i of every --ref; MAUVE and FD pool all reference lines.")
    p.add_argument("--hyp", required=True, metavar="FILE", help="generated sentences, one per line")
    p.add_argument("--ref", action="append", default=[], metavar="FILE",
                   help="reference sentences, one per line; repeat for multiple references")
    p.add_argument("--metrics", type=_metric_list, default=None, metavar="LIST",
                   help=f"comma-separated, from: {','.join(TEXT_METRICS.allowed())} "
                        "(default: bleu,rouge,self-bleu,distinct with --ref; self-bleu,distinct without)")
    p.add_argument("--lang", default="en", help="ISO 639 language code of the text (en, zh, ja, ru, ...); "
                                                "picks tokenizers (zh -> sacreBLEU zh; ja/th/lo/km/my -> char)")
    p.add_argument("--tokenize", choices=BLEU_TOKENIZERS, default=None,
                   help="override the sacreBLEU tokenizer for bleu/self-bleu/distinct (default: from --lang)")
    p.add_argument("--lowercase", action="store_true", help="lower-case before BLEU/self-BLEU/distinct")
    p.add_argument("--encoder", default=None, metavar="PATH",
                   help="sentence-transformers model folder for mauve/fd (default: offline all-MiniLM-L6-v2)")
    p.add_argument("--device", default="cpu", help="torch device for the encoder (default: cpu)")
    p.add_argument("--batch-size", type=V.positive_int, default=64, help="encoder batch size (default: 64)")
    p.add_argument("--threads", type=V.positive_int, default=None,
                   help="CPU threads for torch, BLAS and OpenMP during this command (default: the libraries' "
                        "own settings; 1 is much faster on a busy shared machine)")
    p.add_argument("--seed", type=V.seed, default=0, help="seed for MAUVE's k-means (default: 0)")
    p.add_argument("--mauve-seeds", type=V.positive_int, default=1,
                   help="repeat MAUVE's k-means with this many seeds and report mean and std (default: 1)")
    p.add_argument("--mauve-clusters", type=_clusters, default="auto",
                   help="k-means clusters for MAUVE: 'auto' = min(N_hyp, N_ref)/10 (default) or an integer")
    p.add_argument("--allow-empty-lines", action="store_true",
                   help="keep empty lines as empty sentences instead of stopping with an error")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.add_argument("--max-input-mb", type=V.positive_number, default=64, metavar="MB",
                   help="refuse input files larger than this (default: 64 MiB)")
    p.add_argument("--out", default=None, metavar="FILE", type=V.output_file(), help="also write the JSON results to FILE (atomically)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar while embedding")
    p.set_defaults(func=run)


def _fmt(v, spec=".4f") -> str:
    return "n/a" if v is None else format(v, spec)


#: metric -> the sub-scores printed after its headline value (every metric prints label = value (signature))
_DETAILS = {
    "bleu": lambda e: f"mean sentence BLEU = {e['sentence_bleu_mean']:.2f}",
    "rouge": lambda e: "  ".join(f"{t} F={s['fmeasure']:.4f}" for t, s in e["scores"].items()
                                 if f"{t} fmeasure" != e["headline"]),
    "distinct": lambda e: "  ".join(f"{k}={_fmt(v)}" for k, v in e["scores"].items() if k != e["headline"])
    + f"  seq-rep-4={_fmt(e['repetition']['value'])}  duplicate_rate={e['repetition']['duplicate_rate']:.4f}",
    "mauve": lambda e: "" if e["std"] is None else f"+- {e['std']:.4f} (std over {len(e['seeds'])} seeds)",
}
_DIGITS = {"bleu": ".2f", "self-bleu": ".2f", "fd": ".6f"}


def _human(result: dict) -> str:
    lines = [f"{result['n_hypotheses']} hypotheses, {result['n_reference_streams']} reference file(s), lang={result['lang']}"]
    for name, e in result["metrics"].items():
        details = _DETAILS[name](e) if name in _DETAILS else ""
        lines.append(f"{TEXT_METRICS[name].label} = {_fmt(e['value'], _DIGITS.get(name, '.4f'))}"
                     + (f"  {details}" if details else "") + f"  ({e['signature']})")
    return "\n".join(lines)


def run(args) -> int:
    """Evaluate the text files and print each metric (or JSON); with --threads, inside thread limits.

    Args:
        args: the parsed namespace of `gmeval text`.

    Returns:
        0.

    Raises:
        DataError: an input file is missing, too large, not UTF-8, or has empty lines.
        InvalidArgumentError: a bad --lang or metric combination (e.g. bleu without --ref).

    Example:
        >>> import contextlib, io, tempfile
        >>> from pathlib import Path
        >>> from gmeval.cli import main
        >>> out = io.StringIO()
        >>> with tempfile.TemporaryDirectory() as d, contextlib.redirect_stdout(out):
        ...     _ = Path(d, "gen.txt").write_text("the cat sat\\nthe cat ran\\n", encoding="utf-8")
        ...     code = main(["text", "--hyp", str(Path(d, "gen.txt")), "--metrics", "distinct"])
        >>> code
        0
        >>> print(out.getvalue(), end="")
        2 hypotheses, 0 reference file(s), lang=en
        distinct-2 = 0.7500  distinct-1=0.6667  distinct-3=1.0000  distinct-4=n/a ...
    """
    if args.threads is None:
        return _run(args)
    from threadpoolctl import threadpool_limits  # installed with scikit-learn

    with threadpool_limits(limits=args.threads):
        return _run(args)


def _run(args) -> int:
    from ..metrics.text import evaluate_text, read_text_files
    from ..metrics.text.tokenizers import check_lang

    check_lang(args.lang)
    no_refs = tuple(m for m in DEFAULT_METRICS if not TEXT_METRICS[m].needs_references)
    metrics = args.metrics or (DEFAULT_METRICS if args.ref else no_refs)
    aligned = any(TEXT_METRICS[m].aligned for m in metrics)
    hyps, refs = read_text_files(args.hyp, args.ref, aligned=aligned, allow_empty_lines=args.allow_empty_lines,
                                 max_bytes=int(args.max_input_mb * 2**20))

    encoder = None
    if any(TEXT_METRICS[m].needs_encoder for m in metrics) and args.ref:
        from ..features.text_encoder import load_text_encoder

        encoder = load_text_encoder(args.encoder, device=args.device, batch_size=args.batch_size,
                                    progress=not args.no_progress, num_threads=args.threads)
    result = evaluate_text(hyps, refs or None, metrics, lang=args.lang, tokenize=args.tokenize, lowercase=args.lowercase,
                           encoder=encoder, seed=args.seed, mauve_seeds=args.mauve_seeds,
                           mauve_clusters=args.mauve_clusters)
    result["files"] = {"hyp": args.hyp, "ref": list(args.ref)}
    if args.out:
        import json

        from ..utils.io import atomic_write_text

        atomic_write_text(args.out, json.dumps(result, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    if args.json:
        from . import print_json

        print_json(result)
    else:
        print(_human(result))
    sys.stdout.flush()
    return 0
