"""The torch side of btfm.corpus, imported only when torch is: an IterableDataset whose
batches are tensors made from the loader's ring buffers without a copy."""

from __future__ import annotations

import torch
from torch.utils.data import IterableDataset

__all__ = ["TorchCorpusDataset"]


class TorchCorpusDataset(IterableDataset):
    """One epoch of a btfm.corpus.Loader per iteration, as dicts of tensors. The loader
    already batches, shuffles and shards (by its rank and world_size): wrap it in
    DataLoader(dataset, batch_size=None, num_workers=0) or iterate it directly. Tensors
    share the loader's buffers and are overwritten when the next batch is taken."""

    def __init__(self, loader):
        super().__init__()
        self.loader = loader

    def __len__(self):
        return len(self.loader)

    def __iter__(self):
        for batch in self.loader:
            yield {name: torch.from_numpy(array) for name, array in batch.items()}
