"""Collapse and instability alerts raised while a run trains.

`Watch` reads the same records the run writes to log.jsonl, one at a time, and returns an `Alert`
when a detector's condition starts to hold (edge-triggered: a condition that stays true alerts
once; it may alert again after it has cleared). The Trainer writes each alert to the log as an
event record, prints it above the progress bar, marks it on loss_curves.png and sends it to
TensorBoard. Detectors (thresholds in `Thresholds`, documented in docs/training.md):

- discriminator_won: mean D(x) >= d_real_min and mean D(G(z)) <= d_fake_max held for
  `d_won_steps` steps (in every record of the span), or loss_d <= d_loss_floor (pinned at 0) did.
  Only for losses whose D outputs are probabilities (not WGAN-GP, whose critic has no scale).
- oscillation: within the last `osc_steps` steps, mean D(G(z)) reverses direction at least
  `osc_reversals` times with swings of at least `osc_swing` (probability-valued D outputs only).
- z_independence: `pixel_std_z` (mean over pixels of the per-pixel standard deviation, in [0, 1]
  units, of the images decoded from the run's fixed latent batch) below `pixel_std_min`.
- mode_collapse: `monitor_mode_share` (classes of the domain classifier holding >= 1 % of a small
  fixed-seed sample batch, divided by the number of classes) below `mode_share_min`.
The last two read values computed every `monitor_every` steps. They alert when their condition has
held for `persist_steps` steps (in every check of the span; so at the second check at the earliest),
counting only checks from `warmup_steps` on: an untrained generator's blur is often put in one class
(the WGAN-GP demo covers 1 class at step 500 and 10 at step 1000), a collapsed one stays collapsed.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import torch

#: record keys produced by the monitor checks themselves (pixel_std_z) and by mode-check hooks
PIXEL_STD_KEY = "pixel_std_z"
MODE_SHARE_KEY = "monitor_mode_share"
MODES_KEY = "monitor_modes"


@dataclass(frozen=True)
class Thresholds:
    """The detectors' thresholds (docs/training.md); the defaults suit MNIST-sized runs.

    Attributes:
        d_real_min: discriminator_won: mean D(x) at least this ...
        d_fake_max: ... and mean D(G(z)) at most this ...
        d_loss_floor: ... or loss_d at most this (pinned at 0) ...
        d_won_steps: ... in every record of this many steps.
        osc_steps: oscillation: the window (steps).
        osc_swing: the smallest change of mean D(G(z)) between records that counts as a swing.
        osc_reversals: direction reversals of such swings within the window.
        pixel_std_min: z_independence: pixel std over z below this (uint8 / 255 units).
        mode_share_min: mode_collapse: fewer than this share of the classes covered.
        persist_steps: z_independence / mode_collapse: must hold this long ...
        warmup_steps: ... counting checks from this step on.

    Example:
        >>> t = Thresholds(d_won_steps=100)
        >>> t.d_won_steps, t.d_real_min, t.persist_steps
        (100, 0.95, 500)
    """

    d_real_min: float = 0.95      # discriminator_won: mean D(x) at least this ...
    d_fake_max: float = 0.05      # ... and mean D(G(z)) at most this ...
    d_loss_floor: float = 1e-3    # ... or loss_d at most this (pinned at 0) ...
    d_won_steps: int = 500        # ... in every record of this many steps
    osc_steps: int = 1000         # oscillation: window (steps)
    osc_swing: float = 0.25       # smallest change of mean D(G(z)) between records that counts as a swing
    osc_reversals: int = 4        # direction reversals of such swings within the window
    pixel_std_min: float = 0.03   # z_independence: pixel std over z below this (uint8 / 255 units)
    mode_share_min: float = 0.5   # mode_collapse: fewer than this share of the classes covered
    persist_steps: int = 500      # z_independence / mode_collapse: must hold this long ...
    warmup_steps: int = 500       # ... counting checks from this step on


HINTS = {
    "discriminator_won": "D separates real from fake perfectly, so G's gradients carry little signal: try --loss "
                         "wgan-gp, a lower --lr-d, or fewer --d-steps",
    "oscillation": "D and G take turns winning: lower both learning rates or try --loss wgan-gp",
    "z_independence": "G's output no longer depends on z (mode collapse): try --loss wgan-gp or restart from an "
                      "earlier checkpoint with a lower --lr",
    "mode_collapse": "samples cover few classes of the domain classifier: try --loss wgan-gp (see docs/training.md)",
}


@dataclass(frozen=True)
class Alert:
    """One alert: which detector fired, at which step, what it saw and what to try.

    Attributes:
        kind: the detector ("discriminator_won", "oscillation", "z_independence", "mode_collapse").
        step: the step of the record that started it.
        message: what was measured.
        hint: what to try.

    Example:
        >>> a = Alert("oscillation", 700, "mean D(G(z)) reversed 4 times", "lower both learning rates")
        >>> a.line()
        'ALERT step 700: oscillation: mean D(G(z)) reversed 4 times. Hint: lower both learning rates.'
        >>> a.record()["event"], a.record()["alert"]
        ('alert', 'oscillation')
    """

    kind: str
    step: int
    message: str
    hint: str

    def record(self) -> dict:
        """The event record written to log.jsonl."""
        return {"event": "alert", "alert": self.kind, "step": self.step, "message": self.message, "hint": self.hint}

    def line(self) -> str:
        """The alert as one printable line.

        Returns:
            "ALERT step S: KIND: MESSAGE. Hint: HINT."

        Example:
            >>> Alert("mode_collapse", 5, "1 class", "try wgan-gp").line()
            'ALERT step 5: mode_collapse: 1 class. Hint: try wgan-gp.'
        """
        return f"ALERT step {self.step}: {self.kind}: {self.message}. Hint: {self.hint}."


class Watch:
    """Feed records in step order with `update(record)`; returns the alerts that start at this record.

    Args:
        d_probabilities: whether d_real / d_fake are probabilities (False for a WGAN critic: the
            discriminator_won and oscillation detectors are then off).
        thresholds: the detectors' thresholds (None: `Thresholds()`).

    Example:
        >>> w = Watch(thresholds=Thresholds(d_won_steps=20))
        >>> won = {"d_real": 0.99, "d_fake": 0.01, "loss_d": 0.02}
        >>> [[a.kind for a in w.update({"step": s, **won})] for s in (10, 20, 30, 40)]  # held 20 steps at 30
        [[], [], ['discriminator_won'], []]
        >>> w.update({"event": "alert", "step": 40})  # event records are ignored
        []
    """

    def __init__(self, d_probabilities: bool = True, thresholds: Thresholds | None = None):
        self.t = thresholds or Thresholds()
        self.d_probabilities = d_probabilities
        self.history: deque = deque()  # records of the last max(d_won_steps, osc_steps) steps, and one older
        self.checks: dict[str, deque] = {PIXEL_STD_KEY: deque(), MODE_SHARE_KEY: deque()}  # sparse monitor values
        self.active: dict[str, bool] = {}

    def _window(self, steps: int) -> list[dict]:
        last = self.history[-1]["step"]
        return [r for r in self.history if r["step"] > last - steps]

    @staticmethod
    def _held_for(recs, pred, steps: int) -> bool:
        """Whether `pred` held in every record since the last one at least `steps` before the newest."""
        if not recs:
            return False
        now = recs[-1]["step"]
        starts = [i for i, r in enumerate(recs) if r["step"] <= now - steps]
        return bool(starts) and all(pred(r) for r in list(recs)[starts[-1]:])

    def _discriminator_won(self, rec) -> str | None:
        t = self.t
        if not self.d_probabilities or "d_real" not in rec:
            return None
        recs = [r for r in self.history if "d_real" in r]
        if self._held_for(recs, lambda r: r["d_real"] >= t.d_real_min and r["d_fake"] <= t.d_fake_max, t.d_won_steps):
            return (f"mean D(x) >= {t.d_real_min} and D(G(z)) <= {t.d_fake_max} for {t.d_won_steps} steps "
                    f"(now {rec['d_real']:.3f} / {rec['d_fake']:.4f})")
        if self._held_for(recs, lambda r: r.get("loss_d", 1.0) <= t.d_loss_floor, t.d_won_steps):
            return f"loss_d <= {t.d_loss_floor} for {t.d_won_steps} steps (now {rec['loss_d']:.2g})"
        return None

    def _monitored(self, key: str, rec: dict, pred) -> bool:
        recs = [r for r in self.checks[key] if r["step"] >= self.t.warmup_steps]
        return key in rec and self._held_for(recs, pred, self.t.persist_steps)

    def _oscillation(self, rec) -> str | None:
        t = self.t
        vals = [r["d_fake"] for r in self._window(t.osc_steps) if "d_fake" in r]
        if not self.d_probabilities or len(vals) < 3:
            return None
        swings = [b - a for a, b in zip(vals, vals[1:]) if abs(b - a) >= t.osc_swing]
        reversals = sum(1 for a, b in zip(swings, swings[1:]) if a * b < 0)
        if reversals >= t.osc_reversals:
            return f"mean D(G(z)) reversed {reversals} times by >= {t.osc_swing} within {t.osc_steps} steps"
        return None

    def _z_independence(self, rec) -> str | None:
        t = self.t
        if self._monitored(PIXEL_STD_KEY, rec, lambda r: r[PIXEL_STD_KEY] < t.pixel_std_min):
            return f"pixel std over z is {rec[PIXEL_STD_KEY]:.4f} (< {t.pixel_std_min} for {t.persist_steps} steps)"
        return None

    def _mode_collapse(self, rec) -> str | None:
        t = self.t
        if self._monitored(MODE_SHARE_KEY, rec, lambda r: r[MODE_SHARE_KEY] < t.mode_share_min):
            modes = rec.get(MODES_KEY)
            return (f"samples cover {f'{modes:g} classes, ' if modes is not None else ''}a share of "
                    f"{rec[MODE_SHARE_KEY]:.2f} of the classes (< {t.mode_share_min} for {t.persist_steps} steps)")
        return None

    DETECTORS = ("discriminator_won", "oscillation", "z_independence", "mode_collapse")

    def update(self, rec: dict) -> list[Alert]:
        """Read the next record; return the alerts whose condition starts to hold at it.

        Args:
            rec: a log record with a "step" (records with an "event" are ignored).

        Returns:
            A list of Alert, usually empty; a condition that stays true alerts once.

        Example:
            >>> Watch().update({"step": 1, "d_real": 0.5, "d_fake": 0.5})
            []
        """
        if "step" not in rec or rec.get("event") is not None:
            return []
        self.history.append(rec)
        horizon = max(self.t.d_won_steps, self.t.osc_steps)
        for key, q in self.checks.items():
            if key in rec:
                q.append(rec)
        for q, h in [(self.history, horizon)] + [(q, self.t.persist_steps) for q in self.checks.values()]:
            while len(q) > 2 and q[1]["step"] <= rec["step"] - h:
                q.popleft()  # keep one record older than the window: it starts a full span
        alerts = []
        for kind in self.DETECTORS:
            msg = getattr(self, f"_{kind}")(rec)
            if msg is not None and not self.active.get(kind):
                alerts.append(Alert(kind, int(rec["step"]), msg, HINTS[kind]))
            if msg is not None or self._checked(kind, rec):
                self.active[kind] = msg is not None
        return alerts

    @staticmethod
    def _checked(kind: str, rec: dict) -> bool:
        """Whether this record carries what `kind` reads (a record without it leaves the state alone)."""
        key = {"z_independence": PIXEL_STD_KEY, "mode_collapse": MODE_SHARE_KEY}.get(kind, "d_fake")
        return key in rec


@torch.no_grad()
def pixel_std_over_z(model, z: torch.Tensor) -> float:
    """Mean over pixels of the per-pixel standard deviation over the latent batch `z`, in [0, 1] units.

    A conditional model decodes every latent with the same label (0), so the spread measures the
    dependence on z alone, not the variety between classes.

    Args:
        model: a generative model with `decode`, `to_unit` and `conditional`.
        z: a latent batch, N x latent_dim.

    Returns:
        A float in [0, 1] (0 when every latent decodes to the same image).

    Example:
        >>> import torch
        >>> from gmeval.models import build_model
        >>> m = build_model("vae", image_shape=(1, 8, 8), latent_dim=2, hidden=[16])
        >>> z = torch.randn(16, 2, generator=torch.Generator().manual_seed(0))
        >>> 0.0 < pixel_std_over_z(m, z) <= 1.0, pixel_std_over_z(m, z[:1].repeat(16, 1)) < 1e-6, m.training
        (True, True, True)
    """
    was = model.training
    model.eval()
    try:
        dev = next(model.parameters()).device
        y = torch.zeros(len(z), dtype=torch.long, device=dev) if model.conditional else None
        x = model.to_unit(model.decode(z.to(dev), y)).clamp(0, 1).double()
    finally:
        model.train(was)
    return float(x.std(0).mean())
