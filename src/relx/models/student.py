"""Students distilled from a knowledgeable teacher (soft-label distillation paper, Eq. 1-3, 9-13, 16-18).

Student = the C-GCN base encoder + multi-aspect attention (MAA) over the GCN states with relative-position
embeddings (to subject and object, shared matrix), NER-tag embeddings and the summary q = h_base:
logits = F(h_base) + F'(h_maa) (local + auxiliary logits). It needs no type rules at test time.

Training (one ``fit``): the teacher named by ``teacher`` (a saved teacher directory) is loaded, or one of
type ``teacher_type`` is trained first on the same data with the same trainer settings changed by
``teacher_trainer`` (e.g. a longer budget with early stopping; saved under ``<run>/teacher/``, a normal model
directory). Its local and global logits for every training document are
computed once (frozen, eval mode), then the student trains with
L = (1 - l) CE + l (KL(teacher || student) at ``tau`` + ``lambda_ht`` * hint), hint =
KL(teacher local || student local) + KL(teacher global || student auxiliary), where l follows ``kd_anneal``
over the optimizer steps (:func:`relx.training.losses.kd_weight`; default ``down``: 1 -> 0, teacher annealing
as in the authors' code; ``up``: 0 -> 1, the paper's literal sentence; ``none``: ``kd_lambda``). Switches for Table 4's ablations: ``maa``, ``hint``,
``kd`` (false: hard labels only, no teacher) and the teacher's own ``tsd`` / ``type_constraints`` via
``teacher_overrides``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from relx.data.labels import LabelSet
from relx.data.schema import Document
from relx.errors import RelxConfigError
from relx.models.base import ModelOutput
from relx.models.cgcn import CGCNConfig, CGCNModel, with_trees
from relx.models.teacher import variant
from relx.nn.attention import MultiAspectAttention
from relx.nn.sequence import pad_ids, relative_positions
from relx.training.config import FitContext
from relx.training.losses import KD_ANNEALS, kd_kl, kd_weight


@dataclass
class StudentConfig(CGCNConfig):
    teacher: str | None = None  # a saved teacher model directory; None: train a ``teacher_type`` first
    teacher_type: str = "teacher_s"
    teacher_overrides: dict = field(default_factory=dict)  # teacher config changes (e.g. tsd: false, type_constraints: false)
    teacher_trainer: dict = field(default_factory=dict)  # trainer changes for the teacher stage (e.g. epochs: 40, patience: 5)
    maa: bool = True
    maa_position_dim: int = 30  # d_p
    maa_ner_dim: int = 30  # d_n
    maa_max_position: int = 100  # relative positions clipped here (the paper's l)
    kd: bool = True  # false: hard labels only (the "-KD" ablation; no teacher)
    hint: bool = True
    lambda_ht: float = 1.8
    tau: float = 1.0
    kd_anneal: str = "down"  # weight of the KD terms: down 1 -> 0 | up 0 -> 1 | none (constant kd_lambda)
    kd_lambda: float = 0.5  # the constant weight of kd_anneal: none

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.kd_anneal not in KD_ANNEALS:
            raise RelxConfigError(f"kd_anneal must be one of {', '.join(KD_ANNEALS)}, got {self.kd_anneal!r}")


class StudentModel(CGCNModel):
    """C-GCN + MAA student distilled from a teacher; see the module docstring."""

    Config = StudentConfig

    def __init__(self, config: StudentConfig, labels: LabelSet):
        super().__init__(config, labels)
        self._targets: dict[int, tuple[list[float], list[float]]] = {}  # id(training doc) -> teacher local, global logits
        self._docs: list[Document] = []  # keeps those documents (and so their ids) alive while training

    def build_layers(self) -> None:
        cfg, d = self.config, self.base_dim
        if cfg.maa:
            if cfg.maa_ner_dim and "ner" not in self.tokens.vocabs:
                raise RelxConfigError(f"{self.registered_name}: MAA reads NER tags; set ner_dim > 0 (the NER vocabulary comes with it)")
            self.maa_pos = nn.Embedding(2 * cfg.maa_max_position + 2, cfg.maa_position_dim, padding_idx=0)  # shared for subject / object
            self.maa_ner = nn.Embedding(len(self.tokens.vocabs["ner"]), cfg.maa_ner_dim, padding_idx=0)
            self.maa = MultiAspectAttention(d, 2 * cfg.maa_position_dim, cfg.maa_ner_dim, d)
            self.aux_classifier = nn.Linear(d, len(self.labels))  # F'(h_maa): auxiliary logits

    # --- features ----------------------------------------------------------------------------
    def pair_features(self, doc: Document) -> dict:
        feat = super().pair_features(doc)
        if self.config.maa:
            n, m = len(doc.tokens), self.config.maa_max_position
            for key, e in (("maa_subj", doc.entities[0]), ("maa_obj", doc.entities[1])):
                feat[key] = [c + m + 1 for c in relative_positions(n, e.start, e.end, m)]
        target = self._targets.get(id(doc))
        if target is not None:
            feat["t_local"], feat["t_global"] = target
        return feat

    def collate_pair(self, feats: list[dict]) -> dict[str, torch.Tensor]:
        batch = super().collate_pair(feats)
        if self.config.maa:
            batch["maa_subj"] = pad_ids([f["maa_subj"] for f in feats], 0)  # (B, T)
            batch["maa_obj"] = pad_ids([f["maa_obj"] for f in feats], 0)
        if all("t_local" in f for f in feats):
            batch["t_local"] = torch.tensor([f["t_local"] for f in feats])  # (B, C)
            batch["t_global"] = torch.tensor([f["t_global"] for f in feats])  # (B, C)
        return batch

    # --- model -------------------------------------------------------------------------------
    def parts(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Local logits F(h_base) and auxiliary logits F'(h_maa) (None without MAA), each (B, C)."""
        h_base, g, mask = self.encode(batch)
        local = self.classifier(self.head_dropout(h_base))  # (B, C)
        if not self.config.maa:
            return local, None
        pos = torch.cat([self.maa_pos(batch["maa_subj"]), self.maa_pos(batch["maa_obj"])], dim=-1)  # (B, T, 2P)
        ner = self.maa_ner(batch["ner"] if "ner" in batch else torch.zeros_like(batch["words"]))  # (B, T, N)
        h_maa, _ = self.maa(g, pos, ner, h_base, mask)  # (B, D)
        return local, self.aux_classifier(self.head_dropout(h_maa))

    def forward(self, batch: dict[str, torch.Tensor]) -> ModelOutput:
        cfg = self.config
        local, aux = self.parts(batch)
        logits = local if aux is None else local + aux  # (B, C) Eq. 13
        ce = self._ce(logits, batch["labels"])
        extras = {"loss_re": ce.detach()}
        if not (self.training and cfg.kd and "t_local" in batch):
            return ModelOutput(loss=ce, logits=logits, extras=extras)
        t_local, t_global = batch["t_local"], batch["t_global"]  # (B, C) teacher branches
        kd = kd_kl(logits, t_local + t_global, cfg.tau)  # Eq. 3
        total_kd = kd
        extras["loss_kd"] = kd.detach()
        if cfg.hint:
            hint = kd_kl(local, t_local)  # Eq. 16, local branch
            if aux is not None and t_global.abs().sum() > 0:  # a teacher without type constraints has no global branch
                hint = hint + kd_kl(aux, t_global)
            extras["loss_hint"] = hint.detach()
            total_kd = total_kd + cfg.lambda_ht * hint  # Eq. 18
        lam = kd_weight(self.train_fraction, cfg.kd_anneal, cfg.kd_lambda)
        extras["lambda_kd"] = torch.tensor(lam)
        return ModelOutput(loss=(1 - lam) * ce + lam * total_kd, logits=logits, extras=extras)  # Eq. 17

    # --- teacher ---------------------------------------------------------------------------------
    def fit_context(self, train: list[Document], dev: list[Document] | None, ctx: FitContext) -> dict:
        train = with_trees(train)
        dev = with_trees(dev) if dev else dev
        teacher_info: dict[str, Any] = {}
        if self.config.kd:
            teacher, teacher_info = self.get_teacher(train, dev, ctx)
            self._set_targets(teacher, train)
        try:
            history = super().fit_context(train, dev, ctx)
        finally:
            self._targets, self._docs = {}, []
        return {**history, "teacher": teacher_info}

    def get_teacher(self, train: list[Document], dev: list[Document] | None, ctx: FitContext) -> tuple[Any, dict]:
        """The saved teacher of ``config.teacher``, else a ``teacher_type`` trained now (stage ``teacher``)."""
        from relx.models.loading import load_model
        from relx.registry import MODELS

        cfg = self.config
        if cfg.teacher:
            teacher = load_model(cfg.teacher, device=str(self.class_weights.device))
            if list(teacher.labels.labels) != list(self.labels.labels):
                raise RelxConfigError(
                    f"{self.registered_name}: teacher {cfg.teacher} has labels {teacher.labels.labels}, not the student's"
                )
            if not hasattr(teacher, "parts"):
                raise RelxConfigError(f"{self.registered_name}: {cfg.teacher} is a {teacher.registered_name}, not a teacher model")
            return teacher, {"loaded": str(cfg.teacher)}
        cls = MODELS.get(cfg.teacher_type)
        shared = {f: getattr(cfg, f) for f in CGCNConfig.__dataclass_fields__}
        teacher = cls(cls.Config(**{**shared, **cfg.teacher_overrides}), self.labels)
        sub = ctx.for_stage("teacher", dict(cfg.teacher_trainer))
        hist = teacher.fit(train, dev, sub)
        if sub.out_dir is not None:
            teacher.save(Path(sub.out_dir) / "model", metrics={"best_dev": hist["best"]})
        info = {
            "type": cfg.teacher_type,
            "best_dev": hist["best"],
            "best_step": hist.get("best_step"),
            "overrides": dict(cfg.teacher_overrides),
            "trainer": dict(cfg.teacher_trainer),
            "epochs_run": hist["history"][-1]["epoch"] if hist.get("history") else None,
            "saved": str(Path(sub.out_dir) / "model") if sub.out_dir is not None else None,
        }
        if dev and hist["best"] is None:  # not selected on dev (Teacher-R): its final weights scored once, for the report
            from relx.training.trainer import dev_metrics

            info["final_dev"] = float(dev_metrics(dev, teacher.predict(dev), self.labels, ctx.trainer)[ctx.metric])
            info["final_step"] = hist["history"][-1]["step"] if hist.get("history") else None
        return teacher, info

    @torch.inference_mode()
    def _set_targets(self, teacher: Any, train: list[Document]) -> None:
        """The frozen teacher's local and global logits for every training document (eval mode, gold labels in batch)."""
        teacher.eval()
        feats = teacher.featurize_many(train)
        self._targets, self._docs = {}, train
        for s in range(0, len(feats), 256):
            batch = {k: v.to(teacher.class_weights.device) for k, v in teacher.collate(feats[s : s + 256]).items()}
            local, glob = teacher.parts(batch, use_gold=True)
            for doc, lo, gl in zip(train[s : s + 256], local.float().tolist(), glob.float().tolist()):
                self._targets[id(doc)] = (lo, gl)


StudentS = variant("student_s", StudentModel, "Student distilled from Teacher-S.", teacher_type="teacher_s")
StudentV = variant("student_v", StudentModel, "Student distilled from Teacher-V.", teacher_type="teacher_v")
StudentR = variant(
    "student_r", StudentModel, "Student distilled from Teacher-R (soft labels from the gold relation).", teacher_type="teacher_r"
)
