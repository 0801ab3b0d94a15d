"""Frechet distance between sentence-embedding sets (the FID recipe applied to text).

Embeddings of the generated sentences and of the human references are summarised by their mean
and covariance (float64, N-1 convention) with the image side's streaming
:class:`gmeval.stats.GaussianStats`, and compared with the shared
:func:`gmeval.metrics.frechet.frechet_distance_from_stats` (Dowson & Landau 1982; Heusel et al.
2017). Squared distance, lower is better, 0 for identical sets. With the default all-MiniLM-L6-v2
embeddings (unit vectors, 384-d) values are small (well below 2); the estimate is biased upwards
for small N and needs N >= 384 per side for a non-singular covariance (a warning says so), so
compare values only at equal N and with the same encoder (both are in the signature).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ...errors import InvalidArgumentError, ShapeMismatchError
from ...stats import GaussianStats
from ..frechet import frechet_distance_from_stats
from ..score import Score, ScoreResult, Signature
from ._embedding import as_features, embedding_signature, source_signature, texts_or_features


@dataclass(frozen=True)
class EmbeddingFDResult(ScoreResult):
    """The Frechet distance between hypothesis and reference embeddings.

    Attributes:
        distance: the squared Frechet distance (lower is better).
        n_hypotheses: number of hypothesis embeddings.
        n_references: number of reference embeddings.
        dim: the embedding dimension.
        signature: the signature (encoder or ``features:given``, covariance convention, counts).

    Example:
        >>> import numpy as np
        >>> x = np.random.default_rng(0).normal(size=(50, 3))
        >>> r = embedding_fd_from_features(x, x)
        >>> abs(r.distance) < 1e-9, r.dim, r.signature
        (True, 3, 'embedding-fd|features:given|cov:n-1|n_hyp:50|n_ref:50')
    """
    distance: float
    n_hypotheses: int
    n_references: int
    dim: int
    signature: str

    def to_score(self) -> Score:
        """The distance as a `Score` named ``fd`` (lower is better)."""
        extra = {k: v for k, v in asdict(self).items() if k not in ("distance", "signature")}
        return Score("fd", self.distance, Signature.parse(self.signature), False, extra)


def _check_dims(a: GaussianStats, b: GaussianStats) -> None:
    if a.dim != b.dim:
        raise ShapeMismatchError(f"hypothesis features have dimension {a.dim} but reference features have "
                                 f"dimension {b.dim}; embed both sides with the same encoder")


def frechet_distance_from_features(hyp_features, ref_features) -> float:
    """FD between two N x D feature arrays (pure: statistics, then the shared formula).

    Args:
        hyp_features: hypothesis embeddings, N x D.
        ref_features: reference embeddings, M x D.

    Returns:
        The squared Frechet distance as a float.

    Raises:
        ShapeMismatchError: an input is not 2-D, or the dimensions differ.
        InvalidArgumentError: non-numeric or non-finite values.

    Example:
        >>> import numpy as np
        >>> x = np.random.default_rng(0).normal(size=(500, 2))
        >>> round(frechet_distance_from_features(x, x + 1.0), 6)   # a shift by (1, 1)
        2.0
    """
    a = GaussianStats.from_features(as_features(hyp_features, "hyp_features"))
    b = GaussianStats.from_features(as_features(ref_features, "ref_features"))
    _check_dims(a, b)
    return frechet_distance_from_stats(a, b)


class EmbeddingFrechetDistance:
    """Streaming embedding FD: ``update`` with texts (encoded) or features, on either side; ``compute``.

    Args:
        encoder: for text updates: None (the offline MiniLM), a sentence-transformers folder, or an
            object with ``encode(list[str])`` (and optionally a ``signature``).

    Raises:
        InvalidArgumentError: both or neither of texts and features for a side, or `compute()` with fewer
            than 2 embeddings on a side.
        ShapeMismatchError: the two sides have different dimensions.

    Example:
        >>> import numpy as np
        >>> class Lengths:   # a toy encoder: sentence length and number of spaces
        ...     signature = "enc:lengths"
        ...     def encode(self, sentences):
        ...         return np.array([[len(s), s.count(" ")] for s in sentences], float)
        >>> m = EmbeddingFrechetDistance(encoder=Lengths())
        >>> abs(m.update(["a b", "ccc dd", "e"], ["a b", "ccc dd", "e"]).compute().distance) < 1e-9
        True
        >>> m.compute().signature
        'embedding-fd|enc:lengths|cov:n-1|n_hyp:3|n_ref:3'
    """

    higher_is_better = False

    def __init__(self, *, encoder=None):
        self._holder = [encoder]
        self.reset()

    def reset(self) -> None:
        """Forget both sides' statistics."""
        self._stats = {"hyp": GaussianStats(), "ref": GaussianStats()}
        self._sigs: dict[str, set] = {"hyp": set(), "ref": set()}

    def _add(self, side: str, features, sig: str) -> None:
        self._stats[side].update(features)
        self._sigs[side].add(sig)

    def update(self, hypotheses=None, references=None, *, hyp_features=None, ref_features=None) -> "EmbeddingFrechetDistance":
        """Add hypotheses and/or references, each as texts or as N x D features; returns self."""
        if hypotheses is not None or hyp_features is not None:
            self._add("hyp", *texts_or_features(hypotheses, hyp_features, "hypotheses", "hyp_features", self._holder))
        if references is not None or ref_features is not None:
            self._add("ref", *texts_or_features(references, ref_features, "references", "ref_features", self._holder))
        return self

    def compute(self) -> EmbeddingFDResult:
        """The FD of the accumulated statistics (an `EmbeddingFDResult`)."""
        hyp, ref = self._stats["hyp"], self._stats["ref"]
        for side, st in (("hypotheses", hyp), ("references", ref)):
            if st.n < 2:
                raise InvalidArgumentError(side, "at least 2 embedded sentences (update() before compute())", f"{st.n}")
        _check_dims(hyp, ref)
        d = frechet_distance_from_stats(hyp, ref)
        src = source_signature("+".join(sorted(self._sigs["hyp"])), "+".join(sorted(self._sigs["ref"])))
        sig = embedding_signature("embedding-fd", src, [("cov", "n-1"), ("n_hyp", hyp.n), ("n_ref", ref.n)])
        return EmbeddingFDResult(d, hyp.n, ref.n, int(hyp.dim), sig)


