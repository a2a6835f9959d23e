"""``log_format=json``: every line ``mediavault serve`` logs is one JSON object, and lines logged for a request carry
its request id (the ``X-Request-ID`` it answered with)."""

from __future__ import annotations

import json
import time
from pathlib import Path

from tests.e2e.conftest import ServerFactory

WAIT = 60.0


def test_json_logs_with_request_ids(vault_servers: ServerFactory, tmp_path: Path) -> None:
    server = vault_servers.start(tmp_path / "json-logs", env={"MEDIAVAULT_LOG_FORMAT": "json"})
    with server.client() as client:
        assert client.get("/health", headers={"X-Request-ID": "e2e-json-1"}).status_code == 200
        refused = client.post("/auth/login", json={"username": "nobody@example.com", "password": "wrong password"})
        assert refused.status_code == 401
    deadline = time.monotonic() + WAIT  # the access log line is written when the answer starts
    while "e2e-json-1" not in server.log_tail(100_000) and time.monotonic() < deadline:
        time.sleep(0.05)
    server.stop()
    lines = [json.loads(line) for line in server.log_tail(1_000_000).splitlines() if line.strip()]
    assert lines and all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    [health] = [line for line in lines if line.get("request_id") == "e2e-json-1"]
    assert health["logger"] == "uvicorn.access" and "/api/v1/health" in health["message"]
    login = [line for line in lines if line.get("request_id") == refused.headers["x-request-id"]]
    assert login and "/api/v1/auth/login" in login[-1]["message"]
    assert any(line["message"].startswith("Application startup complete") for line in lines)
