"""Optional TensorBoard logging (`--tensorboard`): scalars, sample grids and alerts.

Uses `torch.utils.tensorboard`, which needs the `tensorboard` package (extra `gmeval[tensorboard]`).
Events go to `<run folder>/tensorboard`; view them with `tensorboard --logdir runs`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import require


def require_tensorboard():
    """torch.utils.tensorboard, or MissingDependencyError with the install command."""
    return require("torch.utils.tensorboard", "TensorBoard logging (--tensorboard)", extra="tensorboard",
                   package="tensorboard")


class TensorBoardLog:
    def __init__(self, run_dir, purge_step: int | None = None):
        tb = require_tensorboard()
        self.dir = Path(run_dir) / "tensorboard"
        # purge_step: on resume, events written after the checkpoint are hidden (as log.jsonl drops them)
        self.writer = tb.SummaryWriter(log_dir=str(self.dir), purge_step=purge_step)

    def record(self, rec: dict) -> None:
        step = int(rec["step"])
        for k, v in rec.items():
            if k not in ("step", "event") and isinstance(v, (int, float)) and not isinstance(v, bool):
                self.writer.add_scalar(k, v, step)

    def grid(self, tag: str, image_hwc: np.ndarray, step: int) -> None:
        self.writer.add_image(tag, image_hwc, step, dataformats="HWC")

    def alert(self, alert) -> None:
        self.writer.add_text(f"alerts/{alert.kind}", alert.line(), alert.step)

    def close(self) -> None:
        self.writer.flush()
        self.writer.close()
