"""Streaming float64 statistics that merge across batches and processes by summation."""

from .gaussian import GaussianStats, load_stats, save_stats

__all__ = ["GaussianStats", "load_stats", "save_stats"]
