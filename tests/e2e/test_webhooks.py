"""Webhooks end to end: a real ``mediavault serve`` killed with SIGKILL loses no event; ``mediavault worker``.

The crash test raises events while the receiver is down (every attempt fails and is rescheduled), kills
the server with SIGKILL mid-retry, brings the receiver up, restarts the server on the same data dir:
every event arrives, signed, with its original ``webhook-id``.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from standardwebhooks import Webhook as StandardWebhook

from mediavault.webhooks.signing import new_secret
from tests.e2e.conftest import ServerFactory, free_port, process_env, register_and_login
from tests.webhooks.receiver import Receiver


def webhook_env(receiver_url: str, secret: str, **extra: str) -> dict[str, str]:
    return {
        "MEDIAVAULT_WEBHOOKS": json.dumps([{"url": receiver_url, "secret": secret}]),
        "MEDIAVAULT_ALLOW_PRIVATE_WEBHOOK_TARGETS": "true",
        "MEDIAVAULT_WEBHOOK_RETRY_SCHEDULE": ",".join(["0.3"] * 5 + ["1"] * 60),
        "MEDIAVAULT_WEBHOOK_TIMEOUT": "2",
        "MEDIAVAULT_WEBHOOK_POLL_INTERVAL": "0.2",
        **extra,
    }


def test_sigkill_while_deliveries_are_pending_loses_nothing(vault_servers: ServerFactory, tmp_path: Path) -> None:
    port = free_port()
    receiver_url = f"http://127.0.0.1:{port}/hook"  # nothing listens there yet: the receiver is down
    secret = new_secret()
    env = webhook_env(receiver_url, secret)
    data_dir = tmp_path / "vault"

    first = vault_servers.start(data_dir, env=env)
    emails = [f"crash{i}@example.com" for i in range(5)]
    with first.client() as client:
        auth = register_and_login(client, "owner@example.com")
        user_hook = client.post("/webhooks", headers=auth, json={"url": receiver_url, "events": ["media.uploaded"]})
        assert user_hook.status_code == 201, user_hook.text
        user_secret = user_hook.json()["data"]["secret"]
        for email in emails:
            register_and_login(client, email)
        for i in range(3):
            uploaded = client.post("/media/upload", headers=auth, files={"file": (f"f{i}.txt", b"x" * (i + 1))})
            assert uploaded.status_code == 201, uploaded.text

        def failed_attempts() -> int:
            rows = client.get(f"/webhooks/{user_hook.json()['data']['id']}/deliveries", headers=auth).json()["data"]
            return sum(r["status"] == "failed" for r in rows)

        deadline = time.monotonic() + 60  # a bound for a hang only
        while failed_attempts() < 3 and time.monotonic() < deadline:  # deliveries are being retried
            time.sleep(0.1)
        assert failed_attempts() >= 3

    first.proc.send_signal(signal.SIGKILL)
    first.proc.wait(5)
    assert first.stop() == -signal.SIGKILL

    expected = 1 + len(emails) + 3  # user.registered for every account, media.uploaded for each file
    with Receiver(port) as receiver:
        second = vault_servers.start(data_dir, env=env)
        with second.client() as client:
            # Done when the host endpoint got every event and the user's endpoint has its three uploads recorded
            # as delivered (an attempt is recorded after the receiver answered: the requests alone are not enough).
            deadline = time.monotonic() + 60  # a bound for a hang only
            while True:
                host = {r.id for r in receiver.requests if _verifies(secret, r)}
                log = client.get(f"/webhooks/{user_hook.json()['data']['id']}/deliveries", headers=auth)
                rows = log.json()["data"]
                if len(host) >= expected and sum(r["status"] == "succeeded" for r in rows) >= 3:
                    break
                if time.monotonic() > deadline:
                    break  # the assertions below say what is missing
                time.sleep(0.1)

    host_events = [r.json for r in receiver.requests if _verifies(secret, r)]
    user_events = [r.json for r in receiver.requests if _verifies(user_secret, r)]
    assert len({e["id"] for e in host_events}) == expected == 9
    assert (
        sorted(e["event"] for e in {e["id"]: e for e in host_events}.values())
        == ["media.uploaded"] * 3 + ["user.registered"] * 6
    )
    uploads = {e["id"] for e in user_events}
    assert len(uploads) == 3  # the user's endpoint got its three media.uploaded events too
    assert uploads <= {e["id"] for e in host_events}  # same webhook-id for one event on every endpoint
    assert {r["event_id"] for r in rows if r["status"] == "succeeded"} == uploads
    assert all(r.headers["webhook-id"] == r.json["id"] for r in receiver.requests)


def _verifies(secret: str, request: object) -> bool:
    try:
        StandardWebhook(secret).verify(request.body, request.headers)  # type: ignore[attr-defined]
    except Exception:
        return False
    return True


def test_separate_worker_process_delivers(vault_servers: ServerFactory, tmp_path: Path) -> None:
    """Web process with ``MEDIAVAULT_WEBHOOK_WORKER=false``; ``mediavault worker`` beside it delivers."""
    secret = new_secret()
    with Receiver() as receiver:
        env = webhook_env(receiver.url, secret)
        data_dir = tmp_path / "vault"
        server = vault_servers.start(data_dir, env={**env, "MEDIAVAULT_WEBHOOK_WORKER": "false"})
        with server.client() as client:
            register_and_login(client, "solo@example.com")
        time.sleep(0.5)
        assert receiver.requests == []  # the web process does not deliver

        child_env = process_env(data_dir, {**env, "MEDIAVAULT_AUTO_MIGRATE": "false"})  # serve migrated already
        log = (tmp_path / "worker.log").open("wb")
        worker = subprocess.Popen(
            [sys.executable, "-c", "from mediavault.cli import main; main()", "worker", "--data-dir", str(data_dir)],
            env=child_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            (request,) = receiver.wait_for(1, timeout=20)
            assert StandardWebhook(secret).verify(request.body, request.headers)["event"] == "user.registered"
        finally:
            worker.send_signal(signal.SIGTERM)
            assert worker.wait(10) == 0, (tmp_path / "worker.log").read_text()
            log.close()
