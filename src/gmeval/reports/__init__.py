"""Reports: a self-contained HTML page (images embedded) and JSON per evaluation."""

from .html import write_report

__all__ = ["write_report"]
