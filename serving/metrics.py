"""Prometheus metrics on a per-app registry, so several apps in one process never share counters.

The middleware that counts requests also writes the access log when it is on: one line per request with
the path but never its query string, so a key sent as `?api_key=...` (and refused) is not logged.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"  # prometheus-client's own switch to its multiprocess mode
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
access_log = logging.getLogger("serving.access")


class Metrics:
    """Every metric the service exports."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "salary_http_requests",
            "HTTP requests by route template, method and status code.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "salary_http_request_duration_seconds",
            "Time from request start to the end of the response, by route template.",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.estimates = Counter(
            "salary_estimates",
            "Estimates answered, by the model version that answered.",
            ["model_version"],
            registry=self.registry,
        )
        self.reloads = Counter(
            "salary_model_reloads", "New models loaded, checked and swapped in.", registry=self.registry
        )
        self.reload_failures = Counter(
            "salary_model_reload_failures",
            "Failed model loads or registry checks; the previous model kept serving.",
            registry=self.registry,
        )
        # Labelled children, kept: `labels()` takes a lock and checks names (5.2 µs for a request's
        # three metrics, 2.9 µs with the children kept; an estimate without drivers is about 70 µs).
        self._children: dict[tuple[object, ...], Any] = {}

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        """Count one answered request and its latency."""
        self._child(self.requests, route, method, str(status)).inc()
        self._child(self.latency, route).observe(seconds)

    def count_estimates(self, model_version: str, n: int = 1) -> None:
        """Estimates answered by a model version."""
        self._child(self.estimates, model_version).inc(n)

    def _child(self, metric: Any, *labels: str) -> Any:
        key = (metric, *labels)
        child = self._children.get(key)
        if child is None:
            child = self._children.setdefault(key, metric.labels(*labels))
        return child

    def render(self) -> bytes:
        """The text format Prometheus scrapes; summed over all workers when they share a directory."""
        if os.environ.get(MULTIPROC_ENV):
            merged = CollectorRegistry()
            MultiProcessCollector(merged)
            return generate_latest(merged)
        return generate_latest(self.registry)


class MetricsMiddleware:
    """Counts and times every HTTP request, labelled by route template to keep label cardinality bounded."""

    def __init__(self, app: ASGIApp, metrics: Metrics, log_requests: bool = False) -> None:
        self.app = app
        self.metrics = metrics
        self.log_requests = log_requests

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            # Clients choose the method: any other token would be a new label (and series) forever.
            method = scope["method"] if scope["method"] in METHODS else "other"
            seconds = time.perf_counter() - start
            self.metrics.observe_request(route, method, status, seconds)
            if self.log_requests:
                client = scope.get("client")
                access_log.info(
                    '%s "%s %s HTTP/%s" %d %.1f ms',
                    f"{client[0]}:{client[1]}" if client else "-",
                    method,
                    scope["path"],  # ASGI keeps the query string apart, in scope["query_string"]
                    scope.get("http_version", "1.1"),
                    status,
                    seconds * 1000,
                )
