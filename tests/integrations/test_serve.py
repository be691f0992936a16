"""`relx serve`: a real uvicorn server on 127.0.0.1 — endpoints, validation (4xx with one-line messages), limits,
micro-batching of concurrent requests, results equal to the Pipeline's."""

from __future__ import annotations

import concurrent.futures
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

httpx = pytest.importorskip("httpx")
pytest.importorskip("fastapi")

import relx  # noqa: E402
from conftest import make_pair_docs, save_tiny_marker  # noqa: E402
from relx.cli.serve import DEFAULTS  # noqa: E402
from relx.data.labels import LabelSet  # noqa: E402
from relx.integrations.http import Limits  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SERVER_OUTPUT: list[list[str]] = []  # the module server's stdout lines, read by a thread


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory, tiny_bert):
    tmp = tmp_path_factory.mktemp("serve")
    docs = make_pair_docs()
    save_tiny_marker(tmp / "model", tiny_bert, docs)
    port = free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "relx",
            "serve",
            str(tmp / "model"),
            "--port",
            str(port),
            "--max-items",
            "8",
            "--max-chars",
            "400",
            "--batch-wait-ms",
            "20",
            "--access-log",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    output: list[str] = []
    threading.Thread(target=lambda: output.extend(line.decode() for line in proc.stdout), daemon=True).start()
    for _ in range(600):
        if any(url in line for line in output):
            break
        if proc.poll() is not None:
            time.sleep(0.5)
            raise RuntimeError("".join(output))
        time.sleep(0.1)
    SERVER_OUTPUT[:] = [output]
    yield url, tmp / "model", docs
    proc.terminate()
    proc.wait(10)


def test_ready_line_and_access_log(server):
    """The URL is printed once requests are accepted (the fixture waited for it); --access-log logs each request."""
    url, model_dir, _ = server
    output = SERVER_OUTPUT[0]
    assert f"relx: serving {model_dir} on {url} (engine torch); docs at /docs\n" in output
    httpx.get(url + "/labels")
    for _ in range(50):
        if any("GET /labels" in line for line in output):
            break
        time.sleep(0.1)
    assert any("GET /labels" in line and "200" in line for line in output), output


def test_port_in_use_fails_before_loading_the_model(tmp_path):
    """A taken port is one line and exit 2, before any model work (the model directory does not even exist)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT / "src")}
        cmd = [sys.executable, "-m", "relx", "serve", str(tmp_path / "no-model"), "--port", str(port)]
        r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2, r.stderr
    assert r.stderr.strip() == f"relx: error: port {port} on 127.0.0.1 is in use"
    assert r.stdout == ""


def test_docs_are_served_locally(server):
    """Swagger UI works offline: /docs references only this server's URLs, and each of them answers 200."""
    url = server[0]
    html = httpx.get(url + "/docs").text
    refs = re.findall(r"""(?:src|href)=["']([^"']+)["']|url: *["']([^"']+)["']""", html)
    refs = [a or b for a, b in refs]
    assert refs and "http://" not in html and "https://" not in html
    assert all(ref.startswith("/") for ref in refs), refs
    for ref in refs:
        assert httpx.get(url + ref).status_code == 200, ref


def test_health_labels_docs(server):
    url, _, docs = server
    h = httpx.get(url + "/health").json()
    assert h["status"] == "ok" and h["model"] == "marker" and h["engine"] == "torch"
    labels = httpx.get(url + "/labels").json()
    assert set(labels["labels"]) == set(LabelSet.from_documents(docs).labels)
    assert "/extract" in httpx.get(url + "/openapi.json").json()["paths"]
    assert httpx.get(url + "/docs").status_code == 200


def test_classify_equals_pipeline(server):
    url, model_dir, _ = server
    sents = ["<e1>bill gates</e1> founded <e2>microsoft</e2> in 1975 .", "the <e1>man</e1> visited paris with the <e2>woman</e2> ."]
    got = httpx.post(url + "/classify", json={"sentences": sents}).json()["results"]
    ref = relx.load(model_dir)(sents)
    assert [r["label"] for r in got] == [d.meta["pair_label"] for d in ref]
    assert [round(r["score"], 5) for r in got] == [round(d.meta["pair_score"], 5) for d in ref]
    one = httpx.post(url + "/classify", json={"sentence": sents[0]}).json()["results"]
    assert len(one) == 1 and one[0]["label"] == got[0]["label"]


def test_extract_documents_and_raw_text(server):
    url, model_dir, docs = server
    body = {"documents": [d.to_dict() for d in docs]}
    got = httpx.post(url + "/extract", json=body).json()["documents"]
    ref = relx.load(model_dir)(docs)
    assert [g["meta"]["pair_label"] for g in got] == [d.meta["pair_label"] for d in ref]
    raw = httpx.post(url + "/extract", json={"text": "Bill Gates founded Microsoft in Albuquerque."})
    assert raw.status_code == 200 and raw.json()["documents"][0]["tokens"][:2] == ["Bill", "Gates"]


def test_extract_documents_with_character_offsets(server):
    """/extract takes texts with character-offset entities next to relx records; they classify like the Pipeline."""
    url, model_dir, docs = server
    text = "Bill Gates founded Microsoft in 1975."
    record = {"text": text, "entities": [{"start": 0, "end": 10, "label": "PERSON"}, {"start": 19, "end": 28, "label": "ORGANIZATION"}]}
    r = httpx.post(url + "/extract", json={"documents": [record, docs[1].to_dict()]})
    assert r.status_code == 200, r.text
    got = r.json()["documents"]
    assert got[0]["meta"]["pair_label"] == relx.load(model_dir)(record).meta["pair_label"]
    assert [(e["char_start"], e["char_end"]) for e in got[0]["entities"]] == [(0, 10), (19, 28)]
    assert got[0]["id"] == "0" and got[1]["id"] == docs[1].id


