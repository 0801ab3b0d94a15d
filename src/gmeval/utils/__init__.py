"""Small shared foundations: atomic writes, hashing, seeds, cache locations, argument checks.

The names below load their module on first use (PEP 562), so importing a light submodule such as
`gmeval.utils.checks` (the CLI's flag checks) does not import numpy or torch.
"""

from importlib import import_module

_EXPORTS = {
    "atomic_write_bytes": "io", "atomic_write_text": "io", "atomic_save_torch": "io", "atomic_path": "io",
    "sha256_file": "io", "sha256_bytes": "io",
    "as_torch_generator": "seeding", "as_numpy_generator": "seeding", "derive_seed": "seeding",
    "cache_dir": "paths",
}

__all__ = list(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
