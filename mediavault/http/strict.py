"""JSON request bodies decoded strictly, as the OpenAPI document describes them.

Litestar converts a handler's ``data`` with msgspec's lax rules (``strict=False``, right for query strings, where
every value arrives as text), so a JSON body's ``"active": 0`` became ``false`` and ``"expires_in": "60"`` became
``60``: values the document (and a typed client) call invalid were accepted. :func:`strict_json_body`, the vault
router's ``before_request`` hook, first decodes the body with msgspec in strict mode against the handler's ``data``
type (JSON types only: a string is not a number, ``0`` is not ``false``; ``2.0`` is the integer 2, as in JSON
Schema) and answers 400 ``validation_error``
naming the field otherwise. The body is read once (Litestar caches it for the handler's own decoding).
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
from litestar import Request
from litestar.exceptions import ValidationException

__all__ = ("strict_json_body",)

_PATH = re.compile(r" - at `\$\.?([^`]*)`$")


async def strict_json_body(request: Request[Any, Any, Any]) -> None:
    """Refuse a JSON body whose values are not of the JSON types of the handler's ``data`` type.

    Raises:
        ValidationException: a value of the wrong JSON type (or out of its constraints), with ``extra`` naming
            the field as Litestar's own validation does; malformed JSON is left to Litestar (same answer as before).
    """
    field = request.route_handler.parsed_fn_signature.parameters.get("data")
    if field is None or request.method in {"GET", "HEAD"}:
        return
    try:
        value = msgspec.json.decode(await request.body())
    except msgspec.DecodeError:
        return
    try:
        msgspec.convert(_integral_floats_as_ints(value), type=field.annotation, strict=True)
    except msgspec.ValidationError as exc:
        message = str(exc)
        match = _PATH.search(message)
        key = match.group(1) if match else ""
        message = message[: match.start()] if match else message
        raise ValidationException(extra=[{"message": message, "key": key or "body", "source": "body"}]) from exc


def _integral_floats_as_ints(value: Any) -> Any:
    """``2.0`` → ``2`` throughout a decoded JSON value: JSON (and JSON Schema's ``integer``) does not tell ``2.0``
    from ``2``; other floats stay floats."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_integral_floats_as_ints(item) for item in value]
    if isinstance(value, dict):
        return {key: _integral_floats_as_ints(item) for key, item in value.items()}
    return value
