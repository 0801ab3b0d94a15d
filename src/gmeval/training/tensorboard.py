"""Optional TensorBoard logging (`--tensorboard`): scalars, sample grids and alerts.

Uses `torch.utils.tensorboard`, which needs the `tensorboard` package (extra `gmeval[tensorboard]`).
Events go to `<run folder>/tensorboard`; view them with `tensorboard --logdir runs`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import require


def require_tensorboard():
    """torch.utils.tensorboard, or MissingDependencyError with the install command.

    Returns:
        The `torch.utils.tensorboard` module.

    Raises:
        MissingDependencyError: if the tensorboard package is not installed, with the install command.

    Example:
        >>> import sys
        >>> from unittest import mock
        >>> require_tensorboard().__name__
        'torch.utils.tensorboard'
        >>> with mock.patch.dict(sys.modules, {"torch.utils.tensorboard": None}):  # as if not installed
        ...     require_tensorboard()
        Traceback (most recent call last):
        ...
        gmeval.errors.MissingDependencyError: TensorBoard logging (--tensorboard) needs the optional package `tensorboard`, which is not installed. Install it with: pip install 'gmeval[tensorboard]'
    """
    return require("torch.utils.tensorboard", "TensorBoard logging (--tensorboard)", extra="tensorboard",
                   package="tensorboard")


class TensorBoardLog:
    """Scalars, sample grids and alerts of a run, written to `<run_dir>/tensorboard`.

    Args:
        run_dir: the run folder.
        purge_step: on resume, the first step to write again (events from it on are hidden).

    Raises:
        MissingDependencyError: if the tensorboard package is not installed.

    Example:
        >>> import tempfile
        >>> import numpy as np
        >>> from gmeval.training.monitors import Alert
        >>> with tempfile.TemporaryDirectory() as d:
        ...     tb = TensorBoardLog(d)
        ...     tb.record({"step": 1, "loss_g": 0.5, "event": None})
        ...     tb.grid("samples", np.zeros((8, 8, 3), np.uint8), 1)
        ...     tb.alert(Alert("oscillation", 1, "D and G swing", "lower the lr"))
        ...     tb.close()
        ...     tb.dir.name, any(tb.dir.iterdir())
        ('tensorboard', True)
    """

    def __init__(self, run_dir, purge_step: int | None = None):
        tb = require_tensorboard()
        self.dir = Path(run_dir) / "tensorboard"
        # purge_step: on resume, events written after the checkpoint are hidden (as log.jsonl drops them)
        self.writer = tb.SummaryWriter(log_dir=str(self.dir), purge_step=purge_step)

    def record(self, rec: dict) -> None:
        """Add every numeric value of a log record as a scalar at the record's step.

        Args:
            rec: a log.jsonl record with a "step".
        """
        step = int(rec["step"])
        for k, v in rec.items():
            if k not in ("step", "event") and isinstance(v, (int, float)) and not isinstance(v, bool):
                self.writer.add_scalar(k, v, step)

    def grid(self, tag: str, image_hwc: np.ndarray, step: int) -> None:
        """Add a sample grid image.

        Args:
            tag: the image's name in TensorBoard.
            image_hwc: uint8 H x W x 3.
            step: the training step.
        """
        self.writer.add_image(tag, image_hwc, step, dataformats="HWC")

    def alert(self, alert) -> None:
        """Add an Alert's line as text under "alerts/<kind>".

        Args:
            alert: a gmeval.training.monitors.Alert.
        """
        self.writer.add_text(f"alerts/{alert.kind}", alert.line(), alert.step)

    def close(self) -> None:
        """Flush and close the event file."""
        self.writer.flush()
        self.writer.close()
