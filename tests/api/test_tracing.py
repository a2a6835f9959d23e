"""``tracing_enabled``: Litestar's OpenTelemetry middleware on the vault's router, spans to the global tracer
provider; one server span per vault request (route template, status, request id), none for the host's routes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar import Litestar, get
from litestar.testing import TestClient
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from mediavault import MediaVault
from mediavault.tracing import REQUEST_ID_ATTRIBUTE
from tests.conftest import PREFIX, Account, make_config


@pytest.fixture(scope="module")
def provider() -> TracerProvider:
    """The process's global SDK provider (OpenTelemetry lets it be set once per process): as an operator sets it."""
    current = trace.get_tracer_provider()
    if isinstance(current, TracerProvider):
        return current
    created = TracerProvider()
    trace.set_tracer_provider(created)
    assert trace.get_tracer_provider() is created
    return created


@pytest.fixture
def exporter(provider: TracerProvider) -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    processor = SimpleSpanProcessor(exporter)
    provider.add_span_processor(processor)
    yield exporter
    processor.shutdown()  # stops exporting (the provider keeps no way to remove a processor)


@get("/hello", sync_to_thread=False)
def hello() -> dict[str, str]:
    return {"hello": "world"}


def host_app(tmp_path: Path, *, tracing: bool) -> Litestar:
    return Litestar(route_handlers=[hello], plugins=[MediaVault(make_config(tmp_path, tracing_enabled=tracing))])


def server_spans(exporter: InMemorySpanExporter) -> list[ReadableSpan]:
    return [span for span in exporter.get_finished_spans() if span.kind is SpanKind.SERVER]


def test_a_vault_request_is_one_server_span_with_route_status_and_request_id(
    tmp_path: Path, exporter: InMemorySpanExporter
) -> None:
    with TestClient(host_app(tmp_path, tracing=True)) as client:
        alice = Account(client, "alice@example.com")
        media = alice.upload(b"traced bytes", "t.bin")
        exporter.clear()
        response = client.get(f"{PREFIX}/media/{media['id']}", headers={**alice.headers, "X-Request-ID": "trace-me-1"})
        assert response.status_code == 200
        missing = client.get(f"{PREFIX}/media/med_doesnotexist", headers=alice.headers)
        assert missing.status_code == 404

    found, not_found = server_spans(exporter)
    route = f"{PREFIX}/media/{{media_id}}"
    assert found.name == f"GET {route}"  # the template, never the id
    assert found.attributes is not None and not_found.attributes is not None
    assert found.attributes["http.route"] == route
    assert found.attributes.get("http.response.status_code", found.attributes.get("http.status_code")) == 200
    assert found.attributes[REQUEST_ID_ATTRIBUTE] == "trace-me-1" == response.headers["x-request-id"]
    assert not_found.attributes.get("http.response.status_code", not_found.attributes.get("http.status_code")) == 404
    assert not_found.attributes[REQUEST_ID_ATTRIBUTE] == missing.headers["x-request-id"]


def test_the_hosts_routes_are_not_traced_by_the_vault(tmp_path: Path, exporter: InMemorySpanExporter) -> None:
    with TestClient(host_app(tmp_path, tracing=True)) as client:
        assert client.get("/hello").json() == {"hello": "world"}
        assert server_spans(exporter) == []
        assert client.get(f"{PREFIX}/health").status_code == 200
    assert [span.name for span in server_spans(exporter)] == [f"GET {PREFIX}/health"]


def test_tracing_off_makes_no_spans(tmp_path: Path, exporter: InMemorySpanExporter) -> None:
    with TestClient(host_app(tmp_path, tracing=False)) as client:
        assert client.get(f"{PREFIX}/health").status_code == 200
        assert client.get("/hello").status_code == 200
    assert exporter.get_finished_spans() == ()