def embedding_frechet_distance(hypotheses=None, references=None, *, hyp_features=None, ref_features=None,
                               encoder=None) -> EmbeddingFDResult:
    """FD between the embeddings of generated and reference sentences (texts or N x D features). Lower is better.

    Each side takes exactly one of texts or features; texts are embedded with ``encoder``.

    Args:
        hypotheses: generated sentences, or None when `hyp_features` is given.
        references: reference sentences, or None when `ref_features` is given.
        hyp_features: hypothesis embeddings, N x D.
        ref_features: reference embeddings, M x D.
        encoder: None = the offline MiniLM, a sentence-transformers folder, or an object with ``encode``.

    Returns:
        An `EmbeddingFDResult`.

    Raises:
        InvalidArgumentError: both or neither of texts and features for a side, or fewer than 2 rows.
        ShapeMismatchError: different dimensions.

    Example:
        >>> import numpy as np
        >>> x = np.random.default_rng(0).normal(size=(20, 4))
        >>> embedding_frechet_distance(hyp_features=x, ref_features=x).n_hypotheses
        20
        >>> embedding_frechet_distance(["a"], hyp_features=x, ref_features=x)
        Traceback (most recent call last):
        ...
        gmeval.errors.InvalidArgumentError: Argument `hypotheses / hyp_features` must be exactly one of `hypotheses` (a list of strings) or `hyp_features` (an N x D array), but got 'both'.
    """
    holder = [encoder]
    q, q_sig = texts_or_features(hypotheses, hyp_features, "hypotheses", "hyp_features", holder)
    p, p_sig = texts_or_features(references, ref_features, "references", "ref_features", holder)
    return embedding_fd_from_features(q, p, hyp_source=q_sig, ref_source=p_sig)


def embedding_fd_from_features(hyp_features, ref_features, *, hyp_source: str = "features:given",
                               ref_source: str = "features:given") -> EmbeddingFDResult:
    """FD between two N x D embedding arrays, with the signatures of what produced them (an encoder's
    ``signature``, or ``"features:given"``).

    Args:
        hyp_features: hypothesis embeddings, N x D.
        ref_features: reference embeddings, M x D.
        hyp_source: the signature of what produced `hyp_features`.
        ref_source: the signature of what produced `ref_features`.

    Returns:
        An `EmbeddingFDResult`.

    Raises:
        InvalidArgumentError: fewer than 2 rows on a side, or non-finite values.
        ShapeMismatchError: different dimensions.

    Example:
        >>> import numpy as np
        >>> x = np.random.default_rng(0).normal(size=(20, 4))
        >>> embedding_fd_from_features(x, x, hyp_source="enc:a", ref_source="enc:b").signature
        'embedding-fd|hyp:enc:a|ref:enc:b|cov:n-1|n_hyp:20|n_ref:20'
    """
    metric = EmbeddingFrechetDistance()
    metric._add("hyp", as_features(hyp_features, "hyp_features"), hyp_source)
    metric._add("ref", as_features(ref_features, "ref_features"), ref_source)
    return metric.compute()
