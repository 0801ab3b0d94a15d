"""The distributed helpers in one process: identities, sharding rules, chunked sampling (no processes started).

Tolerances (docs/tolerances.md): torch.equal / exact equalities are B1-B5 (same machine and threads);
`approx`/`allclose` bounds are T1 (float64 formulas) or T3 (float32 across shapes), as each states.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gmeval import distributed as gdist
from gmeval.errors import InvalidArgumentError
from gmeval.models import build_model
from gmeval.sources import SAMPLE_CHUNK, load_images, sample_chunks


@pytest.fixture(autouse=True)
def _no_torchrun_env(monkeypatch):
    for var in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT", "GMEVAL_DIST_TIMEOUT"):
        monkeypatch.delenv(var, raising=False)


def test_single_process_needs_no_process_group():
    assert not gdist.launched_by_torchrun()
    assert gdist.init_distributed() is False
    assert gdist.rank_world() == (0, 1) and gdist.is_rank_zero() and not gdist.is_distributed()
    assert not torch.distributed.is_initialized()
    x = np.arange(6, dtype=np.float32).reshape(3, 2)
    assert gdist.all_reduce_sum({"a": x})["a"].dtype == np.float64
    assert np.array_equal(gdist.all_reduce_sum(x), x)
    assert [a.tolist() for a in gdist.all_gather_arrays(x)] == [x.tolist()]
    assert gdist.gather_in_order(x, [0, 1, 2], 3) is x
    assert np.array_equal(gdist.gather_in_order(x, [2, 0, 1], 3), x[[1, 2, 0]])
    assert gdist.broadcast_object({"k": 1}) == {"k": 1} and gdist.run_on_rank_zero(lambda: 7) == 7
    with gdist.rank_zero_first():
        pass
    gdist.barrier()
    assert gdist.all_reduce_mean({"loss": 2.5}) == {"loss": 2.5}


def test_world_size_one_under_torchrun_is_single_process(monkeypatch):
    monkeypatch.setenv("RANK", "0")
    monkeypatch.setenv("WORLD_SIZE", "1")
    monkeypatch.setenv("MASTER_ADDR", "127.0.0.1")
    monkeypatch.setenv("MASTER_PORT", "29500")
    assert not gdist.launched_by_torchrun() and gdist.init_distributed() is False
    assert not torch.distributed.is_initialized()


def test_timeout_and_backend_from_environment(monkeypatch):
    assert gdist.timeout_seconds() == 1800.0
    monkeypatch.setenv("GMEVAL_DIST_TIMEOUT", "12.5")
    assert gdist.timeout_seconds() == 12.5
    monkeypatch.setenv("GMEVAL_DIST_TIMEOUT", "soon")
    with pytest.raises(InvalidArgumentError, match=r"GMEVAL_DIST_TIMEOUT.*positive number of seconds.*'soon'"):
        gdist.timeout_seconds()
    monkeypatch.setenv("GMEVAL_DIST_BACKEND", "mpi")
    from gmeval.distributed.env import default_backend

    with pytest.raises(InvalidArgumentError, match=r"GMEVAL_DIST_BACKEND.*\('gloo', 'nccl'\).*'mpi'"):
        default_backend()


@pytest.mark.parametrize("n", [0, 1, 5, 360, 1001])
@pytest.mark.parametrize("block", [1, 7, 64])
def test_block_shards_partition_the_items(n, block):
    for world in (1, 2, 3, 8):
        shards = [gdist.shard_indices(n, r, world, block=block) for r in range(world)]
        joined = np.sort(np.concatenate(shards))
        assert np.array_equal(joined, np.arange(n))  # every item once, none padded
        assert max(map(len, shards)) - min(map(len, shards)) <= block
        for r, s in enumerate(shards):  # whole blocks r, r + W, ... of the global index space, in order
            assert np.array_equal(s, [i for i in range(n) if (i // block) % world == r])
    with pytest.raises(InvalidArgumentError, match=r"`rank` must be an integer in \[0, 2\)"):
        gdist.shard_indices(10, 2, 2)
    with pytest.raises(InvalidArgumentError, match=r"`block` must be a positive integer"):
        gdist.shard_indices(10, 0, 2, block=0)


def test_chunks_cover_indices_and_seeds_are_rank_independent():
    bounds = gdist.chunk_bounds(2500)
    assert bounds == [(0, 1000), (1000, 2000), (2000, 2500)] and SAMPLE_CHUNK == gdist.SAMPLE_CHUNK == 1000
    for world in (1, 2, 3, 4):
        owned = sorted(c for r in range(world) for c in gdist.rank_chunks(len(bounds), r, world))
        assert owned == [0, 1, 2]
    assert gdist.chunk_seed(7, 0) == 7
    seeds = {gdist.chunk_seed(7, c) for c in range(50)}
    assert len(seeds) == 50 and gdist.chunk_seed(7, 3) != gdist.chunk_seed(8, 3)
    assert gdist.rank_seed(5, "noise", rank=0) != gdist.rank_seed(5, "noise", rank=1)


@pytest.mark.parametrize("model_name", ["mlp-gan", "cgan"])
def test_sharded_sampling_gives_the_single_process_samples(model_name):
    """Any split of the chunks over W ranks, gathered by index, equals the one-process samples."""
    model = build_model(model_name, image_shape=(1, 8, 8), **({"num_classes": 10} if model_name == "cgan" else {}))
    n, seed = 2300, 4
    whole = load_images(model, n=n, seed=seed)
    assert whole.images.shape == (n, 1, 8, 8)
    for world in (2, 3, 5):
        parts = [sample_chunks(model, n, seed, gdist.rank_chunks(3, r, world)) for r in range(world)]
        out = np.empty_like(whole.images)
        for imgs, idx in parts:
            out[idx] = imgs
        assert np.array_equal(out, whole.images), world
    # the first chunk is exactly the model's own contract, and chunks differ from one another
    assert np.array_equal(whole.images[:1000], model.sample(1000, seed=seed).numpy())
    assert np.array_equal(load_images(model, n=300, seed=seed).images, model.sample(300, seed=seed).numpy())
    assert not np.array_equal(whole.images[1000:1300], whole.images[:300])
    if model.conditional:
        assert np.array_equal(whole.labels, np.arange(n) % 10)


def test_empty_rank_gets_typed_empty_chunk():
    model = build_model("mlp-gan", image_shape=(1, 8, 8))
    imgs, idx = sample_chunks(model, 100, 0, [])
    assert imgs.shape == (0, 1, 8, 8) and imgs.dtype == np.uint8 and idx.shape == (0,)
