"""The one rule choosing extractor and mode classifier from the data's domain (issue case 3)."""

import warnings

import pytest

from gmeval.evaluation.domain import DomainMismatchWarning, choose_classifier, choose_extractor, domain_of
from gmeval.evaluation.hooks import EvaluationHook, ModeCheckHook, metrics_for_keys


def test_domain_rule():
    assert domain_of("fashion-mnist:train") == "fashion-mnist" and domain_of("mnist:test") == "mnist"
    assert domain_of("digits:train") is None and domain_of("/some/folder") is None
    assert choose_extractor("fashion-mnist:test") == "fashion-mnist"
    assert choose_extractor("digits:test") == "inception"
    assert choose_classifier("fashion-mnist:test", extractor="mnist") == "fashion-mnist"
    assert choose_classifier("digits:test", extractor="mnist") == "mnist"
    assert choose_classifier("digits:test", extractor="inception") is None


def test_periodic_evaluation_follows_the_data_domain():
    assert EvaluationHook(["fid"], real="fashion-mnist:test").extractor == "fashion-mnist"
    assert ModeCheckHook("fashion-mnist:train").classifier == "fashion-mnist"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert EvaluationHook(["fid"], real="mnist:test", extractor="mnist").extractor == "mnist"


def test_mismatched_explicit_choice_warns():
    with pytest.warns(DomainMismatchWarning, match="fashion-mnist"):
        hook = EvaluationHook(["fid"], real="fashion-mnist:test", extractor="mnist")
    assert hook.extractor == "mnist"  # honoured, with the warning
    with pytest.warns(DomainMismatchWarning):
        choose_classifier("mnist:test", "fashion-mnist")


def test_stop_keys_map_to_metrics():
    assert metrics_for_keys(["fid", "modes_covered", "d_real", "precision"]) == ["fid", "modes", "prd"]
    assert EvaluationHook(["prdc"], real="mnist:test").keys == ("precision", "recall", "density", "coverage")
