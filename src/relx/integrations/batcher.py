"""The micro-batcher of :mod:`relx.integrations.http`: request limits and one worker merging queued requests into
model calls (see that module's docstring for the failure isolation: halves re-run down to the failing item)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from relx.data.schema import Document
from relx.errors import RelxInputError
from relx.inference.preprocess import MAX_TEXT_CHARS

if TYPE_CHECKING:
    from relx.inference.pipeline import Pipeline

log = logging.getLogger("relx.integrations.http")


@dataclass
class Limits:
    max_chars: int = MAX_TEXT_CHARS  # characters per text / sentence (the one raw-text limit, relx.inference.preprocess)
    max_items: int = 256  # texts, sentences or documents per request
    max_pending: int = 4096  # documents waiting for the model, all requests together
    max_batch: int = 64  # documents per model call
    batch_wait_ms: float = 5.0  # how long the worker waits to fill a batch
    # total characters of a request's texts / sentences: bounds one request's share of the single worker (spaCy and
    # the model cost about linear time in characters; 100,000 is one library-sized text, MAX_TEXT_CHARS, a few
    # seconds of CPU, where 256 such texts would be minutes)
    max_request_chars: int = 100_000
    max_request_tokens: int = 20_000  # total tokens of a request's documents (about 100,000 characters of text)
    max_header_bytes: int = 16_384  # request header names + values (more: 431)


@dataclass
class _Job:
    kind: str  # "raw" | "docs"
    items: list[Any]
    future: asyncio.Future
    where: Callable[[int], str] = lambda i: f"item {i}"  # names item i in errors ("text 3", "documents[2]")
    enqueued: float = field(default_factory=time.perf_counter)


class _ItemFailed(Exception):
    def __init__(self, index: int, exc: Exception):
        super().__init__(index)
        self.index, self.exc = index, exc


class Batcher:
    """Merges queued jobs of one kind into model calls of at most ``max_batch`` items, in one worker thread."""

    def __init__(self, pipeline: Pipeline, limits: Limits):
        self.pipeline, self.limits = pipeline, limits
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

    async def submit(self, kind: str, items: list[Any], where: Callable[[int], str] | None = None) -> list[Document]:
        from fastapi import HTTPException

        if self.pending + len(items) > self.limits.max_pending:
            raise HTTPException(
                429,
                f"server busy: {self.pending} documents queued (limit {self.limits.max_pending}); retry shortly",
                headers={"Retry-After": "1"},
            )
        self.pending += len(items)
        fut = asyncio.get_running_loop().create_future()
        await self.queue.put(_Job(kind, items, fut, where or (lambda i: f"item {i}")))
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
            try:
                await self._serve(first.kind, jobs)
            except Exception as exc:  # a bug here must not stop the worker (every later request would hang)
                log.error("relx serve: batch failed", exc_info=exc)
                for j in jobs:
                    self._fail(j, exc, None)

    async def _call(self, kind: str, items: list[Any], ids: list[str]) -> list[Document]:
        self.calls += 1
        return await asyncio.get_running_loop().run_in_executor(None, self._run, kind, items, ids)

    @staticmethod
    def _ids(job: _Job) -> list[str]:
        """Ids restart at 0 for every job: a result never depends on the requests merged with it."""
        return [str(i) for i in range(len(job.items))]

    async def _serve(self, kind: str, jobs: list[_Job]) -> None:
        """Run ``jobs`` merged; when that raises, each half of them again (down to single jobs, then the items of a
        failing job), so that only the request holding a failing item fails and the others still share calls."""
        jobs = [j for j in jobs if not j.future.done()]  # a client that went away needs no work
        if not jobs:
            return
        try:
            out = await self._call(kind, [x for j in jobs for x in j.items], [i for j in jobs for i in self._ids(j)])
        except Exception as exc:
            if len(jobs) == 1:
                await self._serve_items(kind, jobs[0], exc)
            else:
                await self._serve(kind, jobs[: len(jobs) // 2])
                await self._serve(kind, jobs[len(jobs) // 2 :])
            return
        k = 0
        for j in jobs:
            self._done(j, out[k : k + len(j.items)])
            k += len(j.items)

    async def _serve_items(self, kind: str, job: _Job, exc: Exception) -> None:
        """``job`` failed on its own with ``exc``: find its first failing item by halving (the error names it); if
        every part passes (a failure of the combination, e.g. memory), the job gets the parts' results."""
        try:
            self._done(job, await self._bisect(kind, job, list(range(len(job.items))), exc))
        except _ItemFailed as failed:
            self._fail(job, failed.exc, failed.index)

    async def _bisect(self, kind: str, job: _Job, idx: list[int], exc: Exception) -> list[Document]:
        """Results of ``job``'s items ``idx``, which failed together with ``exc``; _ItemFailed names the first bad one."""
        if len(idx) == 1:
            raise _ItemFailed(idx[0], exc)
        out: list[Document] = []
        for part in (idx[: len(idx) // 2], idx[len(idx) // 2 :]):
            try:
                out += await self._call(kind, [job.items[i] for i in part], [str(i) for i in part])
            except Exception as part_exc:
                out += await self._bisect(kind, job, part, part_exc)
        return out

    @staticmethod
    def _done(job: _Job, result: list[Document]) -> None:
        if not job.future.done():
            job.future.set_result(result)

    @staticmethod
    def _fail(job: _Job, exc: Exception, i: int | None) -> None:
        """Fail ``job`` for item ``i``: a RelxInputError stays one (400, naming the item); anything else is logged
        and becomes a 500 naming the item, without the exception text (internals stay in the log)."""
        from fastapi import HTTPException

        if job.future.done():
            return
        where = job.where(i) if i is not None else None
        if isinstance(exc, RelxInputError):
            err: Exception = RelxInputError(exc.problem, "request", where) if where is not None else exc
        elif isinstance(exc, HTTPException):
            err = exc
        else:
            log.error("relx serve: model call failed on %s", where or "a batch", exc_info=exc)
            err = HTTPException(500, f"{where + ': ' if where else ''}internal error while running the model (see the server log)")
        job.future.set_exception(err)

    def _run(self, kind: str, items: list[Any], ids: list[str] | None = None) -> list[Document]:
        if kind == "raw":
            return self.pipeline.extract(items, ids if ids is not None else [str(i) for i in range(len(items))])
        return self.pipeline.predict(items)
