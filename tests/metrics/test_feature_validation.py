"""Feature matrices are validated once, in `as_features`: finite values (NaN, +inf, -inf anywhere are a typed
error naming the argument), 2-D, enough rows; an empty shard (a rank with no rows) passes when allowed."""

from __future__ import annotations

import numpy as np
import pytest

from gmeval.errors import InvalidArgumentError, ShapeMismatchError
from gmeval.metrics.image import kid_distance, precision_recall_score
from gmeval.metrics.image._common import as_features


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("where", [(0, 0), (7, 3), (-1, -1)])
def test_non_finite_entries_are_a_typed_error(bad, where):
    x = np.random.default_rng(0).normal(size=(20, 4)).astype(np.float32)
    x[where] = bad
    with pytest.raises(InvalidArgumentError, match="`real_features`.*finite"):
        as_features(x, "real_features")
    with pytest.raises(InvalidArgumentError, match="`fake_features`.*finite"):
        kid_distance(np.ones((20, 4)), x, n_subsets=2, subset_size=10)
    with pytest.raises(InvalidArgumentError, match="finite"):
        precision_recall_score(x, np.ones((20, 4)))


def test_empty_shard_passes_only_when_allowed():
    empty = np.zeros((0, 4), np.float32)
    assert as_features(empty, "rows", min_rows=0).shape == (0, 4)
    with pytest.raises(InvalidArgumentError, match="at least 1 rows"):
        as_features(empty, "rows")


def test_shape_and_dtype():
    with pytest.raises(ShapeMismatchError, match="N x D"):
        as_features(np.zeros(5), "rows")
    assert as_features(np.ones((3, 2), np.int64), "rows").dtype == np.float64
    assert as_features(np.ones((3, 2), np.float32), "rows").dtype == np.float32
