"""Wire shapes of signed upload URLs (msgspec)."""

from __future__ import annotations

from typing import Annotated

import msgspec
from mediavault_sdk import types as wire

from mediavault.db.models import SignedUpload

__all__ = ("MAX_EXPIRES_IN", "MIN_EXPIRES_IN", "SignedUploadCreate", "SignedUploadOut")

MIN_EXPIRES_IN = 60
MAX_EXPIRES_IN = 86_400
"""The lifetime of a signed upload URL, in seconds: one minute to one day (the contract's range)."""


class SignedUploadCreate(msgspec.Struct, forbid_unknown_fields=True):
    """``POST /uploads/signed``.

    ``expires_in``: seconds the URL lives (60 to 86400, default 3600). ``max_size``: largest file it takes, in bytes
    (at most the server's ``max_upload_size``, its default). ``collection_id``: one of the caller's collections the
    upload is added to.
    """

    expires_in: Annotated[int, msgspec.Meta(ge=MIN_EXPIRES_IN, le=MAX_EXPIRES_IN)] = 3600
    max_size: Annotated[int, msgspec.Meta(ge=1)] | None = None
    collection_id: str | None = None


class SignedUploadOut(wire.SignedUpload):
    """A signed upload URL as its signer sees it, once: only the token's hash is kept."""

    @classmethod
    def of(cls, grant: SignedUpload, prefix: str, token: str) -> SignedUploadOut:
        """Build from a new row and its token."""
        return cls(
            url=f"{prefix}/uploads/signed/{token}",
            token=token,
            expires_at=grant.expires_at,
            max_size=grant.max_size,
            collection_id=str(grant.collection_id) if grant.collection_id else None,
        )
