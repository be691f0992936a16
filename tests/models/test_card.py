"""The model card (README.md, Hugging Face convention) that every saved run model carries."""

from __future__ import annotations

from pathlib import Path

import yaml

from relx.models.card import data_license, headline, render_card

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data" / "conll04"

SUMMARY = {
    "model": "span_base",
    "config": {"encoder": "default", "max_span_width": 10},
    "trainer": {"seed": 13, "epochs": 4, "metric": "re_strict_micro_f1"},
    "data": {
        "train": str(DATA / "conll04_train.json.gz"),
        "dev": str(DATA / "conll04_dev.json.gz"),
        "test": str(DATA / "conll04_test.json.gz"),
    },
    "train_docs": 922,
    "dev_docs": 231,
    "test": {"scheme": "joint", "ner_micro_f1": 0.8, "re_strict_micro_f1": 0.5512, "re_boundaries_micro_f1": 0.56, "n": 288},
}


def card(**kw) -> str:
    args = {
        "summary": SUMMARY,
        "labels": ["Kill", "Live_In", "Work_For"],
        "entity_types": {"Loc": 10, "Org": 5, "Peop": 7},
        "kind": "joint",
        "raw_config": {"model": {"type": "span_base"}, "data": dict(SUMMARY["data"]), "trainer": {"seed": 13}},
        "test_docs": 288,
        "origin": "relx zoo build conll04",
        "version": "relx 0.1.0, git commit abc",
        **kw,
    }
    return render_card(**args)


def test_front_matter_follows_the_hugging_face_convention():
    text = card()
    assert text.startswith("---\n")
    meta = yaml.safe_load(text.split("---\n")[1])
    assert meta["library_name"] == "relx" and meta["datasets"] == ["conll04"]
    assert {"relx", "relation-extraction", "span_base"} <= set(meta["tags"])
    assert meta["license"] == "other" and meta["license_name"] == "research-use-only" and meta["metrics"] == ["f1"]
    result = meta["model-index"][0]["results"][0]
    assert result["dataset"] == {"name": "conll04", "type": "conll04", "split": "test"}
    assert {m["type"]: m["value"] for m in result["metrics"]} == {
        "ner_micro_f1": 80.0,
        "re_strict_micro_f1": 55.12,
        "re_boundaries_micro_f1": 56.0,
    }


def test_body_names_model_data_labels_scores_rebuild_seed_version_and_license():
    text = card()
    for part in (
        "type: `span_base` (joint)",
        "encoder: MiniLM-L6-H384 (uncased, bundled with relx)",
        "seed: 13",
        "code: relx 0.1.0, git commit abc",
        "train 922",
        "dev 231",
        "test 288",
        "conll04_test.json.gz",
        "`Kill`, `Live_In`, `Work_For`",
        "entity types (3): `Loc`, `Org`, `Peop`",
        "| RE strict micro-F1 (spans + entity types + relation) | 55.12 |",
        "```bash\nrelx zoo build conll04\n```",
        "Treat as research use only",
    ):
        assert part in text, part
    assert "/tmp" not in text


def test_licenses_come_from_provenance():
    assert data_license(ROOT / "data" / "semeval2010_task8" / "TRAIN_FILE.TXT.gz")[0] == "cc-by-3.0"
    assert data_license(ROOT / "data" / "webnlg" / "train_triples.json.gz")[0] == "cc-by-nc-sa-4.0"
    ident, text = data_license(DATA / "conll04_train.json.gz")
    assert ident == "other" and "research use only" in text
    assert data_license("/nowhere/x.json") == ("unknown", "")


def test_headline_by_scheme():
    assert [k for k, _, _ in headline({"scheme": "semeval", "official_macro_f1": 0.8, "micro_f1": 0.81})] == [
        "official_macro_f1",
        "micro_f1",
    ]
    assert [k for k, _, _ in headline({"scheme": "relations", "micro_f1": 0.8, "micro_p": 0.9, "micro_r": 0.7})][0] == "micro_f1"
    assert headline({}) == []


def test_saved_run_model_carries_the_card_and_loads(tmp_path, tiny_bert):
    """A run of run_experiment writes README.md into the model directory, and the directory still loads."""
    from conftest import FIXTURES
    from relx.models.loading import load_model
    from relx.training.run import run_experiment

    spert = str(FIXTURES / "spert" / "tiny_train.json")
    raw = {
        "model": {"type": "span_base", "encoder": str(tiny_bert), "max_length": 64, "max_span_width": 4},
        "data": {"train": spert, "dev": spert, "test": spert, "format": "spert"},
        "trainer": {"epochs": 1, "batch_size": 2, "seed": 3, "num_threads": 1, "progress": False},
        "evaluation": {"scheme": "joint", "metric": "re_strict_micro_f1"},
    }
    result = run_experiment(raw, tmp_path / "run", verbose=False, origin="relx train --config c.yaml --out run")
    text = (result.model_dir / "README.md").read_text()
    assert "library_name: relx" in text and "relx train --config c.yaml --out run" in text and "## Test scores" in text
    assert load_model(result.model_dir).registered_name == "span_base"
