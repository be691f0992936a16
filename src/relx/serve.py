"""`relx serve`: a FastAPI app over one loaded Pipeline, with request limits and micro-batching.

Endpoints: ``POST /extract`` (raw texts, or documents with tokens + entities), ``POST /classify`` (sentences with
``<e1>..</e1>`` / ``<e2>..</e2>`` tags), ``GET /health``, ``GET /labels``; OpenAPI at ``/docs``.

Concurrent requests are queued and merged into model batches by one worker (``max_batch`` documents or a
``batch_wait_ms`` window, whichever comes first); the model runs in one thread, so work never overlaps on
the CPU. Limits: ``max_chars`` per text, ``max_items`` per request, ``max_pending`` queued documents
(beyond it: 429 with Retry-After). Bad input: 400 / 413 / 422 with the one-line relx message.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from relx.data.schema import Document
from relx.errors import RelxInputError

if TYPE_CHECKING:
    from relx.pipeline import Pipeline


@dataclass
class Limits:
    max_chars: int = 20_000  # characters per text / sentence
    max_items: int = 256  # texts, sentences or documents per request
    max_pending: int = 4096  # documents waiting for the model, all requests together
    max_batch: int = 64  # documents per model call
    batch_wait_ms: float = 5.0  # how long the worker waits to fill a batch


@dataclass
class _Job:
    kind: str  # "raw" | "docs"
    items: list[Any]
    future: asyncio.Future
    enqueued: float = field(default_factory=time.perf_counter)


class Batcher:
    """Merges queued jobs of one kind into model calls of at most ``max_batch`` items, in one worker thread."""

    def __init__(self, nlp: Pipeline, limits: Limits):
        self.nlp, self.limits = nlp, limits
        self.queue: asyncio.Queue[_Job] = asyncio.Queue()
        self.pending = 0
        self.task: asyncio.Task | None = None
        self.calls = 0

    def start(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self._worker())

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task

    async def submit(self, kind: str, items: list[Any]) -> list[Document]:
        from fastapi import HTTPException

        if self.pending + len(items) > self.limits.max_pending:
            raise HTTPException(429, f"server busy: {self.pending} documents queued (limit {self.limits.max_pending}); retry shortly",
                                headers={"Retry-After": "1"})
        self.pending += len(items)
        fut = asyncio.get_running_loop().create_future()
        await self.queue.put(_Job(kind, items, fut))
        try:
            return await fut
        finally:
            self.pending -= len(items)

    async def _worker(self) -> None:
        loop = asyncio.get_running_loop()
        carry: _Job | None = None
        while True:
            first = carry or await self.queue.get()
            carry = None
            jobs, size = [first], len(first.items)
            deadline = loop.time() + self.limits.batch_wait_ms / 1000
            while size < self.limits.max_batch:
                try:
                    job = await asyncio.wait_for(self.queue.get(), max(0.0, deadline - loop.time()))
                except asyncio.TimeoutError:
                    break
                if job.kind != first.kind:
                    carry = job
                    break
                jobs.append(job)
                size += len(job.items)
            items = [x for j in jobs for x in j.items]
            self.calls += 1
            try:
                out = await loop.run_in_executor(None, self._run, first.kind, items)
            except Exception as exc:  # one bad batch fails its own requests only
                for j in jobs:
                    if not j.future.done():
                        j.future.set_exception(exc)
                continue
            k = 0
            for j in jobs:
                if not j.future.done():
                    j.future.set_result(out[k : k + len(j.items)])
                k += len(j.items)

    def _run(self, kind: str, items: list[Any]) -> list[Document]:
        if kind == "raw":
            return self.nlp.extract(items, [str(i) for i in range(len(items))])
        return self.nlp.predict(items)


class ExtractRequest(BaseModel):
    """Exactly one of: ``text`` (raw), ``texts`` (raw, many), ``documents`` (relx JSONL records with tokens + entities)."""

    model_config = ConfigDict(extra="forbid")
    text: str | None = None
    texts: list[str] | None = None
    documents: list[dict[str, Any]] | None = None


class ClassifyRequest(BaseModel):
    """Exactly one of ``sentence`` / ``sentences``, each with ``<e1>..</e1>`` and ``<e2>..</e2>`` tags."""

    model_config = ConfigDict(extra="forbid")
    sentence: str | None = None
    sentences: list[str] | None = None


def _check_texts(texts: list[str], limits: Limits, what: str) -> None:
    from fastapi import HTTPException

    if not texts:
        raise HTTPException(422, f"no {what}s given")
    if len(texts) > limits.max_items:
        raise HTTPException(413, f"{len(texts)} {what}s in one request; the limit is {limits.max_items} (split the request)")
    for i, t in enumerate(texts):
        if len(t) > limits.max_chars:
            raise HTTPException(413, f"{what} {i}: {len(t)} characters; the limit is {limits.max_chars}")
        if not t.strip():
            raise HTTPException(422, f"{what} {i}: empty")


def create_app(nlp: Pipeline, limits: Limits | None = None, model_dir: str = "") -> Any:
    """The FastAPI application serving ``nlp``."""
    from fastapi import FastAPI, HTTPException, Request
    from fastapi.responses import JSONResponse

    from relx.pipeline import Pipeline

    limits = limits or Limits()
    batcher = Batcher(nlp, limits)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        batcher.start()
        yield
        await batcher.stop()

    app = FastAPI(title="relx", description="Relation extraction with a saved relx model.", lifespan=lifespan)
    app.state.batcher = batcher

    @app.exception_handler(RelxInputError)
    async def relx_input_error(request: Request, exc: RelxInputError) -> JSONResponse:
        return JSONResponse(status_code=400, content={"detail": str(exc)})

    @app.get("/health")
    async def health() -> dict:
        model = nlp.model
        return {"status": "ok", "model": getattr(model, "registered_name", "?"), "directory": model_dir,
                "engine": "onnx" if getattr(model, "runtime", None) is not None else getattr(model, "engine", "torch"),
                "queued_documents": batcher.pending, "model_calls": batcher.calls}

    @app.get("/labels")
    async def labels() -> dict:
        profile = nlp.model.profile or {}
        return {"labels": nlp.labels, "negative": nlp.model.labels.negative, "entity_types": sorted(profile.get("entity_types", {}))}

    @app.post("/extract")
    async def extract(req: ExtractRequest) -> dict:
        given = [k for k in ("text", "texts", "documents") if getattr(req, k) is not None]
        if len(given) != 1:
            raise HTTPException(422, "give exactly one of 'text', 'texts' or 'documents'")
        if req.documents is not None:
            if not req.documents or len(req.documents) > limits.max_items:
                raise HTTPException(413 if req.documents else 422, f"'documents' needs 1 to {limits.max_items} records")
            docs = []
            for i, d in enumerate(req.documents):
                try:
                    doc = Document.from_dict(d)
                except RelxInputError as exc:
                    raise RelxInputError(exc.problem, "request", f"documents[{i}]") from None
                if len(doc.tokens) > limits.max_chars:
                    raise HTTPException(413, f"documents[{i}]: {len(doc.tokens)} tokens; the limit is {limits.max_chars}")
                if any(d.id == doc.id for d in docs):
                    raise RelxInputError(f"duplicate document id {doc.id!r}; ids must be unique within a request", "request", f"documents[{i}]")
                docs.append(doc)
            nlp.check(docs, "request", lambda i: f"documents[{i}]")
            preds = await batcher.submit("docs", docs)
        else:
            texts = [req.text] if req.text is not None else list(req.texts or [])
            _check_texts(texts, limits, "text")
            preds = await batcher.submit("raw", texts)
        return {"documents": [p.to_dict() for p in preds]}

    @app.post("/classify")
    async def classify(req: ClassifyRequest) -> dict:
        if (req.sentence is None) == (req.sentences is None):
            raise HTTPException(422, "give exactly one of 'sentence' or 'sentences'")
        sents = [req.sentence] if req.sentence is not None else list(req.sentences or [])
        _check_texts(sents, limits, "sentence")
        from relx.extract import is_marked

        docs = []
        for i, s in enumerate(sents):
            if not is_marked(s):
                raise HTTPException(422, f"sentence {i}: mark the two entities as <e1>..</e1> and <e2>..</e2> (or use /extract for raw text)")
            try:
                docs.append(Pipeline.to_document(s, i))
            except RelxInputError as exc:
                raise RelxInputError(exc.problem, "request", f"sentence {i}") from None
        nlp.check(docs, "request", lambda i: f"sentence {i}")
        preds = await batcher.submit("docs", docs)
        return {"results": [{"label": p.meta.get("pair_label"), "score": p.meta.get("pair_score"),
                             "relations": [r.to_dict() for r in p.relations], "tokens": p.tokens,
                             "entities": [e.to_dict() for e in p.entities]} for p in preds]}

    return app


def serve(model_dir: str, host: str = "127.0.0.1", port: int = 8000, limits: Limits | None = None, engine: str = "torch",
          device: str | None = None, log_level: str = "info") -> None:
    """Load ``model_dir`` and serve it with uvicorn (blocking)."""
    import uvicorn

    from relx.pipeline import Pipeline

    nlp = Pipeline.load(model_dir, device=device, engine=engine, batch_size=(limits or Limits()).max_batch)
    uvicorn.run(create_app(nlp, limits, model_dir), host=host, port=port, log_level=log_level)
