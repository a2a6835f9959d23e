"""The JSON-lines transport: the webhook transport contract
(:class:`mediavault.testing.webhooks.WebhookTransportContract`), its file format, and inside a real vault (webhook
created over the API)."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import mediavault_jsonl
import pytest
from litestar import Litestar
from litestar.testing import TestClient
from mediavault_jsonl import JsonlPlugin, JsonlTransport
from standardwebhooks import Webhook as StandardWebhook

from mediavault import MediaVault, MediaVaultConfig
from mediavault._plugins import get_plugin_manager
from mediavault.testing.webhooks import Delivered, WebhookTransportContract
from mediavault.webhooks import WebhookMessage

PREFIX = "/api/v1"


def message(url: str, attempt: int = 1) -> WebhookMessage:
    return WebhookMessage(
        url=url,
        body=b'{"id":"e1","event":"media.uploaded","data":{},"timestamp":"2026-01-01T00:00:00Z"}',
        headers={"webhook-id": "e1", "webhook-timestamp": "1", "webhook-signature": "v1,x"},
        event_id="e1",
        event="media.uploaded",
        attempt=attempt,
        timeout=5.0,
    )


class TestJsonlTransportContract(WebhookTransportContract):
    @pytest.fixture
    def transport(self, tmp_path: Path) -> JsonlTransport:
        return JsonlTransport(tmp_path / "spool")

    @pytest.fixture
    def url(self) -> str:
        return "jsonl://audit"

    @pytest.fixture
    def delivered(self, tmp_path: Path) -> Delivered:
        def lines(count: int) -> list[tuple[bytes, dict[str, str]]]:
            found = [json.loads(line) for line in (tmp_path / "spool" / "audit.jsonl").read_text().splitlines()]
            return [(line["body"].encode(), line["headers"]) for line in found[:count]]

        return lines


def test_send_appends_one_line_per_attempt(tmp_path: Path) -> None:
    transport = JsonlTransport(tmp_path / "spool")
    for attempt in (1, 2):
        response = asyncio.run(transport.send(message("jsonl://audit", attempt)))
        assert response.status_code == 200
    lines = [json.loads(line) for line in (tmp_path / "spool" / "audit.jsonl").read_text().splitlines()]
    assert [line["attempt"] for line in lines] == [1, 2]
    assert lines[0]["headers"]["webhook-id"] == "e1"
    assert json.loads(lines[0]["body"])["event"] == "media.uploaded"


@pytest.mark.parametrize(
    "url",
    ["jsonl://../etc/passwd", "jsonl:///abs/path", "jsonl://a/b", "jsonl://", "jsonl://x?y=1", "jsonl://" + "a" * 65],
)
def test_unsafe_names_are_refused(tmp_path: Path, url: str) -> None:
    with pytest.raises(ValueError):
        JsonlTransport(tmp_path).check_url(url)


def test_module_is_a_plugin_for_the_entry_point(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDIAVAULT_JSONL_DIR", str(tmp_path))
    config = MediaVaultConfig(secret_key="k" * 32, load_entry_points=False, plugins=(mediavault_jsonl,))
    transports = [
        t for group in get_plugin_manager(config).hook.mediavault_webhook_transports(config=config) for t in group
    ]
    assert isinstance(transports[0], JsonlTransport) and transports[0].directory == tmp_path
    assert transports[-1].handles("https://example.com/")  # the built-in HTTP transport stays last


def test_deliveries_through_a_vault(tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    config = MediaVaultConfig(
        secret_key="k" * 32,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'vault.db'}",
        storage_url=(tmp_path / "media").as_uri(),
        load_entry_points=False,
        plugins=(JsonlPlugin(spool),),
        webhook_poll_interval=0.1,
        argon2_time_cost=1,
        argon2_memory_cost=8,
        argon2_parallelism=1,
    )
    with TestClient(Litestar(plugins=[MediaVault(config)])) as client:
        credentials = {"email": "jay@example.com", "password": "correct horse battery"}
        assert client.post(f"{PREFIX}/auth/register", json=credentials).status_code == 201
        login = client.post(
            f"{PREFIX}/auth/login", json={"username": credentials["email"], "password": credentials["password"]}
        )
        auth = {"Authorization": f"Bearer {login.json()['data']['token']}"}

        refused = client.post(
            f"{PREFIX}/webhooks", headers=auth, json={"url": "jsonl://../x", "events": ["media.uploaded"]}
        )
        assert refused.status_code == 400 and refused.json()["error"]["details"][0]["field"] == "url"

        created = client.post(
            f"{PREFIX}/webhooks", headers=auth, json={"url": "jsonl://audit", "events": ["media.uploaded"]}
        )
        assert created.status_code == 201, created.text
        secret = created.json()["data"]["secret"]
        upload = client.post(f"{PREFIX}/media/upload", headers=auth, files={"file": ("a.txt", b"spooled")})
        assert upload.status_code == 201

        path = spool / "audit.jsonl"
        deadline = time.monotonic() + 10
        while not path.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        (line,) = [json.loads(x) for x in path.read_text().splitlines()]
        payload = StandardWebhook(secret).verify(line["body"], line["headers"])
        assert payload["event"] == "media.uploaded" and payload["data"]["id"] == upload.json()["data"]["id"]
        assert line["event_id"] == payload["id"] == line["headers"]["webhook-id"]

        log = client.get(f"{PREFIX}/webhooks/{created.json()['data']['id']}/deliveries", headers=auth).json()["data"]
        assert [(row["status"], row["response_status"]) for row in log] == [("succeeded", 200)]
