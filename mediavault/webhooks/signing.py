"""Signing per the Standard Webhooks specification (https://www.standardwebhooks.com).

Each attempt carries ``webhook-id`` (the event id, the same on every retry and endpoint),
``webhook-timestamp`` (Unix seconds of the attempt) and ``webhook-signature: v1,<base64>``, the
HMAC-SHA256 of ``"{id}.{timestamp}.{body}"`` keyed with the base64-decoded part of the endpoint's
``whsec_<base64>`` secret. The signature is computed by the ``standardwebhooks`` reference package,
so a receiver using it (or any conforming library) verifies our deliveries.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import secrets

from standardwebhooks.webhooks import Webhook as _StandardWebhook

__all__ = ("SECRET_PREFIX", "check_secret", "new_secret", "signed_headers")

SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret
SECRET_BYTES = 32
"""Random bytes in a generated secret (the spec asks for 24 to 64)."""


def new_secret() -> str:
    """A new random secret ``whsec_<base64 of 32 bytes>``."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def check_secret(secret: str) -> None:
    """Check that ``secret`` is ``whsec_<base64>`` of 24 to 64 bytes.

    Raises:
        ValueError: it is not.
    """
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError("a webhook secret must look like whsec_<base64>")
    try:
        key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("a webhook secret must look like whsec_<base64>") from exc
    if not 24 <= len(key) <= 64:
        raise ValueError("a webhook secret must hold 24 to 64 bytes")


def signed_headers(secret: str, msg_id: str, body: bytes, *, now: dt.datetime | None = None) -> dict[str, str]:
    """The Standard Webhooks headers of one attempt.

    Args:
        secret: the endpoint's ``whsec_<base64>`` secret.
        msg_id: the event id (``webhook-id``).
        body: the exact JSON body sent (UTF-8).
        now: the attempt's time (default: now, UTC).

    Returns:
        ``{"webhook-id", "webhook-timestamp", "webhook-signature"}``.
    """
    moment = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(microsecond=0)
    signature = _StandardWebhook(secret).sign(msg_id=msg_id, timestamp=moment, data=body.decode("utf-8"))
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": signature,
    }
