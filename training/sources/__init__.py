"""Dataset adapters, looked up by name from the CLI and the training job."""

from __future__ import annotations

from training.sources.aijobs import AijobsSource
from training.sources.askamanager import AskAManagerSource
from training.sources.base import Source, SourceFrame
from training.sources.demo import DemoSource
from training.sources.h1b import H1BSource
from training.sources.postings import PostingsSource
from training.sources.stackoverflow import StackOverflowSource

SOURCES: dict[str, type[Source]] = {
    DemoSource.name: DemoSource,
    AijobsSource.name: AijobsSource,
    StackOverflowSource.name: StackOverflowSource,
    AskAManagerSource.name: AskAManagerSource,
    PostingsSource.name: PostingsSource,
    H1BSource.name: H1BSource,
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
