"""The pytest plugin of ``mediavault.testing`` in-process (its fixtures imported here, as ``pytest_plugins`` would
register them): the vault it builds, the event recorder, and a webhook sink that refuses a wrong signature.
docs/testing.md's example runs the same fixtures in a project of its own (tests/unit/test_docs_examples.py)."""

from __future__ import annotations

import fsspec
import pytest
from standardwebhooks import WebhookVerificationError

import mediavault.testing
from mediavault import MediaVaultConfig
from mediavault.testing import EventRecorder, WebhookSink
from mediavault.testing.vault import PREFIX, Account

# The plugin's fixtures, found by pytest in this module's namespace (`pytest_plugins` does this for a whole project).
globals().update({n: f for n, f in vars(mediavault.testing).items() if n.startswith(("mediavault_", "webhook_sink"))})


def test_the_vault_stores_in_memory_and_records_events(
    mediavault_user: Account, mediavault_events: EventRecorder, mediavault_config: MediaVaultConfig
) -> None:
    media = mediavault_user.upload(b"in memory", "a.txt")
    assert mediavault_events.wait_for("media.uploaded").data["id"] == media["id"]
    assert mediavault_events.names[:2] == ["user.registered", "media.uploaded"]
    memory = fsspec.filesystem("memory")
    root = mediavault_config.storage_url.removeprefix("memory://")
    assert [memory.cat_file(path) for path in memory.find(root)] == [b"in memory"]
    with pytest.raises(AssertionError, match=r"no 'media\.deleted' event; recorded: \['user\.registered'"):
        mediavault_events.wait_for("media.deleted", timeout=0.2)


def test_the_sink_verifies_signatures(mediavault_user: Account, webhook_sink: WebhookSink) -> None:
    created = mediavault_user.client.post(
        f"{PREFIX}/webhooks", headers=mediavault_user.headers, json={"url": "sink://a", "events": ["media.uploaded"]}
    )
    assert created.status_code == 201, created.text
    media = mediavault_user.upload(b"signed", "s.txt")
    payload = webhook_sink.wait_for("media.uploaded", created.json()["data"]["secret"], url="sink://a")
    assert payload["data"]["id"] == media["id"]
    other = "whsec_" + "A" * 44  # a well-formed secret, not the webhook's
    with pytest.raises(WebhookVerificationError):
        webhook_sink.wait_for("media.uploaded", other)
