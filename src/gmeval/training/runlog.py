"""Run logs: one JSON object per logged step (append-only JSONL) and loss-curve plots."""

from __future__ import annotations

import json
import math
import os
import shutil
import warnings
from pathlib import Path

from ..utils.io import atomic_path, storage_errors
from .monitors import MODE_SHARE_KEY, MODES_KEY, PIXEL_STD_KEY


#: files that mark a folder as holding a run (a new run refuses such a folder unless told to overwrite)
RUN_FILES = ("config.json", "checkpoint.pt", "log.jsonl")
#: everything a run writes into its folder (removed by `overwrite`)
RUN_OUTPUTS = RUN_FILES + ("loss_curves.png", "report.html", "report.json", "evaluation.json", "samples")


class LogLostWarning(UserWarning):
    """log.jsonl was missing on resume or deleted during the run: earlier records are lost."""


def remove_run_files(folder: str | os.PathLike) -> None:
    """Delete the files a run wrote into `folder` (and nothing else)."""
    folder = Path(folder)
    for name in RUN_OUTPUTS:
        p = folder / name
        with storage_errors(p):
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p)
            elif p.exists() or p.is_symlink():
                p.unlink()


class JsonlLog:
    """Append-only JSONL log. The file must stay in place: if it is missing on resume, or deleted while
    the run writes it, a LogLostWarning names it and a `{"event": "log_lost", "step": ...}` record opens
    the new file, so the loss is visible in the log itself rather than silent."""

    def __init__(self, path: str | os.PathLike, truncate_after_step: int | None = None, resume: bool = False):
        self.path = Path(path)
        with storage_errors(self.path):
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._expect_file = False
        if resume and not self.path.exists():
            self._lost(truncate_after_step or 0, "is missing on resume")
        elif truncate_after_step is not None and self.path.exists():
            # on resume, drop records written after the checkpoint we resume from
            keep = [r for r in read_jsonl(self.path) if r.get("step", 0) <= truncate_after_step]
            with atomic_path(self.path) as tmp:
                tmp.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in keep))
            self._expect_file = True

    def _lost(self, step: int, how: str) -> None:
        warnings.warn(f"{self.path} {how}: the records before step {step} are lost; a new log starts with a "
                      "'log_lost' record", LogLostWarning, stacklevel=3)
        self._append({"event": "log_lost", "step": step, "reason": how})

    def write(self, record: dict) -> None:
        if self._expect_file and not self.path.exists():
            self._lost(int(record.get("step", 0)), "was deleted during the run")
        self._append(record)

    def _append(self, record: dict) -> None:
        clean = {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in record.items()}
        with storage_errors(self.path), open(self.path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(clean, sort_keys=True) + "\n")
            fh.flush()
        self._expect_file = True


def read_jsonl(path: str | os.PathLike) -> list[dict]:
    out = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if line:
                try:
                    out.append(json.loads(line))
                except json.JSONDecodeError:
                    break  # a torn last line from a killed process
    return out


def plot_curves(records: list[dict], path: str | os.PathLike, keys: list[str] | None = None, title: str = "") -> Path | None:
    """Plot every numeric key (or `keys`) against step, one panel per group, atomically to PNG.

    Alert events (records with event == "alert", see training/monitors.py) are marked by a dashed
    red line on every panel, labelled with the alert's name and step on the first."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    recs = [r for r in records if r.get("event") is None and "step" in r]
    if not recs:
        return None
    skip = {"step", "epoch", "time", "images_per_s", "event", MODES_KEY}  # the mode count: its share is plotted
    keys = keys or sorted({k for r in recs for k, v in r.items() if k not in skip and isinstance(v, (int, float))})
    groups = {
        "losses": [k for k in keys if k.startswith("loss")],
        "discriminator outputs": [k for k in keys if k.startswith("d_")],
        "gradient norms": [k for k in keys if k.startswith("grad")],
        "collapse checks": [k for k in keys if k in (PIXEL_STD_KEY, MODE_SHARE_KEY)],
    }
    groups["other"] = [k for k in keys if not any(k in g for g in groups.values())]
    groups = {g: ks for g, ks in groups.items() if ks}
    fig, axes = plt.subplots(len(groups), 1, figsize=(8, 2.6 * len(groups)), sharex=True, squeeze=False)
    for ax, (gname, ks) in zip(axes[:, 0], groups.items()):
        for k in ks:
            pts = [(r["step"], r[k]) for r in recs if isinstance(r.get(k), (int, float))]
            if pts:
                ax.plot([p[0] for p in pts], [p[1] for p in pts], label=k, lw=1)
        ax.set_ylabel(gname)
        ax.legend(fontsize=7, loc="best")
        ax.grid(alpha=0.3)
    alerts = [r for r in records if r.get("event") == "alert" and isinstance(r.get("step"), (int, float))]
    for i, a in enumerate(alerts):  # one dashed line per alert on every panel, its name on the first
        for ax in axes[:, 0]:
            ax.axvline(a["step"], color="tab:red", ls="--", lw=1, alpha=0.8)
        axes[0, 0].annotate(f"{a.get('alert', 'alert')} @ {a['step']}", xy=(a["step"], 1), xycoords=("data", "axes fraction"),
                            xytext=(2, -10 - 9 * (i % 4)), textcoords="offset points", fontsize=7, color="tab:red")
    axes[-1, 0].set_xlabel("step")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)
    return path
