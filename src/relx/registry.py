"""Name -> object registries (models, readers, writers, encoders, scorers)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    """A named collection filled by ``@REG.register("name")`` decorators."""

    def __init__(self, kind: str):
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        def deco(obj: T) -> T:
            if name in self._items and self._items[name] is not obj:
                raise KeyError(f"{self.kind} {name!r} is registered twice")
            self._items[name] = obj
            try:
                obj.registered_name = name  # type: ignore[attr-defined]
            except (AttributeError, TypeError):
                pass
            return obj

        return deco

    def get(self, name: str) -> T:
        _load_plugins()
        if name not in self._items:
            known = ", ".join(sorted(self._items)) or "none"
            raise KeyError(f"unknown {self.kind} {name!r} (known: {known})")
        return self._items[name]

    def names(self) -> list[str]:
        _load_plugins()
        return sorted(self._items)

    def __contains__(self, name: str) -> bool:
        _load_plugins()
        return name in self._items


MODELS: Registry = Registry("model")
READERS: Registry = Registry("reader")
WRITERS: Registry = Registry("writer")

_loaded = False


def _load_plugins() -> None:
    """Import every module under relx.models and relx.data.readers so they self-register."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    import importlib
    import pkgutil

    for pkg_name in ("relx.data.readers", "relx.models"):
        pkg = importlib.import_module(pkg_name)
        for info in pkgutil.iter_modules(pkg.__path__):
            if not info.name.startswith("_"):
                importlib.import_module(f"{pkg_name}.{info.name}")
