"""`gmeval train MODEL --data mnist:train ...`"""

from __future__ import annotations

import argparse
import sys


def _kv(text: str):
    import json

    from .validate import FlagValueError

    if "=" not in text:
        raise FlagValueError("a KEY=VALUE pair", text)
    k, v = text.split("=", 1)
    try:
        return k, json.loads(v)
    except ValueError:
        return k, v


def _shown_default(k) -> str | None:
    """The default `--help` states for a field: the dataclass's (or its `default_text` when __post_init__ resolves it)."""
    if k.meta["default_text"] is not None:
        return k.meta["default_text"]
    d = k.default
    if d is None or (k.container is not None and not d):
        return None
    if isinstance(d, bool):
        return "on" if d else "off"
    return " ".join(map(str, d)) if isinstance(d, tuple) else str(d)


def _value_type(k):
    """argparse `type=` for one value (one element) of field `k`: its path check, constraint or annotated type."""
    from . import validate as V

    if k.meta["path"]:
        return getattr(V, k.meta["path"])
    if k.container is dict:
        return _kv
    if k.meta["check"] is not None:
        return V.flag_type(k.meta["check"])
    return k.kind


def add_config_options(p) -> None:
    """One option per TrainConfig field, generated from the dataclass (gmeval.training.config).

    Flag = field name with dashes (plus the field's `aliases`); bools are --flag/--no-flag; tuples take
    their elements (and `element_flags` set one each); lists and dicts are repeatable. No option has a
    default here (argparse.SUPPRESS): only the flags given reach TrainConfig, whose defaults apply.

    Args:
        p: the command's argparse parser.

    Example:
        >>> import argparse
        >>> p = argparse.ArgumentParser(prog="demo")
        >>> add_config_options(p)
        >>> sorted(vars(p.parse_args(["dcgan", "--dataset", "digits:", "--beta1", "0.9", "--stop-when", "fid<=30"])).items())
        [('betas[0]', 0.9), ('data', 'digits:'), ('model', 'dcgan'), ('stop_when', ['fid<=30'])]
        >>> import contextlib, io
        >>> err = io.StringIO()
        >>> with contextlib.redirect_stderr(err):
        ...     p.parse_args(["dcgan", "--steps", "5", "--epochs", "1"])
        Traceback (most recent call last):
        ...
        SystemExit: 2
        >>> err.getvalue().splitlines()[-1]
        'demo: error: argument --epochs: not allowed with argument --steps'
    """
    from ..training.config import knobs
    from ..utils.checks import OneOf

    groups = {}
    for k in knobs():
        m, check = k.meta, k.meta["check"]
        shown = None if m["positional"] else _shown_default(k)  # a positional is always given
        kw = {"help": (m["help"] + (f" [{shown}]" if shown is not None else "")).replace("%", "%%")}
        if m["metavar"]:
            kw["metavar"] = m["metavar"]
        if k.kind is bool:
            kw["action"] = argparse.BooleanOptionalAction
        elif isinstance(check, OneOf):
            kw["choices"] = check.choices
        else:
            kw["type"] = _value_type(k)
        if k.container in (list, dict):
            kw["action"] = "append"
        elif k.container is tuple:
            kw["nargs"] = k.length
        if m["positional"]:
            p.add_argument(k.name, **kw)
            continue
        if m["group"] and m["group"] not in groups:
            groups[m["group"]] = p.add_mutually_exclusive_group()
        target = groups[m["group"]] if m["group"] else p
        target.add_argument(k.flag, *m["aliases"], dest=k.name, default=argparse.SUPPRESS, **kw)
        for i, flag in enumerate(m["element_flags"]):
            p.add_argument(flag, dest=f"{k.name}[{i}]", type=_value_type(k), default=argparse.SUPPRESS,
                           metavar=flag.lstrip("-").upper(),
                           help=f"element {i + 1} of {k.flag} [{k.default[i]}]")


#: how the flag table states a path check of gmeval.cli.validate
_PATH_TEXT = {"output_folder": "a folder (not an existing file)", "existing_folder": "an existing folder"}


