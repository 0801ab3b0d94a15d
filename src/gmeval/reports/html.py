"""Self-contained HTML evaluation report: metrics table with intervals and signatures, sample grid,
class histogram, nearest-training-neighbour panel, precision/recall picture, training curves.

Everything is embedded (base64 PNG, inline CSS); all text is HTML-escaped.
"""

from __future__ import annotations

import base64
import html
import io
import json
import os
from pathlib import Path

import numpy as np

from ..utils.imageio import make_grid, png_bytes
from ..utils.io import atomic_write_set

_CSS = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222;padding:0 1em}
table{border-collapse:collapse;width:100%;font-size:14px}th,td{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left}
td.num{font-variant-numeric:tabular-nums;text-align:right}code{font-size:11px;color:#555;word-break:break-all}
.row{display:flex;flex-wrap:wrap;gap:24px}.fig{flex:1 1 300px}.fig img{max-width:100%;image-rendering:pixelated}
h1{font-size:22px}h2{font-size:17px;margin-top:1.6em;border-bottom:2px solid #eee}.muted{color:#777;font-size:13px}
"""


def _img_tag(png: bytes, alt: str, width: int | None = None) -> str:
    r"""An ``<img>`` tag embedding `png` as a base64 data URL (alt text escaped).

    Args:
        png: the PNG bytes.
        alt: the alt text.
        width: the displayed width in pixels, or None.

    Returns:
        The HTML tag.

    Example:
        >>> img_tag(b"\x89PNG", "a <b>", 40)
        '<img alt="a &lt;b&gt;" width="40" src="data:image/png;base64,iVBORw==">'
    """
    w = f' width="{width}"' if width else ""
    return f'<img alt="{html.escape(alt)}"{w} src="data:image/png;base64,{base64.b64encode(png).decode()}">'


def _fig_png(fig) -> bytes:
    r"""Render a matplotlib figure to PNG bytes (90 dpi, tight box) and close it.

    Args:
        fig: a matplotlib figure.

    Returns:
        The PNG bytes.

    Example:
        >>> fig, ax = pyplot().subplots(figsize=(1, 1))
        >>> fig_png(fig)[:8]
        b'\x89PNG\r\n\x1a\n'
    """
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def _plt():
    """``matplotlib.pyplot`` with the non-interactive Agg backend (reports never open windows).

    Returns:
        The pyplot module.

    Example:
        >>> pyplot().get_backend().lower()
        'agg'
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _fmt(v) -> str:
    """A table cell's text: "-" for None, 4 significant digits for floats (one decimal from 1e4), others escaped.

    Args:
        v: the value.

    Returns:
        The text, HTML-escaped.

    Example:
        >>> fmt(None), fmt(3.14159), fmt(123456.7), fmt("<x>"), fmt(12)
        ('-', '3.142', '123456.7', '&lt;x&gt;', '12')
    """
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.4g}" if abs(v) < 1e4 else f"{v:.1f}"
    return html.escape(str(v))


def _metrics_table(metrics: dict) -> str:
    """The HTML metrics table of a JSON export: value, direction arrow, interval and signature per row.

    Args:
        metrics: {value name: `Score.to_dict()`}.

    Returns:
        An HTML ``<table>``.

    Example:
        >>> t = metrics_table({"fid": {"value": 2.5, "higher_is_better": False, "ci_low": 2.0, "ci_high": 3.0, "signature": "fid|x"}})
        >>> "fid &darr;" in t, "[2, 3]" in t, "<code>fid|x</code>" in t
        (True, True, True)
    """
    rows = []
    for name, m in metrics.items():
        arrow = {True: "&uarr;", False: "&darr;", None: ""}[m.get("higher_is_better")]
        ci = f"[{_fmt(m['ci_low'])}, {_fmt(m['ci_high'])}]" if "ci_low" in m else ""
        rows.append(f"<tr><td>{html.escape(name)} {arrow}</td><td class=num>{_fmt(m['value'])}</td><td class=num>{ci}</td>"
                    f"<td><code>{html.escape(m['signature'])}</code></td></tr>")
    return ("<table><tr><th>metric</th><th>value</th><th>95% interval</th><th>signature</th></tr>" + "".join(rows) + "</table>")


def _class_hist(det: dict) -> bytes:
    r"""Bar chart (PNG) of the generated and real class shares from mode coverage's details.

    Args:
        det: ``{"fake_histogram": [...], "real_histogram": [...] or None}``.

    Returns:
        The PNG bytes.

    Example:
        >>> class_histogram_png({"fake_histogram": [5, 3, 2], "real_histogram": [1, 1, 1]})[:4]
        b'\x89PNG'
    """
    plt = _plt()
    fake = np.asarray(det["fake_histogram"], float)
    fig, ax = plt.subplots(figsize=(5, 2.6))
    x = np.arange(len(fake))
    ax.bar(x - 0.2, fake / fake.sum(), 0.4, label="generated")
    if det.get("real_histogram"):
        real = np.asarray(det["real_histogram"], float)
        ax.bar(x + 0.2, real / real.sum(), 0.4, label="real")
    ax.set_xticks(x)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("share")
    ax.legend(fontsize=8)
    return _fig_png(fig)


def _pr_picture(metrics: dict) -> bytes:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(3.4, 3.2))
    p, r = metrics["precision"]["value"], metrics["recall"]["value"]
    ax.scatter([r], [p], s=60, zorder=3)
    if "ci_low" in metrics["precision"]:
        ax.errorbar([r], [p], xerr=[[r - metrics["recall"]["ci_low"]], [metrics["recall"]["ci_high"] - r]],
                    yerr=[[p - metrics["precision"]["ci_low"]], [metrics["precision"]["ci_high"] - p]], fmt="none")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("recall (diversity)")
    ax.set_ylabel("precision (fidelity)")
    ax.grid(alpha=0.3)
    ax.set_title("ideal: top right", fontsize=9)
    return _fig_png(fig)


