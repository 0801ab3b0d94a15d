"""Stop conditions, collapse/instability alerts, run-folder grids and TensorBoard logging."""

from pathlib import Path

import numpy as np
import pytest
import torch

from gmeval.errors import InvalidArgumentError
from gmeval.training.config import TrainConfig
from gmeval.training.runlog import read_jsonl
from gmeval.training.trainer import Trainer
from gmeval.utils.seeding import derive_seed

from ..conftest import needs_mnist

# the new modules are imported inside the tests that need them, so the tests of the cases
# (1, 2, 6) run, and fail, against the code before this change too


def monitors():
    import gmeval.training.monitors as m

    return m


def tensorboard_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("tensorboard") is not None


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny models train several times faster on one thread on a busy machine (docs/training.md, Threads)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def cfg(tmp_path, name="run", **kw):
    base = dict(model="mlp-gan", data="digits:train", out=str(tmp_path / name), steps=30, batch_size=32,
                log_every=10, sample_every=0, checkpoint_every=0, seed=3, grid_size=16)
    base.update(kw)
    return TrainConfig(**base)


def events(run, kind):
    return [r for r in read_jsonl(Path(run) / "log.jsonl") if r.get("event") == kind]


# -- issue case 1: a stop condition on a logged value fires at a log step, without any evaluation ------------
def test_stop_when_on_logged_value_without_evaluation(tmp_path):
    res = Trainer(cfg(tmp_path, steps=300, stop_when=["loss_d>=0"]), progress=False).run()
    assert res["stopped_by"] == "stop_when" and res["steps"] == 10
    assert events(tmp_path / "run", "stop_when")[0]["step"] == 10


def test_stop_when_checked_at_every_log_step_between_evaluations(tmp_path):
    def hook(trainer):
        return {"toy": 1.0}

    hook.keys = ("toy",)
    # toy holds from the first evaluation (step 20); loss_d>=0 always: the run stops at 20, and a
    # condition on loss_d alone would stop at 10 even though evaluations come every 20 steps
    res = Trainer(cfg(tmp_path, "a", steps=100, eval_every=20, stop_when=["toy>=1", "loss_d>=0"]), hooks=[hook],
                  progress=False).run()
    assert res["steps"] == 20
    res = Trainer(cfg(tmp_path, "b", steps=100, eval_every=20, stop_when=["loss_d>=0"]), hooks=[hook],
                  progress=False).run()
    assert res["steps"] == 10


# -- issue case 2: stop keys are validated at start -----------------------------------------------------------
def test_unknown_stop_key_is_a_typed_error_listing_the_keys(tmp_path):
    with pytest.raises(InvalidArgumentError, match=r"stop_when.*'d_fake', 'd_real'.*modes_covered>=1"):
        Trainer(cfg(tmp_path, stop_when=["modes_covered>=1"]), progress=False)
    assert not (tmp_path / "run").exists()  # refused before anything was written
    with pytest.raises(InvalidArgumentError, match="loss_recon"):
        Trainer(cfg(tmp_path, model="vae", stop_when=["d_real>=0.5"]), progress=False)


# -- detectors on synthetic logs ---------------------------------------------------------------------------------
def feed(watch, recs):
    out = []
    for r in recs:
        out += watch.update(r)
    return out


def test_discriminator_won_needs_a_full_window_and_alerts_once():
    Watch, t = monitors().Watch, monitors().Thresholds()
    recs = [{"step": s, "d_real": 0.99, "d_fake": 0.01, "loss_d": 0.02} for s in range(50, 1501, 50)]
    alerts = feed(Watch(thresholds=t), recs)
    assert [(a.kind, a.step) for a in alerts] == [("discriminator_won", 50 + t.d_won_steps)]
    assert "--loss wgan-gp" in alerts[0].hint
    # a single good record inside the window keeps it quiet; after it clears, it may alert again
    w = Watch()
    mixed = [dict(r, d_fake=0.2) if r["step"] in (300, 700) else r for r in recs]
    assert [a.step for a in feed(w, mixed)] == [1250]
    # WGAN-GP critic values are no probabilities: the detector is off
    assert feed(Watch(d_probabilities=False), recs) == []


def test_discriminator_loss_pinned_at_zero():
    Watch = monitors().Watch
    recs = [{"step": s, "d_real": 0.8, "d_fake": 0.3, "loss_d": 1e-4} for s in range(50, 801, 50)]
    alerts = feed(Watch(), recs)
    assert [a.kind for a in alerts] == ["discriminator_won"] and "loss_d" in alerts[0].message