def config_flag_table() -> str:
    """The Markdown table of the TrainConfig options (docs/training.md holds its output; a test keeps it current).

    Returns:
        The table as Markdown text, one row per TrainConfig field.

    Example:
        >>> rows = config_flag_table().splitlines()
        >>> rows[0]
        '| flag | field | allowed | default | what |'
        >>> [r for r in rows if "`batch_size`" in r]
        ['| `--batch-size` | `batch_size` | an integer >= 1 | `64` | images per batch (summed over processes under torchrun) |']
    """
    from ..training.config import knobs
    from ..utils.checks import OneOf

    rows = ["| flag | field | allowed | default | what |", "|---|---|---|---|---|"]
    for k in knobs():
        m, check = k.meta, k.meta["check"]
        flags = ["MODEL"] if m["positional"] else [k.flag, *m["aliases"], *m["element_flags"]]
        if k.kind is bool:
            flags.append("--no-" + k.flag[2:])
        if isinstance(check, OneOf):
            allowed = ", ".join(check.choices)
        elif check is not None:
            allowed = check.allowed
        else:
            allowed = _PATH_TEXT.get(m["path"]) or ("KEY=VALUE" if k.container is dict else "on / off" if k.kind is bool else "text")
        if k.container in (list, dict):
            allowed += " (repeatable)"
        elif k.container is tuple:
            allowed = f"{k.length} numbers, each {allowed}"
        shown = None if m["positional"] else _shown_default(k)
        rows.append(f"| {', '.join(f'`{f}`' for f in flags)} | `{k.name}` | {allowed} | "
                    f"{'' if shown is None else f'`{shown}`'} | {m['help']} |")
    return "\n".join(rows)


def config_from_args(args):
    """The TrainConfig of the flags given (every other field keeps the dataclass default).

    Args:
        args: a namespace parsed with the options of `add_config_options`.

    Returns:
        A TrainConfig.

    Raises:
        InvalidArgumentError: if the values given break a constraint TrainConfig checks.

    Example:
        >>> import argparse
        >>> p = argparse.ArgumentParser(prog="demo")
        >>> add_config_options(p)
        >>> cfg = config_from_args(p.parse_args(["vae", "--beta2", "0.99", "--model-options", "latent_dim=4"]))
        >>> cfg.model, cfg.betas, cfg.model_options, cfg.steps
        ('vae', (0.5, 0.99), {'latent_dim': 4}, 2000)
    """
    from ..training.config import TrainConfig, knobs

    given = {}
    for k in knobs():
        if hasattr(args, k.name):
            v = getattr(args, k.name)
            given[k.name] = dict(v) if k.container is dict else k.container(v) if k.container else v
        for i in range(len(k.meta["element_flags"])):
            if hasattr(args, f"{k.name}[{i}]"):
                values = list(given.get(k.name, k.default))
                values[i] = getattr(args, f"{k.name}[{i}]")
                given[k.name] = tuple(values)
    return TrainConfig(**given)


def register(sub) -> None:
    """Add `gmeval train MODEL ...`: the TrainConfig options plus evaluation, resume and output switches.

    Args:
        sub: the subparsers of the `gmeval` parser.

    Example:
        >>> import argparse
        >>> sub = argparse.ArgumentParser(prog="gmeval").add_subparsers()
        >>> register(sub)
        >>> args = sub.choices["train"].parse_args(["mlp-gan", "--steps", "10", "--resume", "--json"])
        >>> args.model, args.steps, args.resume, args.eval_n, args.func is run
        ('mlp-gan', 10, True, 2000, True)
    """
    from . import validate as V

    p = sub.add_parser("train", help="train a generative model", description="Train a generative model; writes a run folder "
                       "(checkpoint.pt, log.jsonl, samples/, loss_curves.png, and report.html with --evaluate-at-end). "
                       "The options up to --data-root are the fields of gmeval.training.config.TrainConfig, with its "
                       "defaults and checks.", epilog="A --stop-when key that an evaluation metric produces (fid, "
                       f"modes_covered, ...) turns that metric's evaluation on, every --eval-every steps (default {STOP_EVAL_EVERY}).")
    add_config_options(p)
    # options of this command that are not training configuration
    p.add_argument("--eval-metrics", default="", help="metrics for periodic evaluation, e.g. fid,modes (needs --eval-every or --stop-when)")
    p.add_argument("--eval-n", type=V.positive_int, default=2000, help="generated samples per periodic evaluation [%(default)s]")
    p.add_argument("--eval-extractor", default=None, help="feature extractor for periodic evaluation [the dataset's "
                   "domain classifier (mnist, fashion-mnist), else inception]")
    r = p.add_mutually_exclusive_group()
    r.add_argument("--resume", action="store_true", help="continue the run in --out from its checkpoint")
    r.add_argument("--overwrite", action="store_true", help="replace the run in --out (an existing run is refused otherwise)")
    p.add_argument("--evaluate-at-end", action="store_true", help="evaluate the final model and write report.html/report.json")
    p.add_argument("--eval-real", default=None, help="real data for evaluation [the test split of --dataset]")
    p.add_argument("--end-extractor", default="domain,inception", help="comma list of extractors for --evaluate-at-end: "
                   "domain (the dataset's classifier), mnist, fashion-mnist, inception [%(default)s]; see docs/training.md "
                   "for the time each takes")
    p.add_argument("--end-metrics", default=None, help="comma list of metrics for --evaluate-at-end [domain classifier: "
                   "fid,fid-inf,kid,is,prd,dc,modes,memorization; inception: fid,fid-inf,kid,prd]")
    p.add_argument("--threads", type=V.positive_int, default=None, help="torch CPU threads")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=run)


