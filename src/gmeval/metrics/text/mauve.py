"""MAUVE: the gap between generated and human text via divergence frontiers.

Pillutla, Swayamdipta, Zellers, Thickstun, Welleck, Choi, Harchaoui, "MAUVE: Measuring the Gap
Between Neural Text and Human Text using Divergence Frontiers", NeurIPS 2021
(https://arxiv.org/abs/2102.01454). Implemented here from the paper; the authors' package
(mauve-text, GPL-3.0) is neither used nor copied.

Notation of the paper: P = human text (here: the references), Q = model text (the hypotheses).

1. Embed both samples (default: all-MiniLM-L6-v2 sentence embeddings, see
   :mod:`gmeval.features.text_encoder`; the paper uses GPT-2 large features, so absolute values
   are not comparable with published MAUVE numbers).
2. Quantise: L2-normalise the embeddings (``normalize=True``; a no-op for MiniLM, whose outputs
   are unit vectors), fit one PCA on the union of P and Q and keep the leading components that
   explain ``explained_variance`` = 0.9 of the variance, then k-means (scikit-learn, ``n_init`` =
   5 restarts, ``max_iter`` = 500) on the union with k = max(2, round(min(|P|, |Q|) / 10))
   clusters. P and Q become histograms p, q over the k clusters. (0.9, 5, 500, k = n/10, c = 5 and
   25 mixture weights are the defaults documented by the authors.)
3. Divergence frontier: for mixture weights lambda on a uniform grid of ``num_mixtures`` = 25
   points in [0, 1], R = lambda p + (1 - lambda) q and the point
   (exp(-c KL(q || R)), exp(-c KL(p || R))), scaling constant c = 5. The grid includes the end
   points lambda = 0 (R = q) and 1 (R = p), where one KL is 0 and the other may be infinite
   (exp(-inf) = 0).
4. MAUVE = area under the frontier, closed with the points (0, 1) and (1, 0) (the region
   dominated by the curve), by the trapezoid rule. MAUVE is in (0, 1], symmetric in P and Q, and
   1 exactly when p = q. Higher is better.

The only random step is k-means. ``seed`` (an int or a numpy Generator) draws one k-means seed per
run; ``num_seeds`` > 1 repeats the clustering with independent seeds and reports the mean and the
sample standard deviation (ddof = 1), since MAUVE varies visibly with the k-means seed. The
seeds are in the result.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from ...errors import InvalidArgumentError, ShapeMismatchError
from ...utils.seeding import as_numpy_generator
from ..score import Score, ScoreResult, Signature
from ._embedding import as_features, embedding_signature, source_signature, texts_or_features

DEFAULTS = dict(num_clusters="auto", explained_variance=0.9, kmeans_n_init=5, kmeans_max_iter=500, scaling=5.0,
                num_mixtures=25, normalize=True)


@dataclass(frozen=True)
class MauveResult(ScoreResult):
    """MAUVE over one or more k-means seeds, with the quantisation that produced it.

    Attributes:
        score: mean MAUVE over seeds (0-1, higher is better).
        std: sample std over seeds (None with one seed).
        scores: MAUVE of every seed.
        seeds: the k-means seeds.
        num_clusters: k-means clusters.
        pca_components: PCA components kept.
        n_p: human / reference sample size.
        n_q: model / hypothesis sample size.
        signature: the signature string.
        divergence_curve: the first seed's curve, (m + 2) x 2.
        p_hist: the first seed's reference histogram.
        q_hist: the first seed's hypothesis histogram.

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> human, model = rng.normal(size=(40, 4)), rng.normal(size=(40, 4)) + 3.0
        >>> r = mauve_from_features(human, human.copy())
        >>> round(r.score, 6), r.num_clusters, r.p_hist.shape, r.divergence_curve.shape
        (1.0, 4, (4,), (27, 2))
        >>> sorted(r.to_dict(include_curve=True))[:3]
        ['divergence_curve', 'higher_is_better', 'n_hypotheses']
    """
    score: float  # mean over seeds
    std: float | None  # sample std over seeds (None with one seed)
    scores: tuple[float, ...]
    seeds: tuple[int, ...]
    num_clusters: int
    pca_components: int
    n_p: int  # human / reference sample size
    n_q: int  # model / hypothesis sample size
    signature: str
    divergence_curve: np.ndarray = field(repr=False)  # first seed: m x 2, (exp(-c KL(q|R)), exp(-c KL(p|R)))
    p_hist: np.ndarray = field(repr=False)
    q_hist: np.ndarray = field(repr=False)

    def to_score(self, include_curve: bool = False) -> Score:
        """The score as a `Score` named ``mauve`` (with the curve on request)."""
        extra = {"std": self.std, "scores": list(self.scores), "seeds": list(self.seeds),
                 "num_clusters": self.num_clusters, "pca_components": self.pca_components,
                 "n_references": self.n_p, "n_hypotheses": self.n_q}
        if include_curve:
            extra["divergence_curve"] = self.divergence_curve.tolist()
        return Score("mauve", self.score, Signature.parse(self.signature), True, extra)

    def to_dict(self, include_curve: bool = False) -> dict:
        """The export of `to_score` (the curve on request)."""
        return self.to_score(include_curve).to_dict()


# -- pure formula on histograms --------------------------------------------------------------------
def _kl(a: np.ndarray, b: np.ndarray) -> float:
    from scipy.special import rel_entr  # a log(a/b), 0 where a = 0, inf where a > 0 = b

    return max(float(np.sum(rel_entr(a, b))), 0.0)  # KL >= 0; rounding in R = lam p + (1-lam) q can give -1e-17


def _as_hist(h, name: str) -> np.ndarray:
    h = np.asarray(h, np.float64)
    if h.ndim != 1 or h.size < 1 or np.any(h < 0) or not np.all(np.isfinite(h)) or h.sum() <= 0:
        raise InvalidArgumentError(name, "a 1-D histogram of non-negative finite counts with a positive sum", h)
    return h / h.sum()


def divergence_curve(p_hist, q_hist, *, scaling: float = 5.0, num_mixtures: int = 25) -> np.ndarray:
    """Points (exp(-c KL(q||R)), exp(-c KL(p||R))), R = lambda p + (1-lambda) q, lambda = linspace(0, 1, m).

    Args:
        p_hist: the reference histogram (non-negative, positive sum; normalised here).
        q_hist: the hypothesis histogram over the same bins.
        scaling: the constant c (the paper uses 5).
        num_mixtures: m, the number of mixtures.

    Returns:
        An (m + 2) x 2 array that includes the closing points (0, 1) and (1, 0), sorted by x.

    Raises:
        InvalidArgumentError: a bad histogram, `scaling` or `num_mixtures`.
        ShapeMismatchError: the histograms have different numbers of bins.

    Example:
        >>> divergence_curve([1, 0], [0, 1], num_mixtures=2).tolist()   # disjoint supports: the two axes only
        [[0.0, 1.0], [0.0, 1.0], [1.0, 0.0], [1.0, 0.0]]
    """
    p, q = _as_hist(p_hist, "p_hist"), _as_hist(q_hist, "q_hist")
    if p.shape != q.shape:
        raise ShapeMismatchError(f"p_hist and q_hist must have the same number of bins, got {p.size} and {q.size}")
    if not scaling > 0:
        raise InvalidArgumentError("scaling", "a positive number (the paper uses c = 5)", scaling)
    if not isinstance(num_mixtures, int) or num_mixtures < 2:
        raise InvalidArgumentError("num_mixtures", "an integer >= 2", num_mixtures)
    pts = [(0.0, 1.0), (1.0, 0.0)]
    with np.errstate(over="ignore"):
        for lam in np.linspace(0.0, 1.0, num_mixtures):
            r = lam * p + (1.0 - lam) * q
            pts.append((float(np.exp(-scaling * _kl(q, r))), float(np.exp(-scaling * _kl(p, r)))))
    curve = np.array(pts, np.float64)
    order = np.lexsort((-curve[:, 1], curve[:, 0]))  # by x, and at equal x from high to low y
    return curve[order]


def area_under_curve(curve: np.ndarray) -> float:
    """Trapezoid-rule area under a curve sorted by x, clipped to [0, 1] (rounding can give 1 + 1e-16).

    Args:
        curve: an m x 2 array of (x, y) points sorted by x.

    Returns:
        The area, in [0, 1].

    Example:
        >>> import numpy as np
        >>> area_under_curve(np.array([[0.0, 1.0], [1.0, 1.0]]))
        1.0
    """
    x, y = curve[:, 0], curve[:, 1]
    return float(min(max(np.sum(np.diff(x) * (y[1:] + y[:-1]) / 2.0), 0.0), 1.0))


def mauve_from_histograms(p_hist, q_hist, *, scaling: float = 5.0, num_mixtures: int = 25) -> float:
    """MAUVE of two histograms over the same bins (pure formula). 1 iff p = q; higher is better.

    Args:
        p_hist: the reference histogram.
        q_hist: the hypothesis histogram.
        scaling: the constant c (5).
        num_mixtures: points of the curve (25).

    Returns:
        MAUVE, in [0, 1].

    Raises:
        InvalidArgumentError: a bad histogram or option.
        ShapeMismatchError: different numbers of bins.

    Example:
        >>> round(mauve_from_histograms([1, 2, 3], [2, 4, 6]), 6), mauve_from_histograms([1, 0], [0, 1])
        (1.0, 0.0)
    """
    return area_under_curve(divergence_curve(p_hist, q_hist, scaling=scaling, num_mixtures=num_mixtures))


# -- quantisation ---------------------------------------------------------------------------------
def _auto_clusters(n_p: int, n_q: int) -> int:
    return max(2, int(round(min(n_p, n_q) / 10)))


def project(p_features: np.ndarray, q_features: np.ndarray, *, explained_variance: float = 0.9,
            normalize: bool = True) -> tuple[np.ndarray, int]:
    """Joint PCA of P and Q (deterministic, full SVD), keeping ``explained_variance``. Returns (projected union, k_pca).

    Args:
        p_features: reference features, N_p x D.
        q_features: hypothesis features, N_q x D.
        explained_variance: the share of variance to keep.
        normalize: L2-normalise each row first.

    Returns:
        (the (N_p + N_q) x k projection, k).

    Example:
        >>> import numpy as np
        >>> x = np.zeros((6, 3)); x[:, 0] = np.arange(6.0)   # variance along one axis only
        >>> z, k = project(x[:3], x[3:], normalize=False)
        >>> z.shape, k
        ((6, 1), 1)
    """
    from sklearn.decomposition import PCA

    data = np.concatenate([p_features, q_features], axis=0)
    if normalize:
        norms = np.linalg.norm(data, axis=1, keepdims=True)
        data = data / np.where(norms > 0, norms, 1.0)
    pca = PCA(n_components=None, svd_solver="full")
    z = pca.fit_transform(data)
    ratio = np.nan_to_num(pca.explained_variance_ratio_, nan=0.0)
    cum = np.cumsum(ratio)
    if cum.size == 0 or cum[-1] <= 0:  # all points identical: one coordinate is enough
        return z[:, :1], 1
    k = int(min(np.searchsorted(cum, explained_variance * cum[-1] - 1e-12) + 1, cum.size))
    return z[:, :k], k


def cluster_histograms(z: np.ndarray, n_p: int, num_clusters: int, *, n_init: int = 5, max_iter: int = 500,
                       random_state: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """k-means on the projected union (first ``n_p`` rows are P); returns the normalised histograms (p, q).

    Args:
        z: the projected union, (N_p + N_q) x k.
        n_p: how many leading rows belong to P.
        num_clusters: k-means clusters.
        n_init: k-means restarts.
        max_iter: k-means iterations.
        random_state: k-means seed.

    Returns:
        (p, q) histograms over the clusters, each summing to 1.

    Example:
        >>> import numpy as np
        >>> z = np.array([[0.0], [0.1], [10.0], [10.1]])
        >>> p, q = cluster_histograms(z, 2, 2)
        >>> sorted(p.tolist()), sorted(q.tolist())
        ([0.0, 1.0], [0.0, 1.0])
    """
    from sklearn.cluster import KMeans
    from threadpoolctl import threadpool_limits  # a scikit-learn dependency

    # One OpenMP thread: on a shared/busy machine scikit-learn's threaded k-means spin-waits and was
    # measured ~50x slower here (2 cores, load > 2); single-threaded it is fast enough (see docs/text.md).
    with warnings.catch_warnings(), threadpool_limits(limits=1):
        # fewer distinct points than clusters (tiny or duplicated samples): sklearn warns, result still valid
        warnings.filterwarnings("ignore", message=".*Number of distinct clusters.*")
        km = KMeans(n_clusters=num_clusters, n_init=n_init, max_iter=max_iter, random_state=random_state, algorithm="lloyd")
        labels = km.fit_predict(z)
    p = np.bincount(labels[:n_p], minlength=num_clusters).astype(np.float64)
    q = np.bincount(labels[n_p:], minlength=num_clusters).astype(np.float64)
    return p / p.sum(), q / q.sum()


def _check_options(n_total: int, n_p: int, n_q: int, num_clusters, explained_variance, kmeans_n_init,
                   kmeans_max_iter, num_seeds) -> int:
    if num_clusters == "auto":
        k = _auto_clusters(n_p, n_q)
    elif isinstance(num_clusters, int) and not isinstance(num_clusters, bool) and 2 <= num_clusters <= n_total:
        k = num_clusters
    else:
        raise InvalidArgumentError("num_clusters", f"'auto' or an integer in [2, {n_total}]", num_clusters)
    if not (isinstance(explained_variance, (int, float)) and 0 < explained_variance <= 1):
        raise InvalidArgumentError("explained_variance", "a number in (0, 1]", explained_variance)
    for name, v in (("kmeans_n_init", kmeans_n_init), ("kmeans_max_iter", kmeans_max_iter), ("num_seeds", num_seeds)):
        if not isinstance(v, int) or isinstance(v, bool) or v < 1:
            raise InvalidArgumentError(name, "a positive integer", v)
    return k


# -- features -> MAUVE ----------------------------------------------------------------------------
def mauve_from_features(p_features, q_features, *, num_clusters="auto", explained_variance: float = 0.9,
                        kmeans_n_init: int = 5, kmeans_max_iter: int = 500, scaling: float = 5.0,
                        num_mixtures: int = 25, normalize: bool = True, seed=0, num_seeds: int = 1,
                        source: str = "features:given") -> MauveResult:
    """MAUVE between P (human/reference features, N_p x D) and Q (model/hypothesis features, N_q x D).

    Args:
        p_features: reference features, N_p x D (N_p >= 2).
        q_features: hypothesis features, N_q x D.
        num_clusters: k-means clusters, ``"auto"`` (min(N_p, N_q) / 10, at least 2) or an int.
        explained_variance: the share of variance the joint PCA keeps (0.9).
        kmeans_n_init: k-means restarts (5).
        kmeans_max_iter: k-means iterations (500).
        scaling: the constant c of the divergence curve (5).
        num_mixtures: points of the curve (25).
        normalize: L2-normalise the features first.
        seed: an int or an np.random.Generator from which the k-means seeds are drawn.
        num_seeds: k-means runs (their mean is reported).
        source: the signature of what produced the features.

    Returns:
        A `MauveResult`.

    Raises:
        InvalidArgumentError: fewer than 2 rows on a side, or a bad option.
        ShapeMismatchError: different dimensions.

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> human, model = rng.normal(size=(40, 4)), rng.normal(size=(40, 4)) + 3.0
        >>> r = mauve_from_features(human, model, num_seeds=2)
        >>> r.score < 0.1, len(r.scores), r.signature.split("|")[:2]
        (True, 2, ['mauve', 'features:given'])
    """
    p = as_features(p_features, "p_features")
    q = as_features(q_features, "q_features")
    if p.shape[1] != q.shape[1]:
        raise ShapeMismatchError(f"p_features and q_features must have the same dimension, got {p.shape[1]} and {q.shape[1]}")
    for name, a in (("p_features", p), ("q_features", q)):
        if a.shape[0] < 2:
            raise InvalidArgumentError(name, "at least 2 samples (MAUVE needs thousands to be reliable)", f"{a.shape[0]} samples")
    n_p, n_q = p.shape[0], q.shape[0]
    k = _check_options(n_p + n_q, n_p, n_q, num_clusters, explained_variance, kmeans_n_init, kmeans_max_iter, num_seeds)
    rng = as_numpy_generator(seed)
    seeds = tuple(int(s) for s in rng.integers(0, 2**31 - 1, size=num_seeds))

    z, k_pca = project(p, q, explained_variance=explained_variance, normalize=normalize)
    scores, first = [], None
    for s in seeds:
        ph, qh = cluster_histograms(z, n_p, k, n_init=kmeans_n_init, max_iter=kmeans_max_iter, random_state=s)
        curve = divergence_curve(ph, qh, scaling=scaling, num_mixtures=num_mixtures)
        scores.append(area_under_curve(curve))
        if first is None:
            first = (curve, ph, qh)
    std = float(np.std(scores, ddof=1)) if len(scores) > 1 else None
    sig = embedding_signature("mauve", source, [
        ("norm", "l2" if normalize else "none"), ("pca", f"{explained_variance:g}->{k_pca}"),
        ("kmeans", f"k={k},n_init={kmeans_n_init},max_iter={kmeans_max_iter}"), ("c", f"{scaling:g}"),
        ("mix", num_mixtures), ("n_p", n_p), ("n_q", n_q), ("seeds", len(seeds))])
    return MauveResult(float(np.mean(scores)), std, tuple(scores), seeds, k, k_pca, n_p, n_q, sig, *first)


def mauve_score(hypotheses=None, references=None, *, hyp_features=None, ref_features=None, encoder=None,
                seed=0, num_seeds: int = 1, **options) -> MauveResult:
    """MAUVE between generated text (Q = hypotheses) and human text (P = references). Higher is better.

    Give texts (embedded with ``encoder``) or precomputed features (``hyp_features`` / ``ref_features``, N x D).

    Args:
        hypotheses: generated sentences, or None when `hyp_features` is given.
        references: human sentences, or None when `ref_features` is given.
        hyp_features: hypothesis embeddings, N_q x D.
        ref_features: reference embeddings, N_p x D.
        encoder: None = the offline MiniLM, a sentence-transformers folder, or an object with ``encode``.
        seed: the seed of the k-means seeds.
        num_seeds: k-means runs.
        **options: num_clusters, explained_variance, kmeans_n_init, kmeans_max_iter, scaling,
            num_mixtures, normalize (see `mauve_from_features`).

    Returns:
        A `MauveResult`.

    Raises:
        InvalidArgumentError: unknown options, both or neither of texts and features for a side, or bad values.

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> human, model = rng.normal(size=(40, 4)), rng.normal(size=(40, 4)) + 3.0
        >>> round(mauve_score(hyp_features=human, ref_features=human).score, 6)
        1.0
        >>> mauve_score(hyp_features=human, ref_features=human, clusters=3)
        Traceback (most recent call last):
        ...
        gmeval.errors.InvalidArgumentError: Argument `options` must be names among explained_variance, kmeans_max_iter, kmeans_n_init, normalize, num_clusters, num_mixtures, scaling, but got ['clusters'].
    """
    unknown = set(options) - set(DEFAULTS)
    if unknown:
        raise InvalidArgumentError("options", "names among " + ", ".join(sorted(DEFAULTS)), sorted(unknown))
    holder = [encoder]
    q, q_sig = texts_or_features(hypotheses, hyp_features, "hypotheses", "hyp_features", holder)
    p, p_sig = texts_or_features(references, ref_features, "references", "ref_features", holder)
    return mauve_from_features(p, q, seed=seed, num_seeds=num_seeds, source=source_signature(q_sig, p_sig), **options)


class MAUVE:
    """MAUVE with features gathered over batches. ``update(hypotheses=..., references=...)`` (texts) or
    ``update(hyp_features=..., ref_features=...)``; either side may be omitted in a call.

    Args:
        encoder: for text updates, as `mauve_score`.
        seed: the seed of the k-means seeds.
        num_seeds: k-means runs.
        **options: as `mauve_score`.

    Raises:
        InvalidArgumentError: unknown options, or `compute()` before both sides have data.

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> human, model = rng.normal(size=(40, 4)), rng.normal(size=(40, 4)) + 3.0
        >>> m = MAUVE().update(hyp_features=human[:20], ref_features=human[:20]).update(hyp_features=human[20:])
        >>> round(m.update(ref_features=human[20:]).compute().score, 6)
        1.0
    """

    higher_is_better = True

    def __init__(self, *, encoder=None, seed=0, num_seeds: int = 1, **options):
        unknown = set(options) - set(DEFAULTS)
        if unknown:
            raise InvalidArgumentError("options", "names among " + ", ".join(sorted(DEFAULTS)), sorted(unknown))
        self._holder = [encoder]
        self.seed, self.num_seeds, self.options = seed, num_seeds, options
        self.reset()

    def reset(self) -> None:
        """Forget every batch."""
        self._p: list[np.ndarray] = []
        self._q: list[np.ndarray] = []
        self._sigs: dict[str, set] = {"hyp": set(), "ref": set()}

    def update(self, hypotheses=None, references=None, *, hyp_features=None, ref_features=None) -> "MAUVE":
        """Add hypotheses and/or references (texts or features); returns self."""
        if hypotheses is not None or hyp_features is not None:
            f, s = texts_or_features(hypotheses, hyp_features, "hypotheses", "hyp_features", self._holder)
            self._q.append(f)
            self._sigs["hyp"].add(s)
        if references is not None or ref_features is not None:
            f, s = texts_or_features(references, ref_features, "references", "ref_features", self._holder)
            self._p.append(f)
            self._sigs["ref"].add(s)
        return self

    def compute(self) -> MauveResult:
        """MAUVE of everything gathered so far (a `MauveResult`)."""
        if not self._p or not self._q:
            raise InvalidArgumentError("MAUVE", "updates with both hypotheses and references before compute()",
                                       f"{len(self._q)} hypothesis and {len(self._p)} reference batches")
        src = source_signature("+".join(sorted(self._sigs["hyp"])), "+".join(sorted(self._sigs["ref"])))
        return mauve_from_features(np.concatenate(self._p), np.concatenate(self._q), seed=self.seed,
                                   num_seeds=self.num_seeds, source=src, **self.options)
