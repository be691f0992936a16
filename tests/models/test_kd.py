"""Soft rules, teachers and students of the soft-label distillation paper: hand-computed rules and losses,
the teacher stage saved and reusable, annealed KD loss, MAA, trees parsed on the fly."""

from __future__ import annotations

import json

import pytest
import torch

from conftest import make_pair_docs
from relx.cli import main
from relx.data.labels import LabelSet
from relx.data.schema import Document, Entity, Relation, write_jsonl
from relx.errors import RelxConfigError
from relx.models.cgcn import CGCNModel
from relx.models.loading import load_model
from relx.models.student import StudentR, StudentS
from relx.models.teacher import TeacherR, TeacherS
from relx.nn.attention import MultiAspectAttention
from relx.rules.soft import SoftRules, entity_type, pattern
from relx.training.losses import kd_kl, kd_weight, tsd_loss
from tiny_models import tiny_config, tiny_fit_kwargs


def typed(i, subj, obj, label, ner=None):
    toks = ["a", "b", "c", "d"]
    return Document(
        str(i), toks, [Entity(0, 1, subj), Entity(2, 3, obj)], [Relation(0, 1, label)] if label else [], ner=ner, heads=[0, 1, 1, 3]
    )


def test_soft_rules_by_hand(tmp_path, capsys):
    docs = [
        typed(0, "PER", "ORG", "works_for"),
        typed(1, "PER", "ORG", "works_for"),
        typed(2, "PER", "ORG", "founded"),
        typed(3, "PER", "LOC", "lives_in"),
        typed(4, "PER", "ORG", None),
    ]
    labels = LabelSet.from_documents(docs)
    rules = SoftRules.from_documents(docs, labels, na=0.2)
    row = dict(zip(labels.labels, rules.row("PER|ORG")))
    assert row == {"no_relation": 0.2, "founded": pytest.approx(1 / 3), "lives_in": 0.0, "works_for": pytest.approx(2 / 3)}
    assert dict(zip(labels.labels, rules.row("LOC|LOC"))) == {"no_relation": 0.2, "founded": 0.0, "lives_in": 0.0, "works_for": 0.0}
    assert rules.patterns == ["PER|ORG", "PER|LOC"]
    assert SoftRules.from_json(json.loads(json.dumps(rules.to_json()))).row("PER|ORG") == rules.row("PER|ORG")
    untyped = typed(5, "O", "ENTITY", None, ner=["PERSON", "O", "O", "O"])
    assert entity_type(untyped, 0) == "PERSON" and entity_type(untyped, 1) == "O" and pattern(untyped) == "PERSON|O"
    path = tmp_path / "train.jsonl"
    write_jsonl(path, docs)
    png, js = tmp_path / "soft.png", tmp_path / "soft.json"
    assert main(["rules", "soft", str(path), "--png", str(png), "--json", str(js)]) == 0
    out = capsys.readouterr().out
    assert "PER|ORG" in out and "works_for 0.67" in out
    assert png.read_bytes()[:4] == b"\x89PNG" and json.loads(js.read_text())["na"] == 0.2


def test_tsd_and_kd_losses_by_hand():
    logits = torch.log(torch.tensor([[0.5, 0.3, 0.1, 0.1]]))
    assert tsd_loss(logits, 3).item() == pytest.approx(0.5 - (0.3 + 0.1) / 2)
    same = torch.randn(2, 4)
    assert kd_kl(same, same).item() == pytest.approx(0.0, abs=1e-6)


def test_teacher_logits_are_local_plus_gamma_times_rules(resources):
    docs = make_pair_docs()
    labels = LabelSet.from_documents(docs)
    torch.manual_seed(0)
    t = TeacherS(tiny_config(TeacherS, resources), labels)
    t.prepare(docs)
    t.eval()
    batch = t.collate([t.featurize(d) for d in docs])
    local, glob = t.parts(batch)
    assert torch.allclose(glob, 0.8 * batch["prior"])
    assert torch.allclose(t(batch).logits, local + glob)
    r = TeacherR(tiny_config(TeacherR, resources), labels)
    r.prepare(docs)
    with torch.no_grad():
        r.gamma_r.weight.copy_(torch.arange(len(labels) * len(labels), dtype=torch.float).view(len(labels), -1))
    r.eval()
    b = r.collate([r.featurize(d) for d in docs])
    loc, gold_glob = r.parts(b, use_gold=True)
    assert torch.allclose(gold_glob, r.gamma_r.weight[b["labels"]] * b["prior"])
    _, pred_glob = r.parts(b)
    assert torch.allclose(pred_glob, r.gamma_r.weight[loc.argmax(-1)] * b["prior"])
    # the global part alone, from local logits already computed (the encoder runs once)
    assert torch.equal(r.global_logits(loc, b, use_gold=True), gold_glob) and torch.equal(r.global_logits(loc, b), pred_glob)


