"""Train the project's MNIST / Fashion-MNIST classifiers (deterministic given the seed)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from tqdm import tqdm

from ..data import load_dataset
from ..models.classifier import MNISTClassifier, weights_dir
from ..utils.io import atomic_save_torch, atomic_write_text, sha256_file
from ..utils.seeding import derive_seed


@torch.no_grad()
def accuracy(model, images_u8: torch.Tensor, labels: torch.Tensor, batch_size: int = 1000) -> float:
    """Share of `images_u8` whose argmax logit is their label (the model is put in eval mode).

    Args:
        model: a classifier taking float images in [0, 1], N x C x H x W, returning N x K logits.
        images_u8: uint8 images, N x C x H x W.
        labels: int64 class labels, shape N.
        batch_size: images per forward pass.

    Returns:
        The accuracy, a float in [0, 1].

    Example:
        >>> import torch
        >>> images = torch.tensor([[[[9, 0, 0]]], [[[0, 0, 9]]], [[[0, 9, 0]]]], dtype=torch.uint8)  # 3 x 1 x 1 x 3
        >>> accuracy(torch.nn.Flatten(), images, torch.tensor([0, 2, 0]), batch_size=2)  # logits = pixels
        0.6666666666666666
    """
    model.eval()
    correct = 0
    for i in range(0, len(images_u8), batch_size):
        logits = model(images_u8[i:i + batch_size].float() / 255.0)
        correct += int((logits.argmax(1) == labels[i:i + batch_size]).sum())
    return correct / len(images_u8)


def train_classifier(dataset: str = "mnist", seed: int = 0, epochs: int = 4, batch_size: int = 128, lr: float = 2e-3,
                     data_root=None, out: str | Path | None = None, progress: bool = True) -> dict:
    """Train, evaluate on the test split, write weights + manifest entry atomically. Returns the entry.

    Deterministic given the seed (initialisation, data order and augmentation use derived seeds).
    The weights go to `<out>/<dataset>_classifier.pt` and the entry into `<out>/weights.json`.

    Args:
        dataset: "mnist" or "fashion-mnist".
        seed: the seed of every random number.
        epochs: passes over the training split.
        batch_size: images per step.
        lr: Adam's peak learning rate (one-cycle schedule).
        data_root: folder holding the dataset files (None: $GMEVAL_DATA, cache, download).
        out: weights folder (None: the package's weights folder).
        progress: show a tqdm bar per epoch.

    Returns:
        The manifest entry: file, sha256, test_accuracy, seed, epochs, batch_size, lr, train_seconds,
        torch, command.

    Raises:
        InvalidArgumentError: unknown dataset.
        DatasetNotFoundError: the dataset files cannot be found.

    Example:
        >>> train_classifier("cifar", progress=False)
        Traceback (most recent call last):
        ...
        gmeval.errors.InvalidArgumentError: Argument `dataset` must be one of ['digits', 'fashion-mnist', 'mnist'] (optionally with ':split'), but got 'cifar:train'.
    """
    train = load_dataset(f"{dataset}:train", data_root)
    test = load_dataset(f"{dataset}:test", data_root)
    x, y = torch.from_numpy(train.images), torch.from_numpy(train.labels)
    with torch.random.fork_rng():
        torch.manual_seed(derive_seed(seed, "classifier-init"))
        model = MNISTClassifier(dataset)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    steps_per_epoch = (len(x) + batch_size - 1) // batch_size
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=epochs * steps_per_epoch)
    t0 = time.time()
    for epoch in range(epochs):
        model.train()
        g = torch.Generator().manual_seed(derive_seed(seed, "classifier-data", epoch))
        perm = torch.randperm(len(x), generator=g)
        bar = tqdm(range(steps_per_epoch), desc=f"{dataset} epoch {epoch + 1}/{epochs}", disable=not progress)
        for i in bar:
            idx = perm[i * batch_size:(i + 1) * batch_size]
            xb = x[idx].float() / 255.0
            # light augmentation: random shifts of up to 2 pixels, drawn from the seeded generator
            shifts = torch.randint(-2, 3, (2,), generator=g)
            xb = torch.roll(xb, shifts=(int(shifts[0]), int(shifts[1])), dims=(2, 3))
            loss = F.cross_entropy(model(xb), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            if i % 50 == 0:
                bar.set_postfix(loss=f"{loss.item():.4f}")
    train_time = time.time() - t0
    acc = accuracy(model, torch.from_numpy(test.images), torch.from_numpy(test.labels))
    out_dir = Path(out) if out is not None else weights_dir()
    fname = f"{dataset.replace('-', '_')}_classifier.pt"
    atomic_save_torch(model.state_dict(), out_dir / fname)
    entry = {
        "file": fname, "sha256": sha256_file(out_dir / fname), "test_accuracy": acc, "seed": seed, "epochs": epochs,
        "batch_size": batch_size, "lr": lr, "train_seconds": round(train_time, 1), "torch": torch.__version__,
        "command": f"gmeval classifier train {dataset} --seed {seed} --epochs {epochs}",
    }
    man_path = out_dir / "weights.json"
    man = json.loads(man_path.read_text()) if man_path.is_file() else {}
    man[dataset] = entry
    atomic_write_text(man_path, json.dumps(man, indent=2, sort_keys=True) + "\n")
    return entry