def test_oscillation_detector():
    Watch = monitors().Watch
    swing = [{"step": s, "d_fake": 0.1 if (s // 50) % 2 else 0.6, "d_real": 0.7} for s in range(50, 1001, 50)]
    alerts = feed(Watch(), swing)
    assert [a.kind for a in alerts] == ["oscillation"]
    rng = np.random.default_rng(0)  # noise below the swing threshold: no alert
    calm = [{"step": s, "d_fake": 0.4 + 0.05 * rng.standard_normal(), "d_real": 0.7} for s in range(50, 3001, 50)]
    assert feed(Watch(), calm) == []


def test_z_independence_and_mode_collapse_must_persist_after_warmup():
    Watch, t = monitors().Watch, monitors().Thresholds()
    assert t.warmup_steps == t.persist_steps == 500  # the steps below assume these
    recs = [{"step": s, "pixel_std_z": 0.001, "monitor_mode_share": 0.1, "monitor_modes": 1.0}
            for s in range(250, 1501, 250)]
    alerts = feed(Watch(), recs)  # checks at 500 and 1000 (>= warmup) span 500 steps: alert at 1000
    assert sorted((a.kind, a.step) for a in alerts) == [("mode_collapse", 1000), ("z_independence", 1000)]
    # the WGAN-GP demo's pattern (docs/training.md): one class at step 500, ten at 1000: no alert
    demo = [{"step": 500, "pixel_std_z": 0.05, "monitor_mode_share": 0.1},
            {"step": 1000, "pixel_std_z": 0.11, "monitor_mode_share": 1.0},
            {"step": 1500, "pixel_std_z": 0.14, "monitor_mode_share": 1.0}]
    assert feed(Watch(), demo) == []
    # a collapse that persists between sparse checks (every 700 steps) alerts at the second check
    sparse = [{"step": s, "monitor_mode_share": 0.1} for s in (700, 1400, 2100)]
    assert [a.step for a in feed(Watch(), sparse)] == [1400]


def test_pixel_std_over_z_measures_dependence_on_z():
    from gmeval.models import build_model

    pixel_std_over_z = monitors().pixel_std_over_z

    torch.manual_seed(0)
    m = build_model("mlp-gan", image_shape=[1, 8, 8])
    z = m.sample_latent(32, torch.Generator().manual_seed(0))
    assert pixel_std_over_z(m, z) > 0.01
    # identical latents: zero up to float32 rounding. Not bitwise 0: under AVX2 MKL the rows of one GEMM
    # round differently by their position in the batch (measured 1.1e-8); T3 of docs/tolerances.md
    assert pixel_std_over_z(m, z[:1].repeat(32, 1)) < 1e-6


# -- alerts reach the log, the progress bar, the result and the curves ------------------------------------------
def test_alert_is_logged_printed_and_marked(tmp_path, monkeypatch, capsys):
    t = Trainer(cfg(tmp_path, steps=700, log_every=50), progress=False)
    monkeypatch.setattr(t.objective, "step", lambda next_batch, gen: {"loss_d": 0.01, "loss_g": 6.0, "d_real": 0.999,
                                                                        "d_fake": 0.001, "grad_norm_d": 0.1, "grad_norm_g": 1.0})
    drawn = []
    import matplotlib.axes

    real_axvline = matplotlib.axes.Axes.axvline
    monkeypatch.setattr(matplotlib.axes.Axes, "axvline", lambda self, x, **kw: drawn.append(x) or real_axvline(self, x, **kw))
    res = t.run()
    ev = events(tmp_path / "run", "alert")
    assert [(e["alert"], e["step"]) for e in ev] == [("discriminator_won", 550)] and ev[0]["hint"]
    assert res["alerts"] == ev
    assert "ALERT step 550: discriminator_won" in capsys.readouterr().err
    assert 550 in drawn and (tmp_path / "run" / "loss_curves.png").is_file()


def test_monitor_values_are_logged_every_monitor_step(tmp_path):
    calls = []

    def mode_check(trainer):
        calls.append(trainer.step)
        return {"monitor_modes": 10.0, "monitor_mode_share": 1.0}

    mode_check.keys = ("monitor_modes", "monitor_mode_share")
    res = Trainer(cfg(tmp_path, steps=40, monitor_every=20, stop_when=["pixel_std_z>=0"]), monitors=[mode_check],
                  progress=False).run()
    assert calls == [20] and res["steps"] == 20  # the stop condition reads a monitor value
    rec = [r for r in read_jsonl(tmp_path / "run" / "log.jsonl") if r.get("step") == 20 and "event" not in r][0]
    assert rec["monitor_mode_share"] == 1.0 and 0 < rec["pixel_std_z"] < 0.5


# -- issue case 6: autoencoder run folders show prior samples and reconstructions, labelled ----------------------
@pytest.mark.parametrize("model", ["ae", "vae"])
def test_autoencoder_run_folder_has_prior_samples_and_reconstructions(tmp_path, model):
    t = Trainer(cfg(tmp_path, model=model, steps=20, lr=1e-3, sample_every=10), progress=False)
    t.run()
    out = tmp_path / "run" / "samples"
    for f in ("final.png", "reconstructions.png", "step_0000010.png"):
        assert (out / f).is_file(), f
    grids = t.preview_grids(final=True)
    assert list(grids) == ["samples", "reconstructions"]
    images, _, caption = grids["samples"]
    assert "prior" in caption and "real | reconstruction" in grids["reconstructions"][2]
    m = t.model
    if model == "ae":  # fixed draws from the fitted Gaussian prior, not real/reconstruction pairs
        z = m.sample_latent(16, torch.Generator().manual_seed(derive_seed(3, "prior-grid")))
    else:
        z = t.fixed_z
    with torch.no_grad():
        m.eval()
        assert np.array_equal(images, m.to_uint8(m.decode(z)).numpy())
    real = t.fixed_real[:8].numpy()
    assert np.array_equal(grids["reconstructions"][0][0::2], real)


def test_cgan_grid_has_one_row_per_class(tmp_path):
    t = Trainer(cfg(tmp_path, model="cgan", steps=10, grid_size=30), progress=False)
    t.run()
    images, cols, caption = t.preview_grids()["samples"]
    assert cols == 3 and images.shape[0] == 30 and caption.startswith("rows: classes 0-9")
    m = t.model
    with torch.no_grad():
        m.eval()
        row3 = m.to_uint8(m.decode(t.fixed_z[:3], torch.full((3,), 3))).numpy()
    assert np.array_equal(images[9:12], row3)


# -- TensorBoard -------------------------------------------------------------------------------------------------
@pytest.mark.skipif(not tensorboard_available(), reason="tensorboard is not installed (pip install 'gmeval[tensorboard]')")
def test_tensorboard_scalars_grids_and_alerts(tmp_path, monkeypatch):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    t = Trainer(cfg(tmp_path, steps=600, log_every=50, sample_every=300, tensorboard=True), progress=False)
    monkeypatch.setattr(t.objective, "step", lambda next_batch, gen: {"loss_d": 0.01, "loss_g": 6.0, "d_real": 0.999,
                                                                        "d_fake": 0.001, "grad_norm_d": 0.1, "grad_norm_g": 1.0})
    t.run()
    acc = EventAccumulator(str(tmp_path / "run" / "tensorboard"), size_guidance={"tensors": 0, "images": 0}).Reload()
    tags = acc.Tags()
    assert {"loss_d", "d_real", "images_per_s"} <= set(tags["scalars"])
    assert [e.step for e in acc.Scalars("loss_d")] == list(range(50, 601, 50))
    assert "samples" in tags["images"] and len(acc.Images("samples")) >= 2  # steps 300, 600 (and the final grid)
    assert "alerts/discriminator_won/text_summary" in tags["tensors"]


# -- the documented collapse (docs/training.md), on MNIST -------------------------------------------------------
@needs_mnist
@pytest.mark.slow
def test_collapsing_mlp_gan_raises_a_collapse_alert_within_3000_steps(tmp_path):
    """The textbook MLP GAN with the non-saturating loss collapses (docs/training.md): ~30-90 s."""
    from gmeval.evaluation.hooks import ModeCheckHook

    c = TrainConfig(model="mlp-gan", data="mnist:train", out=str(tmp_path / "ns"), steps=3000, seed=0,
                    sample_every=0, checkpoint_every=0)  # one thread: the autouse fixture
    res = Trainer(c, monitors=[ModeCheckHook("mnist:train")], progress=False).run()
    kinds = {a["alert"] for a in res["alerts"]}
    assert kinds & {"mode_collapse", "z_independence"}, res["alerts"]