def test_uniform_gamma_keeps_the_negative_row_at_zero(resources):
    docs = make_pair_docs()
    labels = LabelSet.from_documents(docs)
    torch.manual_seed(0)
    r = TeacherR(tiny_config(TeacherR, resources, gamma_init="uniform"), labels)
    r.prepare(docs)
    w = r.gamma_r.weight
    assert torch.all(w[0] == 0) and w[1:].abs().max() <= 1 and w[1:].std() > 0.1  # U(-1, 1) apart from the negative row
    before = w[1:].detach().clone()
    opt = torch.optim.AdamW(r.parameters(), lr=0.1, weight_decay=0.01)
    r.train()
    batch = r.collate([r.featurize(d) for d in docs])
    assert set(batch["labels"].tolist()) >= {0} and len(set(batch["labels"].tolist())) > 1  # negative and positive pairs
    r(batch).loss.backward()
    opt.step()
    assert torch.all(w[0] == 0) and not torch.equal(w[1:], before)  # the negative row untrained, the others trained
    with pytest.raises(RelxConfigError, match="gamma_init must be one of constant, uniform"):
        TeacherS(tiny_config(TeacherS, resources, gamma_init="uniform"), labels)


def test_student_trains_teacher_stage_and_anneals_kd(resources, tmp_path):
    docs = make_pair_docs()
    labels = LabelSet.from_documents(docs)
    torch.manual_seed(0)
    student = StudentR(tiny_config(StudentR, resources), labels)
    hist = student.fit(docs, docs, out_dir=tmp_path / "run", **tiny_fit_kwargs(CGCNModel))
    assert hist["teacher"]["type"] == "teacher_r"
    assert hist["teacher"]["best_dev"] is None  # Teacher-R is not selected on dev (its predictions need the gold relation)
    assert 0 <= hist["teacher"]["final_dev"] <= 1 and hist["teacher"]["final_step"] > 0  # its final weights, scored once
    teacher = load_model(tmp_path / "run" / "teacher" / "model")
    assert teacher.registered_name == "teacher_r"
    assert [p.relations[0].label if p.relations else None for p in student.predict(docs)] == [
        d.relations[0].label if d.relations else None for d in docs
    ]
    # the KD loss (kd_anneal down): with a fresh target table, fraction 1 is plain CE and fraction 0 the distillation terms
    student._set_targets(teacher, docs)
    student.train()
    batch = student.collate([student.featurize(d) for d in docs])
    assert "prior" not in batch  # no type rules at the student's input
    torch.manual_seed(1)
    student.train_fraction = 1.0
    out1 = student(batch)
    assert out1.loss.item() == pytest.approx(out1.extras["loss_re"].item(), rel=1e-5)
    student.train_fraction = 0.0
    out0 = student(batch)
    want = out0.extras["loss_kd"] + 1.8 * out0.extras["loss_hint"]
    assert out0.loss.item() == pytest.approx(want.item(), rel=1e-5) and out0.extras["lambda_kd"].item() == 1.0
    student.config.kd_anneal = "up"  # the paper's literal direction: the same batch at fraction 0 is plain CE
    assert student(batch).loss.item() == pytest.approx(student(batch).extras["loss_re"].item(), rel=1e-5)
    # a saved teacher is reused instead of trained again
    again = StudentS(tiny_config(StudentS, resources, teacher=str(tmp_path / "run" / "teacher" / "model")), labels)
    assert again.fit(docs, None, **{**tiny_fit_kwargs(CGCNModel), "epochs": 1})["teacher"] == {
        "loaded": str(tmp_path / "run" / "teacher" / "model")
    }


@pytest.mark.parametrize(("anneal", "want"), [("down", (1.0, 0.5, 0.0)), ("up", (0.0, 0.5, 1.0)), ("none", (0.3, 0.3, 0.3))])
def test_kd_weight_schedules(anneal, want):
    assert tuple(kd_weight(f, anneal, constant=0.3) for f in (0.0, 0.5, 1.0)) == pytest.approx(want)


