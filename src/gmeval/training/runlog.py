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
    """log.jsonl was missing on resume or deleted during the run: earlier records are lost.

    Example:
        >>> import tempfile, warnings
        >>> from pathlib import Path
        >>> with tempfile.TemporaryDirectory() as d, warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     _ = JsonlLog(Path(d, "log.jsonl"), truncate_after_step=100, resume=True)
        ...     lost = read_jsonl(Path(d, "log.jsonl"))
        >>> caught[0].category.__name__, lost
        ('LogLostWarning', [{'event': 'log_lost', 'reason': 'is missing on resume', 'step': 100}])
    """


def remove_run_files(folder: str | os.PathLike) -> None:
    """Delete the files a run wrote into `folder` (and nothing else).

    Args:
        folder: the run folder.

    Raises:
        StorageError: if a file cannot be removed.

    Example:
        >>> import os, tempfile
        >>> from pathlib import Path
        >>> with tempfile.TemporaryDirectory() as d:
        ...     for name in ("config.json", "log.jsonl", "notes.txt"):
        ...         _ = Path(d, name).write_text("{}")
        ...     Path(d, "samples").mkdir()
        ...     remove_run_files(d)
        ...     sorted(os.listdir(d))
        ['notes.txt']
    """
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
    the new file, so the loss is visible in the log itself rather than silent.

    Args:
        path: the log.jsonl file (its folder is created).
        truncate_after_step: on resume, drop the records of later steps (written after the checkpoint).
        resume: whether the run resumes (a missing file is then reported).

    Raises:
        StorageError: if the folder or file cannot be written.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> with tempfile.TemporaryDirectory() as d:
        ...     log = JsonlLog(Path(d, "run", "log.jsonl"))
        ...     for step in (1, 2, 3):
        ...         log.write({"step": step, "loss": float("nan") if step == 3 else step / 2})
        ...     _ = JsonlLog(log.path, truncate_after_step=2, resume=True)  # resume from a step-2 checkpoint
        ...     read_jsonl(log.path)
        [{'loss': 0.5, 'step': 1}, {'loss': 1.0, 'step': 2}]
    """

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
        """Append one record (non-finite floats are written as null).

        Args:
            record: a JSON-serialisable dict.

        Raises:
            StorageError: if the file cannot be written.
        """
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
    """The records of a JSONL file, up to a torn last line (left by a killed process).

    Args:
        path: the .jsonl file.

    Returns:
        A list of dicts, one per complete line (blank lines skipped).

    Raises:
        OSError: if the file cannot be read.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> with tempfile.TemporaryDirectory() as d:
        ...     _ = Path(d, "log.jsonl").write_text('{"step": 1}\\n\\n{"step": 2}\\n{"step": 3, "lo')
        ...     read_jsonl(Path(d, "log.jsonl"))
        [{'step': 1}, {'step': 2}]
    """
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
    red line on every panel, labelled with the alert's name and step on the first.

    Args:
        records: log records (event records other than alerts are ignored).
        path: the PNG file to write.
        keys: the keys to plot (None: every numeric one but step, epoch, time, images_per_s).
        title: the figure's title.

    Returns:
        `path` as a Path, or None (nothing written) when there is no record with a step.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> recs = [{"step": s, "loss_d": 1.0 / s, "loss_g": 0.5 * s, "d_real": 0.5} for s in (1, 2, 3)]
        >>> recs.append({"event": "alert", "alert": "oscillation", "step": 2})
        >>> with tempfile.TemporaryDirectory() as d:
        ...     p = plot_curves(recs, Path(d, "loss_curves.png"), title="demo")
        ...     p.name, p.read_bytes()[1:4], plot_curves([], Path(d, "empty.png"))
        ('loss_curves.png', b'PNG', None)
    """
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
