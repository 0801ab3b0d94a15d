"""`gmeval train` is generated from TrainConfig: one option per field and one field per option, the defaults
--help states are the dataclass's, the flags given land in the config, bad values are one line with exit code 2."""

import argparse
import dataclasses

import pytest

from gmeval.cli import build_parser, main
from gmeval.cli.train import config_from_args
from gmeval.training.config import TrainConfig, knobs

#: the options of `gmeval train` that are not training configuration (hooks, run-folder handling, output)
CLI_ONLY = {"eval_metrics", "eval_n", "eval_extractor", "resume", "overwrite", "evaluate_at_end", "eval_real",
            "end_extractor", "end_metrics", "threads", "no_progress", "json"}


@pytest.fixture(scope="module")
def train_parser():
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices["train"]


def _actions(p):
    return {a.dest: a for a in p._actions if not isinstance(a, argparse._HelpAction)}


def test_every_field_has_an_option_and_every_option_a_field(train_parser):
    acts = _actions(train_parser)
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    elements = {"betas[0]", "betas[1]"}  # --beta1, --beta2
    assert set(acts) == fields | elements | CLI_ONLY
    for name in fields - {"model"}:
        assert "--" + name.replace("_", "-") in acts[name].option_strings, name  # the flag is the field name
        assert acts[name].default is argparse.SUPPRESS, name  # no default lives in the CLI
    assert acts["model"].option_strings == [] and acts["model"].choices == sorted(acts["model"].choices)
    # every flag the README, Makefile, docs and tests use keeps working
    for flag in ("--dataset", "--data", "-o", "--model-opt", "--beta1", "--beta2", "--lr-d", "--d-steps", "--gp-weight",
                 "--tensorboard", "--stop-when", "--monitor-every", "--data-root", "--epochs"):
        assert flag in train_parser._option_string_actions, flag


def _expected_shown(k):
    d = k.default
    if k.meta["default_text"] is not None:
        return k.meta["default_text"]
    if d is None or d in ({}, []):
        return None
    if isinstance(d, bool):
        return "on" if d else "off"
    return " ".join(map(str, d)) if isinstance(d, tuple) else str(d)


def test_help_states_the_dataclass_defaults(train_parser):
    acts = _actions(train_parser)
    for k in knobs():
        shown = _expected_shown(k)
        if k.name != "model" and shown is not None:
            assert acts[k.name].help.endswith(f" [{shown}]"), (k.name, acts[k.name].help, shown)
        else:  # a positional is always given; None and empty defaults are not stated
            assert not acts[k.name].help.endswith("]"), k.name
    text = " ".join(train_parser.format_help().split())
    assert "[2000 unless --epochs]" in text and "[runs/MODEL]" in text and "[0.0002]" in text and "[0.5 0.999]" in text


@pytest.mark.parametrize("model", ["mlp-gan", "dcgan", "vae"])
def test_no_flags_gives_the_dataclass_defaults(train_parser, model):
    assert config_from_args(train_parser.parse_args([model])) == TrainConfig(model=model)


def test_flags_land_in_their_fields(train_parser):
    argv = ["cgan", "--dataset", "digits:train", "-o", "r", "--epochs", "1.5", "--batch-size", "16", "--lr", "1e-3",
            "--lr-d", "4e-4", "--beta1", "0.3", "--loss", "hinge", "--gp-weight", "0", "--d-steps", "2", "--seed", "7",
            "--log-every", "5", "--sample-every", "0", "--checkpoint-every", "0", "--eval-every", "3",
            "--stop-when", "d_real>=0.6", "--stop-when", "loss_g<=1", "--grid-size", "30", "--monitor-every", "0",
            "--tensorboard", "--model-opt", "latent_dim=8", "--model-options", "norm=\"none\""]
    got = config_from_args(train_parser.parse_args(argv))
    assert got == TrainConfig(model="cgan", data="digits:train", out="r", steps=None, epochs=1.5, batch_size=16, lr=1e-3,
                              lr_d=4e-4, betas=(0.3, 0.999), loss="hinge", gp_weight=0.0, d_steps=2, seed=7, log_every=5,
                              sample_every=0, checkpoint_every=0, eval_every=3, stop_when=["d_real>=0.6", "loss_g<=1"],
                              grid_size=30, monitor_every=0, tensorboard=True,
                              model_options={"latent_dim": 8, "norm": "none"})
    assert config_from_args(train_parser.parse_args(["vae", "--betas", "0.9", "0.99", "--beta2", "0.9"])).betas == (0.9, 0.9)
    assert config_from_args(train_parser.parse_args(["vae", "--tensorboard", "--no-tensorboard"])).tensorboard is False


@pytest.mark.parametrize("argv,needles", [
    (["--grid-size", "0"], ["argument --grid-size", "an integer >= 1", "'0'"]),
    (["--epochs", "inf"], ["argument --epochs", "a finite number > 0", "'inf'"]),
    (["--beta2", "1.5"], ["argument --beta2", "in [0, 1)", "'1.5'"]),
    (["--betas", "0.5", "-0.1"], ["argument --betas", "in [0, 1)", "'-0.1'"]),
    (["--seed", "-3"], ["argument --seed", "an integer in [0,", "'-3'"]),
    (["--loss", "wgan"], ["argument --loss", "invalid choice: 'wgan'", "'wgan-gp'"]),
    (["--stop-when", "fid<40"], ["argument --stop-when", "a condition like 'fid<=40'", "'fid<40'"]),
    (["--model-opt", "latent_dim"], ["argument --model-options/--model-opt", "KEY=VALUE", "'latent_dim'"]),
    (["--steps", "5", "--epochs", "1"], ["argument --epochs", "not allowed with argument --steps"]),
])
def test_bad_values_are_one_line_exit_2_naming_the_flag(tmp_path, capsys, argv, needles):
    with pytest.raises(SystemExit) as info:
        main(["train", "mlp-gan", "--data", "digits:train", "--out", str(tmp_path / "r"), *argv])
    err = capsys.readouterr().err
    assert info.value.code == 2 and len(err.strip().splitlines()) == 1, err
    assert err.startswith("gmeval train: error: ") and all(n in err for n in needles), err
    assert not (tmp_path / "r").exists()


def test_docs_flag_table_is_current():
    from pathlib import Path

    from gmeval.cli.train import config_flag_table

    doc = (Path(__file__).resolve().parents[2] / "docs" / "training.md").read_text()
    assert config_flag_table() in doc, "regenerate the table in docs/training.md with gmeval.cli.train.config_flag_table()"
