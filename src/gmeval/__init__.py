"""gmeval: train classic generative models and evaluate them honestly.

Layers, lowest first. Each is its own subpackage and imports only from itself and the layers listed
before it (tests/test_architecture.py checks every import against this table, so it cannot drift):

    errors, utils          shared foundations (typed errors, atomic IO, hashing, seeds)
    distributed            torch.distributed helpers (torchrun): rank, sharding, numpy collectives
    data                   dataset registry, IDX/folder/array sources -> uint8 N x C x H x W
    stats                  streaming float64 statistics
    models                 generative models (one sampling contract) and the MNIST classifiers
    training               losses, the training loop, checkpoints, run logs
    features               feature extractors (Inception-v3 port, project classifiers, text encoder)
    metrics                the metric engine: pure formulas + stateful classes (image/, text/), scores
    sources                resolves any user input (dataset, folder, array, checkpoint, callable)
    reports                HTML/JSON rendering of results (knows no evaluation code)
    evaluation             evaluate / compare / sanity in stages, caching, signatures
    human                  HYPE human-evaluation web app
    cli                    thin argparse shell over the library; starts torch.distributed once
"""

__version__ = "0.1.0"
