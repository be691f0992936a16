"""Contract test for every registered model, per kind: forward shapes and a finite loss that backprops,
overfit four documents, save -> load -> identical predictions, resume -> the same model."""

from __future__ import annotations

import pytest
import torch

from relx.data.schema import Document
from relx.models.base import Decoded, ModelKind
from relx.models.loading import load_model
from relx.models.neural import NeuralREModel
from relx.registry import MODELS
from relx.training.trainer import Trainer
from tiny_models import crash_at_step, docs_for, fresh_model, resume_config, same_weights, tiny_fit_kwargs

ALL = MODELS.names()
CASES = [pytest.param(n, id=f"{MODELS.get(n).kind.value}-{n}") for n in ALL]


def test_every_kind_is_covered():
    assert {MODELS.get(n).kind for n in ALL} == set(ModelKind)
    assert len(ALL) >= 17


def _triples(doc: Document) -> set:
    """(head span, tail span, label) of each relation: comparable whatever the entity order."""
    e = doc.entities
    return {((e[r.head].start, e[r.head].end), (e[r.tail].start, e[r.tail].end), r.label) for r in doc.relations}


def _assert_fits(kind: ModelKind, gold: list[Document], preds: list[Document], labels) -> None:
    for p in preds:  # decode returns valid relations
        for r in p.relations:
            assert 0 <= r.head < len(p.entities) and 0 <= r.tail < len(p.entities) and r.head != r.tail
    if kind is ModelKind.PAIR:
        assert [p.meta["pair_label"] for p in preds] == [labels.pair_label(d) for d in gold]
        return
    for g, p in zip(gold, preds):
        if kind is ModelKind.ALL_PAIRS:
            assert p.entities == g.entities
        assert {(e.start, e.end, e.label) for e in p.entities} == {(e.start, e.end, e.label) for e in g.entities}
        assert _triples(p) == _triples(g)
        assert all(0.0 <= r.score <= 1.0 for r in p.relations)


def _assert_same_predictions(a: list[Document], b: list[Document]) -> None:
    for x, y in zip(a, b):
        assert x.entities == y.entities
        assert [(r.head, r.tail, r.label) for r in x.relations] == [(r.head, r.tail, r.label) for r in y.relations]
        assert [r.score for r in x.relations] == pytest.approx([r.score for r in y.relations], abs=1e-5)
        assert x.meta.get("pair_label") == y.meta.get("pair_label")
        assert x.meta.get("pair_score", 0.0) == pytest.approx(y.meta.get("pair_score", 0.0), abs=1e-5)


@pytest.mark.parametrize("name", CASES)
def test_model_contract(name, resources, tmp_path):
    cls = MODELS.get(name)
    docs = docs_for(cls.kind)
    model = fresh_model(name, resources, docs)

    if isinstance(model, NeuralREModel):  # forward shapes, finite loss that backprops
        model.prepare(docs)
        out = model(model.collate([model.featurize(d) for d in docs]))
        assert out.logits.shape[0] == len(docs)
        assert torch.isfinite(out.loss)
        out.loss.backward()
        assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())
        model = fresh_model(name, resources, docs)

    model.fit(docs, docs if cls.kind is ModelKind.PAIR else None, **tiny_fit_kwargs(cls))
    preds = model.predict(docs)
    _assert_fits(cls.kind, docs, preds, model.labels)

    if isinstance(model, NeuralREModel):  # decode gives what the kind produces: entities only from joint models
        model.eval()
        with torch.no_grad():
            batch = model.collate([model.featurize(d) for d in docs])
            decoded = model.decode(batch, model(batch))
        assert len(decoded) == len(docs) and all(isinstance(d, Decoded) for d in decoded)
        assert all((d.entities is not None) == (cls.kind is ModelKind.JOINT) for d in decoded)

    model.save(tmp_path / name)
    again = load_model(tmp_path / name).predict(docs)
    _assert_same_predictions(preds, again)
    _assert_fits(cls.kind, docs, again, model.labels)


@pytest.mark.parametrize(
    "name,overrides",
    [pytest.param(n, {}, id=f"{MODELS.get(n).kind.value}-{n}") for n in ALL]
    + [pytest.param("marker", {"marker_style": "typed", "mld": True, "mse": True}, id="pair-marker-typed")],
)
def test_resume_matches_uninterrupted(name, overrides, resources, tmp_path, monkeypatch):
    """A run killed after step 4 and resumed gives the weights of an uninterrupted run (models without
    training steps: a resumed fit gives the same predictions)."""
    docs = docs_for(MODELS.get(name).kind)
    ref = fresh_model(name, resources, docs, **overrides)
    if not isinstance(ref, NeuralREModel):
        ref.fit(docs, docs[:2], out_dir=tmp_path / "ref", **tiny_fit_kwargs(type(ref)))
        resumed = fresh_model(name, resources, docs, **overrides)
        resumed.fit(docs, docs[:2], out_dir=tmp_path / "ref", resume=True, **tiny_fit_kwargs(type(ref)))
        _assert_same_predictions(ref.predict(docs), resumed.predict(docs))
        return
    Trainer(resume_config(name)).fit(ref, docs, docs[:2], out_dir=tmp_path / "ref")

    with monkeypatch.context() as m:
        crash_at_step(m, 5)
        with pytest.raises(KeyboardInterrupt):
            Trainer(resume_config(name)).fit(fresh_model(name, resources, docs, **overrides), docs, docs[:2], out_dir=tmp_path / "run")
    resumed = fresh_model(name, resources, docs, **overrides)
    hist = Trainer(resume_config(name)).fit(resumed, docs, docs[:2], out_dir=tmp_path / "run", resume=True)
    assert hist["step"] == 6
    same_weights(ref, resumed)


def test_weights_saved_under_the_old_front_end_name_still_load(resources, tmp_path):
    """Pair transformer models saved before ``encoder`` was renamed ``front_end`` (keys ``encoder.encoder.*``) load unchanged."""
    from safetensors.torch import load_file, save_file

    from relx.models.persistence import CHECKSUM_KEY, read_json_file, weight_checksums
    from relx.utils import write_json

    docs = docs_for(ModelKind.PAIR)
    model = fresh_model("marker", resources, docs)
    model.prepare(docs)
    model.save(tmp_path / "m")
    weights = tmp_path / "m" / "model.safetensors"
    tensors = load_file(str(weights))
    assert any(k.startswith("front_end.encoder.") for k in tensors)
    save_file({("encoder." + k[len("front_end.") :] if k.startswith("front_end.") else k): v for k, v in tensors.items()}, str(weights))
    meta = read_json_file(tmp_path / "m" / "config.json")
    write_json(tmp_path / "m" / "config.json", {**meta, CHECKSUM_KEY: weight_checksums(tmp_path / "m")})
    assert not any(k.startswith("front_end.") for k in load_file(str(weights)))
    again = load_model(tmp_path / "m")
    same_weights(model, again)
    _assert_same_predictions(model.predict(docs), again.predict(docs))