def test_kd_anneal_must_be_known(resources):
    with pytest.raises(RelxConfigError, match="kd_anneal must be one of down, up, none, got 'sideways'"):
        tiny_config(StudentR, resources, kd_anneal="sideways")
    with pytest.raises(ValueError, match="kd_anneal"):
        kd_weight(0.5, "sideways")


def test_no_kd_student_needs_no_teacher(resources, tmp_path):
    docs = make_pair_docs()
    s = StudentS(tiny_config(StudentS, resources, kd=False), LabelSet.from_documents(docs))
    hist = s.fit(docs, None, out_dir=tmp_path / "run", **{**tiny_fit_kwargs(CGCNModel), "epochs": 2})
    assert hist["teacher"] == {} and not (tmp_path / "run" / "teacher").exists()


def test_maa_weights_are_a_distribution_over_real_tokens():
    torch.manual_seed(0)
    maa = MultiAspectAttention(6, 4, 3, 5)
    mask = torch.tensor([[1, 1, 1, 0], [1, 1, 1, 1]]).bool()
    out, a = maa(torch.randn(2, 4, 6), torch.randn(2, 4, 4), torch.randn(2, 4, 3), torch.randn(2, 5), mask)
    assert out.shape == (2, 6) and torch.allclose(a.sum(-1), torch.ones(2)) and a[0, 3] == 0


def test_cgcn_parses_documents_without_trees(resources):
    docs = make_pair_docs()
    bare = [Document(d.id, d.tokens, d.entities, d.relations) for d in docs]  # no POS / NER / heads
    model = CGCNModel(tiny_config(CGCNModel, resources), LabelSet.from_documents(docs))
    model.prepare(docs)
    feats = model.featurize_many(bare)
    assert all(len(f["heads"]) == len(d.tokens) and f["heads"].count(0) >= 1 for f, d in zip(feats, bare))
    assert len(model.predict(bare)) == 4


def test_saved_teacher_and_student_extract_from_raw_text(resources, tmp_path):
    import relx

    docs = make_pair_docs()
    torch.manual_seed(0)
    student = StudentS(tiny_config(StudentS, resources), LabelSet.from_documents(docs))
    student.fit(docs, None, out_dir=tmp_path / "run", **{**tiny_fit_kwargs(CGCNModel), "epochs": 3})
    student.save(tmp_path / "student")
    for path in (tmp_path / "student", tmp_path / "run" / "teacher" / "model"):
        out = relx.load(path, threshold=0.0)("Bill Gates founded Microsoft in 1975. John Smith works at Acme Corp in London.")
        assert out.meta["extraction"]["kind"] == "pair" and len(out.entities) >= 3
        assert all(r.label in {"founder", "employee"} for r in out.relations)


def test_only_gold_dependent_teachers_skip_dev_selection(resources, tmp_path):
    docs = make_pair_docs()
    labels = LabelSet.from_documents(docs)
    r_hist = TeacherR(tiny_config(TeacherR, resources), labels).fit(docs, docs, **tiny_fit_kwargs(CGCNModel))
    assert r_hist["best"] is None and not any("micro_f1" in h for h in r_hist["history"])  # trained, never scored on dev
    free = TeacherR(tiny_config(TeacherR, resources, type_constraints=False), labels)  # no Gamma[gold]: an ordinary model
    assert not free.uses_gold and free.fit(docs, docs, **tiny_fit_kwargs(CGCNModel))["best"] is not None
    assert TeacherS(tiny_config(TeacherS, resources), labels).fit(docs, docs, **tiny_fit_kwargs(CGCNModel))["best"] is not None


def test_teacher_stage_can_select_on_dev_with_its_own_budget(resources, tmp_path):
    docs = make_pair_docs()
    labels = LabelSet.from_documents(docs)
    fit = tiny_fit_kwargs(CGCNModel)
    stage = {"epochs": fit.get("epochs", 1) + 2, "patience": 1}
    student = StudentR(tiny_config(StudentR, resources, teacher_overrides={"select_on_dev": True}, teacher_trainer=stage), labels)
    hist = student.fit(docs, docs, out_dir=tmp_path / "run", **fit)
    t = hist["teacher"]
    assert t["best_dev"] is not None and t["best_step"] > 0  # Teacher-R scored on dev, its best weights kept
    assert t["trainer"] == stage and 1 <= t["epochs_run"] <= stage["epochs"]
    assert load_model(tmp_path / "run" / "teacher" / "model").config.select_on_dev is True
    with pytest.raises(RelxConfigError, match="unknown setting"):
        StudentR(tiny_config(StudentR, resources, teacher_trainer={"epochz": 3}), labels).fit(docs, docs, **fit)


