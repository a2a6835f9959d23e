"""``GET <prefix>/metrics`` (``metrics_enabled``): Prometheus text format behind ``metrics_token``, with requests by
route and status, body bytes, rate-limit rejections and the processing and webhook backlogs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from prometheus_client.parser import text_string_to_metric_families

from mediavault import MediaVault
from tests.api._checks import error
from tests.conftest import PREFIX, Account, make_config
from tests.files import make_png

TOKEN = "metrics-token-" + "m" * 32
SCRAPE = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient[Litestar]]:
    config = make_config(tmp_path, metrics_enabled=True, metrics_token=TOKEN, rate_limit_anonymous=3)
    with TestClient(Litestar(plugins=[MediaVault(config)])) as test_client:
        yield test_client


def scrape(client: TestClient[Litestar]) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get(f"{PREFIX}/metrics", headers=SCRAPE)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_need_the_token(client: TestClient[Litestar]) -> None:
    error(client.get(f"{PREFIX}/metrics"), 401, "unauthorized")
    error(client.get(f"{PREFIX}/metrics", headers={"Authorization": "Bearer wrong"}), 401, "unauthorized")


def test_requests_bytes_backlog_and_rejections(client: TestClient[Litestar]) -> None:
    alice = Account(client, "alice@example.com")
    content = b"metered bytes " * 100
    media = alice.upload(content, "m.bin")
    alice.upload(make_png(), "owed.png")  # owes processing: no worker runs in the tests, so it stays pending
    assert client.get(f"{PREFIX}/media/{media['id']}/content", headers=alice.headers).content == content
    for _ in range(4):  # the anonymous budget is 3 (registration and login spent some already)
        client.get(f"{PREFIX}/nothing-here")
    samples = scrape(client)

    upload_route, content_route = f"{PREFIX}/media/upload", f"{PREFIX}/media/{{media_id}}/content"
    assert value(samples, "mediavault_http_requests_total", method="POST", route=upload_route, status="201") == 2
    assert value(samples, "mediavault_http_requests_total", method="GET", route=content_route, status="200") == 1
    assert value(samples, "mediavault_http_request_duration_seconds_count", method="GET", route=content_route,
                 status="200") == 1  # fmt: skip
    assert value(samples, "mediavault_http_received_bytes_total", route=upload_route) > len(content)
    assert value(samples, "mediavault_http_sent_bytes_total", route=content_route) == len(content)
    assert value(samples, "mediavault_rate_limit_rejections_total", tier="address") >= 1
    assert any(name == "mediavault_http_requests_total" and dict(labels)["status"] == "429" for name, labels in samples)
    assert value(samples, "mediavault_processing_items", status="pending") == 1
    assert value(samples, "mediavault_webhook_deliveries", status="failed") == 0
    assert not any(media["id"] in dict(labels).get("route", "") for _, labels in samples)  # templates, not paths


def test_no_metrics_route_unless_enabled(tmp_path: Path) -> None:
    with TestClient(Litestar(plugins=[MediaVault(make_config(tmp_path))])) as client:
        error(client.get(f"{PREFIX}/metrics", headers=SCRAPE), 404, "not_found")


def test_metrics_need_a_token_to_be_enabled(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="metrics_token"):
        make_config(tmp_path, metrics_enabled=True)
