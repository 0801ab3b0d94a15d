"""gmeval: train classic generative models and evaluate them honestly.

Layers (each in its own subpackage; lower layers never import higher ones):

    errors, utils          shared foundations (typed errors, atomic IO, hashing, seeds)
    data                   dataset registry, IDX/folder/array sources -> uint8 N x C x H x W
    models                 generative models (one sampling contract) and the MNIST classifiers
    training               losses, the training loop, checkpoints, run logs
    features               feature extractors (Inception-v3 port, project classifiers, text encoder)
    stats                  streaming float64 statistics
    metrics                pure metric formulas + stateful classes (image/, text/)
    sources                resolves any user input (dataset, folder, array, checkpoint, callable)
    evaluation             one feature pass -> many metrics, caching, signatures
    reports                HTML/JSON reports
    human                  HYPE human-evaluation web app
    distributed            torch.distributed helpers (torchrun)
    cli                    thin argparse shell over the library
"""

__version__ = "0.1.0"
