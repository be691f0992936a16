"""Data-parallel training under ``torchrun``: process group from the environment, DDP wrapper, batch shards.

``torchrun --nproc_per_node N -m relx train ...`` starts N processes; each featurizes the data, takes
its share of every global batch (``trainer.batch_size`` documents, split by rank), and DistributedDataParallel
averages the gradients (NCCL on GPUs, gloo on CPU). Every rank evaluates dev the same way (identical
weights, so identical decisions); only rank 0 writes checkpoints, predictions and results.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import torch


@dataclass
class Dist:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def shard(self, idx: list[int]) -> list[int]:
        """This rank's part of one global batch (every rank keeps the whole batch when it is smaller than the world)."""
        return idx[self.rank :: self.world] if self.enabled and len(idx) >= self.world else idx

    def wrap(self, model: torch.nn.Module, device: str) -> torch.nn.Module:
        if not self.enabled:
            return model
        from torch.nn.parallel import DistributedDataParallel

        ids = [torch.device(device).index or 0] if device.startswith("cuda") else None
        return DistributedDataParallel(model, device_ids=ids, find_unused_parameters=True)  # auxiliary heads may sit out a step


def from_env(device: str) -> Dist:
    """The process group of a torchrun launch (initialised once), or a single-process Dist."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Dist()
    import torch.distributed as dist

    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.startswith("cuda") else "gloo")
    return Dist(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")))


def local_device(device: str) -> str:
    """Under torchrun on GPUs: this process's own cuda:LOCAL_RANK."""
    if device.startswith("cuda") and int(os.environ.get("WORLD_SIZE", "1")) > 1:
        return f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}"
    return device


def is_main_process() -> bool:
    return int(os.environ.get("RANK", "0")) == 0


def barrier() -> Any:
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.barrier()
