"""`relx serve`: a FastAPI app over one loaded Pipeline, with request limits and micro-batching.

Endpoints: ``POST /extract`` (raw texts, or documents: tokens + entities, or text + character-offset entities), ``POST /classify`` (sentences with
``<e1>..</e1>`` / ``<e2>..</e2>`` tags), ``GET /health``, ``GET /labels``; OpenAPI at ``/openapi.json``, Swagger UI at ``/docs``
(assets served locally).

Concurrent requests are queued and merged into model batches by one worker (``max_batch`` documents or a
``batch_wait_ms`` window, whichever comes first); the model runs in one thread, so work never overlaps on
the CPU. Limits: ``max_chars`` per text, ``max_items`` per request, ``max_request_chars`` (texts, sentences) and
``max_request_tokens`` (documents) per request, ``max_pending`` queued documents (beyond it: 429 with Retry-After),
``max_header_bytes`` of request headers (beyond it: 431). Bad input: 400 / 413 / 422 with the one-line relx message;
text that is not valid Unicode (a lone surrogate such as ``"\\ud800"``) and numbers JSON cannot carry (NaN, Infinity)
are a 422 naming the item, before any model work.

One request cannot fail another: when a merged model call raises, the batcher runs each half of the merged requests
again (down to one request, then halves of its items down to one item), so only the request holding the failing
item gets an error (400 for a RelxInputError, else a 500 naming the item; the traceback goes to the log), every
other request gets its result, and healthy requests still share model calls. Result ids restart at 0 for every
request, whatever it was merged with.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from relx.data.safetext import json_problem, json_safe, unicode_problem
from relx.data.schema import Document, check_unique_id
from relx.errors import RelxInputError
from relx.integrations.batcher import Batcher, Limits

__all__ = ["Limits", "create_app", "document_json", "serve"]

if TYPE_CHECKING:
    from relx.inference.pipeline import Pipeline


class ExtractRequest(BaseModel):
    """Exactly one of: ``text`` (raw), ``texts`` (raw, many), ``documents`` (relx JSONL records with tokens + entities, or
    texts with character-offset entities: ``{"text": ..., "entities": [{"start", "end", "label"}]}``)."""

    model_config = ConfigDict(extra="forbid")
    text: str | None = None
    texts: list[str] | None = None
    documents: list[dict[str, Any]] | None = None


class ClassifyRequest(BaseModel):
    """Exactly one of ``sentence`` / ``sentences``, each with ``<e1>..</e1>`` and ``<e2>..</e2>`` tags."""

    model_config = ConfigDict(extra="forbid")
    sentence: str | None = None
    sentences: list[str] | None = None


def document_json(doc: Document) -> dict:
    """A predicted Document as the service returns it: ``Document.to_dict()``; an extracted one (raw text) also gets
    ``meta.extraction.entities`` / ``relations``, rendered from its entities' character offsets and its relations
    (:func:`relx.inference.extraction.extraction_view`, the response shape of earlier versions)."""
    d = doc.to_dict()
    if isinstance(doc.meta.get("extraction"), dict):
        from relx.inference.extraction import extraction_view

        d["meta"] = {**doc.meta, "extraction": {**doc.meta["extraction"], **extraction_view(doc)}}
    return d


def _check_texts(texts: list[str], limits: Limits, what: str) -> None:
    from fastapi import HTTPException

    if not texts:
        raise HTTPException(422, f"no {what}s given")
    if len(texts) > limits.max_items:
        raise HTTPException(413, f"{len(texts)} {what}s in one request; the limit is {limits.max_items} (split the request)")
    total = 0
    for i, t in enumerate(texts):
        if len(t) > limits.max_chars:
            raise HTTPException(413, f"{what} {i}: {len(t)} characters; the limit is {limits.max_chars}")
        if not t.strip():
            raise HTTPException(422, f"{what} {i}: empty")
        problem = unicode_problem(t)
        if problem is not None:
            raise HTTPException(422, f"{what} {i}: {problem}")
        total += len(t)
    if total > limits.max_request_chars:
        raise HTTPException(
            413,
            f"{len(texts)} {what}s of {total:,} characters in one request; the limit is "
            f"{limits.max_request_chars:,} characters per request (split the request)",
        )


async def _offset_documents(records: list[dict[str, Any]], limits: Limits) -> dict[int, Document]:
    """The records of a /extract ``documents`` list that are texts with character-offset entities, as Documents by
    position (tokenized by spaCy in a worker thread; :func:`relx.inference.inputs.offset_documents`)."""
    from fastapi import HTTPException
    from starlette.concurrency import run_in_threadpool

    from relx.inference.inputs import is_offset_record, offset_documents

    at = [i for i, d in enumerate(records) if is_offset_record(d)]
    for i in at:
        if isinstance(records[i]["text"], str) and len(records[i]["text"]) > limits.max_chars:
            raise HTTPException(413, f"documents[{i}]: {len(records[i]['text'])} characters; the limit is {limits.max_chars}")
    if not at:
        return {}
    docs = await run_in_threadpool(
        offset_documents, [records[i] for i in at], [str(i) for i in at], "request", lambda k: f"documents[{at[k]}]"
    )
    return dict(zip(at, docs))


class _HeaderLimit:
    """ASGI middleware: 431 when a request's header names and values exceed ``limit`` bytes (uvicorn's own
    h11 limit, set a little above it by :func:`serve`, stops a larger head before it is parsed)."""

    def __init__(self, app: Any, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            size = sum(len(k) + len(v) for k, v in scope.get("headers") or ())
            if size > self.limit:
                from fastapi.responses import JSONResponse

                response = JSONResponse({"detail": f"request headers are {size:,} bytes; the limit is {self.limit:,}"}, status_code=431)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


DOCS_ASSETS = "/docs-assets"


def _add_docs(app: Any) -> None:
    """Swagger UI at ``/docs`` from the bundled assets (package ``swagger-ui-bundle``) under ``/docs-assets``: no CDN,
    so it works offline."""
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.responses import HTMLResponse
    from fastapi.staticfiles import StaticFiles
    from swagger_ui_bundle import swagger_ui_path

    app.mount(DOCS_ASSETS, StaticFiles(directory=str(swagger_ui_path)), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url,
            title="relx - Swagger UI",
            swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_ASSETS}/favicon-32x32.png",
        )


def create_app(pipeline: Pipeline, limits: Limits | None = None, model_dir: str = "") -> Any:
    """The FastAPI application serving ``pipeline``."""
    from fastapi import FastAPI, HTTPException, Request
    from fastapi.encoders import jsonable_encoder
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse
    from starlette.exceptions import HTTPException as StarletteHTTPException

    from relx.inference.pipeline import Pipeline

    limits = limits or Limits()
    batcher = Batcher(pipeline, limits)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        batcher.start()
        yield
        await batcher.stop()

    app = FastAPI(
        title="relx", description="Relation extraction with a saved relx model.", lifespan=lifespan, docs_url=None, redoc_url=None
    )
    app.state.batcher = batcher
    _add_docs(app)
    app.add_middleware(_HeaderLimit, limit=limits.max_header_bytes)

    # error bodies go through json_safe: an error that echoes the input (pydantic's 422 does) can always be rendered,
    # whatever lone surrogate or NaN the request held
    @app.exception_handler(RelxInputError)
    async def relx_input_error(request: Request, exc: RelxInputError) -> JSONResponse:
        return JSONResponse(status_code=400, content={"detail": json_safe(str(exc))})

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(status_code=422, content={"detail": json_safe(jsonable_encoder(exc.errors()))})

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(status_code=exc.status_code, content={"detail": json_safe(exc.detail)}, headers=exc.headers)

    @app.get("/health")
    async def health() -> dict:
        model = pipeline.model
        return {
            "status": "ok",
            "model": getattr(model, "registered_name", "?"),
            "directory": model_dir,
            "engine": pipeline.engine.name,
            "queued_documents": batcher.pending,
            "model_calls": batcher.calls,
        }

    @app.get("/labels")
    async def labels() -> dict:
        profile = pipeline.model.profile or {}
        return {
            "labels": pipeline.labels,
            "negative": pipeline.model.labels.negative,
            "entity_types": sorted(profile.get("entity_types", {})),
        }

    @app.post("/extract")
    async def extract(req: ExtractRequest) -> dict:
        given = [k for k in ("text", "texts", "documents") if getattr(req, k) is not None]
        if len(given) != 1:
            raise HTTPException(422, "give exactly one of 'text', 'texts' or 'documents'")
        if req.documents is not None:
            if not req.documents or len(req.documents) > limits.max_items:
                raise HTTPException(413 if req.documents else 422, f"'documents' needs 1 to {limits.max_items} records")
            problem = json_problem(req.documents, "documents")  # a lone surrogate or NaN anywhere (tokens, labels, id, meta)
            if problem is not None:
                raise HTTPException(422, problem)
            docs = []
            seen: dict[str, int] = {}
            given = await _offset_documents(req.documents, limits)
            for i, d in enumerate(req.documents):
                try:
                    doc = given[i] if i in given else Document.from_dict(d)
                except RelxInputError as exc:
                    raise RelxInputError(exc.problem, "request", f"documents[{i}]") from None
                if len(doc.tokens) > limits.max_chars:
                    raise HTTPException(413, f"documents[{i}]: {len(doc.tokens)} tokens; the limit is {limits.max_chars}")
                try:
                    check_unique_id(seen, doc.id, i)
                except RelxInputError as exc:
                    raise RelxInputError(exc.problem, "request", f"documents[{i}]") from None
                docs.append(doc)
            tokens = sum(len(doc.tokens) for doc in docs)
            if tokens > limits.max_request_tokens:
                raise HTTPException(
                    413,
                    f"{len(docs)} documents of {tokens:,} tokens in one request; the limit is "
                    f"{limits.max_request_tokens:,} tokens per request (split the request)",
                )
            pipeline.check(docs, "request", lambda i: f"documents[{i}]")
            preds = await batcher.submit("docs", docs, lambda i: f"documents[{i}]")
        else:
            texts = [req.text] if req.text is not None else list(req.texts or [])
            _check_texts(texts, limits, "text")
            preds = await batcher.submit("raw", texts, lambda i: f"text {i}")
        return {"documents": [document_json(p) for p in preds]}

    @app.post("/classify")
    async def classify(req: ClassifyRequest) -> dict:
        if (req.sentence is None) == (req.sentences is None):
            raise HTTPException(422, "give exactly one of 'sentence' or 'sentences'")
        sents = [req.sentence] if req.sentence is not None else list(req.sentences or [])
        _check_texts(sents, limits, "sentence")
        from relx.inference.extraction import is_marked

        docs = []
        for i, s in enumerate(sents):
            if not is_marked(s):
                raise HTTPException(
                    422, f"sentence {i}: mark the two entities as <e1>..</e1> and <e2>..</e2> (or use /extract for raw text)"
                )
            try:
                docs.append(Pipeline.to_document(s, i))
            except RelxInputError as exc:  # a tag missing or unbalanced: 422, as for no tags at all
                raise HTTPException(422, str(RelxInputError(exc.problem, "request", f"sentence {i}"))) from None
        pipeline.check(docs, "request", lambda i: f"sentence {i}")
        preds = await batcher.submit("docs", docs, lambda i: f"sentence {i}")
        return {
            "results": [
                {
                    "label": p.meta.get("pair_label"),
                    "score": p.meta.get("pair_score"),
                    "relations": [r.to_dict() for r in p.relations],
                    "tokens": p.tokens,
                    "entities": [e.to_dict() for e in p.entities],
                }
                for p in preds
            ]
        }

    return app


def serve(
    model_dir: str,
    host: str = "127.0.0.1",
    port: int = 8000,
    limits: Limits | None = None,
    engine: str = "torch",
    device: str | None = None,
    log_level: str = "info",
    access_log: bool = False,
) -> None:
    """Bind ``host``:``port`` (a port in use fails here, before the model loads), load ``model_dir`` and serve it with
    uvicorn (blocking); ``relx: serving MODEL on URL ...`` goes to stdout once requests are accepted, and
    ``access_log`` logs one line per request.

    uvicorn runs its h11 protocol (whose request-head buffer limit uvicorn exposes) with that buffer at
    ``max_header_bytes`` + 8 KiB (request line and framing): a head a little over the limit gets the app's 431, a
    much larger one uvicorn's 400 before it is buffered any further."""
    import logging

    import uvicorn

    from relx.inference.pipeline import Pipeline
    from relx.integrations.listen import bind, url_of

    limits = limits or Limits()
    sock = bind(host, port)
    try:
        pipeline = Pipeline.load(model_dir, device=device, engine=engine, batch_size=limits.max_batch)
        config = uvicorn.Config(
            create_app(pipeline, limits, model_dir),
            log_level=log_level,
            access_log=access_log,
            http="h11",
            h11_max_incomplete_event_size=limits.max_header_bytes + 8192,
        )
        if access_log:
            logging.getLogger("uvicorn.access").setLevel(logging.INFO)
        ready = f"relx: serving {model_dir} on {url_of(host, port)} (engine {pipeline.engine.name}); docs at /docs"

        class Server(uvicorn.Server):
            async def startup(self, sockets: list | None = None) -> None:
                await super().startup(sockets)
                if self.started:
                    print(ready, flush=True)

        Server(config).run(sockets=[sock])
    finally:
        sock.close()
