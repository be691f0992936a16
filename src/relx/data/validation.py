"""Record-level validation shared by readers: locating a problem at ``file:record``, the invalid-record
policy (``on_invalid``: error or skip, counted in a ``ReadReport``), tokens a whitespace-split format
cannot hold, and labels outside a label set. Field type checks live in :mod:`relx.data.fields`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from relx.data.labels import LabelSet, split_directed
from relx.data.schema import Document, has_whitespace
from relx.data.textio import PathLike
from relx.errors import RelxConfigError, RelxInputError

ON_INVALID = ("error", "skip")


def record_where(index: int, record_id: Any = None) -> str:
    """Location string for the ``index``-th (1-based) record of a JSON list."""
    return f"record {index}" if record_id is None else f"record {index} (id {str(record_id)!r})"


@dataclass
class ReadReport:
    """What one read dropped under ``on_invalid="skip"``: every skipped record's located error."""

    path: str
    on_invalid: str = "error"
    errors: list[RelxInputError] = field(default_factory=list)
    max_shown: int = 3

    def __post_init__(self) -> None:
        check_on_invalid(self.on_invalid)

    @property
    def skipped(self) -> int:
        """Number of records dropped."""
        return len(self.errors)

    @property
    def skip(self) -> bool:
        """True when invalid records are dropped rather than raised."""
        return self.on_invalid == "skip"

    def summary(self) -> str:
        """One line: how many records were skipped and the first few ``file:line: problem``."""
        shown = "; ".join(e.format() for e in self.errors[: self.max_shown])
        more = f"; ... and {self.skipped - self.max_shown} more" if self.skipped > self.max_shown else ""
        noun = "record" if self.skipped == 1 else "records"
        return f"relx: warning: skipped {self.skipped} invalid {noun} in {self.path}: {shown}{more}"


def check_on_invalid(on_invalid: str) -> str:
    """``on_invalid`` if it is one of ON_INVALID, else RelxConfigError."""
    if on_invalid not in ON_INVALID:
        raise RelxConfigError(f"on_invalid must be one of {', '.join(ON_INVALID)}, got {on_invalid!r}")
    return on_invalid


def _located(exc: BaseException, path: PathLike, where: str | int) -> RelxInputError:
    """Any problem with one record as a RelxInputError at ``path``/``where``."""
    if isinstance(exc, RelxInputError):
        return exc.at(path, where)
    if isinstance(exc, KeyError):
        return RelxInputError(f"missing field {exc.args[0]!r}", path, where)
    if isinstance(exc, RecursionError):
        return RelxInputError("record is nested too deeply", path, where)
    return RelxInputError(f"malformed record ({exc.__class__.__name__}: {exc})", path, where)


@contextmanager
def record_context(path: PathLike, where: str | int, report: ReadReport | None = None) -> Iterator[None]:
    """Turn any problem raised while building one record into RelxInputError at ``path``/``where``.

    With a ``report`` that skips, the error is recorded there and the block is abandoned, so a reader
    must yield (or keep) the record inside the block.
    """
    try:
        yield
    except (RelxInputError, TypeError, ValueError, IndexError, AttributeError, KeyError, OverflowError, RecursionError) as exc:
        error = _located(exc, path, where)
        if report is None or not report.skip:
            raise error from None
        report.errors.append(error)


def check_split_tokens(doc: Document, fmt: str) -> None:
    """Raise RelxInputError (unlocated) naming the first token of ``doc`` that a text format split on
    whitespace (``fmt``: marked, semeval, casrel) cannot hold: an empty token, or one that is or holds
    whitespace would be dropped or cut in two when the file is read back."""
    for i, tok in enumerate(doc.tokens):
        if has_whitespace(tok):
            what = "empty" if not tok else "whitespace" if tok.isspace() else "holds whitespace"
            raise RelxInputError(
                f"document {doc.id!r}: token {i} {tok!r} is {what}, which {fmt} cannot hold (its text is split on whitespace, "
                "so the token would be lost or cut); jsonl, tacred and spert keep such tokens"
            )


def _doc_labels(doc: Document, labels: LabelSet) -> list[str]:
    """The labels of ``doc`` that must be in ``labels`` (pair label for sentence-level documents)."""
    if len(doc.entities) == 2 and len(doc.relations) <= 1:
        return [labels.pair_label(doc)]
    return [r.label for r in doc.relations]


def _label_known(label: str, labels: LabelSet) -> bool:
    if label in labels:
        return True
    if split_directed(label)[1] is None:  # undirected relation type of a directed label set
        return any(f"{label}({d})" in labels for d in ("e1,e2", "e2,e1"))
    return False


def check_labels(doc: Document, labels: LabelSet) -> None:
    """Raise RelxInputError (unlocated) when ``doc`` carries a label outside ``labels``."""
    for lab in _doc_labels(doc, labels):
        if not _label_known(lab, labels):
            raise RelxInputError(f"unknown label {lab!r} (not one of the {len(labels)} labels in the label set)")