def _nn_panel(det: dict, fake_images: np.ndarray, train_images: np.ndarray, k: int = 8) -> bytes:
    r"""PNG grid of the closest (generated, training) pairs from the memorisation details, side by side.

    Args:
        det: the memorisation details (``closest_fake``, ``closest_train``).
        fake_images: the generated uint8 N x C x H x W images.
        train_images: the training images (channels and size may differ; they are matched for display).
        k: how many pairs.

    Returns:
        The PNG bytes.

    Example:
        >>> import numpy as np
        >>> fake, train = np.zeros((3, 1, 8, 8), np.uint8), np.full((5, 1, 8, 8), 255, np.uint8)
        >>> nearest_neighbour_png({"closest_fake": [2, 0], "closest_train": [4, 1]}, fake, train)[:4]
        b'\x89PNG'
    """
    pairs = list(zip(det["closest_fake"], det["closest_train"]))[:k]
    imgs = []
    for fi, ti in pairs:
        imgs += [fake_images[fi], train_images[ti]]
    from PIL import Image

    c = max(i.shape[0] for i in imgs)
    h = max(i.shape[1] for i in imgs)
    w = max(i.shape[2] for i in imgs)

    def common(img):  # same channels and size for side-by-side display (nearest-neighbour upscaling)
        img = np.repeat(img, 3, 0) if img.shape[0] != c else img
        if img.shape[1:] != (h, w):
            pil = Image.fromarray(img.transpose(1, 2, 0).squeeze(-1) if c == 1 else img.transpose(1, 2, 0))
            arr = np.asarray(pil.resize((w, h), Image.NEAREST))
            img = arr[None] if c == 1 else arr.transpose(2, 0, 1)
        return img

    imgs = [common(i) for i in imgs]
    return png_bytes(make_grid(np.stack(imgs), nrow=2), scale=3)


