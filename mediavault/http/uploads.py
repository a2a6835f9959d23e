"""The multipart upload body every upload route takes (``POST /media/upload``, signed upload URLs, guest uploads
through share links, ``PUT /media/{id}/content``): its reader, as a context manager, and its OpenAPI description."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing, asynccontextmanager
from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.openapi.spec import Encoding, OpenAPIMediaType, Operation, Schema
from litestar.openapi.spec import RequestBody as OpenAPIRequestBody
from litestar.openapi.spec.enums import OpenAPIFormat, OpenAPIType

from mediavault.http.body import request_body
from mediavault.http.multipart import UploadStream, open_upload

__all__ = ("UploadOperation", "receive_upload")

_NO_NUL = r"^[^\x00]*$"  # the vault refuses NUL in text (mediavault.errors.NUL_MESSAGE)


@asynccontextmanager
async def receive_upload(request: Request[Any, Any, Any], max_size: int) -> AsyncIterator[UploadStream]:
    """The ``file`` part of ``request``'s ``multipart/form-data`` body as a stream, with the other parts as its
    fields (:func:`~mediavault.http.multipart.open_upload`), read as it arrives and closed on leaving.

    Args:
        max_size: largest accepted file, in bytes.

    Raises:
        PayloadTooLarge: the file is (declared, or turns out) over ``max_size``, raised by the parser or by the
            block.
        ValidationError, UnsupportedMediaType: as :func:`~mediavault.http.multipart.open_upload` (a field too
            long, too many parts, a malformed body, ...).
        VaultError: whatever the block raises. On any :class:`~mediavault.errors.VaultError` the rest of the body
            is read and discarded first (:func:`~mediavault.http.body.request_body`: up to 1 GiB / 30 s), so that a
            client still sending reads the error instead of a connection reset.
    """
    async with request_body(request) as body:
        file = await open_upload(
            content_type=request.headers.get("content-type"),
            content_length=request.headers.get("content-length"),
            body=aiter(body),
            max_size=max_size,
        )
        async with aclosing(file):
            yield file


@dataclass
class UploadOperation(Operation):
    """OpenAPI of an upload route: the body is read as a stream, so it is described by hand."""

    def __post_init__(self) -> None:
        text = Schema(type=OpenAPIType.STRING, max_length=10_000)
        self.request_body = OpenAPIRequestBody(
            required=True,
            content={
                "multipart/form-data": OpenAPIMediaType(
                    schema=Schema(
                        type=OpenAPIType.OBJECT,
                        required=["file"],
                        additional_properties=False,
                        properties={
                            "file": Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY, min_length=1),
                            "title": text,
                            "description": text,
                            "tags": Schema(
                                type=OpenAPIType.STRING,
                                description="Comma-separated tags: at most 50, each at most 100 characters",
                                pattern=r"^[^,\x00]{0,100}(,[^,\x00]{0,100}){0,49}$",
                            ),
                            "metadata": Schema(
                                type=OpenAPIType.OBJECT,
                                description="Custom metadata: a JSON object, at most 16 KiB encoded, no NUL",
                                property_names=Schema(pattern=_NO_NUL),
                                additional_properties=Schema(  # (nested values are accepted too)
                                    type=[
                                        OpenAPIType.STRING,
                                        OpenAPIType.NUMBER,
                                        OpenAPIType.BOOLEAN,
                                        OpenAPIType.NULL,
                                    ],
                                    pattern=_NO_NUL,  # (applies to strings only)
                                ),
                            ),
                        },
                    ),
                    encoding={"metadata": Encoding(content_type="application/json")},  # the part is JSON text
                )
            },
        )
