"""One request cannot fail another: input that cannot be encoded (lone surrogates, NaN) is a 4xx at the edge, a
failure inside the model fails only the request it came from, a request's total work and header size are bounded,
the CLI answers broken text in one line and never lets input text drive the terminal, and the spaCy component
explains a missing parser in one line."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

httpx = pytest.importorskip("httpx")
pytest.importorskip("fastapi")
spacy = pytest.importorskip("spacy")

import relx  # noqa: E402
from conftest import make_pair_docs, save_tiny_marker  # noqa: E402
from relx.cli import main  # noqa: E402
from relx.data.safetext import json_problem, json_safe, printable, unicode_problem  # noqa: E402
from relx.errors import RelxInputError  # noqa: E402
from relx.inference.extraction import extraction_view  # noqa: E402
from relx.integrations.http import Limits, create_app  # noqa: E402
from tiny_models import tiny_config  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
RAW = "Bill Gates founded Microsoft in 1975."
MARKED = "<e1>bill gates</e1> founded <e2>microsoft</e2> in 1975 ."


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory, tiny_bert):
    return save_tiny_marker(tmp_path_factory.mktemp("isolation") / "model", tiny_bert)


@pytest.fixture(scope="module")
def nlp(model_dir):
    return relx.load(model_dir, device="cpu")


def _strict_json(content: bytes):
    """The body parsed as strict JSON (no NaN / Infinity, valid UTF-8)."""

    def reject(name):
        raise ValueError(f"{name} in the response body")

    return json.loads(content.decode("utf-8"), parse_constant=reject)


def _body(obj) -> dict:
    """Request kwargs sending ``obj`` as ASCII JSON (lone surrogates as \\ud800 escapes, as any JSON client may)."""
    return {"content": json.dumps(obj).encode("ascii"), "headers": {"content-type": "application/json"}}


def _client(nlp, **limits):
    from fastapi.testclient import TestClient

    return TestClient(create_app(nlp, Limits(**limits)), raise_server_exceptions=False)


def _concurrently(app, requests: list[tuple[str, dict]]) -> list:
    """Send every (path, body) at once over one event loop (so the batcher merges them); the responses in order."""

    async def go():
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://relx.test", timeout=120) as c:
                return await asyncio.gather(*(c.post(path, **_body(b)) for path, b in requests))

    return asyncio.run(go())


def _labels(response) -> list[str]:
    return [r["label"] for r in response.json()["results"]]


# --- 1a: lone surrogates are a 422 naming the item -------------------------------------------------
DOC = make_pair_docs()[0].to_dict()


@pytest.mark.parametrize(
    "path,body,detail",
    [
        ("/extract", {"text": "Bill \ud800 Gates"}, "text 0: not valid Unicode (lone surrogate \\ud800 at character 5)"),
        (
            "/extract",
            {"texts": [RAW, "Bill Gates founded \udcff Microsoft."]},
            "text 1: not valid Unicode (lone surrogate \\udcff at character 19)",
        ),
        ("/classify", {"sentences": [MARKED, "<e1>bill</e1> \ud800 <e2>microsoft</e2> ."]}, "sentence 1: not valid Unicode"),
        ("/classify", {"sentence": "<e1>bill\udfff</e1> founded <e2>microsoft</e2> ."}, "sentence 0: not valid Unicode"),
        (
            "/extract",
            {"documents": [DOC, {**DOC, "id": "1", "tokens": ["bill", "gates", "\ud800", "microsoft", "in", "1975", "."]}]},
            "documents[1].tokens[2]: not valid Unicode",
        ),
        (
            "/extract",
            {"documents": [{**DOC, "entities": [{"start": 0, "end": 2, "label": "PER\ud800"}, DOC["entities"][1]]}]},
            "documents[0].entities[0].label: not valid Unicode",
        ),
        ("/extract", {"documents": [{**DOC, "id": "\udfff"}]}, "documents[0].id: not valid Unicode"),
        ("/extract", {"documents": [{**DOC, "meta": {"note": ["ok", "\ud83d"]}}]}, "documents[0].meta.note[1]: not valid Unicode"),
    ],
)
def test_lone_surrogate_is_422_naming_the_item(nlp, path, body, detail):
    with _client(nlp) as client:
        r = client.post(path, **_body(body))
    assert r.status_code == 422, r.text
    assert detail in _strict_json(r.content)["detail"]


def test_lone_surrogate_does_not_fail_the_requests_batched_with_it(nlp):
    app = create_app(nlp, Limits(batch_wait_ms=300))
    requests = [("/extract", {"text": RAW})] * 15 + [("/extract", {"text": "Bill Gates \ud800 founded Microsoft in 1975."})]
    requests += [("/extract", {"text": RAW})] * 15
    out = _concurrently(app, requests)
    assert [r.status_code for r in out] == [200] * 15 + [422] + [200] * 15
    want = extraction_view(nlp.extract([RAW])[0])["relations"]
    assert all(r.json()["documents"][0]["meta"]["extraction"]["relations"] == want for i, r in enumerate(out) if i != 15)


# --- 1b: a failure inside the model fails only the request holding the item ----------------------
def test_model_failure_fails_only_its_own_request(nlp, monkeypatch):
    sents = [MARKED, "the <e1>man</e1> visited paris with the <e2>woman</e2> ."]
    want = [d.meta["pair_label"] for d in nlp(sents)]
    real = nlp.predict

    def predict(docs, progress=False):
        for d in docs:
            if "kaboom" in d.tokens:
                raise RuntimeError("model exploded")
            if "bogus" in d.tokens:
                raise RelxInputError("this document cannot be classified")
        return real(docs, progress)

    monkeypatch.setattr(nlp, "predict", predict)
    app = create_app(nlp, Limits(batch_wait_ms=300))
    requests = [("/classify", {"sentences": sents})] * 28
    requests.insert(3, ("/classify", {"sentence": "<e1>kaboom</e1> founded <e2>microsoft</e2> ."}))
    requests.insert(7, ("/classify", {"sentences": [sents[0], "<e1>bogus</e1> founded <e2>microsoft</e2> .", sents[1]]}))
    out = _concurrently(app, requests)
    codes = [r.status_code for r in out]
    assert codes == [200] * 3 + [500] + [200] * 3 + [400] + [200] * 22, codes
    assert all(_labels(r) == want for r in out if r.status_code == 200)
    assert "sentence 0" in _strict_json(out[3].content)["detail"] and "model exploded" not in out[3].text
    assert "sentence 1" in out[7].json()["detail"] and "cannot be classified" in out[7].json()["detail"]
    assert app.state.batcher.calls < len(requests)  # the healthy requests still shared model calls (halving, not one by one)


def test_raw_text_failure_fails_only_its_own_request(nlp, monkeypatch):
    real = nlp.extract
    want = [extraction_view(d)["relations"] for d in real([RAW, "John Smith works at Acme Corp in London."])]

    def extract(texts, ids=None, *args, **kwargs):
        if any("kaboom" in t for t in texts):
            raise RuntimeError("spaCy exploded")
        return real(texts, ids, *args, **kwargs)

    monkeypatch.setattr(nlp, "extract", extract)
    app = create_app(nlp, Limits(batch_wait_ms=300))
    good = ("/extract", {"texts": [RAW, "John Smith works at Acme Corp in London."]})
    out = _concurrently(app, [good, good, ("/extract", {"texts": ["Paris.", "kaboom went the heater."]}), good])
    assert [r.status_code for r in out] == [200, 200, 500, 200]
    assert "text 1" in out[2].json()["detail"]
    for r in (out[0], out[1], out[3]):
        docs = r.json()["documents"]
        assert [d["meta"]["extraction"]["relations"] for d in docs] == want
        assert [d["id"] for d in docs] == ["0", "1"]  # ids do not depend on the requests merged with this one


# --- 2: NaN, headers, per-request budgets --------------------------------------------------------
@pytest.mark.parametrize(
    "path,raw,detail",
    [
        ("/extract", b'{"text": NaN}', None),
        ("/extract", b'{"texts": ["Paris.", Infinity]}', None),
        ("/classify", b'{"sentence": -Infinity}', None),
        ("/extract", b'{"text": "Paris.", "\\ud800": 1}', None),
        (
            "/extract",
            b'{"documents": [{"id": "a", "tokens": ["x", "y"], "meta": {"w": NaN}}]}',
            "documents[0].meta.w: nan is not a JSON number",
        ),
        (
            "/extract",
            b'{"documents": [{"id": "a", "tokens": ["x", "y"], "entities": [{"start": NaN, "end": 1, "label": "P"}]}]}',
            "documents[0].entities[0].start",
        ),
    ],
)
def test_unrenderable_input_is_422_with_a_valid_json_body(nlp, path, raw, detail):
    with _client(nlp) as client:
        r = client.post(path, content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 422, r.text
    body = _strict_json(r.content)
    assert body["detail"]
    if detail is not None:
        assert detail in body["detail"]


def test_oversized_headers_are_431(nlp):
    with _client(nlp, max_header_bytes=4096) as client:
        assert client.get("/health", headers={"x-pad": "a" * 3000}).status_code == 200
        r = client.get("/health", headers={"x-pad": "a" * 5000})
        assert r.status_code == 431 and "4,096" in _strict_json(r.content)["detail"]
        r = client.post("/extract", json={"text": RAW}, headers={f"x-{i}": "b" * 100 for i in range(60)})
        assert r.status_code == 431
    with _client(nlp) as client:
        assert client.get("/health", headers={"x-pad": "a" * 20_000}).status_code == 431  # default 16 KiB


def test_request_work_is_bounded(nlp):
    assert Limits().max_request_chars == 100_000 and Limits().max_request_tokens == 20_000 and Limits().max_header_bytes == 16_384
    with _client(nlp, max_request_chars=1000, max_request_tokens=20) as client:
        r = client.post("/extract", json={"texts": ["Paris is nice. " * 20] * 4})
        assert r.status_code == 413 and "1,200 characters" in r.json()["detail"] and "1,000" in r.json()["detail"]
        r = client.post("/classify", json={"sentences": [MARKED + " x" * 250] * 3})
        assert r.status_code == 413 and "characters" in r.json()["detail"]
        docs = [d.to_dict() for d in make_pair_docs()]  # 7 + 9 + 7 + 8 tokens
        r = client.post("/extract", json={"documents": docs})
        assert r.status_code == 413 and "31 tokens" in r.json()["detail"] and "limit is 20" in r.json()["detail"]
        assert client.post("/extract", json={"documents": docs[:2]}).status_code == 200
        assert client.post("/extract", json={"texts": ["Paris is nice."] * 3}).status_code == 200


def test_serve_cli_exposes_the_new_limits(model_dir, monkeypatch):
    import relx.integrations.http

    seen = {}
    monkeypatch.setattr(relx.integrations.http, "serve", lambda model, host, port, limits, **kw: seen.update(limits=limits))
    assert main(["serve", str(model_dir), "--max-request-chars", "5000", "--max-request-tokens", "700", "--max-header-bytes", "4096"]) == 0
    lim = seen["limits"]
    assert (lim.max_request_chars, lim.max_request_tokens, lim.max_header_bytes) == (5000, 700, 4096)
    assert main(["serve", str(model_dir)]) == 0 and seen["limits"] == Limits()
    assert main(["serve", str(model_dir), "--max-request-chars", "0"]) == 2


def test_uvicorn_gets_a_header_limit(model_dir, monkeypatch):
    import uvicorn

    import relx.integrations.http

    seen = {}
    monkeypatch.setattr(uvicorn.Server, "run", lambda self, sockets=None: seen.update(vars(self.config)))
    relx.integrations.http.serve(str(model_dir), port=0, limits=Limits(max_header_bytes=4096), device="cpu")
    assert seen["h11_max_incomplete_event_size"] >= 4096 and seen["http"] == "h11"


# --- 3: broken text on the command line ------------------------------------------------------------
def test_cli_text_with_invalid_utf8_bytes_is_one_line(model_dir):
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    out = subprocess.run(
        [sys.executable, "-m", "relx", "predict", str(model_dir), "--text", b"Bill \xff Gates founded Microsoft."],
        capture_output=True,
        env=env,
        cwd=ROOT,
        timeout=300,
    )
    err = out.stderr.decode("utf-8", "replace").strip()
    assert out.returncode == 2, err[-3000:]
    assert len(err.splitlines()) == 1 and err.startswith("relx: error:"), err
    assert "--text 1" in err and "not valid UTF-8 (byte 0xff at character 5)" in err


def test_cli_text_with_lone_surrogate_in_process(model_dir, capsys):
    assert main(["predict", str(model_dir), "--text", RAW, "--text", "<e1>bill</e1> \ud800 <e2>microsoft</e2>"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--text 2" in err and "not valid Unicode (lone surrogate \\ud800 at character 14)" in err


@pytest.mark.parametrize(
    "content,fmt",
    [
        (b"Paris is nice.\nBill \xff Gates founded Microsoft.\n", "raw"),
        (b"Paris is nice.\nBill \xed\xa0\x80 Gates founded Microsoft.\n", "raw"),  # an encoded surrogate is not UTF-8 either
        (b"<e1>bill</e1> met <e2>tom</e2> .\n<e1>bill</e1> \xc3 met <e2>tom</e2> .\n", "text"),
    ],
)
def test_cli_input_file_with_invalid_utf8_is_one_line(model_dir, tmp_path, capsys, content, fmt):
    (tmp_path / "in.txt").write_bytes(content)
    assert (
        main(["predict", str(model_dir), "--input", str(tmp_path / "in.txt"), "--output", str(tmp_path / "o.jsonl"), "--format", fmt]) == 2
    )
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "in.txt:2: file is not valid UTF-8" in err, err


def test_cli_jsonl_input_with_lone_surrogate_is_one_line(model_dir, tmp_path, capsys):
    docs = [d.to_dict() for d in make_pair_docs()]
    docs[1]["tokens"][2] = "w\udcffrks"
    (tmp_path / "in.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs))  # ASCII JSON: "\\udcff" escapes
    assert main(["predict", str(model_dir), "--input", str(tmp_path / "in.jsonl"), "--output", str(tmp_path / "o.jsonl")]) == 2
    err = capsys.readouterr().err.strip()
    assert (
        len(err.splitlines()) == 1 and "in.jsonl:2: document '1': token 2: not valid Unicode (lone surrogate \\udcff at character 1)" in err
    ), err


# --- 4: input text never drives the terminal -----------------------------------------------------
HOSTILE = "Bill Gates\x1b[31m founded [bold red]Microsoft[/bold red]\x07 in 1975.\u202e \x1b]0;owned\x07"


def _assert_inert(text: str) -> None:
    bad = [
        ch for ch in text if ch not in "\n\t" and (not ch.isprintable() or ch in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
    ]
    assert not bad, bad


def test_cli_prints_input_text_escaped(model_dir, capsys):
    marked = "<e1>bill\x1b[2J gates</e1> founded <e2>microsoft</e2>\x08 [blink]now[/blink] ."
    assert main(["predict", str(model_dir), "--text", HOSTILE, "--text", marked, "--threshold", "0"]) == 0
    out = capsys.readouterr().out
    _assert_inert(out)
    assert "\\x1b[31m" in out and "\\x07" in out and "\\u202e" in out  # shown, not executed
    assert "[bold red]Microsoft[/bold red]" in out and "now[/blink" in out  # markup shown literally
    assert "bill\\x1b[2J" in out and "\\x08" in out  # tokens of a marked sentence too


def test_cli_error_line_is_escaped(model_dir, tmp_path, capsys):
    missing = tmp_path / "in\x1b[2Jput\r.txt"
    assert main(["predict", str(model_dir), "--input", str(missing), "--output", str(tmp_path / "o.jsonl")]) == 2
    err = capsys.readouterr().err
    _assert_inert(err)
    assert "in\\x1b[2Jput\\x0d.txt" in err and len(err.strip().splitlines()) == 1


def test_printable_helper():
    assert printable("plain text, café 東京") == "plain text, café 東京"
    assert printable("a\x1b[31mb\rc\x07\u202ed\u2066\x7f\x85\udcff") == "a\\x1b[31mb\\x0dc\\x07\\u202ed\\u2066\\x7f\\x85\\udcff"
    assert printable("a\tb\nc", keep="\n") == "a\\x09b\nc"
    assert printable("\U000e0001") == "\\U000e0001"


def test_safetext_helpers():
    assert unicode_problem("ok") is None
    assert unicode_problem("ab\udcff", argv=True) == "not valid UTF-8 (byte 0xff at character 2)"
    assert unicode_problem("ab\ud800") == "not valid Unicode (lone surrogate \\ud800 at character 2)"
    assert json_problem({"a": [1, 2.5, {"b": "x"}]}) is None
    assert (
        json_problem({"a": [1, {"b": float("inf")}]}, "body") == "body.a[1].b: inf is not a JSON number (NaN and Infinity are not allowed)"
    )
    deep: list = []
    for _ in range(100_000):
        deep = [deep]
    assert json_problem(deep) is None
    safe = json_safe({"k\ud800": [float("nan"), "v\udcff", 1]})
    assert json.dumps(safe, allow_nan=False).encode("utf-8") and safe == {"k\\ud800": ["nan", "v\\udcff", 1]}


# --- 5: spaCy component without a dependency parse ------------------------------------------------
@pytest.fixture(scope="module")
def untyped_model_dir(tmp_path_factory, tiny_bert):
    """A tiny marker model with the training profile of untyped (SemEval-like) entities: noun-chunk candidates."""
    import torch

    from relx.data.labels import LabelSet
    from relx.data.schema import Entity
    from relx.models.marker import MarkerModel
    from relx.models.profile import training_profile

    docs = make_pair_docs()
    for d in docs:
        d.entities = [Entity(e.start, e.end, "ENTITY") for e in d.entities]
    torch.manual_seed(0)
    model = MarkerModel(tiny_config(MarkerModel, {"bert": str(tiny_bert)}), LabelSet.from_documents(docs))
    model.prepare(docs)
    model.profile = training_profile(docs, model.labels.negative)
    return model.save(tmp_path_factory.mktemp("isolation") / "untyped")


def test_noun_chunks_without_a_parser_is_one_line(untyped_model_dir):
    import relx.integrations.spacy_component  # noqa: F401

    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("relx", config={"model": str(untyped_model_dir)})
    assert nlp.get_pipe("relx").extractor.candidates == "noun_chunks"
    with pytest.raises(ValueError) as info:
        nlp("The fire was caused by a faulty heater. It burned the house.")
    msg = str(info.value)
    assert "\n" not in msg and "E029" not in msg and "parser" in msg and "candidates" in msg and "ner" in msg, msg


def test_ner_candidates_without_a_parser_still_work(untyped_model_dir):
    import relx.integrations.spacy_component  # noqa: F401

    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("relx", config={"model": str(untyped_model_dir), "candidates": "ner"})
    assert nlp("The fire was caused by a faulty heater.")._.relations == []
