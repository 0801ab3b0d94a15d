"""Figures and tables of `gmeval sanity`: one response-curve figure per degradation family (one panel
per metric value, value and interval against strength) and the detection table (Markdown + HTML)."""

from __future__ import annotations

import html
import json
import os
from pathlib import Path

from ..utils.io import atomic_write_bytes, atomic_write_text
from .html import CSS, fig_png, img_tag, pyplot


def _values(res: dict) -> list[str]:
    first = next(iter(res["metrics"].values()))
    return [k for k, e in first.items() if e["higher_is_better"] is not None or k.startswith("c2st_acc")]


def response_curves_png(family: str, res: dict, levels: list) -> bytes:
    r"""One figure per degradation family: a panel per metric value, value (and interval) against strength.

    Args:
        family: the family's name (the title).
        res: the family's `compare` JSON export (models = levels, in order).
        levels: the strengths, one per model.

    Returns:
        The PNG bytes.

    Example:
        >>> fam = {"models": {"blur-0": {}, "blur-2": {}},
        ...        "metrics": {"blur-0": {"fid": {"value": 1.0, "higher_is_better": False}},
        ...                    "blur-2": {"fid": {"value": 9.0, "higher_is_better": False}}}}
        >>> result = {"families": {"blur": fam}, "levels": {"blur": [0.0, 2.0]},
        ...           "detection": {"blur": {"fid": {"detects": True, "significant": True, "direction": "worse",
        ...                                          "monotone": True, "effect": 4.0}}},
        ...           "real": "mnist:test", "extractor": "mnist", "n": 100, "bootstrap": 10, "seed": 0, "seconds": 1.0}
        >>> response_curves_png("blur", fam, [0.0, 2.0])[:4]
        b'\x89PNG'
    """
    plt = pyplot()
    keys = _values(res)
    cols = 4
    rows = (len(keys) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(3.1 * cols, 2.3 * rows), squeeze=False)
    for ax, k in zip(axes.ravel(), keys):
        vals = [res["metrics"][m][k] for m in res["models"]]
        y = [e["value"] for e in vals]
        err = [[e["value"] - e["ci_low"] for e in vals], [e["ci_high"] - e["value"] for e in vals]] if "ci_low" in vals[0] else None
        ax.errorbar(levels, y, yerr=err, fmt="o-", capsize=2, ms=3)
        hib = vals[0]["higher_is_better"]
        ax.set_title(f"{k} {'(higher better)' if hib else '(lower better)' if hib is False else ''}", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    for ax in axes.ravel()[len(keys):]:
        ax.axis("off")
    fig.suptitle(f"{family}: value (95% paired-bootstrap interval) against strength", fontsize=10)
    fig.tight_layout()
    return fig_png(fig)


def detection_markdown(result: dict) -> str:
    """The detection table as Markdown: one row per value, one column per family.

    Args:
        result: a `sanity` result (its ``detection`` table).

    Returns:
        The Markdown table.

    Example:
        >>> fam = {"models": {"blur-0": {}, "blur-2": {}},
        ...        "metrics": {"blur-0": {"fid": {"value": 1.0, "higher_is_better": False}},
        ...                    "blur-2": {"fid": {"value": 9.0, "higher_is_better": False}}}}
        >>> result = {"families": {"blur": fam}, "levels": {"blur": [0.0, 2.0]},
        ...           "detection": {"blur": {"fid": {"detects": True, "significant": True, "direction": "worse",
        ...                                          "monotone": True, "effect": 4.0}}},
        ...           "real": "mnist:test", "extractor": "mnist", "n": 100, "bootstrap": 10, "seed": 0, "seconds": 1.0}
        >>> print(detection_markdown(result))
        | value | blur |
        |---|---|
        | fid | **yes** (+4.0) |
    """
    det = result["detection"]
    fams = list(det)
    keys = list(next(iter(det.values())))
    lines = ["| value | " + " | ".join(fams) + " |", "|---|" + "---|" * len(fams)]
    for k in keys:
        cells = []
        for f in fams:
            c = det[f].get(k)
            if c is None:
                cells.append("")
                continue
            mark = "**yes**" if c["detects"] else ("fooled" if c["significant"] and c["direction"] == "better" else "no")
            mono = "" if c["monotone"] else ", not monotone"
            cells.append(f"{mark} ({c['effect']:+.1f}{mono})")
        lines.append(f"| {k} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_sanity_report(result: dict, out_dir: str | os.PathLike) -> dict:
    """sanity.json, sanity.md (detection table), sanity.html and one PNG per family into out_dir.

    Args:
        result: a `sanity` result.
        out_dir: the folder (created if needed).

    Returns:
        The paths of sanity.json, sanity.md and sanity.html.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> fam = {"models": {"blur-0": {}, "blur-2": {}},
        ...        "metrics": {"blur-0": {"fid": {"value": 1.0, "higher_is_better": False}},
        ...                    "blur-2": {"fid": {"value": 9.0, "higher_is_better": False}}}}
        >>> result = {"families": {"blur": fam}, "levels": {"blur": [0.0, 2.0]},
        ...           "detection": {"blur": {"fid": {"detects": True, "significant": True, "direction": "worse",
        ...                                          "monotone": True, "effect": 4.0}}},
        ...           "real": "mnist:test", "extractor": "mnist", "n": 100, "bootstrap": 10, "seed": 0, "seconds": 1.0}
        >>> with tempfile.TemporaryDirectory() as d:
        ...     paths = write_sanity_report(result, d)
        ...     print(sorted(p.name for p in Path(d).iterdir()))
        ['sanity.html', 'sanity.json', 'sanity.md', 'sanity_blur.png']
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    figs = {}
    for fam, res in result["families"].items():
        png = response_curves_png(fam, res, result["levels"][fam])
        atomic_write_bytes(out / f"sanity_{fam}.png", png)
        figs[fam] = png
    table = detection_markdown(result)
    legend = ("Cell: **yes** = significant (Bonferroni-corrected paired bootstrap), in the worse direction and monotone "
              "(|Spearman| >= 0.9); fooled = significant in the better direction; in brackets the effect size "
              "(strongest level minus baseline, in bootstrap standard deviations; sign = raw direction of the value).")
    atomic_write_text(out / "sanity.md", table + "\n\n" + legend + "\n")
    atomic_write_text(out / "sanity.json", json.dumps(result, indent=1, sort_keys=True, default=str) + "\n")
    rows = "".join(f"<h2>{html.escape(f)}</h2>{img_tag(p, f)}" for f, p in figs.items())
    head = (f"<p class=muted>real {html.escape(result['real'])}, extractor {html.escape(result['extractor'])}, n = "
            f"{result['n']}, {result['bootstrap']} replicates, seed {result['seed']}, {result['seconds']:.0f} s</p>")
    page = (f"<!doctype html><html><head><meta charset=utf-8><title>gmeval sanity</title><style>{CSS}</style></head><body>"
            f"<h1>Which metric detects which failure</h1>{head}<pre>{html.escape(table)}</pre><p class=muted>"
            f"{html.escape(legend)}</p>{rows}</body></html>")
    atomic_write_text(out / "sanity.html", page)
    return {"sanity_json": str(out / "sanity.json"), "sanity_md": str(out / "sanity.md"),
            "sanity_html": str(out / "sanity.html")}