#: evaluation interval when a stop condition needs a metric and --eval-every is not given
STOP_EVAL_EVERY = 500


def _eval_hooks(args, cfg) -> list:
    """Periodic evaluation (--eval-metrics, plus the metrics stop-condition keys need)."""
    from ..evaluation.hooks import EvaluationHook, metrics_for_keys
    from ..training.stopping import StopConditions

    metrics = [m for m in args.eval_metrics.split(",") if m]
    for_stop = metrics_for_keys(StopConditions(cfg.stop_when).keys())
    metrics += [m for m in for_stop if m not in metrics]
    if not metrics:
        return []
    if for_stop and not cfg.eval_every:
        cfg.eval_every = STOP_EVAL_EVERY
        print(f"evaluating {','.join(metrics)} every {STOP_EVAL_EVERY} steps for --stop-when (set --eval-every to change)",
              file=sys.stderr)
    return [EvaluationHook(metrics, real=args.eval_real or _test_split(cfg.data), n=args.eval_n,
                           extractor=args.eval_extractor, data_root=cfg.data_root, seed=cfg.seed)]


def _monitors(cfg) -> list:
    """The cheap mode check, when the data has a domain classifier."""
    from ..evaluation.domain import domain_of
    from ..evaluation.hooks import ModeCheckHook

    return [ModeCheckHook(cfg.data, seed=cfg.seed)] if cfg.monitor_every and domain_of(cfg.data) else []


def run(args) -> int:
    """Train (gmeval.training.trainer.Trainer) with the hooks the flags ask for; evaluate at the end if asked.

    Args:
        args: the parsed namespace of `gmeval train`.

    Returns:
        0.

    Raises:
        RunFolderError: --out already holds a run and neither --resume nor --overwrite is given.
        CheckpointError: on --resume, an unreadable checkpoint, or a changed config or data.
        TrainingDivergedError: a loss became non-finite.

    Example:
        >>> import contextlib, io, tempfile
        >>> from pathlib import Path
        >>> from gmeval.cli import main
        >>> err = io.StringIO()
        >>> with tempfile.TemporaryDirectory() as d, contextlib.redirect_stderr(err):
        ...     _ = Path(d, "config.json").write_text("{}")
        ...     main(["train", "mlp-gan", "--data", "digits:", "--out", d])
        2
        >>> print(err.getvalue(), end="")
        gmeval train: error: ...: already holds a run (config.json); pass --resume to continue it, --overwrite to replace it, or choose another --out
    """
    import torch

    from .. import distributed as gdist
    from ..training.trainer import Trainer
    from . import print_json

    if args.threads:
        torch.set_num_threads(args.threads)  # training and --evaluate-at-end
    cfg = config_from_args(args)
    hooks = _eval_hooks(args, cfg)
    trainer = Trainer(cfg, hooks=hooks, resume=args.resume, progress=not args.no_progress, monitors=_monitors(cfg),
                      overwrite=args.overwrite)
    result = trainer.run()
    if not gdist.is_rank_zero():
        return 0  # rank 0 alone evaluates the final model, writes reports and prints
    if args.evaluate_at_end:
        from ..evaluation.run_report import evaluate_run

        with gdist.local_only():  # rank 0 alone: no collectives with ranks that have finished
            result["evaluation"] = evaluate_run(cfg.out, real=args.eval_real or _test_split(cfg.data),
                                                data_root=cfg.data_root, progress=not args.no_progress,
                                                extractors=[e for e in args.end_extractor.split(",") if e],
                                                metrics=args.end_metrics)
    if args.json:
        print_json(result)
    else:
        print(f"trained {cfg.model} for {result['steps']} steps in {result['seconds']:.1f} s ({result['stopped_by']}); "
              f"run folder: {cfg.out}")
        if result["alerts"]:
            print(f"{len(result['alerts'])} alert(s): " + "; ".join(f"{a['alert']} at step {a['step']}" for a in result["alerts"]))
        if "evaluation" in result:
            print(f"report: {result['evaluation'].get('report_html')}")
    return 0


def _test_split(data: str) -> str:
    from ..data.any import is_dataset_spec

    if is_dataset_spec(data):
        name = data.split(":", 1)[0]
        return f"{name}:test"
    return data
