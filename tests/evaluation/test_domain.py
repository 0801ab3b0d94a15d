"""The one rule choosing extractor and mode classifier from the data's domain (issue case 3)."""

import warnings

import pytest

from gmeval.evaluation.hooks import EvaluationHook


def test_periodic_evaluation_defaults_to_the_data_domain():
    """Issue case 3 (fails before the change: the default extractor was mnist whatever the data)."""
    assert EvaluationHook(["fid"], real="fashion-mnist:test").extractor == "fashion-mnist"
    assert EvaluationHook(["fid"], real="mnist:test").extractor == "mnist"


def test_domain_rule():
    from gmeval.evaluation.domain import choose_classifier, choose_extractor, domain_of

    assert domain_of("fashion-mnist:train") == "fashion-mnist" and domain_of("mnist:test") == "mnist"
    assert domain_of("digits:train") is None and domain_of("/some/folder") is None
    assert choose_extractor("fashion-mnist:test") == "fashion-mnist"
    assert choose_extractor("digits:test") == "inception"
    assert choose_classifier("fashion-mnist:test", extractor="mnist") == "fashion-mnist"
    assert choose_classifier("digits:test", extractor="mnist") == "mnist"
    assert choose_classifier("digits:test", extractor="inception") is None


def test_mode_check_follows_the_data_domain():
    from gmeval.evaluation.hooks import ModeCheckHook

    assert ModeCheckHook("fashion-mnist:train").classifier == "fashion-mnist"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert EvaluationHook(["fid"], real="mnist:test", extractor="mnist").extractor == "mnist"


def test_mismatched_explicit_choice_warns():
    from gmeval.evaluation.domain import DomainMismatchWarning, choose_classifier

    with pytest.warns(DomainMismatchWarning, match="fashion-mnist"):
        hook = EvaluationHook(["fid"], real="fashion-mnist:test", extractor="mnist")
    assert hook.extractor == "mnist"  # honoured, with the warning
    with pytest.warns(DomainMismatchWarning):
        choose_classifier("mnist:test", "fashion-mnist")


def test_stop_keys_map_to_metrics():
    from gmeval.evaluation.hooks import metrics_for_keys

    assert metrics_for_keys(["fid", "modes_covered", "d_real", "precision"]) == ["fid", "modes", "pr"]
    assert EvaluationHook(["prdc"], real="mnist:test").keys == ("precision", "recall", "density", "coverage")


def test_mode_check_hook_counts_classes_of_samples():
    """The monitor's mode check on a constant generator: one image, so one class of ten."""
    from types import SimpleNamespace

    import torch

    from gmeval.evaluation.hooks import ModeCheckHook
    from gmeval.models import build_model

    torch.manual_seed(0)
    m = build_model("mlp-gan")
    with torch.no_grad():
        for p in m.generator.parameters():
            p.zero_()  # output sigmoid(0) = 0.5 everywhere, whatever z
    out = ModeCheckHook("mnist:train", n=200)(SimpleNamespace(model=m))
    assert set(out) == set(ModeCheckHook.keys)
    assert out["monitor_modes"] == 1.0 and out["monitor_mode_share"] == pytest.approx(0.1)