def write_report(result, out_dir: str | os.PathLike, title: str = "gmeval evaluation", run_dir=None,
                 extra_sections: list[tuple[str, str]] | None = None, extra_files: dict | None = None) -> dict:
    """Write report.json and report.html (and `extra_files`, name -> text) into out_dir as one set.

    All files are written to temp files first and renamed only when every one of them is complete, so a
    failure (disk full, no permission) leaves the previous report whole.

    Args:
        result: an `EvaluationResult` (anything with ``to_json()`` and an ``images`` dict of the fake
            and train uint8 arrays).
        out_dir: the folder (created if needed).
        title: the page title.
        run_dir: a training run folder whose loss_curves.png is shown, or None.
        extra_sections: (heading, HTML body) pairs appended to the page.
        extra_files: further files to write with the set, name -> text.

    Returns:
        ``{"report_json": path, "report_html": path}``.

    Example:
        >>> import json, tempfile
        >>> import numpy as np
        >>> from pathlib import Path
        >>> from gmeval.evaluation import EvaluationResult
        >>> from gmeval.metrics.score import Score
        >>> res = EvaluationResult({"fid": Score("fid", 2.5, "fid|ext:mnist", False)}, {}, {"total": 1.0},
        ...                        {"extractor": "mnist", "weights": "0" * 64}, 0,
        ...                        {"real": {"origin": "digits:test", "n": 10}, "fake": {"origin": "model:x", "n": 4}},
        ...                        images={"fake": np.zeros((4, 1, 8, 8), np.uint8)})
        >>> with tempfile.TemporaryDirectory() as d:
        ...     paths = write_report(res, d, extra_files={"notes.txt": "hello"})
        ...     saved = json.loads(Path(paths["report_json"]).read_text())
        ...     print(sorted(p.name for p in Path(d).iterdir()), saved["metrics"]["fid"]["value"])
        ['notes.txt', 'report.html', 'report.json'] 2.5
    """
    out = Path(out_dir)
    data = result.to_json()
    images = getattr(result, "images", {}) or {}
    parts = [f"<h1>{html.escape(title)}</h1>",
             f"<p class=muted>real: <b>{html.escape(data['inputs']['real']['origin'])}</b> (n={data['inputs']['real']['n']}), "
             f"generated: <b>{html.escape(data['inputs']['fake']['origin'])}</b> (n={data['inputs']['fake']['n']}); "
             f"extractor {html.escape(data['extractor']['extractor'])}, weights sha256 "
             f"{html.escape(data['extractor']['weights'][:16])}&hellip;, gmeval {html.escape(data['gmeval_version'])}; "
             f"evaluation took {data['timings']['total']:.1f} s</p>",
             "<h2>Metrics</h2>", metrics_table(data["metrics"]),
             "<p class=muted>&uarr; higher is better, &darr; lower is better. Intervals: bootstrap (see the signature "
             "and docs/metrics.md for the scheme). Every number's signature names the extractor, weights, layer, "
             "preprocessing, inputs, sample counts, seed and version that produced it.</p>"]
    figs = []
    fake, train = images.get("fake"), images.get("train")
    if fake is not None:
        figs.append(("Generated samples (first 64)", _img_tag(png_bytes(make_grid(fake[:64]), 3), "samples")))
    if "modes" in data["details"]:
        figs.append(("Class histogram (mode coverage)", _img_tag(_class_hist(data["details"]["modes"]), "class histogram")))
    if "precision" in data["metrics"] and "recall" in data["metrics"]:
        figs.append(("Precision / recall", _img_tag(_pr_picture(data["metrics"]), "precision recall")))
    if "memorization" in data["details"] and fake is not None and train is not None:
        figs.append(("Nearest training neighbours (left: generated, right: closest training image)",
                     _img_tag(_nn_panel(data["details"]["memorization"], fake, train), "nearest neighbours")))
    if run_dir is not None and (Path(run_dir) / "loss_curves.png").is_file():
        figs.append(("Training curves", _img_tag((Path(run_dir) / "loss_curves.png").read_bytes(), "training curves")))
    if figs:
        parts.append("<h2>Figures</h2><div class=row>" + "".join(
            f"<div class=fig><h3 style='font-size:14px'>{html.escape(t)}</h3>{tag}</div>" for t, tag in figs) + "</div>")
    for heading, body_html in extra_sections or []:
        parts.append(f"<h2>{html.escape(heading)}</h2>{body_html}")
    parts.append("<h2>Raw result</h2><details><summary>JSON</summary><pre style='font-size:11px'>"
                 + html.escape(json.dumps(data, indent=1, default=str)) + "</pre></details>")
    page = f"<!doctype html><html><head><meta charset=utf-8><title>{html.escape(title)}</title><style>{_CSS}</style></head><body>" \
           + "\n".join(parts) + "</body></html>"
    jpath, hpath = out / "report.json", out / "report.html"
    atomic_write_set({jpath: json.dumps(data, indent=2, sort_keys=True, default=str) + "\n", hpath: page,
                      **{out / name: text for name, text in (extra_files or {}).items()}})
    return {"report_json": str(jpath), "report_html": str(hpath)}


# Public pieces for the other reports (reports/compare.py, the sanity figures).
CSS = _CSS
metrics_table = _metrics_table
img_tag, fig_png, pyplot, fmt = _img_tag, _fig_png, _plt, _fmt
class_histogram_png, nearest_neighbour_png = _class_hist, _nn_panel
