"""Tolerances (docs/tolerances.md): torch.equal / exact equalities are B1-B5 (same machine and threads);
`approx`/`allclose` bounds are T1 (float64 formulas) or T3 (float32 across shapes), as each states.
"""

import shutil

import pytest
import torch

from gmeval.data import load_dataset
from gmeval.errors import WeightsError
from gmeval.models.classifier import load_classifier, manifest, weights_dir
from gmeval.training.classifier import accuracy


@pytest.mark.parametrize("dataset,minimum", [("mnist", 0.99), ("fashion-mnist", 0.90)])
def test_shipped_classifier_accuracy(mnist_root, dataset, minimum):
    model = load_classifier(dataset)
    test = load_dataset(f"{dataset}:test")
    acc = accuracy(model, torch.from_numpy(test.images), torch.from_numpy(test.labels))
    assert acc >= minimum
    assert acc == pytest.approx(manifest()[dataset]["test_accuracy"], abs=1e-9)  # what weights.json records
    x = torch.from_numpy(test.images[:5]).float() / 255
    assert model.features(x).shape == (5, 128) and model(x).shape == (5, 10)


def test_tampered_weights_are_refused(tmp_path, monkeypatch):
    import gmeval.models.classifier as clf

    fake_dir = tmp_path / "weights"
    shutil.copytree(weights_dir(), fake_dir)
    data = bytearray((fake_dir / "mnist_classifier.pt").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (fake_dir / "mnist_classifier.pt").write_bytes(bytes(data))
    monkeypatch.setattr(clf, "weights_dir", lambda: fake_dir)
    with pytest.raises(WeightsError, match="does not match the recorded"):
        load_classifier("mnist")
    (fake_dir / "mnist_classifier.pt").write_bytes(b"")
    with pytest.raises(WeightsError, match="cannot load|does not match"):
        load_classifier("mnist", path=fake_dir / "mnist_classifier.pt")
