"""Dataset adapters, looked up by name from the CLI and the training job."""

from __future__ import annotations

from training.sources.base import Source, SourceFrame
from training.sources.demo import DemoSource

SOURCES: dict[str, type[Source]] = {
    DemoSource.name: DemoSource,
}


def register(source: type[Source]) -> type[Source]:
    """Make an adapter class available under its name."""
    SOURCES[source.name] = source
    return source


def get_source(name: str) -> Source:
    """Instantiate the adapter called `name`, or say which names exist."""
    try:
        return SOURCES[name]()
    except KeyError:
        raise ValueError(f"unknown source {name!r}; expected one of {sorted(SOURCES)}") from None


__all__ = ["SOURCES", "Source", "SourceFrame", "get_source", "register"]