def test_kd_benchmark_bootstraps_each_claim_per_seed_and_over_seeds(tmp_path, monkeypatch):
    """benchmarks/kd.py: student_r vs -KD (KD claim) and -KD vs cgcn (MAA claim) per seed and pooled over the
    seeds (the seeds' mean on the same resamples); rows without their test predictions are skipped."""
    import copy
    import random
    from pathlib import Path

    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[2] / "benchmarks"))
    import common
    import kd

    gold = [d for _ in range(5) for d in make_pair_docs()]
    for i, d in enumerate(gold):
        d.id = str(i)
    write_jsonl(tmp_path / "test.jsonl", gold)
    (tmp_path / "configs" / "semeval").mkdir(parents=True)
    (tmp_path / "configs" / "semeval" / "cgcn.yaml").write_text(f"data: {{test: {tmp_path / 'test.jsonl'}, format: jsonl}}\n")
    monkeypatch.setattr(kd, "ROOT", tmp_path)
    monkeypatch.setattr(common, "ROOT", tmp_path)
    rng, rows = random.Random(0), []
    for model in ("cgcn", "-KD", "student_r"):
        for seed in (13, 14, 15):
            preds = copy.deepcopy(gold)
            for d in preds:
                d.relations = rng.choice([[], [Relation(0, 1, "founder")], [Relation(0, 1, "employee")]])
            run = tmp_path / f"{model}_{seed}"
            if (model, seed) != ("cgcn", 15):  # a row whose predictions are gone
                run.mkdir()
                write_jsonl(run / "test_predictions.jsonl", preds)
            rows.append({"model": model, "seed": seed, "budget": "b", "run_dir": run.name})
    boot = kd.bootstrap(rows, "semeval", n=50)
    got = {(b["a"], b["b"], str(b["seed"])): b for b in boot}
    assert set(got) == {
        *((a, b, s) for a, b in kd.PAIRS if a in ("student_r", "-KD") for s in ("13", "14", "pooled")),
        ("student_r", "-KD", "15"),
    }
    pooled, per_seed = got[("student_r", "-KD", "pooled")], [got[("student_r", "-KD", s)] for s in ("13", "14", "15")]
    assert pooled["seeds"] == [13, 14, 15]
    assert pooled["metric_a"] == pytest.approx(sum(b["metric_a"] for b in per_seed) / 3)
    assert got[("-KD", "cgcn", "pooled")]["seeds"] == [13, 14]
    import kd_report

    lines = kd_report.target_lines(boot).splitlines()
    assert len(lines) == 3 and lines[1].startswith("- target student_r > -KD (p < 0.05, seeds 13, 14, 15): ")
    assert lines[1].split(": ")[1].split()[0] == ("met" if pooled["diff"] > 0 and pooled["p_value"] < 0.05 else "missed")
    rows[-1]["teacher"] = {"type": "teacher_r", "best_dev": None, "final_dev": 0.5, "best_step": None}
    rows[2]["best_dev"] = 0.6  # cgcn seed 15
    assert kd_report.teacher_lines(rows) == "- student_r seed 15: teacher teacher_r dev 50.00 (final weights, step -); cgcn dev 60.00\n"
    rows[-1]["teacher"] = {
        "type": "teacher_r",
        "best_dev": 0.55,
        "best_step": 300,
        "trainer": {"epochs": 40, "patience": 5},
        "epochs_run": 12,
    }
    want = "- student_r seed 15: teacher teacher_r dev 55.00 (best, step 300 of 12 epochs run, at most 40, patience 5); cgcn dev 60.00\n"
    assert kd_report.teacher_lines(rows) == want


def test_kd_benchmark_keeps_a_bootstrap_row_only_while_its_runs_are_current(monkeypatch):
    """A bootstrap row kept without predictions on disk must still describe the results file's runs: once a run is
    re-made (its score changed), the comparisons made with the old run are stale and dropped."""
    from pathlib import Path

    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[2] / "benchmarks"))
    from kd import about_current_runs

    rows = [
        {"budget": "b", "model": "x", "seed": 13, "official_macro_f1": 80.62},
        {"budget": "b", "model": "cgcn", "seed": 13, "official_macro_f1": 79.88},
        {"budget": "b", "model": "cgcn", "seed": 14, "official_macro_f1": 80.20},
    ]
    boot = {"kind": "bootstrap", "budget": "b", "a": "x", "b": "cgcn", "seed": 13, "metric": "official_macro_f1"}
    assert about_current_runs({**boot, "metric_a": 0.80621, "metric_b": 0.79878}, rows)
    assert not about_current_runs({**boot, "metric_a": 0.80621, "metric_b": 0.8076}, rows)  # cgcn seed 13 was re-run
    pooled = {**boot, "a": "cgcn", "seed": "pooled", "seeds": [13, 14], "metric_a": 0.8004, "metric_b": 0.8004}
    assert about_current_runs(pooled, rows)
    assert not about_current_runs({**pooled, "seeds": [13, 14, 15]}, rows)  # a seed without a row


