"""TrainConfig validates every field in __post_init__ with a typed error naming the field, the allowed values and
the value given; the defaults resolved from other fields are stated; config.json round-trips (resume reads it)."""

import json

import pytest

from gmeval.errors import InvalidArgumentError
from gmeval.training.config import DEFAULT_STEPS, TrainConfig, knobs


@pytest.mark.parametrize("field,value,allowed", [
    ("steps", 0, "an integer >= 1"), ("steps", 2.5, "an integer >= 1"), ("epochs", 0, "a finite number > 0"),
    ("batch_size", 0, "an integer >= 1"), ("lr", -1e-3, "a finite number > 0"), ("lr", float("nan"), "a finite number > 0"),
    ("lr_d", 0.0, "a finite number > 0"), ("betas", (0.5, 1.0), "a finite number in [0, 1)"),
    ("betas", (0.5,), "2 values"), ("loss", "wgan", "one of ['hinge', 'least-squares', 'minimax'"),
    ("model", "gan", "one of ['ae', 'cgan'"), ("gp_weight", -1.0, "a finite number >= 0"), ("d_steps", 0, "an integer >= 1"),
    ("seed", -1, "an integer in [0, 9223372036854775807]"), ("log_every", 0, "an integer >= 1"),
    ("sample_every", -1, "an integer >= 0"), ("checkpoint_every", -1, "an integer >= 0"), ("eval_every", -5, "an integer >= 0"),
    ("stop_when", ["fid<40"], "a condition like 'fid<=40'"), ("grid_size", 0, "an integer >= 1"),
    ("monitor_every", -1, "an integer >= 0"), ("tensorboard", "yes", "True or False"), ("lr", None, "not None"),
    ("batch_size", True, "an integer >= 1"),
])
def test_post_init_rejects_bad_values(field, value, allowed):
    with pytest.raises(InvalidArgumentError, match=f"Argument `{field}` must be") as info:
        TrainConfig(**{field: value})
    assert allowed in str(info.value) and info.value.name == field
    got = info.value.got  # the value, or the offending element of a tuple or list
    assert got is value or (isinstance(value, (tuple, list)) and got in value), got
    assert repr(got) in str(info.value)


def test_steps_and_epochs_are_one_length():
    assert TrainConfig().steps == DEFAULT_STEPS and TrainConfig().epochs is None
    c = TrainConfig(epochs=1.5)
    assert c.steps is None and c.epochs == 1.5
    with pytest.raises(InvalidArgumentError, match="`epochs` must be None when `steps` is given"):
        TrainConfig(steps=10, epochs=1.0)


def test_out_defaults_to_the_model_name():
    assert TrainConfig(model="dcgan").out == "runs/dcgan"
    assert TrainConfig(model="dcgan", out="x").out == "x"


def test_config_json_round_trips_and_an_older_config_still_loads():
    c = TrainConfig(model="cgan", betas=(0.5, 0.9), stop_when=["d_real>=0.6"], model_options={"latent_dim": 8})
    saved = json.loads(json.dumps(c.to_json()))  # what config.json and the checkpoint hold
    assert TrainConfig(**saved) == c and TrainConfig(**saved).to_json() == saved
    # a config.json written before the CLI was generated from TrainConfig (every key, betas as a list)
    old = {"batch_size": 16, "betas": [0.5, 0.999], "checkpoint_every": 1000, "d_steps": 1, "data": "digits:train",
           "data_root": None, "epochs": None, "eval_every": 0, "gp_weight": 10.0, "grid_size": 64, "log_every": 50,
           "loss": "non-saturating", "lr": 0.0002, "lr_d": None, "model": "mlp-gan", "model_options": {},
           "monitor_every": 500, "out": "runs/run", "sample_every": 500, "seed": 0, "steps": 2000, "stop_when": [],
           "tensorboard": False}
    assert TrainConfig(**old).to_json() == old


def test_every_field_declares_help_and_its_type_is_read_from_the_annotation():
    by_name = {k.name: k for k in knobs()}
    assert all(k.meta["help"] for k in by_name.values())
    assert (by_name["steps"].kind, by_name["steps"].optional) == (int, True)
    assert (by_name["betas"].container, by_name["betas"].length, by_name["betas"].kind) == (tuple, 2, float)
    assert by_name["stop_when"].container is list and by_name["model_options"].container is dict
    assert by_name["tensorboard"].kind is bool
