"""Train a tiny marker model with the relx Trainer (run plainly or under torchrun); rank 0 saves the final weights.

python tests/helpers/ddp_train.py TINY_BERT OUT
python -m torch.distributed.run --nproc_per_node 2 tests/helpers/ddp_train.py TINY_BERT OUT
"""

import os
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from conftest import make_pair_docs  # noqa: E402
from relx.data.labels import LabelSet  # noqa: E402
from relx.models.marker import MarkerModel  # noqa: E402
from relx.training.config import TrainerConfig  # noqa: E402
from relx.training.trainer import Trainer  # noqa: E402
from tiny_models import tiny_config  # noqa: E402


def main() -> None:
    bert, out = sys.argv[1], Path(sys.argv[2])
    torch.set_num_threads(1)
    docs = [d for k in range(2) for d in make_pair_docs()]  # 8 documents: each global batch of 4 splits 2 + 2
    for k, d in enumerate(docs):
        d.id = f"{d.id}-{k}"
    torch.manual_seed(0)
    model = MarkerModel(tiny_config(MarkerModel, {"bert": bert}, dropout=0.0), LabelSet.from_documents(docs))
    cfg = TrainerConfig(epochs=3, batch_size=4, lr=1e-3, warmup_ratio=0.0, progress=False, device="cpu", seed=0, grad_clip=None)
    trainer = Trainer(cfg)
    trainer.fit(model, docs, None)
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:  # really data-parallel: 2 ranks, DDP, half a batch each
        assert trainer.dist.world == 2 and type(trainer.net).__name__ == "DistributedDataParallel"
        assert len(trainer.dist.shard([0, 1, 2, 3])) == 2
    if int(os.environ.get("RANK", "0")) == 0:
        from safetensors.torch import save_file

        out.mkdir(parents=True, exist_ok=True)
        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(out / "weights.safetensors"))


if __name__ == "__main__":
    main()