def test_kd_report_names_a_reused_teacher_with_the_dev_score_and_step_of_the_row_that_trained_it(monkeypatch):
    """A student that loads another row's teacher records only its path; the report looks the teacher up in that row
    (a teacher row's own best dev and step, or the teacher stage a student row trained) instead of printing '-'."""
    from pathlib import Path

    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[2] / "benchmarks"))
    import kd_report

    base = {"dataset": "d", "budget": "b", "seed": 13}
    stage = {"type": "teacher_r", "best_dev": None, "final_dev": 0.4, "final_step": 750, "best_step": None, "saved": "x"}
    rows = [
        {**base, "model": "cgcn", "best_dev": 0.6, "run_dir": "runs/kd/b/d/cgcn_s13"},
        {**base, "model": "teacher_s", "best_dev": 0.55, "best_step": 375, "epochs": 3, "run_dir": "runs/kd/b/d/teacher_s_s13"},
        {**base, "model": "student_s", "teacher": {"loaded": "/r/runs/kd/b/d/teacher_s_s13/model"}, "run_dir": "runs/kd/b/d/student_s_s13"},
        {**base, "model": "student_r", "teacher": stage, "run_dir": "runs/kd/b/d/student_r_s13"},
        {
            **base,
            "model": "-hint",
            "teacher": {"loaded": "/r/runs/kd/b/d/student_r_s13/teacher/model"},
            "run_dir": "runs/kd/b/d/wo_hint_s13",
        },
        {**base, "seed": 14, "model": "student_v", "teacher": {"loaded": "/r/runs/kd/b/d/teacher_v_s14/model"}, "run_dir": "z"},
    ]
    assert kd_report.teacher_lines(rows).splitlines() == [
        "- -hint seed 13: teacher teacher_r (trained by the student_r row) dev 40.00 (final weights, step 750); cgcn dev 60.00",
        "- student_r seed 13: teacher teacher_r dev 40.00 (final weights, step 750); cgcn dev 60.00",
        "- student_s seed 13: teacher teacher_s (trained by the teacher_s row) dev 55.00 (best, step 375); cgcn dev 60.00",
        "- student_v seed 14: teacher /r/runs/kd/b/d/teacher_v_s14/model dev - (not scored, step -); cgcn dev -",
    ]


def test_teacher_parts_benchmark_scores_each_part_by_hand(resources, tmp_path, monkeypatch):
    """benchmarks/kd_teacher_parts.py on a saved teacher whose local head always says one label (zero weights, a
    dominant bias): micro P/R/F1 and the negative share follow from the gold labels alone."""
    from pathlib import Path

    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[2] / "benchmarks"))
    from kd_teacher_parts import PARTS, score

    docs = make_pair_docs()
    labels = LabelSet.from_documents(docs)
    t = TeacherS(tiny_config(TeacherS, resources), labels)
    t.prepare(docs)
    gold = t.collate([t.featurize(d) for d in docs])["labels"].tolist()
    k = next(y for y in gold if y != 0)
    for said, path in ((k, tmp_path / "k"), (0, tmp_path / "neg")):
        with torch.no_grad():
            t.classifier.weight.zero_()
            t.classifier.bias.copy_(100 * torch.nn.functional.one_hot(torch.tensor(said), len(labels)).float())
        t.save(path)
        got = score(str(path), docs)
        assert got["pairs"] == len(docs) and got["gold_positive"] == sum(y != 0 for y in gold)
        for part in PARTS:
            if said == k:
                p, r = gold.count(k) / len(docs), gold.count(k) / got["gold_positive"]
                assert got[part]["p"] == round(100 * p, 2) and got[part]["r"] == round(100 * r, 2)
                assert got[part]["f1"] == round(100 * 2 * p * r / (p + r), 2) and got[part]["negative_share"] == 0
            else:
                assert got[part]["f1"] == 0 and got[part]["r"] == 0 and got[part]["negative_share"] == 100
