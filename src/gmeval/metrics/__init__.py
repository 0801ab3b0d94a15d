"""Metric formulas (pure functions on features/statistics) and stateful metric classes.

`frechet` is shared by image (FID) and text (embedding FD) metrics.
"""
