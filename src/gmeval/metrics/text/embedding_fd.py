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
    distance: float
    n_hypotheses: int
    n_references: int
    dim: int
    signature: str

    def to_score(self) -> Score:
        extra = {k: v for k, v in asdict(self).items() if k not in ("distance", "signature")}
        return Score("fd", self.distance, Signature.parse(self.signature), False, extra)


def _check_dims(a: GaussianStats, b: GaussianStats) -> None:
    if a.dim != b.dim:
        raise ShapeMismatchError(f"hypothesis features have dimension {a.dim} but reference features have "
                                 f"dimension {b.dim}; embed both sides with the same encoder")


def frechet_distance_from_features(hyp_features, ref_features) -> float:
    """FD between two N x D feature arrays (pure: statistics, then the shared formula)."""
    a = GaussianStats.from_features(as_features(hyp_features, "hyp_features"))
    b = GaussianStats.from_features(as_features(ref_features, "ref_features"))
    _check_dims(a, b)
    return frechet_distance_from_stats(a, b)


class EmbeddingFrechetDistance:
    """Streaming embedding FD: ``update`` with texts (encoded) or features, on either side; ``compute``."""

    higher_is_better = False

    def __init__(self, *, encoder=None):
        self._holder = [encoder]
        self.reset()

    def reset(self) -> None:
        self._stats = {"hyp": GaussianStats(), "ref": GaussianStats()}
        self._sigs: dict[str, set] = {"hyp": set(), "ref": set()}

    def _add(self, side: str, features, sig: str) -> None:
        self._stats[side].update(features)
        self._sigs[side].add(sig)

    def update(self, hypotheses=None, references=None, *, hyp_features=None, ref_features=None) -> "EmbeddingFrechetDistance":
        if hypotheses is not None or hyp_features is not None:
            self._add("hyp", *texts_or_features(hypotheses, hyp_features, "hypotheses", "hyp_features", self._holder))
        if references is not None or ref_features is not None:
            self._add("ref", *texts_or_features(references, ref_features, "references", "ref_features", self._holder))
        return self

    def compute(self) -> EmbeddingFDResult:
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

    Each side takes exactly one of texts or features; texts are embedded with ``encoder`` (None = the
    offline MiniLM, a sentence-transformers folder, or an object with ``encode``).
    """
    holder = [encoder]
    q, q_sig = texts_or_features(hypotheses, hyp_features, "hypotheses", "hyp_features", holder)
    p, p_sig = texts_or_features(references, ref_features, "references", "ref_features", holder)
    return embedding_fd_from_features(q, p, hyp_source=q_sig, ref_source=p_sig)


def embedding_fd_from_features(hyp_features, ref_features, *, hyp_source: str = "features:given",
                               ref_source: str = "features:given") -> EmbeddingFDResult:
    """FD between two N x D embedding arrays, with the signatures of what produced them (an encoder's
    ``signature``, or ``"features:given"``)."""
    metric = EmbeddingFrechetDistance()
    metric._add("hyp", as_features(hyp_features, "hyp_features"), hyp_source)
    metric._add("ref", as_features(ref_features, "ref_features"), ref_source)
    return metric.compute()
