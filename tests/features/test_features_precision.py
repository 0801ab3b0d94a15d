"""Inception precision modes: canonical float32 (TF32 explicitly off on CUDA), opt-in bf16/fp16/tf32."""

from __future__ import annotations

import types

import pytest
import torch

from gmeval.errors import InvalidArgumentError
from gmeval.features import get_extractor
from gmeval.features import inception as inception_mod
from gmeval.features import precision as prec


@pytest.fixture
def fake_cuda_flags(monkeypatch):
    """Replace the CUDA matmul / cuDNN back-end flag holders (this is a CPU machine), TF32 on as PyTorch's cuDNN default."""
    matmul = types.SimpleNamespace(allow_tf32=True)
    cudnn = types.SimpleNamespace(allow_tf32=True)
    monkeypatch.setattr(torch.backends.cuda, "matmul", matmul)
    monkeypatch.setattr(torch.backends, "cudnn", cudnn)
    return matmul, cudnn


@pytest.mark.parametrize("precision, inside", [("float32", False), ("bf16", False), ("fp16", False), ("tf32", True)])
def test_cuda_tf32_flags_set_during_the_pass_and_restored(fake_cuda_flags, precision, inside):
    matmul, cudnn = fake_cuda_flags
    with prec.precision_context(precision, "cuda"):
        assert (matmul.allow_tf32, cudnn.allow_tf32) == (inside, inside)
    assert (matmul.allow_tf32, cudnn.allow_tf32) == (True, True)
    matmul.allow_tf32 = cudnn.allow_tf32 = False  # the caller's choice is restored, whatever it was
    with pytest.raises(RuntimeError):
        with prec.precision_context(precision, "cuda"):
            raise RuntimeError("failure inside the pass")
    assert (matmul.allow_tf32, cudnn.allow_tf32) == (False, False)


def test_canonical_extraction_runs_with_tf32_off(fake_cuda_flags, inception, mixed_images, monkeypatch):
    """The extractor's forward enters the guard around the network; the guard is pointed at 'cuda'."""
    matmul, cudnn = fake_cuda_flags
    seen = []
    real_ctx = prec.precision_context
    monkeypatch.setattr(inception_mod, "precision_context", lambda p, device: real_ctx(p, "cuda"))
    net_forward = inception.net.forward

    def spy(x, layers):
        seen.append((matmul.allow_tf32, cudnn.allow_tf32, x.dtype))
        return net_forward(x, layers)

    monkeypatch.setattr(inception.net, "forward", spy)
    digits, _ = mixed_images
    inception(digits[:1], ["pool1"])
    assert seen == [(False, False, torch.float32)]
    assert (matmul.allow_tf32, cudnn.allow_tf32) == (True, True)


def test_cpu_availability_follows_the_cpu_flags(monkeypatch):
    monkeypatch.setattr(prec, "_cpu_flags", lambda: frozenset({"avx2", "avx512f"}))
    assert prec.available_precisions("cpu")[0] == ("float32",)
    with pytest.raises(prec.PrecisionUnavailableError, match=r"`precision`.*\('float32',\).*got 'bf16'"):
        prec.require_precision("bf16", "cpu")
    monkeypatch.setattr(prec, "_cpu_flags", lambda: frozenset({"amx_bf16"}))
    assert prec.available_precisions("cpu")[0] == ("float32", "bf16")
    for p in ("fp16", "tf32"):
        with pytest.raises(prec.PrecisionUnavailableError, match=f"got '{p}'"):
            prec.require_precision(p, "cpu")


def test_unknown_precision_is_a_typed_error(fid_helper_path):
    with pytest.raises(InvalidArgumentError, match=r"`precision`.*'float32', 'bf16', 'fp16', 'tf32'.*got 'int8'"):
        get_extractor("inception", precision="int8", weights=fid_helper_path)


def test_unavailable_precision_raises_at_forward(fid_helper_path, mixed_images):
    ext = get_extractor("inception", precision="fp16", weights=fid_helper_path)  # fp16 is a CUDA mode
    with pytest.raises(prec.PrecisionUnavailableError, match="fp16"):
        ext(mixed_images[0][:1], ["pool1"])


@pytest.mark.skipif("bf16" not in prec.available_precisions("cpu")[0],
                    reason="this CPU has neither AMX-BF16 nor AVX512-BF16: no native bf16 mode")
def test_bf16_mode_is_recorded_and_close(fid_helper_path, inception, mixed_images):
    ext = get_extractor("inception", precision="bf16", weights=fid_helper_path)
    assert ext.signature()["precision"] == "bf16" and inception.signature()["precision"] == "float32"
    digits, _ = mixed_images
    a = inception(digits[:2], ["pool2"])["pool2"]
    b = ext(digits[:2], ["pool2"])["pool2"]
    assert b.dtype == torch.float32
    # bf16 keeps 8 significant bits (relative rounding 2^-9 ~ 2e-3 per value); through 5 convolutions the
    # errors add up in quadrature to a few 1e-2 relative of the activations' scale: bound at 5e-2 of max |a|
    err = float((a - b).abs().max() / a.abs().max())
    assert 0 < err < 5e-2
