"""`gmeval train MODEL --data mnist:train ...`"""

from __future__ import annotations

import argparse
import sys


def _kv(text: str):
    import json

    if "=" not in text:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    k, v = text.split("=", 1)
    try:
        return k, json.loads(v)
    except ValueError:
        return k, v


def register(sub) -> None:
    from ..training.config import TrainConfig
    from . import _validate as V

    d = TrainConfig()
    p = sub.add_parser("train", help="train a generative model", description="Train a generative model; writes a run folder "
                       "(checkpoint.pt, log.jsonl, samples/, loss_curves.png, and report.html with --evaluate-at-end).")
    from ..models import MODELS

    p.add_argument("model", choices=sorted(MODELS), help="model to train: %(choices)s")
    p.add_argument("--dataset", "--data", dest="data", default=d.data, help="dataset split (mnist:train), image folder or .npy/.npz [%(default)s]")
    p.add_argument("--data-root", default=None, type=V.existing_folder, help="folder holding <dataset>/<file>.gz (else $GMEVAL_DATA, cache, download)")
    p.add_argument("--out", "-o", default=None, type=V.output_folder, help="run folder [runs/MODEL]")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--steps", type=V.positive_int, default=None, help="optimizer steps (GAN: generator updates)")
    g.add_argument("--epochs", type=V.positive_number, default=None, help="passes over the data")
    p.add_argument("--batch-size", type=V.positive_int, default=d.batch_size)
    p.add_argument("--lr", type=V.positive_number, default=d.lr)
    p.add_argument("--lr-d", type=V.positive_number, default=None, help="discriminator learning rate [lr]")
    p.add_argument("--beta1", type=V.beta, default=d.betas[0])
    p.add_argument("--beta2", type=V.beta, default=d.betas[1])
    p.add_argument("--loss", default=d.loss, help="GAN loss: minimax, non-saturating, hinge, least-squares, wgan-gp [%(default)s]")
    p.add_argument("--gp-weight", type=V.number(0.0), default=d.gp_weight)
    p.add_argument("--d-steps", type=V.positive_int, default=d.d_steps, help="discriminator updates per generator update [%(default)s]")
    p.add_argument("--seed", type=V.seed, default=d.seed)
    p.add_argument("--log-every", type=V.positive_int, default=d.log_every)
    p.add_argument("--sample-every", type=V.non_negative_int, default=d.sample_every, help="[%(default)s; 0: no grids]")
    p.add_argument("--checkpoint-every", type=V.positive_int, default=d.checkpoint_every)
    p.add_argument("--eval-every", type=V.non_negative_int, default=0, help="run evaluation hooks every N steps (0: at the end only)")
    p.add_argument("--eval-metrics", default="", help="metrics for periodic evaluation, e.g. fid,modes (needs --eval-every or --stop-when)")
    p.add_argument("--eval-n", type=V.positive_int, default=2000, help="generated samples per periodic evaluation [%(default)s]")
    p.add_argument("--eval-extractor", default=None, help="feature extractor for periodic evaluation [the dataset's "
                   "domain classifier (mnist, fashion-mnist), else inception]")
    p.add_argument("--stop-when", action="append", default=[], metavar="COND",
                   help="stop when logged values reach a target, e.g. 'fid<=30' or 'd_real>=0.6' (repeatable: all must "
                   "hold); checked at every log step and evaluation; a metric key turns on its evaluation (every "
                   f"--eval-every steps, default {STOP_EVAL_EVERY})")
    p.add_argument("--monitor-every", type=V.non_negative_int, default=d.monitor_every, help="collapse checks every N steps: pixel std "
                   "over z and a 500-sample mode count with the domain classifier; 0: off [%(default)s]")
    p.add_argument("--tensorboard", action="store_true", help="also log scalars, sample grids and alerts to "
                   "OUT/tensorboard (needs the tensorboard package: pip install 'gmeval[tensorboard]')")
    p.add_argument("--model-opt", action="append", default=[], type=_kv, metavar="KEY=VALUE", help="model constructor option")
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
    for_stop = metrics_for_keys(StopConditions(args.stop_when).keys())
    metrics += [m for m in for_stop if m not in metrics]
    if not metrics:
        return []
    if for_stop and not cfg.eval_every:
        cfg.eval_every = STOP_EVAL_EVERY
        print(f"evaluating {','.join(metrics)} every {STOP_EVAL_EVERY} steps for --stop-when (set --eval-every to change)",
              file=sys.stderr)
    return [EvaluationHook(metrics, real=args.eval_real or _test_split(args.data), n=args.eval_n,
                           extractor=args.eval_extractor, data_root=args.data_root, seed=args.seed)]


def _monitors(args) -> list:
    """The cheap mode check, when the data has a domain classifier."""
    from ..evaluation.domain import domain_of
    from ..evaluation.hooks import ModeCheckHook

    return [ModeCheckHook(args.data, seed=args.seed)] if args.monitor_every and domain_of(args.data) else []


def run(args) -> int:
    import torch

    from .. import distributed as gdist
    from ..training.config import TrainConfig
    from ..training.trainer import Trainer
    from . import print_json

    if gdist.launched_by_torchrun():  # torchrun --nproc-per-node N -m gmeval train ...: data-parallel
        gdist.init_distributed()
    if args.threads:
        torch.set_num_threads(args.threads)  # training and --evaluate-at-end
    steps = args.steps if (args.steps is not None or args.epochs is not None) else 2000
    cfg = TrainConfig(
        model=args.model, model_options=dict(args.model_opt), data=args.data, out=args.out or f"runs/{args.model}",
        steps=steps, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, lr_d=args.lr_d,
        betas=(args.beta1, args.beta2), loss=args.loss, gp_weight=args.gp_weight, d_steps=args.d_steps, seed=args.seed,
        log_every=args.log_every, sample_every=args.sample_every, checkpoint_every=args.checkpoint_every,
        eval_every=args.eval_every, stop_when=list(args.stop_when), data_root=args.data_root,
        monitor_every=args.monitor_every, tensorboard=args.tensorboard,
    )
    hooks = _eval_hooks(args, cfg)
    trainer = Trainer(cfg, hooks=hooks, resume=args.resume, progress=not args.no_progress, monitors=_monitors(args),
                      overwrite=args.overwrite)
    result = trainer.run()
    if not gdist.is_rank_zero():
        return 0  # rank 0 alone evaluates the final model, writes reports and prints
    if args.evaluate_at_end:
        from ..evaluation.run_report import evaluate_run

        with gdist.local_only():  # rank 0 alone: no collectives with ranks that have finished
            result["evaluation"] = evaluate_run(cfg.out, real=args.eval_real or _test_split(args.data),
                                                data_root=args.data_root, progress=not args.no_progress,
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
