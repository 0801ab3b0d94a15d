"""Side-by-side HTML report of `gmeval compare`: metric table with intervals and significance marks,
pairwise differences, sample grids, every model on one precision/recall plot, class histograms and
nearest-training-neighbour panels. Self-contained (base64 PNG, inline CSS), all text escaped."""

from __future__ import annotations

import html
import json
import os
from pathlib import Path


from ..utils.imageio import make_grid, png_bytes
from ..utils.io import atomic_write_text
from .html import CSS, class_histogram_png, fig_png, fmt, img_tag, nearest_neighbour_png, pyplot


def _best_marks(data: dict, k: str) -> dict[str, str]:
    """'*' for a model significantly better than every other one on value k; '' otherwise."""
    wins: dict[str, int] = {m: 0 for m in data["models"]}
    for row in data["differences"].get(k, []):
        if row["better"]:
            wins[row["better"]] += 1
    n_other = len(data["models"]) - 1
    return {m: ("*" if w == n_other else "") for m, w in wins.items()}


def metric_table(data: dict) -> str:
    """HTML table of a comparison: one row per model, one column per value with a direction; the best
    point value in bold, ``*`` for a model significantly better than every other one, intervals below.

    Args:
        data: a `compare` JSON export.

    Returns:
        An HTML ``<table>``.

    Example:
        >>> data = {"models": {"A": {}, "B": {}}, "ranking": {"fid": ["B", "A"]},
        ...         "metrics": {m: {"fid": {"value": v, "higher_is_better": False, "ci_low": v - 0.5, "ci_high": v + 0.5,
        ...                                 "signature": f"fid|{m}"}} for m, v in (("A", 3.0), ("B", 1.0))},
        ...         "differences": {"fid": [{"a": "A", "b": "B", "diff": 2.0, "ci_low": 1.0, "ci_high": 3.0,
        ...                                  "significant": True, "better": "B"}]}}
        >>> t = metric_table(data)
        >>> "<b>1</b>*" in t, "[2.5, 3.5]" in t
        (True, True)
    """
    keys = [k for k, e in next(iter(data["metrics"].values())).items() if e["higher_is_better"] is not None]
    head = "".join(f"<th>{html.escape(k)} {'&uarr;' if next(iter(data['metrics'].values()))[k]['higher_is_better'] else '&darr;'}</th>"
                   for k in keys)
    marks = {k: _best_marks(data, k) for k in keys}
    rows = []
    for m, vals in data["metrics"].items():
        cells = []
        for k in keys:
            e = vals[k]
            ci = f"<br><span class=muted>[{fmt(e['ci_low'])}, {fmt(e['ci_high'])}]</span>" if "ci_low" in e else ""
            rank = data["ranking"].get(k, [])
            bold = rank and rank[0] == m
            v = f"<b>{fmt(e['value'])}</b>" if bold else fmt(e["value"])
            cells.append(f"<td class=num>{v}{marks[k][m]}{ci}</td>")
        rows.append(f"<tr><td>{html.escape(m)}</td>{''.join(cells)}</tr>")
    return f"<table><tr><th>model</th>{head}</tr>{''.join(rows)}</table>"


def differences_table(data: dict) -> str:
    """HTML table of every pairwise difference with its corrected interval and verdict.

    Args:
        data: a `compare` JSON export.

    Returns:
        An HTML ``<table>``.

    Example:
        >>> data = {"models": {"A": {}, "B": {}}, "ranking": {"fid": ["B", "A"]},
        ...         "metrics": {m: {"fid": {"value": v, "higher_is_better": False, "ci_low": v - 0.5, "ci_high": v + 0.5,
        ...                                 "signature": f"fid|{m}"}} for m, v in (("A", 3.0), ("B", 1.0))},
        ...         "differences": {"fid": [{"a": "A", "b": "B", "diff": 2.0, "ci_low": 1.0, "ci_high": 3.0,
        ...                                  "significant": True, "better": "B"}]}}
        >>> "<b>B better</b>" in differences_table(data)
        True
    """
    rows = []
    for k, diffs in data["differences"].items():
        for r in diffs:
            verdict = f"<b>{html.escape(r['better'])} better</b>" if r["significant"] else "not significant"
            rows.append(f"<tr><td>{html.escape(k)}</td><td>{html.escape(r['a'])} &minus; {html.escape(r['b'])}</td>"
                        f"<td class=num>{fmt(r['diff'])}</td><td class=num>[{fmt(r['ci_low'])}, {fmt(r['ci_high'])}]</td>"
                        f"<td>{verdict}</td></tr>")
    return ("<table><tr><th>value</th><th>difference</th><th>point</th><th>corrected interval</th><th>verdict</th></tr>"
            + "".join(rows) + "</table>")


