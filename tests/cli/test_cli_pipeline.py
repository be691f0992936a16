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
    (trained / "s.txt").write_text(
        "<e1>bill gates</e1> founded <e2>microsoft</e2> in 1975 .\n\nthe <e1>man</e1> visited paris with the <e2>woman</e2> .\n"
    )
    assert main(["predict", str(trained / "run" / "model"), "--input", str(trained / "s.txt"), "--output", str(trained / "p.jsonl")]) == 0
    preds = list(read_jsonl(trained / "p.jsonl"))
    assert [p.meta["pair_label"] for p in preds] == ["founder(e1,e2)", "no_relation"]
    assert preds[0].relations[0].score == pytest.approx(preds[0].meta["pair_score"])

    assert (
        main(["predict", str(trained / "run" / "model"), "--input", str(trained / "train.jsonl"), "--output", str(trained / "p2.jsonl")])
        == 0
    )
    rc = main(
        [
            "evaluate",
            "--gold",
            str(trained / "train.jsonl"),
            "--pred",
            str(trained / "p2.jsonl"),
            "--scheme",
            "tacred",
            "--json",
            str(trained / "m.json"),
        ]
    )
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
    assert (
        main(["predict", str(trained / "run" / "model"), "--input", str(FIXTURES / "semeval" / "test_unlabeled.txt"), "--output", str(out)])
        == 0
    )
    docs = list(read_jsonl(out))
    assert docs and not any('"' in t or "\t" in t for d in docs for t in d.tokens)


def _predict(trained, *args):
    return main(["predict", str(trained / "run" / "model"), *map(str, args)])


def test_predict_rejects_documents_without_exactly_two_entities(trained, capsys):
    from relx.data.schema import Entity

    docs = make_pair_docs()
    docs[3].id, docs[3].entities = "102", docs[3].entities[:1]
    write_jsonl(trained / "one.jsonl", docs)
    text = (trained / "one.jsonl").read_text()
    (trained / "one.jsonl").write_text("\n" + text)  # a blank first line: the error names the real line
    out = trained / "never.jsonl"
    assert _predict(trained, "--input", trained / "one.jsonl", "--output", out) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "one.jsonl:5:" in err and "document '102' has 1 entity" in err
    assert "<e1>..</e1>" in err and "JSONL" in err and not out.exists()

    docs = make_pair_docs()
    docs[1].entities.append(Entity(7, 8, "LOCATION"))
    write_jsonl(trained / "three.jsonl", docs)
    assert _predict(trained, "--input", trained / "three.jsonl", "--output", out) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "three.jsonl:2:" in err and "has 3 entities" in err and "joint model (span_base, two_phase)" in err
    assert not out.exists()


def test_predict_plain_text_uses_the_shared_reader(trained, capsys):
    import gzip

    lines = "\ufeff<e1>bill gates</e1> founded\u2028<e2>microsoft</e2> in 1975 .\r\n\n the <e1>man</e1>\x0cvisited paris with the <e2>woman</e2> .\n"
    (trained / "s.txt.gz").write_bytes(gzip.compress(lines.encode("utf-8")))
    out = trained / "gz.jsonl"
    assert _predict(trained, "--input", trained / "s.txt.gz", "--output", out) == 0
    preds = list(read_jsonl(out))
    assert [p.id for p in preds] == ["line1", "line3"]
    assert preds[0].tokens[:3] == ["bill", "gates", "founded"] and preds[0].entities[1].start == 3
    assert [p.meta["pair_label"] for p in preds] == ["founder(e1,e2)", "no_relation"]
    capsys.readouterr()

    (trained / "latin1.txt").write_bytes("<e1>a</e1> b <e2>c</e2>\n<e1>caf\xe9</e1> <e2>x</e2>\n".encode("latin-1"))
    assert _predict(trained, "--input", trained / "latin1.txt", "--output", out) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "latin1.txt:2:" in err and "not valid UTF-8" in err


def test_predict_format_text_on_jsonl_is_a_clear_error(trained, capsys):
    assert _predict(trained, "--input", trained / "train.jsonl", "--format", "text", "--output", trained / "t.jsonl") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "train.jsonl:1:" in err and "JSON object" in err and "--format jsonl" in err


@pytest.mark.parametrize("size", ["0", "-1", "two"])
def test_predict_rejects_bad_batch_size(trained, capsys, size):
    out = trained / "b.jsonl"
    assert _predict(trained, "--input", trained / "train.jsonl", "--output", out, "--batch-size", size) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--batch-size must be a positive integer" in err and not out.exists()


def test_predict_checks_the_output_before_any_work(tmp_path, capsys):
    (tmp_path / "in.txt").write_text("<e1>a</e1> b <e2>c</e2>\n")
    (tmp_path / "afile").write_text("x")
    for output, needle in ((tmp_path, "is a directory"), (tmp_path / "afile" / "out.jsonl", "is not a directory")):
        # the model directory does not exist: the output error must come first
        assert main(["predict", str(tmp_path / "no_model"), "--input", str(tmp_path / "in.txt"), "--output", str(output)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and needle in err


def test_predict_shows_progress_and_speed(trained, capsys):
    assert _predict(trained, "--input", trained / "train.jsonl", "--output", trained / "speed.jsonl", "--batch-size", "1") == 0
    captured = capsys.readouterr()
    assert "predicting" in captured.err and "4/4" in captured.err
    assert "predicted 4 documents in" in captured.out and "documents/s" in captured.out
    # chunked, length-sorted prediction keeps the input order
    assert [d.id for d in read_jsonl(trained / "speed.jsonl")] == ["0", "1", "2", "3"]


def test_pipeline_validates_documents(trained):
    from relx.data.schema import Document, Entity
    from relx.errors import RelxConfigError, RelxInputError

    nlp = relx.load(trained / "run" / "model", device="cpu")
    toks = "bill gates founded microsoft .".split()
    with pytest.raises(RelxInputError, match=r"document 'past': entity 1 span \[4, 9\) is outside the sentence of 5 tokens"):
        nlp(Document("past", toks, [Entity(0, 2), Entity(4, 9)]))
    with pytest.raises(RelxInputError, match="document 'crossed': entity 0 has an empty or crossed span"):
        nlp([Document("crossed", toks, [Entity(2, 2), Entity(3, 4)])])
    with pytest.raises(RelxInputError, match="document 'three' has 3 entities"):
        nlp(Document("three", toks, [Entity(0, 2), Entity(3, 4), Entity(4, 5)]))
    with pytest.raises(RelxInputError, match="document 'none' has 0 entities"):
        nlp(Document("none", toks, []))
    with pytest.raises(RelxConfigError, match="batch size"):
        relx.load(trained / "run" / "model", device="cpu", batch_size=0)
    ok = make_pair_docs()[0]  # a valid document still predicts as trained
    assert nlp(ok).meta["pair_label"] == "founder(e1,e2)"
