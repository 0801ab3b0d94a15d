"""Image-evaluation metric formulas on features, logits, labels and images (no feature extraction here).

Each metric exists twice: a pure function on numpy arrays (or torch tensors) and a stateful
class with update / compute / reset / merge and `higher_is_better` (for its `primary` value).
Naming follows scikit-learn: `*_score` higher is better, `*_distance` lower is better.

=====================  ================================  =====================  ==========================
metric                 function(s)                       class                  direction
=====================  ================================  =====================  ==========================
FID                    fid_distance, fid_distance_from_  FID                    lower
                       stats, fid_features_to_stats
KID                    kid_distance                      KID                    lower (mean)
Inception Score        inception_score                   InceptionScore         higher (mean)
precision/recall       precision_recall_score            PrecisionRecall        higher
density/coverage       density_coverage_score            DensityCoverage        higher
all four (3 passes)    prdc_score                        PRDC                   higher
mode coverage          mode_coverage_score,              ModeCoverage           higher modes, lower KL
                       mode_coverage_from_histograms
C2ST                   classifier_two_sample_test        C2ST                   lower accuracy (0.5 best)
memorisation           memorization_check                Memorization           lower near-copy share
MSE / PSNR / SSIM      mean_squared_error, psnr_score,   MSE, PSNR, SSIM        lower / higher / higher
                       ssim_score
bits/dim               bits_per_dim, likelihood_summary  BitsPerDim             lower
FID-inf / IS-inf       fid_infinity_distance, incep-     FIDInfinity,           lower / higher
                       tion_score_infinity, extrapo-     ISInfinity
                       late_inverse_n (fit in 1/N)
bootstrap CI           bootstrap_ci                      -                      -
=====================  ================================  =====================  ==========================

Conventions (details in docs/metrics.md): statistics in float64, covariance with N-1; k-NN
balls are closed (inside when distance <= radius) and a point's radius excludes the point
itself; every random choice comes from an explicit seed or np.random.Generator.
"""

from ._base import ImageInputs, LogitsMetric, Metric, MetricReport, TwoSampleFeatureMetric
from ._common import MetricResult
from .bootstrap import BootstrapResult, bootstrap_ci
from .c2st import C2ST, C2STResult, classifier_two_sample_test
from .fid import FID, fid_distance, fid_distance_from_stats, fid_features_to_stats
from .inception_score import InceptionScore, ISResult, inception_score
from .infinity import FIDInfinity, ISInfinity, InverseNFit, extrapolate_inverse_n, fid_infinity_distance, inception_score_infinity
from .kid import KID, KIDResult, kid_distance, mmd2_unbiased, polynomial_kernel
from .knn import BallStatistics, ball_statistics, knn_search, kth_neighbour_distances
from .likelihood import BitsPerDim, LikelihoodResult, bits_per_dim, likelihood_summary
from .memorization import Memorization, MemorizationResult, memorization_check
from .modes import ModeCoverage, ModeCoverageResult, kl_divergence, mode_coverage_from_histograms, mode_coverage_score
from .prdc import (PRDC, DensityCoverage, PRDCResult, PrecisionRecall, density_coverage_score, prdc_score,
                   precision_recall_score)
from .registry import IMAGE_METRICS, OptionSpec, build_metric, option_specs, split_options
from .reconstruction import (MSE, PSNR, SSIM, mean_squared_error, per_image_mse, per_image_psnr, per_image_ssim,
                             psnr_score, ssim_score)

__all__ = [
    "Metric", "TwoSampleFeatureMetric", "LogitsMetric", "MetricResult", "MetricReport", "ImageInputs",
    "IMAGE_METRICS", "OptionSpec", "build_metric", "option_specs", "split_options", "FIDInfinity", "ISInfinity",
    "fid_distance", "fid_distance_from_stats", "fid_features_to_stats", "FID",
    "kid_distance", "polynomial_kernel", "mmd2_unbiased", "KID", "KIDResult",
    "inception_score", "InceptionScore", "ISResult",
    "fid_infinity_distance", "inception_score_infinity", "extrapolate_inverse_n", "InverseNFit",
    "knn_search", "kth_neighbour_distances", "ball_statistics", "BallStatistics",
    "prdc_score", "precision_recall_score", "density_coverage_score", "PRDC", "PrecisionRecall", "DensityCoverage",
    "PRDCResult",
    "mode_coverage_score", "mode_coverage_from_histograms", "kl_divergence", "ModeCoverage", "ModeCoverageResult",
    "classifier_two_sample_test", "C2ST", "C2STResult",
    "memorization_check", "Memorization", "MemorizationResult",
    "mean_squared_error", "psnr_score", "ssim_score", "per_image_mse", "per_image_psnr", "per_image_ssim",
    "MSE", "PSNR", "SSIM",
    "bits_per_dim", "likelihood_summary", "BitsPerDim", "LikelihoodResult",
    "bootstrap_ci", "BootstrapResult",
]
