"""CLI end to end on a tiny encoder: train -> predict (raw marked sentences and JSONL) -> evaluate; Pipeline API."""

from __future__ import annotations

import json

import pytest
import yaml

import relx
from conftest import make_pair_docs
from relx.cli import main
from relx.data.schema import read_jsonl, write_jsonl


@pytest.fixture(scope="module")
def trained(tmp_path_factory, tiny_bert):
    tmp_path = tmp_path_factory.mktemp("cli")
    write_jsonl(tmp_path / "train.jsonl", make_pair_docs())
    cfg = {
        "model": {"type": "marker", "encoder": str(tiny_bert), "max_length": 32, "dropout": 0.0, "mse": True},
        "data": {"train": str(tmp_path / "train.jsonl"), "dev": str(tmp_path / "train.jsonl"), "test": str(tmp_path / "train.jsonl")},
        "trainer": {"epochs": 40, "batch_size": 4, "lr": 3e-3, "warmup_ratio": 0.0, "progress": False, "seed": 0},
    }
    (tmp_path / "cfg.yaml").write_text(yaml.safe_dump(cfg))
    rc = main(["train", "--config", str(tmp_path / "cfg.yaml"), "--out", str(tmp_path / "run"), "--set", "trainer.epochs=40"])
    assert rc == 0
    return tmp_path


def test_train_writes_model_and_results(trained):
    result = json.loads((trained / "run" / "result.json").read_text())
    assert result["test"]["micro_f1"] == 1.0
    for name in ("config.json", "labels.json", "model.safetensors", "metrics.json", "encoder/tokenizer.json"):
        assert (trained / "run" / "model" / name).is_file(), name


def test_predict_raw_sentences_and_evaluate(trained, capsys):
    (trained / "s.txt").write_text("<e1>bill gates</e1> founded <e2>microsoft</e2> in 1975 .\n\nthe <e1>man</e1> visited paris with the <e2>woman</e2> .\n")
    assert main(["predict", str(trained / "run" / "model"), "--input", str(trained / "s.txt"), "--output", str(trained / "p.jsonl")]) == 0
    preds = list(read_jsonl(trained / "p.jsonl"))
    assert [p.meta["pair_label"] for p in preds] == ["founder(e1,e2)", "no_relation"]
    assert preds[0].relations[0].score == pytest.approx(preds[0].meta["pair_score"])

    assert main(["predict", str(trained / "run" / "model"), "--input", str(trained / "train.jsonl"), "--output", str(trained / "p2.jsonl")]) == 0
    rc = main(["evaluate", "--gold", str(trained / "train.jsonl"), "--pred", str(trained / "p2.jsonl"), "--scheme", "tacred", "--json", str(trained / "m.json")])
    assert rc == 0
    assert json.loads((trained / "m.json").read_text())["micro_f1"] == 1.0


def test_predict_bad_line_is_one_line_error(trained, capsys):
    (trained / "bad.txt").write_text("<e1>bill</e1> founded <e2>microsoft</e2>\nno tags here\n")
    rc = main(["predict", str(trained / "run" / "model"), "--input", str(trained / "bad.txt"), "--output", str(trained / "x.jsonl")])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and "bad.txt:2" in err and len(err.splitlines()) == 1
    assert not (trained / "x.jsonl").exists()


def test_pipeline_api(trained):
    nlp = relx.load(trained / "run" / "model", device="cpu")
    doc = nlp("<e2>microsoft</e2> was founded by <e1>bill gates</e1> .")  # training doc 2, e2 first
    assert doc.meta["pair_label"] == "founder(e2,e1)"
    docs = nlp(["<e1>john smith</e1> works at <e2>acme corp</e2> in london ."])
    assert docs[0].meta["pair_label"] == "employee(e1,e2)" and 0.0 <= docs[0].meta["pair_score"] <= 1.0


def test_bad_config_and_unknown_model(tmp_path, capsys):
    (tmp_path / "c.yaml").write_text("model: {type: nope}\ndata: {train: x}\n")
    assert main(["train", "--config", str(tmp_path / "c.yaml"), "--out", str(tmp_path / "o")]) == 2
    assert "unknown model 'nope'" in capsys.readouterr().err
    (tmp_path / "c.yaml").write_text("model: {type: marker, colour: red}\ndata: {train: x}\n")
    assert main(["train", "--config", str(tmp_path / "c.yaml"), "--out", str(tmp_path / "o")]) == 2
    assert "colour" in capsys.readouterr().err


def test_models_lists_marker(capsys):
    assert main(["models"]) == 0
    assert "marker" in capsys.readouterr().out


def test_predict_detects_semeval_txt(trained):
    from conftest import FIXTURES

    out = trained / "sem.jsonl"
    assert main(["predict", str(trained / "run" / "model"), "--input", str(FIXTURES / "semeval" / "test_unlabeled.txt"), "--output", str(out)]) == 0
    docs = list(read_jsonl(out))
    assert docs and not any('"' in t or "\t" in t for d in docs for t in d.tokens)