def pr_plot_png(data: dict) -> bytes:
    r"""Every model on one precision/recall plot (with interval bars when present), as PNG bytes.

    Args:
        data: a `compare` JSON export with ``precision`` and ``recall`` values.

    Returns:
        The PNG bytes.

    Example:
        >>> v = lambda x: {"value": x, "higher_is_better": True}
        >>> pr_plot_png({"metrics": {"A": {"precision": v(0.8), "recall": v(0.5)}, "B": {"precision": v(0.6), "recall": v(0.7)}}})[:4]
        b'\x89PNG'
    """
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(4.6, 4.2))
    for m, vals in data["metrics"].items():
        p, r = vals["precision"], vals["recall"]
        xerr = [[r["value"] - r["ci_low"]], [r["ci_high"] - r["value"]]] if "ci_low" in r else None
        yerr = [[p["value"] - p["ci_low"]], [p["ci_high"] - p["value"]]] if "ci_low" in p else None
        ax.errorbar([r["value"]], [p["value"]], xerr=xerr, yerr=yerr, fmt="o", capsize=3, label=m)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("recall (diversity)")
    ax.set_ylabel("precision (fidelity)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower left")
    return fig_png(fig)


def write_compare_report(result, out_dir: str | os.PathLike, title: str = "gmeval compare") -> dict:
    """Write report.json and report.html into out_dir; returns their paths.

    Args:
        result: a `CompareResult` (``to_json()`` and ``results``, each model's evaluation result).
        out_dir: the folder (created if needed).
        title: the page title.

    Returns:
        ``{"report_json": path, "report_html": path}``.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> from gmeval.evaluation import CompareResult
        >>> data = {"models": {"A": {}, "B": {}}, "ranking": {"fid": ["B", "A"]},
        ...         "metrics": {m: {"fid": {"value": v, "higher_is_better": False, "ci_low": v - 0.5, "ci_high": v + 0.5,
        ...                                 "signature": f"fid|{m}"}} for m, v in (("A", 3.0), ("B", 1.0))},
        ...         "differences": {"fid": [{"a": "A", "b": "B", "diff": 2.0, "ci_low": 1.0, "ci_high": 3.0,
        ...                                  "significant": True, "better": "B"}]}}
        >>> data.update(real={"origin": "digits:test", "n": 10}, extractor={"extractor": "mnist", "weights": "0" * 64},
        ...             gmeval_version="0", timings={"total": 1.0}, correction={"difference_confidence": 0.95, "pairs": 1},
        ...             bootstrap={"confidence": 0.95, "n_boot": 10, "scheme": "paired"})
        >>> with tempfile.TemporaryDirectory() as d:
        ...     paths = write_compare_report(CompareResult(data), Path(d) / "cmp")
        ...     print(sorted(p.name for p in (Path(d) / "cmp").iterdir()))
        ['report.html', 'report.json']
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    data = result.to_json()
    results = getattr(result, "results", {}) or {}
    c = data["correction"]
    parts = [f"<h1>{html.escape(title)}</h1>",
             f"<p class=muted>real: <b>{html.escape(data['real']['origin'])}</b> (n={data['real']['n']}); extractor "
             f"{html.escape(data['extractor']['extractor'])}, weights sha256 {html.escape(data['extractor']['weights'][:16])}&hellip;; "
             f"gmeval {html.escape(data['gmeval_version'])}; took {data['timings']['total']:.1f} s</p>",
             "<h2>Metrics</h2>", metric_table(data),
             f"<p class=muted>&uarr; higher / &darr; lower is better; bold: best point value; * significantly better than "
             f"every other model. Intervals: {int(data['bootstrap']['confidence'] * 100)}% normal intervals from a paired "
             f"bootstrap of {data['bootstrap']['n_boot']} replicates ({html.escape(data['bootstrap']['scheme'])}). A difference is "
             f"significant when its Bonferroni-corrected interval (confidence {c['difference_confidence']:.4g}, "
             f"{c['pairs']} pairs per metric) excludes 0.</p>",
             "<h2>Pairwise differences</h2>", differences_table(data)]
    figs = []
    if any("precision" in v for v in data["metrics"].values()):
        figs.append(("All models: precision / recall", img_tag(pr_plot_png(data), "precision recall")))
    for m, res in results.items():
        fake, train = res.images.get("fake"), res.images.get("train")
        if fake is not None:
            figs.append((f"{m}: samples (first 36)", img_tag(png_bytes(make_grid(fake[:36], nrow=6), 3), m)))
        if "modes" in res.details:
            figs.append((f"{m}: class histogram", img_tag(class_histogram_png(res.details["modes"]), "classes")))
        if "memorization" in res.details and train is not None and fake is not None:
            figs.append((f"{m}: nearest training neighbours (generated | closest training image)",
                         img_tag(nearest_neighbour_png(res.details["memorization"], fake, train, k=6),
                                 "nearest neighbours")))
    parts.append("<h2>Models side by side</h2><div class=row>" + "".join(
        f"<div class=fig style='flex:0 1 330px'><h3 style='font-size:14px'>{html.escape(t)}</h3>{tag}</div>" for t, tag in figs)
        + "</div>")
    parts.append("<h2>Signatures</h2><table>" + "".join(
        f"<tr><td>{html.escape(m)}</td><td>{html.escape(k)}</td><td><code>{html.escape(e['signature'])}</code></td></tr>"
        for m, vals in data["metrics"].items() for k, e in vals.items() if e["higher_is_better"] is not None) + "</table>")
    parts.append("<h2>Raw result</h2><details><summary>JSON</summary><pre style='font-size:11px'>"
                 + html.escape(json.dumps(data, indent=1, default=str)) + "</pre></details>")
    page = (f"<!doctype html><html><head><meta charset=utf-8><title>{html.escape(title)}</title><style>{CSS}</style></head>"
            f"<body>" + "\n".join(parts) + "</body></html>")
    jpath, hpath = out / "report.json", out / "report.html"
    atomic_write_text(jpath, json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")
    atomic_write_text(hpath, page)
    return {"report_json": str(jpath), "report_html": str(hpath)}


def value_table_text(data: dict) -> str:
    """Plain-text table (one row per model, value [low, high]) for the terminal.

    Args:
        data: a `compare` JSON export.

    Returns:
        The table as text.

    Example:
        >>> data = {"models": {"A": {}, "B": {}}, "ranking": {"fid": ["B", "A"]},
        ...         "metrics": {m: {"fid": {"value": v, "higher_is_better": False, "ci_low": v - 0.5, "ci_high": v + 0.5,
        ...                                 "signature": f"fid|{m}"}} for m, v in (("A", 3.0), ("B", 1.0))},
        ...         "differences": {"fid": [{"a": "A", "b": "B", "diff": 2.0, "ci_low": 1.0, "ci_high": 3.0,
        ...                                  "significant": True, "better": "B"}]}}
        >>> print(value_table_text(data))
        model                         fid
        A                 3 [2.5, 3.5]
        B                 1 [0.5, 1.5]
    """
    keys = [k for k, e in next(iter(data["metrics"].values())).items() if e["higher_is_better"] is not None]
    width = max(len(m) for m in data["metrics"]) + 2
    lines = ["model".ljust(width) + "".join(k.rjust(26) for k in keys)]
    for m, vals in data["metrics"].items():
        cells = []
        for k in keys:
            e = vals[k]
            cells.append((f"{e['value']:.4g} [{e['ci_low']:.3g}, {e['ci_high']:.3g}]" if "ci_low" in e else f"{e['value']:.4g}").rjust(26))
        lines.append(m.ljust(width) + "".join(cells))
    return "\n".join(lines)


