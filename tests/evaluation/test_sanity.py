"""gmeval sanity: the degradations and the detection rule."""

from __future__ import annotations

import numpy as np
import pytest

from gmeval.data import degrade
from gmeval.errors import InvalidArgumentError
from gmeval.evaluation.sanity import FAMILIES, detection_table


def _imgs(n=50, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, 1, 28, 28), dtype=np.uint8)


def test_strength_zero_is_identity_and_strength_changes_images():
    x = _imgs()
    rng = np.random.default_rng(0)
    for fn in (degrade.gaussian_noise, degrade.salt_and_pepper, degrade.replace_share):
        args = (x, _imgs(seed=1)) if fn is degrade.replace_share else (x,)
        assert np.array_equal(fn(*args, 0.0, rng), x)  # B5: a copy, unchanged
    assert np.array_equal(degrade.gaussian_blur(x, 0.0), x)
    assert degrade.gaussian_noise(x, 0.2, rng).dtype == np.uint8
    blurred = degrade.gaussian_blur(x, 2.0)
    assert blurred.std() < x.std() / 2  # blur removes the pixel noise of random images


def test_salt_and_pepper_share_and_replace_share_rows():
    x = np.full((200, 1, 28, 28), 128, np.uint8)
    y = degrade.salt_and_pepper(x, 0.1, np.random.default_rng(0))
    hit = (y != 128).mean()
    assert 0.09 < hit < 0.11  # binomial share of 156800 pixels: s.d. 0.0008
    assert set(np.unique(y)) == {0, 128, 255}
    others = np.zeros((100, 1, 28, 28), np.uint8)
    z = degrade.replace_share(x, others, 0.25, np.random.default_rng(0))
    assert int((z.reshape(200, -1).max(1) == 0).sum()) == 50
    with pytest.raises(InvalidArgumentError, match="share"):
        degrade.replace_share(x, others, 1.5, np.random.default_rng(0))


def test_keep_classes():
    x = _imgs(100)
    labels = np.arange(100) % 10
    kept = degrade.keep_classes(x, labels, [3], 10)
    assert np.array_equal(kept, x[labels == 3])
    with pytest.raises(InvalidArgumentError, match="at most 10"):
        degrade.keep_classes(x, labels, [3], 11)


def _fake_family(values, hib, std=0.1, significant=True):
    names = [f"noise-{i}" for i in range(len(values))]
    return {"models": {m: {} for m in names},
            "metrics": {m: {"v": {"value": v, "higher_is_better": hib}} for m, v in zip(names, values)},
            "differences": {"v": [{"a": names[0], "b": names[-1], "diff": values[0] - values[-1], "ci_std": std,
                                   "significant": significant}]}}


def test_detection_rule():
    levels = FAMILIES["gaussian-noise"]
    assert len(levels) == 5
    t = detection_table({"gaussian-noise": _fake_family([1, 2, 3, 4, 5], hib=False)})["gaussian-noise"]["v"]
    assert t["detects"] and t["direction"] == "worse" and t["effect"] == pytest.approx(40.0) and t["monotone"]
    t = detection_table({"gaussian-noise": _fake_family([5, 4, 3, 2, 1], hib=False)})["gaussian-noise"]["v"]
    assert not t["detects"] and t["direction"] == "better"  # fooled
    # one adjacent swap: Spearman's rho is exactly 0.9 (computed as 0.8999999999999998), the threshold
    t = detection_table({"gaussian-noise": _fake_family([2, 1, 3, 4, 5], hib=False)})["gaussian-noise"]["v"]
    assert t["monotone"] and t["detects"]
    t = detection_table({"gaussian-noise": _fake_family([1, 5, 1, 5, 2], hib=False)})["gaussian-noise"]["v"]
    assert not t["monotone"] and not t["detects"]
    t = detection_table({"gaussian-noise": _fake_family([1, 2, 3, 4, 5], hib=False, significant=False)})
    assert not t["gaussian-noise"]["v"]["detects"]


def test_one_kid_subset_is_exact_when_the_subset_is_the_whole_set():
    """sanity --quick computes KID with one subset when n <= the subset size: every subset drawn without
    replacement is then the whole set, so 20 subsets repeat one value (up to summation order)."""
    from gmeval.metrics.image.kid import kid_distance

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(300, 16)), rng.normal(0.3, 1.0, size=(300, 16))
    one = kid_distance(x, y, n_subsets=1, subset_size=300, seed=0)
    many = kid_distance(x, y, n_subsets=20, subset_size=300, seed=0)
    # KID's float32 inner products in a permuted row order may round differently (~1e-7 relative per
    # element, kernel-dependent); the sums are float64, so 1e-6 relative is a safe bound
    assert one.mean == pytest.approx(many.mean, rel=1e-6)
    assert many.std <= 1e-6 * abs(many.mean)
