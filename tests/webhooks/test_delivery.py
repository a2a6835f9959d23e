"""Delivery through the worker in the app's lifespan, against real local HTTP receivers.

Signatures verified with the ``standardwebhooks`` reference package; retries keep the ``webhook-id``;
the delivery log records every attempt; 410 and the failure limit disable endpoints; redirects are not
followed; timeouts and ``Retry-After`` are honoured; the SSRF guard runs again before every delivery.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import json
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from standardwebhooks import Webhook as StandardWebhook

from mediavault import MediaVault, WebhookEndpoint
from mediavault.webhooks.signing import new_secret
from tests.api._checks import RFC3339_UTC, success
from tests.conftest import PREFIX, Account, make_config
from tests.webhooks.conftest import FAST, MakeClient, create_webhook, deliveries, wait_until
from tests.webhooks.receiver import Receiver, Reply


def settled(account: Account, webhook_id: str, count: int) -> list[dict]:
    """The log once it holds ``count`` attempts and none is pending."""

    def check() -> list[dict] | None:
        rows = deliveries(account, webhook_id)
        return rows if len(rows) >= count and all(r["status"] != "pending" for r in rows) else None

    return wait_until(check)


def test_delivery_is_signed_per_standard_webhooks(carol: Account, receiver: Receiver) -> None:
    hook = create_webhook(carol, receiver.url, ["media.uploaded"])
    media = carol.upload(b"hello webhooks", "hello.txt")

    (request,) = receiver.wait_for(1)
    payload = StandardWebhook(hook["secret"]).verify(request.body, request.headers)  # raises if the signature is bad
    assert set(payload) == {"id", "event", "data", "timestamp"}
    assert payload["event"] == "media.uploaded"
    assert payload["id"] == request.headers["webhook-id"]
    assert {"id": media["id"], "type": "document", "user_id": carol.id}.items() <= payload["data"].items()
    assert RFC3339_UTC.match(payload["timestamp"])
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"].startswith("mediavault-webhooks/")
    assert request.headers["webhook-signature"].startswith("v1,")
    assert abs(int(request.headers["webhook-timestamp"]) - dt.datetime.now(dt.UTC).timestamp()) < 30

    with pytest.raises(Exception):  # noqa: B017 - any verification error: the wrong key must not verify
        StandardWebhook(new_secret()).verify(request.body, request.headers)
    tampered = request.body.replace(b"media.uploaded", b"media.deleted")
    with pytest.raises(Exception):  # noqa: B017
        StandardWebhook(hook["secret"]).verify(tampered, request.headers)

    (row,) = settled(carol, hook["id"], 1)
    assert set(row) == {
        "id",
        "event_id",
        "event",
        "attempt",
        "status",
        "response_status",
        "duration_ms",
        "error",
        "created_at",
        "next_attempt_at",
        "attempted_at",
    }
    assert (row["event_id"], row["event"], row["attempt"], row["status"]) == (
        payload["id"],
        "media.uploaded",
        1,
        "succeeded",
    )
    assert (row["response_status"], row["error"], row["next_attempt_at"]) == (200, None, None)
    assert isinstance(row["duration_ms"], int) and row["duration_ms"] >= 0


def test_retries_keep_the_webhook_id_and_are_logged(carol: Account, receiver: Receiver) -> None:
    receiver.script = [Reply(500, body=b"database on fire"), 503]
    hook = create_webhook(carol, receiver.url)
    carol.upload(b"retry me", "r.txt")

    requests = receiver.wait_for(3)
    assert len({r.id for r in requests}) == 1
    bodies = {r.body for r in requests}
    assert len(bodies) == 1  # the same body on every attempt; each attempt signed afresh
    for r in requests:
        StandardWebhook(hook["secret"]).verify(r.body, r.headers)
    gaps = [b.at - a.at for a, b in itertools.pairwise(requests)]
    assert gaps[0] >= 0.2 * 0.8 - 0.05 and gaps[1] >= 0.4 * 0.8 - 0.05  # the schedule, with jitter

    rows = settled(carol, hook["id"], 3)
    assert [(r["attempt"], r["status"], r["response_status"]) for r in rows] == [
        (3, "succeeded", 200),
        (2, "failed", 503),
        (1, "failed", 500),
    ]
    assert {r["event_id"] for r in rows} == {requests[0].id}
    assert rows[2]["error"] == "HTTP 500: database on fire"
    assert rows[2]["next_attempt_at"] is not None and rows[0]["next_attempt_at"] is None
    hook_now = success(carol.client.get(f"{PREFIX}/webhooks/{hook['id']}", headers=carol.headers))
    assert (hook_now["active"], hook_now["consecutive_failures"]) == (True, 0)
    assert len(receiver.wait_for(3)) == 3  # nothing more is sent once it succeeded


def test_pending_attempt_is_visible_in_the_log(make_client: MakeClient, receiver: Receiver) -> None:
    carol = Account(make_client(webhook_retry_schedule=(30,)), "carol@example.com")
    receiver.script = [500]
    hook = create_webhook(carol, receiver.url)
    carol.upload(b"later", "l.txt")
    receiver.wait_for(1)
    rows = wait_until(lambda: (r := deliveries(carol, hook["id"])) and len(r) == 2 and r)
    assert [(r["attempt"], r["status"]) for r in rows] == [(2, "pending"), (1, "failed")]
    assert rows[0]["next_attempt_at"] == rows[1]["next_attempt_at"]
    due = dt.datetime.fromisoformat(rows[0]["next_attempt_at"].replace("Z", "+00:00"))
    assert 20 < (due - dt.datetime.now(dt.UTC)).total_seconds() < 40  # 30 s ± 20 % jitter
    assert (rows[0]["response_status"], rows[0]["attempted_at"]) == (None, None)


def test_exhausted_deliveries_disable_the_endpoint_after_the_limit(make_client: MakeClient, receiver: Receiver) -> None:
    carol = Account(make_client(webhook_failure_limit=2), "carol@example.com")
    receiver.default = Reply(500, body=b"x" * 5000)
    hook = create_webhook(carol, receiver.url)
    carol.upload(b"one", "1.txt")
    rows = settled(carol, hook["id"], 3)  # 1 + len(schedule) attempts
    assert [r["status"] for r in rows] == ["failed"] * 3
    assert all(len(r["error"]) <= 300 for r in rows)  # only a short excerpt of the receiver's answer
    assert (
        success(carol.client.get(f"{PREFIX}/webhooks/{hook['id']}", headers=carol.headers))["consecutive_failures"] == 1
    )

    carol.upload(b"two", "2.txt")
    settled(carol, hook["id"], 6)
    state = success(carol.client.get(f"{PREFIX}/webhooks/{hook['id']}", headers=carol.headers))
    assert (state["active"], state["consecutive_failures"]) == (False, 2)
    assert state["disabled_reason"].startswith("2 deliveries in a row failed every attempt")
    assert "HTTP 500" in state["disabled_reason"]

    receiver.default = 200
    carol.upload(b"three", "3.txt")  # not sent: the endpoint is disabled
    enabled = carol.client.patch(f"{PREFIX}/webhooks/{hook['id']}", headers=carol.headers, json={"active": True})
    assert success(enabled)["consecutive_failures"] == 0
    carol.upload(b"four", "4.txt")
    rows = settled(carol, hook["id"], 7)  # the log, not the receiver's count: an attempt that timed out on a
    assert len(rows) == 7 and rows[0]["status"] == "succeeded"  # loaded machine may never have reached it
    assert [r.json["data"]["filename"] for r in receiver.requests if r.status == 200] == ["4.txt"]


def test_events_raised_while_disabled_are_not_sent_after_re_enabling(tmp_path: Path, receiver: Receiver) -> None:
    """The fan-out runs after the event's commit (here: only when a worker starts), so it may see the
    endpoint enabled again; an event raised while it was disabled still does not go to it."""
    config = make_config(tmp_path / "vault", **{**FAST, "webhook_worker": False})
    with TestClient(Litestar(plugins=[MediaVault(config)])) as client:
        carol = Account(client, "carol@example.com")
        hook = create_webhook(carol, receiver.url)
        path = f"{PREFIX}/webhooks/{hook['id']}"
        assert success(client.patch(path, headers=carol.headers, json={"active": False}))["active"] is False
        carol.upload(b"while disabled", "off.txt")
        assert success(client.patch(path, headers=carol.headers, json={"active": True}))["active"] is True
        carol.upload(b"after", "on.txt")
    with TestClient(Litestar(plugins=[MediaVault(dataclasses.replace(config, webhook_worker=True))])) as client:
        carol.client = client
        carol.login()
        (row,) = settled(carol, hook["id"], 1)  # both events are fanned out together, at the worker's start
        assert row["status"] == "succeeded"
        assert [r.json["data"]["filename"] for r in receiver.requests] == ["on.txt"]


def test_410_gone_disables_at_once(carol: Account, receiver: Receiver) -> None:
    receiver.script = [410]
    hook = create_webhook(carol, receiver.url)
    carol.upload(b"gone", "g.txt")
    (row,) = settled(carol, hook["id"], 1)
    assert (row["status"], row["response_status"], row["next_attempt_at"]) == ("failed", 410, None)
    state = success(carol.client.get(f"{PREFIX}/webhooks/{hook['id']}", headers=carol.headers))
    assert (state["active"], state["disabled_reason"]) == (False, "the receiver answered 410 Gone")
    carol.upload(b"after", "a.txt")
    with pytest.raises(AssertionError):
        receiver.wait_for(2, timeout=1.0)


def test_redirects_are_not_followed(carol: Account, receiver: Receiver) -> None:
    with Receiver() as target:
        receiver.default = Reply(307, headers={"Location": target.url})
        hook = create_webhook(carol, receiver.url)
        carol.upload(b"redirect", "r.txt")
        rows = settled(carol, hook["id"], 3)
        assert [r["response_status"] for r in rows] == [307, 307, 307]
        assert f"redirect to {target.url} not followed" in rows[0]["error"]
        assert target.requests == []


def test_timeouts_fail_the_attempt_and_are_retried(make_client: MakeClient, receiver: Receiver) -> None:
    carol = Account(make_client(webhook_timeout=1.0), "carol@example.com")
    receiver.script = [Reply(200, delay=20)]
    hook = create_webhook(carol, receiver.url)
    carol.upload(b"slow", "s.txt")
    rows = wait_until(lambda: (r := deliveries(carol, hook["id"])) and r[0]["status"] == "succeeded" and r)
    *retries, first = rows  # on a loaded machine a prompt answer may also miss the short timeout: retried again
    assert (first["attempt"], first["status"], first["response_status"]) == (1, "failed", None)
    assert "timed out" in first["error"]
    assert first["duration_ms"] < 20_000  # cut at the timeout, not held until the receiver's answer
    assert retries and [r["attempt"] for r in rows] == list(range(len(rows), 0, -1))
    assert len({r.id for r in receiver.requests}) == 1


def test_retry_after_is_honoured(carol: Account, receiver: Receiver) -> None:
    receiver.script = [Reply(429, headers={"Retry-After": "1"})]
    create_webhook(carol, receiver.url)
    carol.upload(b"busy", "b.txt")
    first, second = receiver.wait_for(2)
    assert second.at - first.at >= 0.95  # not the 0.2 s of the schedule


def test_user_endpoints_get_their_own_events_host_endpoints_get_all(
    make_client: MakeClient, receiver: Receiver
) -> None:
    with Receiver() as host_all, Receiver() as host_media:
        secret = new_secret()
        client = make_client(
            webhooks=(
                WebhookEndpoint(url=host_all.url, secret=secret),
                {"url": host_media.url, "secret": secret, "events": ["media.uploaded"]},
            )
        )
        carol, dave = Account(client, "carol@example.com"), Account(client, "dave@example.com")
        create_webhook(carol, receiver.url, ["media.uploaded", "media.deleted", "user.registered"])
        dave.upload(b"dave's", "d.txt")
        media = carol.upload(b"carol's", "c.txt")
        assert client.delete(f"{PREFIX}/media/{media['id']}", headers=carol.headers).status_code == 204

        mine = receiver.wait_for(2)  # deliveries run concurrently: in any order
        assert sorted((r.json["event"], r.json["data"]["user_id"]) for r in mine) == [
            ("media.deleted", carol.id),
            ("media.uploaded", carol.id),
        ]
        everything = host_all.wait_for(5)
        names = sorted(r.json["event"] for r in everything)
        assert names == ["media.deleted", "media.uploaded", "media.uploaded", "user.registered", "user.registered"]
        registered = [r.json["data"] for r in everything if r.json["event"] == "user.registered"]
        assert {json.dumps(d, sort_keys=True) for d in registered} == {
            json.dumps({"id": a.id, "user_id": a.id}, sort_keys=True) for a in (carol, dave)
        }
        for r in everything:
            StandardWebhook(secret).verify(r.body, r.headers)
        assert sorted(r.json["event"] for r in host_media.wait_for(2)) == ["media.uploaded", "media.uploaded"]

        # One event, one id, whichever endpoint it goes to.
        uploaded = next(r for r in mine if r.json["event"] == "media.uploaded")
        assert uploaded.id in {r.id for r in everything} and uploaded.id in {r.id for r in host_media.requests}
        with pytest.raises(AssertionError):
            receiver.wait_for(3, timeout=0.5)


def test_dns_is_checked_again_before_every_delivery(
    make_client: MakeClient, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS rebinding: the name resolved to a public address at creation, to loopback at delivery."""
    from mediavault.webhooks import guard

    carol = Account(make_client(allow_private_webhook_targets=False), "carol@example.com")
    monkeypatch.setattr(guard, "_getaddrinfo", lambda host, port: ["93.184.216.34"])
    hook = create_webhook(carol, f"http://rebind.example:{receiver.port}/hook")
    monkeypatch.setattr(guard, "_getaddrinfo", lambda host, port: ["127.0.0.1"])
    carol.upload(b"rebind", "r.txt")
    rows = settled(carol, hook["id"], 3)
    assert all(r["status"] == "failed" and r["error"].startswith("refused: ") for r in rows)
    assert "127.0.0.1" in rows[0]["error"]
    assert receiver.requests == []


def test_disabling_fails_pending_attempts(make_client: MakeClient, receiver: Receiver) -> None:
    carol = Account(make_client(webhook_retry_schedule=(60,)), "carol@example.com")
    receiver.script = [500]
    hook = create_webhook(carol, receiver.url)
    carol.upload(b"x", "x.txt")
    wait_until(lambda: len(deliveries(carol, hook["id"])) == 2)
    carol.client.patch(f"{PREFIX}/webhooks/{hook['id']}", headers=carol.headers, json={"active": False})
    rows = deliveries(carol, hook["id"])
    assert (rows[0]["status"], rows[0]["error"]) == ("failed", "not sent: the endpoint was disabled")