@pytest.mark.parametrize(
    "path,body,status,message",
    [
        ("/classify", {"sentence": "no tags here"}, 422, "mark the two entities"),
        ("/classify", {"sentence": "<e1>a</e1> b"}, 422, "request (sentence 0)"),
        ("/classify", {"sentence": "<e1>a</e1> and <e2>b"}, 422, "request (sentence 0)"),
        ("/classify", {}, 422, "exactly one of"),
        ("/classify", {"sentence": 3}, 422, "string"),
        ("/classify", {"sentences": ["<e1>a</e1> and <e2>b</e2>"] * 9}, 413, "limit is 8"),
        ("/classify", {"sentence": "<e1>a</e1> " + "x " * 300 + "<e2>b</e2>"}, 413, "limit is 400"),
        ("/extract", {"text": "   "}, 422, "empty"),
        ("/extract", {"text": "a", "texts": ["b"]}, 422, "exactly one of"),
        (
            "/extract",
            {"documents": [{"id": "x", "tokens": ["a", "b"], "entities": [{"start": 0, "end": 5, "label": "P"}]}]},
            400,
            "documents[0]",
        ),
        ("/extract", {"documents": [{"id": 1, "tokens": ["a"]}]}, 400, "documents[0]"),
        ("/extract", {"surprise": 1}, 422, "surprise"),
        (
            "/extract",
            {"documents": [{"text": "Bill Gates founded Microsoft.", "entities": [{"start": 0, "end": 3}, {"start": 19, "end": 28}]}]},
            400,
            "request (documents[0]): entity 0 [0, 3) 'Bil': end 3 cuts the token 'Bill'",
        ),
        ("/extract", {"documents": [{"text": "Bill Gates.", "entities": [{"start": 0, "end": 4}]}]}, 400, "needs exactly two"),
        ("/extract", {"documents": [{"text": "x" * 401, "entities": []}]}, 413, "documents[0]: 401 characters; the limit is 400"),
    ],
)
def test_bad_requests_are_4xx_with_a_message(server, path, body, status, message):
    url = server[0]
    r = httpx.post(url + path, json=body)
    assert r.status_code == status, r.text
    assert message in r.text


def test_malformed_json_is_422(server):
    r = httpx.post(server[0] + "/classify", content=b'{"sentence": ', headers={"content-type": "application/json"})
    assert r.status_code == 422


def test_concurrent_requests_are_micro_batched(server):
    url, model_dir, _ = server
    before = httpx.get(url + "/health").json()["model_calls"]
    sent = "<e1>john smith</e1> works at <e2>acme corp</e2> in london ."
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        results = list(pool.map(lambda _: httpx.post(url + "/classify", json={"sentence": sent}, timeout=30), range(32)))
    assert all(r.status_code == 200 for r in results)
    assert len({r.json()["results"][0]["label"] for r in results}) == 1
    calls = httpx.get(url + "/health").json()["model_calls"] - before
    assert calls < 32  # requests shared model calls


def test_cli_defaults_mirror_limits():
    assert DEFAULTS == {k: getattr(Limits(), k) for k in DEFAULTS}


def _fuzz_cases():
    sys.path.insert(0, str(ROOT / "tests" / "fuzz"))
    from corpus import CASES

    return [
        (name, data)
        for name, (fmt, _, data, expected) in CASES.items()
        if fmt == "jsonl" and expected == "error" and name != "jsonl-non-gzip-gz"
    ]  # a file-name property, not content


@pytest.mark.parametrize("name,data", _fuzz_cases(), ids=[c[0] for c in _fuzz_cases()])
def test_fuzz_corpus_over_http_is_4xx(server, name, data):
    """Each hostile JSONL record as a /extract document (or, when it is not even JSON, as the raw body): a 4xx
    with a message, never a 5xx."""
    url = server[0]
    try:
        records = [json.loads(line) for line in data.decode("utf-8").splitlines() if line.strip()]
    except (UnicodeDecodeError, json.JSONDecodeError):
        records = None
    if records:
        body = json.dumps({"documents": records}).encode()  # ASCII JSON: a lone surrogate travels as a \ud800 escape
        r = httpx.post(url + "/extract", content=body, headers={"content-type": "application/json"})
    else:
        r = httpx.post(url + "/extract", content=b'{"documents": [' + data + b"]}", headers={"content-type": "application/json"})
    assert 400 <= r.status_code < 500, (r.status_code, r.text)
    assert r.json()["detail"]


def test_one_text_length_limit_for_extraction_predict_and_serve():
    """One constant: the extraction limit is the service's per-text default (it was 100,000 vs 20,000)."""
    from relx.cli.serve import DEFAULTS
    from relx.inference.preprocess import MAX_TEXT_CHARS, text_problem

    assert Limits().max_chars == DEFAULTS["max_chars"] == MAX_TEXT_CHARS
    assert DEFAULTS == {k: getattr(Limits(), k) for k in DEFAULTS}
    assert text_problem("x" * MAX_TEXT_CHARS) is None and "more than the limit" in text_problem("x" * (MAX_TEXT_CHARS + 1))
