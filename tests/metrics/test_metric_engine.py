"""The generic metric tester (after torchmetrics' MetricTester), run for EVERY registered image metric:

1. class = function: the class fed through `update_from` reports the pure function's values (B4:
   the same rows and seed give the same bits);
2. class = reference: an independent implementation from the paper's definition (metric_cases.py);
   float64 formulas against each other within FID_FORMULA_RTOL (T1), counts exactly;
3. merge = one pass: two metrics fed the two halves and merged report the one-pass values ("cat"
   states: B4; FID's float64 sums added in another order: T2; histograms: exact);
4. two gloo processes = one process: each rank feeds its block-strided rows with their global
   indices and `sync()` gathers or all-reduces (the same tolerance classes as 3).

Plus the engine's own contract: declared states, reset, copy independence, merge compatibility,
and `sync()` being a no-op without a process group.
"""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest

from gmeval.errors import InvalidArgumentError
from gmeval.metrics.image import IMAGE_METRICS, FID, KID, ImageInputs, build_metric, option_specs, split_options
from tests.metrics.metric_cases import NAMES, function_values, make_inputs, reference_values
from tests.tolerances import FID_F64_RTOL, FID_FORMULA_RTOL

INP = make_inputs()
SUM_STATE = {"fid"}  # float64 sums: merge / all-reduce order changes rounding (T2)


def class_report(name, inp=INP):
    return build_metric(name, inp, {}, 0).update_from(inp).report()


def assert_values(got: dict, want: dict, rtol: float):
    assert set(want) <= set(got), (sorted(want), sorted(got))
    for k, w in want.items():
        g = got[k]
        if w is None or g is None:
            assert g is w, k
        else:
            assert math.isclose(g, w, rel_tol=rtol, abs_tol=rtol), (k, g, w)


@pytest.fixture(scope="module", autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # N < D warnings of the small FID-inf subsets
        yield


def test_every_registered_metric_has_a_case():
    assert NAMES == list(IMAGE_METRICS.names())
    for name in NAMES:
        cls = IMAGE_METRICS[name]
        assert cls.name == name and cls.outputs and cls.needs and cls.description


@pytest.mark.parametrize("name", NAMES)
def test_class_equals_function(name):
    assert_values(class_report(name).values, function_values(name, INP), 0.0)  # B4: bitwise


@pytest.mark.parametrize("name", NAMES)
def test_class_equals_reference(name):
    rep = class_report(name)
    for k, want in reference_values(name, INP, rep).items():
        got, want = (want if isinstance(want, tuple) else (rep.values[k], want))
        assert math.isclose(got, want, rel_tol=FID_FORMULA_RTOL, abs_tol=1e-12), (k, got, want)  # T1 / exact counts


def _halves(inp: ImageInputs, part: int) -> ImageInputs:
    def cut(x):
        if x is None:
            return None
        h = len(x) // 2
        return x[:h] if part == 0 else x[h:]
    return ImageInputs(**{f: cut(getattr(inp, f)) for f in ("real_features", "fake_features", "fake_logits",
                                                            "fake_class_logits", "real_labels", "train_features")})


@pytest.mark.parametrize("name", NAMES)
def test_merge_equals_one_pass(name):
    a = build_metric(name, INP, {}, 0).update_from(_halves(INP, 0))
    b = build_metric(name, INP, {}, 0).update_from(_halves(INP, 1))
    before = a.copy()
    merged = a.merge(b)
    assert_values(merged.report().values, class_report(name).values, FID_F64_RTOL if name in SUM_STATE else 0.0)
    assert_values(a.report().values, before.report().values, 0.0)  # merge returns a new object; a is unchanged


@pytest.mark.slow
def test_two_gloo_processes_equal_one_process(tmp_path):
    from tests.distributed._launch import explain, torchrun, worker

    out = tmp_path / "values.json"
    proc, _ = torchrun(2, [worker("metric_worker.py"), str(out)], timeout=300,
                       env={"PYTHONPATH": str(__import__("pathlib").Path(__file__).resolve().parents[2])})
    assert proc.returncode == 0, explain(proc)
    got = json.loads(out.read_text())
    assert got["world"] == 2 and sorted(got["values"]) == sorted(NAMES)
    for name in NAMES:
        # rows are re-ordered by their global index: the one-process matrix (B4); sums re-associate (T2)
        assert_values(got["values"][name], class_report(name).values, FID_F64_RTOL if name in SUM_STATE else 0.0)


def test_states_are_declared_reset_and_copied_independently():
    m = KID(n_subsets=5, subset_size=50).update(INP.real_features, real=True)
    assert m.state_reductions() == {"real": "cat", "fake": "cat"}
    c = m.copy().update(INP.fake_features, real=False)
    assert m.num_samples(False) == 0 and c.num_samples(False) == N_FAKE
    m.reset()
    assert m.num_samples(True) == 0
    f = FID()
    assert f.state_reductions() == {"real": "sum", "fake": "sum"}


N_FAKE = len(INP.fake_features)


def test_rows_follow_their_global_index():
    x = INP.real_features
    order = np.random.default_rng(1).permutation(len(x))
    m = KID(n_subsets=3, subset_size=40)
    for chunk in np.array_split(order, 4):
        m.update(x[chunk], real=True, index=chunk)
    assert np.array_equal(m.features(True), x)  # B4
    with pytest.raises(InvalidArgumentError, match="index"):
        m.update(x[:3], real=True)  # indices for every update or for none
    with pytest.raises(InvalidArgumentError, match="distinct"):
        KID().update(x[:2], real=True, index=[0, 0]).features(True)


def test_merge_needs_the_same_class_and_configuration():
    with pytest.raises(InvalidArgumentError, match="a KID"):
        KID().merge(FID())
    with pytest.raises(InvalidArgumentError, match="configuration"):
        KID(subset_size=10).merge(KID(subset_size=20))


def test_sync_without_a_process_group_changes_nothing():
    m = build_metric("pr", INP, {}, 0).update_from(INP)
    assert m.sync() is m and m.num_samples(True) == len(INP.real_features)


def test_options_are_typed_constructor_arguments_and_unknown_keys_fail():
    assert split_options({"kid_subset_size": 50, "pr_k": 4}) == {"kid": {"subset_size": 50}, "pr": {"k": 4}}
    assert option_specs()["kid_subset_size"].flag == "--kid-subset-size"
    with pytest.raises(InvalidArgumentError, match="kid_subset_size"):
        split_options({"kid_subsetsize": 50})  # a typo is an error, not silently ignored
    with pytest.raises(InvalidArgumentError, match="subset_size"):
        build_metric("kid", INP, {"subset_size": 1}, 0)


def test_prd_is_a_deprecated_alias_of_pr():
    with pytest.warns(FutureWarning, match="'prd' is deprecated"):
        assert IMAGE_METRICS.parse("prd,dc") == ("pr", "dc")
    assert IMAGE_METRICS.parse("prdc") == ("pr", "dc")
