"""Training: losses, the training loop, checkpoints, run logs, and the project's classifiers."""
