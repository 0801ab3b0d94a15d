"""Small shared foundations: atomic writes, hashing, seeds, cache locations."""

from .io import atomic_write_bytes, atomic_write_text, atomic_save_torch, atomic_path, sha256_file, sha256_bytes
from .seeding import as_torch_generator, as_numpy_generator, derive_seed
from .paths import cache_dir

__all__ = [
    "atomic_write_bytes", "atomic_write_text", "atomic_save_torch", "atomic_path", "sha256_file", "sha256_bytes",
    "as_torch_generator", "as_numpy_generator", "derive_seed", "cache_dir",
]
