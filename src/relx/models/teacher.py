"""Knowledgeable teachers (soft-label distillation paper, Eq. 8, 14-15): C-GCN logits + gamma * soft type rules.

logits = F(h_base) + gamma * G(p), G(p) = the pattern's row of :class:`relx.rules.soft.SoftRules` (built from
the training data; the negative class gets C). ``teacher_s``: gamma a fixed scalar (``gamma_s`` = 0.8);
``teacher_v``: a trainable vector over the labels (starts at ``gamma_s``); ``teacher_r``: Gamma[r], a
trainable row per gold relation r (``gamma_init``: ``constant`` = ``gamma_s`` everywhere, or ``uniform`` =
the authors' U(-1, 1) with the negative class's row fixed at 0 and not trained; training only; at inference, with no gold label, the row of the
relation the local logits F(h_base) predict; not selected on dev unless ``select_on_dev``, see
:meth:`TeacherModel.fit_context`). Loss = CE + TSD (top-K score difference, K = 3) when ``tsd``.
``type_constraints: false`` drops the global term (a C-GCN trained with TSD: the "-TC" ablation).
:meth:`parts` returns the local and global logits separately (the student's hint targets).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from relx.data.labels import LabelSet
from relx.data.schema import Document
from relx.errors import RelxConfigError
from relx.models.base import ModelOutput, register
from relx.models.cgcn import CGCNConfig, CGCNModel
from relx.rules.soft import SoftRules
from relx.training.config import FitContext
from relx.training.losses import tsd_loss

GAMMAS = ("s", "v", "r")
GAMMA_INITS = ("constant", "uniform")


@dataclass
class TeacherConfig(CGCNConfig):
    gamma: str = "s"  # s: fixed scalar | v: trainable vector | r: trainable row per gold relation
    gamma_s: float = 0.8  # the scalar (s) and the initial value of the trainable weights (v, r)
    gamma_init: str = "constant"  # Gamma (r): constant gamma_s everywhere | uniform U(-1, 1), negative row fixed at 0
    na: float = 0.2  # C: the negative class's entry of G(p)
    type_constraints: bool = True
    tsd: bool = True
    tsd_k: int = 3
    select_on_dev: bool | None = None  # None: yes, except Teacher-R with type rules (keeps its last weights)


class TeacherModel(CGCNModel):
    """C-GCN + soft type rules; see the module docstring."""

    Config = TeacherConfig

    def __init__(self, config: TeacherConfig, labels: LabelSet):
        if config.gamma not in GAMMAS:
            raise RelxConfigError(f"{self.registered_name}: gamma must be one of {', '.join(GAMMAS)}, got {config.gamma!r}")
        if config.gamma_init not in GAMMA_INITS or (config.gamma_init == "uniform" and config.gamma != "r"):
            raise RelxConfigError(
                f"{self.registered_name}: gamma_init must be one of {', '.join(GAMMA_INITS)} ('uniform' needs gamma r), "
                f"got {config.gamma_init!r} with gamma {config.gamma!r}"
            )
        super().__init__(config, labels)
        self.rules: SoftRules | None = None

    @property
    def uses_gold(self) -> bool:
        """Teacher-R with type rules: its training logits depend on the gold relation (soft labels only)."""
        return self.config.gamma == "r" and self.config.type_constraints

    def fit_context(self, train: list[Document], dev: list[Document] | None, ctx: FitContext) -> dict:
        """Teacher-R (with type rules) trains its full budget and keeps its last weights: without the gold
        relation its predictions are not what the student learns from (the paper: "not suitable for testing
        scenarios"), and on strongly typed data its local head never learns to leave the negative class while
        Gamma[gold] explains the labels, so a dev score of its predictions would select the first epoch.
        ``select_on_dev: true`` scores its inference predictions on dev anyway (best weights, early stopping
        with ``trainer.patience``): on weakly typed data (SemEval) they are a convergence signal."""
        select = self.config.select_on_dev if self.config.select_on_dev is not None else not self.uses_gold
        return super().fit_context(train, dev if select else None, ctx)

    def build_extra(self, train: list[Document]) -> None:
        self.rules = SoftRules.from_documents(train, self.labels, self.config.na)

    def build_layers(self) -> None:
        cfg, n = self.config, len(self.labels)
        if cfg.gamma == "v":
            self.gamma_v = nn.Parameter(torch.full((n,), cfg.gamma_s))  # (C,)
        elif cfg.gamma == "r":
            self.gamma_r = nn.Embedding(n, n)  # Gamma: one weight row per relation
            if cfg.gamma_init == "uniform":  # the authors' code: U(-1, 1), the negative class's row 0 and never trained
                nn.init.uniform_(self.gamma_r.weight, -1.0, 1.0)
                with torch.no_grad():
                    self.gamma_r.weight[0] = 0.0  # id 0 is the negative label
            else:
                nn.init.constant_(self.gamma_r.weight, cfg.gamma_s)

    def state_json(self) -> dict:
        return {**super().state_json(), "rules": self.rules.to_json() if self.rules else None}

    def load_state_json(self, state: dict) -> None:
        self.rules = SoftRules.from_json(state["rules"]) if state.get("rules") else None
        super().load_state_json(state)

    def pair_features(self, doc: Document) -> dict:
        feat = super().pair_features(doc)
        feat["prior"] = self.rules.vector(doc) if self.rules is not None else [0.0] * len(self.labels)
        return feat

    def collate_pair(self, feats: list[dict]) -> dict[str, torch.Tensor]:
        return {**super().collate_pair(feats), "prior": torch.tensor([f["prior"] for f in feats])}  # (B, C) G(p)

    def parts(self, batch: dict[str, torch.Tensor], use_gold: bool | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Local logits F(h_base) and global logits gamma * G(p), each (B, C). ``use_gold`` (default: in
        training): teacher_r's Gamma row of the gold label (for soft labels), else of the local prediction."""
        local = self.classifier(self.head_dropout(self.encode(batch)[0]))  # (B, C)
        return local, self.global_logits(local, batch, use_gold)

    def global_logits(self, local: torch.Tensor, batch: dict[str, torch.Tensor], use_gold: bool | None = None) -> torch.Tensor:
        """gamma * G(p), (B, C), for the local logits ``local`` (B, C) of ``batch``; ``use_gold`` as in :meth:`parts`."""
        if not self.config.type_constraints:
            return torch.zeros_like(local)
        prior = batch["prior"].to(local.dtype)  # (B, C)
        g = self.config.gamma
        if g == "s":
            gamma = torch.full_like(local[:, :1], self.config.gamma_s)  # (B, 1)
        elif g == "v":
            gamma = self.gamma_v.unsqueeze(0)  # (1, C)
        else:  # Gamma[r]: the gold relation in training, the locally predicted one otherwise
            rel = batch["labels"] if (self.training if use_gold is None else use_gold) else local.argmax(-1)
            gamma = self.gamma_r(rel)  # (B, C)
            if self.config.gamma_init == "uniform":  # the negative row stays 0: no gradient reaches it
                gamma = gamma * (rel != 0).unsqueeze(-1).to(gamma.dtype)
        return gamma * prior

    def forward(self, batch: dict[str, torch.Tensor]) -> ModelOutput:
        local, glob = self.parts(batch)
        logits = local + glob  # (B, C) Eq. 8
        loss_re = self._ce(logits, batch["labels"])
        extras = {"loss_re": loss_re.detach()}
        loss = loss_re
        if self.config.tsd:
            tsd = tsd_loss(logits, self.config.tsd_k)
            extras["loss_tsd"] = tsd.detach()
            loss = loss + tsd  # Eq. 15
        return ModelOutput(loss=loss, logits=logits, extras=extras)


def variant(name: str, base: type, doc: str, **defaults: object) -> type:
    """Register ``name``: a subclass of ``base`` whose Config differs only in the given field defaults."""
    import dataclasses

    config = dataclasses.make_dataclass(
        f"{base.Config.__name__}_{name}", [(k, type(v), v) for k, v in defaults.items()], bases=(base.Config,)
    )
    return register(name)(type(f"{base.__name__}_{name}", (base,), {"Config": config, "__doc__": doc, "__module__": base.__module__}))


TeacherS = variant("teacher_s", TeacherModel, "Teacher-S: fixed scalar gamma.", gamma="s")
TeacherV = variant("teacher_v", TeacherModel, "Teacher-V: trainable vector gamma.", gamma="v")
TeacherR = variant("teacher_r", TeacherModel, "Teacher-R: relation-indexed trainable gamma (uses the gold label in training).", gamma="r")
