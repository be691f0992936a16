"""Errors that the CLI turns into a one-line message and exit code 2."""

from __future__ import annotations

from pathlib import Path


class RelxInputError(ValueError):
    """Malformed user input: names the file, the record/line and the problem."""

    def __init__(self, problem: str, path: str | Path | None = None, where: str | int | None = None):
        self.problem = problem
        self.path = str(path) if path is not None else None
        self.where = where
        super().__init__(self.format())

    def format(self) -> str:
        loc = self.path or "<input>"
        if self.where is not None:
            loc += f":{self.where}" if isinstance(self.where, int) else f" ({self.where})"
        return f"{loc}: {self.problem}"

    def at(self, path: str | Path, where: str | int | None = None) -> RelxInputError:
        """Return a copy located at ``path``/``where`` (keeps inner location if already set)."""
        return RelxInputError(self.problem, self.path or path, self.where if self.where is not None else where)


class RelxConfigError(ValueError):
    """Bad configuration (unknown key, wrong type, unknown model)."""
