"""Feature extractors: one contract, uint8 N x 3 x H x W in, named float32 layers out.

    from gmeval.features import get_extractor, extract_features
    ext = get_extractor("inception", preprocess="tf1")     # or "mnist", "fashion-mnist"
    feats = extract_features(ext, images, layers=["pool3"], batch_size=64)   # {"pool3": N x 2048}
    ext.signature()   # {"extractor", "weights" (sha256), "layers", "preprocess"}

See base.py for the contract, inception.py / inception_weights.py for the FID Inception-v3 port and
its two weight sources, preprocess.py for the named resizes, classifier.py for the domain classifiers.
"""

from .base import FeatureExtractor
from .classifier import ClassifierExtractor, build_classifier, to_classifier_input
from .extract import extract_features
from .inception import InceptionExtractor, InceptionV3TF, build_inception
from .inception_weights import (
    InceptionWeights, cached_checkpoint_path, download_checkpoint, fid_helper_file, load_inception_weights,
)
from .preprocess import PREPROCESSING, get_preprocess, preprocess_images, to_rgb
from .registry import EXTRACTORS, extractor_options, get_extractor, register_extractor

__all__ = [
    "FeatureExtractor", "ClassifierExtractor", "build_classifier", "to_classifier_input", "extract_features",
    "InceptionExtractor", "InceptionV3TF", "build_inception", "InceptionWeights", "cached_checkpoint_path",
    "download_checkpoint", "fid_helper_file", "load_inception_weights", "PREPROCESSING", "get_preprocess",
    "preprocess_images", "to_rgb", "EXTRACTORS", "extractor_options", "get_extractor", "register_extractor",
]
