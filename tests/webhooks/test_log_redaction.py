"""Webhook attempts leak no secret (issue 13, smaller finding): the endpoint's URL query (which may carry a token)
appears in no log line (INFO and above), and the delivery log's ``error`` keeps a short excerpt of the receiver's reply
with the endpoint's signing secret and the URL's query values blanked out."""

from __future__ import annotations

import logging

import pytest

from tests.conftest import Account
from tests.webhooks.conftest import create_webhook, deliveries, wait_until
from tests.webhooks.receiver import Receiver, Reply

QUERY_SECRET = "tok-9f8e7d6c5b4a"


def test_attempts_log_no_url_secret_and_keep_a_short_redacted_error(
    carol: Account, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)  # (DEBUG: drivers' own statement logs show every value)
    hook = create_webhook(carol, f"{receiver.url}?token={QUERY_SECRET}")
    reply = f"you sent token={QUERY_SECRET} signed with {hook['secret']}; " + "details " * 60
    receiver.script = [Reply(500, body=reply.encode()), 200]
    carol.upload(b"hello", "h.txt")
    receiver.wait_for(2)
    wait_until(lambda: len([r for r in deliveries(carol, hook["id"]) if r["status"] != "pending"]) >= 2)

    failed = [r for r in deliveries(carol, hook["id"]) if r["status"] == "failed"]
    assert len(failed) == 1
    error = failed[0]["error"]
    assert error.startswith("HTTP 500: you sent token=")
    assert QUERY_SECRET not in error and hook["secret"] not in error
    assert len(error) <= 120
    assert QUERY_SECRET not in caplog.text
    assert "/hook?…" in caplog.text  # httpx's request line is there, its query blanked
