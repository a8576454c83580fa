"""Auto-DeepLab's retrain network in PyTorch, exactly as the TypeScript packages build it, and its
retraining with DistributedDataParallel into run folders the `adl` CLI reads (see README.md)."""
