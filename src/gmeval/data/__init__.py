"""Data sources. Everything ends in one canonical form: `ImageData` (uint8 N x C x H x W + labels).

- `load_dataset("mnist:test")` for registered datasets (mnist, fashion-mnist, digits),
- `load_image_folder(path)`, `load_array_file(path)` for user files,
- `as_image_data(x)` for tensors, arrays and iterables.
"""

from .canonical import ImageData, as_uint8_nchw, as_image_data
from .idx import read_idx, parse_idx
from .registry import DATASETS, DatasetSpec, load_dataset, parse_dataset_spec, dataset_status, training_split
from .files import resolve_dataset_file, data_roots
from .folder import load_image_folder, IMAGE_EXTENSIONS
from .arrays import load_array_file
from .any import load_data_source

__all__ = [
    "ImageData", "as_uint8_nchw", "as_image_data", "read_idx", "parse_idx", "DATASETS", "DatasetSpec",
    "load_dataset", "parse_dataset_spec", "dataset_status", "training_split", "resolve_dataset_file", "data_roots",
    "load_image_folder", "IMAGE_EXTENSIONS", "load_array_file", "load_data_source",
]
