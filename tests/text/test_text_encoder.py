"""The offline sentence encoder's contract: N strings -> float32 N x 384, deterministic, batch-size independent.

Tolerances (docs/tolerances.md): exact equalities are B5 (deterministic code on the same input);
float64 comparisons are T1; encoder outputs across batch sizes are T3.
"""

import numpy as np
import pytest

from gmeval.errors import InvalidArgumentError, WeightsError
from gmeval.features.text_encoder import SentenceEncoder, default_encoder_path

from ..tolerances import FEATURE_RTOL
from .conftest import needs_minilm, topic_sentences


@needs_minilm
def test_contract_shape_dtype_norm_and_signature(minilm):
    s = topic_sentences("food", 10, seed=0) + ["猫坐在垫子上", "кошка сидит на ковре", ""]
    e = minilm.encode(s)
    assert e.shape == (13, 384) and e.dtype == np.float32 and e.flags["C_CONTIGUOUS"]
    # all-MiniLM-L6-v2 ends with a Normalize module: unit vectors
    assert np.allclose(np.linalg.norm(e[:-1], axis=1), 1.0, atol=1e-5)  # float32 norm of a normalised vector: 384 u32 = 2e-5
    assert minilm.encode([]).shape == (0, 384)
    assert minilm.signature.startswith("encoder:all-MiniLM-L6-v2|sha256:") and minilm.signature.endswith("|dim:384")
    assert minilm.path == default_encoder_path()


@needs_minilm
def test_deterministic_and_batch_size_independent(minilm):
    s = topic_sentences("sport", 24, seed=1)
    a = minilm.encode(s)
    assert np.array_equal(a, minilm.encode(s))  # B5
    old = minilm.batch_size
    try:
        minilm.batch_size = 5
        b = minilm.encode(s)
    finally:
        minilm.batch_size = old
    # T3: padding and batch shapes differ between batchings; unit vectors, so max|f| <= 1
    assert np.max(np.abs(a - b)) < FEATURE_RTOL


@needs_minilm
def test_similar_sentences_are_closer(minilm):
    e = minilm.encode(["the chef baked fresh bread", "a baker made a loaf of bread", "the striker scored a goal"])
    assert e[0] @ e[1] > e[0] @ e[2] + 0.2


def test_bad_encoder_arguments(tmp_path):
    with pytest.raises(WeightsError, match="does not exist or is not a folder"):
        SentenceEncoder(tmp_path / "missing")
    with pytest.raises(WeightsError, match="no modules.json or config.json"):
        SentenceEncoder(tmp_path)
    with pytest.raises(InvalidArgumentError, match="`batch_size` must be a positive integer"):
        SentenceEncoder(tmp_path, batch_size=0)
    with pytest.raises(InvalidArgumentError, match="`num_threads`"):
        SentenceEncoder(tmp_path, num_threads=0)


@needs_minilm
def test_encode_rejects_non_lists(minilm):
    with pytest.raises(InvalidArgumentError, match="`sentences` must be a list of strings"):
        minilm.encode("just one string")
    with pytest.raises(InvalidArgumentError, match=r"`sentences\[1\]` must be a string"):
        minilm.encode(["ok", 3])
