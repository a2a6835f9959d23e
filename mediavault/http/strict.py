"""Request input checked as the OpenAPI document describes it, before Litestar converts it.

Litestar converts a handler's ``data`` with msgspec's lax rules (``strict=False``, right for query strings, where
every value arrives as text), so a JSON body's ``"active": 0`` became ``false`` and ``"expires_in": "60"`` became
``60``: values the document (and a typed client) call invalid were accepted. :func:`strict_input`, the vault
router's ``before_request`` hook, first decodes the body with msgspec in strict mode against the handler's ``data``
type (JSON types only: a string is not a number, ``0`` is not ``false``; ``2.0`` is the integer 2, as in JSON
Schema) and answers 400 ``validation_error`` naming the field otherwise. The body is read once (Litestar caches it
for the handler's own decoding).

Text never holds NUL (U+0000): PostgreSQL cannot store it in ``text`` (a 500 there, while SQLite kept it), and no
name, title or query needs it. A query parameter or a JSON string with one is a 400 naming it, on every engine.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
from litestar import Request
from litestar.exceptions import ValidationException

from mediavault.errors import NUL_MESSAGE

__all__ = ("error_field", "nul_path", "strict_input")

_PATH = re.compile(r" - at `\$\.?([^`]*)`$")


async def strict_input(request: Request[Any, Any, Any]) -> None:
    """Refuse NUL characters in query parameters and JSON strings, and JSON values not of the JSON types of the
    handler's ``data`` type.

    Raises:
        ValidationException: with ``extra`` naming the field (``source`` ``query`` or ``body``) as Litestar's own
            validation does; malformed JSON is left to Litestar (same answer as before).
    """
    for name, value in request.query_params.multi_items():
        if "\x00" in value:
            raise ValidationException(extra=[{"message": NUL_MESSAGE, "key": name, "source": "query"}])
    field = request.route_handler.parsed_fn_signature.parameters.get("data")
    if field is None or request.method in {"GET", "HEAD"}:
        return
    try:
        value = msgspec.json.decode(await request.body())
    except msgspec.DecodeError:
        return
    try:
        data = msgspec.convert(_integral_floats_as_ints(value), type=field.annotation, strict=True)
    except msgspec.ValidationError as exc:
        key, message = error_field(exc)
        raise ValidationException(extra=[{"message": message, "key": key or "body", "source": "body"}]) from exc
    # What the handler receives, not fields it ignores (a body type without forbid_unknown_fields)
    if (nul := nul_path(msgspec.to_builtins(data), "")) is not None:
        raise ValidationException(extra=[{"message": NUL_MESSAGE, "key": nul or "body", "source": "body"}])


def error_field(exc: msgspec.ValidationError) -> tuple[str, str]:
    """msgspec's ``"Expected `int` - at `$.tags[2]`"`` as ``("tags[2]", "Expected `int`")``; ``""`` for the whole
    value."""
    message = str(exc)
    match = _PATH.search(message)
    return (match.group(1), message[: match.start()]) if match else ("", message)


def nul_path(value: Any, path: str) -> str | None:
    """Where the first string holding a NUL is in a decoded JSON value (``tags[2]``, ``title``), else ``None``."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        if isinstance(key, str) and "\x00" in key:
            return path or "body"
        inner = f"{path}[{key}]" if isinstance(key, int) else f"{path}.{key}" if path else str(key)
        if (found := nul_path(item, inner)) is not None:
            return found
    return None


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
