"""The vault's OpenAPI document (``<prefix>/schema/openapi.json``): Litestar's, made true in one place.

Litestar documents what the handlers' signatures say: request bodies, parameters and the success envelopes'
``data``. It cannot know the rest, so :func:`vault_openapi` completes each operation from :data:`OPERATIONS`, a
table of what every route can answer beyond what is derived:

* errors, always in the vault's envelope (``ErrorEnvelope``), never Litestar's ``{status_code, detail}``:
  400 where there is input to validate (parameters or a body), 401 on every route that is not public (handler
  ``opt={"public": True}``) and 403 on those an API key limited to other scopes may not call, 404 on routes with
  path parameters, 413 on routes with a body, 429 on every route the
  rate limiter counts, 500 and 503 (``service_unavailable``) everywhere, and the route's own extras from the table
  (403, 409, 415...);
* downloads (``bytes`` in the table): raw bytes of any type with ``ETag``, ``Last-Modified``, ``Accept-Ranges``,
  200/206 (``Content-Range``)/304/416, no body on ``HEAD``;
* security schemes (``bearerAuth``: ``Authorization: Bearer <JWT>``, ``apiKeyAuth``: ``X-API-Key``) on every
  route that is not public (API-key management takes a login token only);
* success envelopes under readable names (``MediaOutEnvelope``, ``MediaOutPage``: a page's ``meta.pagination``
  is required), ``X-Request-ID`` on every response, and a request example per JSON body.

An operation missing from the table is left as Litestar describes it: a host's own route under the prefix (its errors
are the host's), or a new route of the vault, which tests/api/test_openapi_document.py refuses until it has its line.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import msgspec

from mediavault.auth.scopes import SCOPES, required_scope
from mediavault.events import EVENT_NAMES
from mediavault.http.envelope import ErrorEnvelope

if TYPE_CHECKING:
    from collections.abc import Iterable

    from litestar import Litestar
    from litestar.handlers import HTTPRouteHandler

    from mediavault.config import MediaVaultConfig

__all__ = ("OPERATIONS", "Spec", "cached_vault_openapi", "vault_openapi")


@dataclass(frozen=True)
class Spec:
    """What one operation answers beyond what :func:`vault_openapi` derives.

    Attributes:
        errors: extra error statuses (e.g. ``(403, 409)``).
        bytes: the success answer is the stored bytes (``GET``/``HEAD`` of a download route), not an envelope.
        redirect: a download that may answer 307 to a presigned storage URL (``storage_presigned_downloads``).
        token_only: only a login token opens it (an API key gets 403).
        example: an example of the JSON request body.
        creates: ``(path parameter, JSON pointer into the 201 body)`` of what the operation creates: OpenAPI links
            from its 201 to every operation taking that parameter (clients and tools follow them).
        headers_only: the success answers are headers only, no body nor ``Content-Type`` (tus).
    """

    errors: tuple[int, ...] = ()
    bytes: bool = False
    redirect: bool = False
    token_only: bool = False
    example: Any = None
    creates: tuple[tuple[str, str], ...] = ()
    headers_only: bool = False


_MEDIA_ID = "0b7f0e8e-3c53-4a59-9a63-7f1f3c1e7a10"
OPERATIONS: dict[str, Spec] = {
    "POST /auth/register": Spec(
        (403, 409), example={"email": "ada@example.com", "password": "correct horse battery", "display_name": "Ada"}
    ),
    "POST /auth/login": Spec((401,), example={"username": "ada@example.com", "password": "correct horse battery"}),
    "POST /auth/refresh": Spec((401,), example={"refresh_token": "<the refresh_token of a login>"}),
    "POST /auth/logout": Spec((403,), token_only=True),  # an API key is no login
    "GET /health": Spec(),  # its 503 is the health body (status degraded)
    "GET /users/me": Spec(),
    "PATCH /users/me": Spec((409,), example={"display_name": "Ada Lovelace"}),
    "GET /users/me/usage": Spec(),
    "POST /users/me/api-keys": Spec(
        (403, 409),
        token_only=True,
        example={"name": "photo frame", "scopes": ["media:read"], "expires_in": 2592000},
        creates=(("key_id", "/data/id"),),
    ),
    "GET /users/me/api-keys": Spec((403,), token_only=True),
    "DELETE /users/me/api-keys/{key_id}": Spec((403,), token_only=True),
    "POST /media/upload": Spec((415, 507), creates=(("media_id", "/data/id"),)),
    "GET /media": Spec(),
    "GET /media/{media_id}": Spec(),
    "PATCH /media/{media_id}": Spec(example={"title": "Holiday", "tags": ["beach", "2026"]}),
    "DELETE /media/{media_id}": Spec((409,)),  # a host row references it (docs/embedding.md)
    "GET /media/{media_id}/content": Spec(bytes=True, redirect=True),
    "HEAD /media/{media_id}/content": Spec(bytes=True),
    "GET /media/{media_id}/thumbnail": Spec(bytes=True),
    "HEAD /media/{media_id}/thumbnail": Spec(bytes=True),
    "GET /media/{media_id}/metadata": Spec(),
    "POST /media/{media_id}/reprocess": Spec(),
    "PUT /media/{media_id}/content": Spec((415, 507)),
    "GET /media/{media_id}/versions": Spec(),
    "GET /media/{media_id}/versions/{version}/content": Spec(bytes=True),
    "HEAD /media/{media_id}/versions/{version}/content": Spec(bytes=True),
    "POST /media/{media_id}/versions/{version}/restore": Spec((507,)),
    "GET /trash": Spec(),
    "DELETE /trash": Spec(),
    "POST /trash/{media_id}/restore": Spec(),
    "DELETE /trash/{media_id}": Spec(),
    "GET /search": Spec(),
    "POST /collections": Spec(
        example={"name": "Holiday 2026", "description": "Two weeks by the sea"},
        creates=(("collection_id", "/data/id"),),
    ),
    "GET /collections": Spec(),
    "GET /collections/{collection_id}": Spec(),
    "PATCH /collections/{collection_id}": Spec(example={"name": "Holiday 2026 (best of)"}),
    "DELETE /collections/{collection_id}": Spec(),
    "POST /collections/{collection_id}/media": Spec(example={"media_ids": [_MEDIA_ID]}),
    "GET /collections/{collection_id}/media": Spec(),
    "DELETE /collections/{collection_id}/media/{media_id}": Spec(),
    "POST /shares": Spec(
        (404,),
        example={"media_id": _MEDIA_ID, "expires_in": 86400, "password": "open sesame"},
        creates=(("share_id", "/data/id"),),
    ),
    "GET /shares": Spec(),
    "DELETE /shares/{share_id}": Spec(),
    "GET /s/{token}": Spec((401,)),  # public: 401 is a missing or wrong X-Share-Password
    "GET /s/{token}/content": Spec((401, 403), bytes=True),
    "HEAD /s/{token}/content": Spec((401, 403), bytes=True),
    "GET /s/{token}/media/{media_id}/content": Spec((401, 403), bytes=True),
    "HEAD /s/{token}/media/{media_id}/content": Spec((401, 403), bytes=True),
    "POST /s/{token}/upload": Spec((401, 403, 415, 507)),  # public: 401 is a missing or wrong X-Share-Password
    "POST /uploads/signed": Spec((404,), example={"expires_in": 3600, "max_size": 104857600}),
    "POST /uploads/signed/{token}": Spec((415, 507)),  # public: the token is the credential
    "POST /webhooks": Spec(
        example={"url": "https://hooks.example.com/vault", "events": ["media.uploaded"]},
        creates=(("webhook_id", "/data/id"),),
    ),
    "GET /webhooks": Spec(),
    "GET /webhooks/{webhook_id}": Spec(),
    "PATCH /webhooks/{webhook_id}": Spec(example={"active": True}),
    "DELETE /webhooks/{webhook_id}": Spec(),
    "GET /webhooks/{webhook_id}/deliveries": Spec(),
    # tus 1.0.0 (docs/uploads.md): headers carry the protocol, bodies are raw bytes
    "OPTIONS /uploads": Spec(headers_only=True),
    "POST /uploads": Spec((400, 412, 413, 415, 507), headers_only=True),
    "HEAD /uploads/{upload_id}": Spec((412,), headers_only=True),
    "PATCH /uploads/{upload_id}": Spec((409, 412, 413, 415, 460, 507), headers_only=True),
    "DELETE /uploads/{upload_id}": Spec((412,), headers_only=True),
    "GET /admin/users": Spec(),
    "GET /admin/users/{user_id}": Spec(),
    "PATCH /admin/users/{user_id}": Spec(example={"disabled": True, "quota_bytes": 10737418240}),
    "GET /admin/audit": Spec(),
}
"""Every operation of the vault's HTTP API, keyed ``"<METHOD> <path relative to the prefix>"``."""

_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_ERRORS = {
    400: ("BadRequest", "validation_error: invalid input (the details name each field)"),
    401: ("Unauthorized", "unauthorized: missing, invalid, expired or revoked credentials"),
    403: ("Forbidden", "forbidden: the credentials do not allow this"),
    404: ("NotFound", "not_found: unknown, malformed or someone else's id"),
    409: ("Conflict", "conflict: the change conflicts with an existing resource"),
    412: ("PreconditionFailed", "precondition_failed: Tus-Resumable: 1.0.0 is missing (Tus-Version says which)"),
    413: (
        "PayloadTooLarge",
        "payload_too_large: the body is over the configured limit (quota_exceeded: over the owner's storage quota)",
    ),
    415: ("UnsupportedMediaType", "unsupported_media_type: the body is not of the expected type"),
    416: ("RangeNotSatisfiable", "range_not_satisfiable: no byte of the resource is in the Range"),
    429: ("RateLimited", "rate_limited: over a rate-limit budget; retry after Retry-After seconds"),
    460: ("ChecksumMismatch", "checksum_mismatch: the body does not match Upload-Checksum; the chunk was discarded"),
    500: ("InternalError", "internal_error: an unexpected failure (logged with the request id)"),
    503: ("ServiceUnavailable", "service_unavailable: a dependency is briefly unavailable; retry after Retry-After"),
    507: ("InsufficientStorage", "insufficient_storage: the storage is full; nothing was kept"),
}
_SECURITY_SCHEMES = {
    "bearerAuth": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "An access token from POST /auth/login (or /auth/refresh).",
    },
    "apiKeyAuth": {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": "An API key from POST /users/me/api-keys.",
    },
}
_STRING = {"type": "string"}
_REQUEST_ID = {"description": "The request's id (echoed when the client sent a valid one)", "schema": _STRING}
_RATE_HEADERS = {
    "X-RateLimit-Limit": {"description": "Requests allowed per period", "schema": {"type": "integer"}},
    "X-RateLimit-Remaining": {"description": "Requests left in the period", "schema": {"type": "integer"}},
    "X-RateLimit-Reset": {"description": "Unix time (s) when the budget next grows", "schema": {"type": "integer"}},
}
_HTTP_URL = r"^[Hh][Tt][Tt][Pp][Ss]?://[A-Za-z0-9._~-]+(:[0-9]{1,4})?([/?#][!-~]*)?$"
"""What the built-in http transport takes: scheme http(s), a host, no credentials (the SSRF guard checks more)."""
_NOT_BLANK = r"[^\t-\r \x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
"""A character Python's ``str.strip()`` keeps (what the services call not blank), spelled out for every regex
dialect (JSON Schema's whitespace class differs from Python's)."""
_NO_NUL = r"^[^\x00]*$"
_TYPING_WORDS = frozenset({"list", "UnionType", "Union", "Optional", "None"})


def _header(description: str, required: bool = False, schema: dict[str, Any] = _STRING) -> dict[str, Any]:
    return {"description": description, "required": required, "schema": schema}


def _error_responses() -> dict[str, Any]:
    responses = {}
    for status, (name, description) in _ERRORS.items():
        headers: dict[str, Any] = {"X-Request-ID": {**_REQUEST_ID, "required": True}}
        if status in (429, 503):
            headers["Retry-After"] = _header("Seconds to wait", True, {"type": "integer"})
        if status == 416:
            headers["Content-Range"] = _header("bytes */<size>", True)
        responses[name] = {
            "description": description,
            "headers": headers,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}},
        }
    return responses


def _error_schemas() -> dict[str, Any]:
    _, components = msgspec.json.schema_components([ErrorEnvelope], ref_template="#/components/schemas/{name}")
    envelope = components["ErrorEnvelope"]
    envelope["properties"]["success"] = {"type": "boolean", "const": False}
    envelope["required"] = ["success", "error", "meta"]
    return components


def _download_responses(spec: Spec, method: str) -> dict[str, Any]:
    """200/206/304/416 (and 307) of a route serving stored bytes; ``HEAD`` answers carry no body."""
    body = {"*/*": {"schema": {"type": "string", "format": "binary"}}}
    validators = {
        "ETag": _header("Strong entity tag (the quoted SHA-256 of the bytes)", True),
        "Last-Modified": _header("HTTP date of the last change", True),
        "Cache-Control": _header("private, no-cache", True),
    }
    full = {
        **validators,
        "Accept-Ranges": _header("bytes", True),
        "Content-Length": _header("Bytes in this answer", schema={"type": "integer"}),
        "Content-Disposition": _header("inline for passive types, attachment otherwise", True),
    }
    responses: dict[str, Any] = {
        "200": {"description": "The bytes, of the media's own type", "headers": full},
        "304": {"description": "Not modified (If-None-Match / If-Modified-Since)", "headers": validators},
    }
    if method == "get":
        responses["200"]["content"] = body
        responses["206"] = {
            "description": "One byte range (Range: bytes=...)",
            "headers": {**full, "Content-Range": _header("bytes <first>-<last>/<size>", True)},
            "content": body,
        }
        responses["416"] = {"$ref": "#/components/responses/RangeNotSatisfiable"}
    if spec.redirect:
        responses["307"] = {
            "description": "With storage_presigned_downloads: a temporary storage URL for passive types",
            "headers": {"Location": _header("The presigned URL", True)},
        }
    return responses


_UNPAGINATED = frozenset({"MediaVersionOut"})
"""Items of list answers without ``meta.pagination`` (``GET /media/{id}/versions``: at most ``max_versions`` + 1)."""


def _envelope_name(name: str, title: str) -> str | None:
    """The readable name of Litestar's ``Envelope_...`` schema titled ``title``: ``Envelope[list[MediaOut]]`` →
    ``MediaOutPage`` (``...List`` for :data:`_UNPAGINATED` items), ``Envelope[UnionType[A, B]]`` → ``AOrBEnvelope``,
    ``Envelope[UserOut]`` → ``UserOutEnvelope``."""
    if not name.startswith("Envelope_") or not title.startswith("Envelope["):
        return None
    inner = title.removeprefix("Envelope[").removesuffix("]")
    names = [word for word in re.findall(r"[A-Za-z_]\w*", inner) if word not in _TYPING_WORDS]
    if not inner.startswith("list["):
        return "Or".join(names) + "Envelope"
    return "Or".join(names) + ("List" if inner.removeprefix("list[").removesuffix("]") in _UNPAGINATED else "Page")


def _rename_envelopes(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    renames = {old: new for old, schema in schemas.items() if (new := _envelope_name(old, schema.get("title", "")))}
    for old, new in renames.items():
        schema = schemas.pop(old)
        schema["title"] = new
        schema["properties"]["success"] = {"type": "boolean", "const": True}
        schema["required"] = ["success", "data", "meta"]
        if new.endswith("Page"):
            schema["properties"]["meta"] = {"$ref": "#/components/schemas/PageMeta"}
        schemas[new] = schema
    if any(new.endswith("Page") for new in renames.values()):
        page_meta = copy.deepcopy(schemas["Meta"])
        page_meta["title"] = "PageMeta"
        page_meta["properties"]["pagination"] = {"$ref": "#/components/schemas/Pagination"}
        page_meta["required"] = sorted({*page_meta["required"], "pagination"})
        schemas["PageMeta"] = page_meta
    refs = {f"#/components/schemas/{old}": f"#/components/schemas/{new}" for old, new in renames.items()}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(ref := node.get("$ref"), str) and ref in refs:
                node["$ref"] = refs[ref]
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)


def _vault_handlers(app: Litestar, prefix: str) -> dict[tuple[str, str], HTTPRouteHandler]:
    """``(method, path format)`` → handler, for the routes under ``prefix``."""
    from litestar.routes import HTTPRoute

    handlers = {}
    for route in app.routes:
        if isinstance(route, HTTPRoute) and (route.path_format == prefix or route.path_format.startswith(prefix + "/")):
            for method, (handler, _) in route.route_handler_map.items():
                handlers[(method.lower(), route.path_format)] = handler
    return handlers


def _request_schemas(handlers: Iterable[HTTPRouteHandler]) -> dict[str, Any]:
    """JSON Schemas of the request bodies, from msgspec itself (the validator of these bodies): unlike Litestar's,
    they keep every constraint (``additionalProperties: false`` of ``forbid_unknown_fields``, items' lengths)."""
    types = {field.annotation for h in handlers if (field := h.parsed_fn_signature.parameters.get("data"))}
    _, components = msgspec.json.schema_components(
        sorted(types, key=lambda t: t.__name__), ref_template="#/components/schemas/{name}"
    )
    return components


def _no_nul(schema: Any) -> None:
    """Every text of a request schema excludes NUL (the vault refuses it: :data:`~mediavault.errors.NUL_MESSAGE`):
    a ``pattern`` where there is none, else ``not`` (a schema holds one pattern; patterns of multipart parts exclude
    NUL themselves, since schemathesis's coverage phase fails on ``not`` beside a binary part)."""
    if not isinstance(schema, dict):
        return
    types = schema.get("type")
    if (types == "string" or (isinstance(types, list) and "string" in types)) and schema.get("format") != "binary":
        if "pattern" not in schema:
            schema["pattern"] = _NO_NUL
        elif "\\x00" not in schema["pattern"]:
            schema.setdefault("not", {"pattern": r"\x00"})
    for inner in (schema.get("properties") or {}).values():
        _no_nul(inner)
    for key in ("items", "additionalProperties"):
        _no_nul(schema.get(key))
    for key in ("anyOf", "oneOf", "allOf"):
        for inner in schema.get(key) or ():
            _no_nul(inner)


def _refine(document: dict[str, Any], prefix: str, thumbnail_sizes: Iterable[int]) -> None:
    """Rules the services check beyond the bodies' types, stated in the document."""
    schemas = document["components"]["schemas"]
    events = {"type": "string", "enum": sorted(EVENT_NAMES)}
    for name in ("WebhookCreate", "WebhookUpdate"):
        properties = schemas[name]["properties"]
        properties["events"]["items"] = events
        properties["url"].update(pattern=_HTTP_URL, description="An http(s) URL (or one a transport plugin accepts)")
    # exactly one of media_id / collection_id (a null counts as absent); uploads into collections only
    one_of: list[dict[str, Any]] = [
        {"required": [given], "properties": {given: {"type": "string"}, other: {"type": "null"}}}
        for given, other in (("media_id", "collection_id"), ("collection_id", "media_id"))
    ]
    one_of[0]["properties"]["allow_upload"] = {"const": False}
    schemas["ShareCreate"]["oneOf"] = one_of
    for name in ("CollectionCreate", "CollectionUpdate"):
        schemas[name]["properties"]["name"]["pattern"] = _NOT_BLANK
    for variant in schemas["ApiKeyCreate"]["properties"]["scopes"].get("anyOf", ()):
        if variant.get("type") == "array":
            variant["items"] = {"type": "string", "enum": list(SCOPES)}
    # custom metadata: any JSON object without NUL in its keys or texts, at any depth (PostgreSQL's jsonb refuses it)
    schemas["JsonObject"] = {
        "type": "object",
        "propertyNames": {"pattern": _NO_NUL},
        "additionalProperties": {"$ref": "#/components/schemas/JsonValue"},
    }
    schemas["JsonValue"] = {
        "anyOf": [
            {"type": "string", "pattern": _NO_NUL},
            {"type": ["number", "boolean", "null"]},
            {"type": "array", "items": {"$ref": "#/components/schemas/JsonValue"}},
            {"$ref": "#/components/schemas/JsonObject"},
        ]
    }
    schemas["MediaUpdate"]["properties"]["metadata"] = {
        "$ref": "#/components/schemas/JsonObject",
        "description": "An RFC 7396 merge patch of the media's metadata (null removes a key), at most 16 KiB encoded",
    }
    for parameter in document["paths"][f"{prefix}/search"]["get"]["parameters"]:
        if parameter["name"] == "q":
            parameter["schema"]["pattern"] = _NOT_BLANK
    for operation in (op for item in document["paths"].values() for op in item.values() if isinstance(op, dict)):
        for parameter in operation.get("parameters") or ():
            if parameter["in"] == "query":
                _no_nul(parameter["schema"])
        for content in (operation.get("requestBody") or {}).get("content", {}).values():
            _no_nul(content["schema"])
    user_update = schemas["UserUpdate"]
    user_update["dependentRequired"] = {"password": ["current_password"], "email": ["current_password"]}
    either = [{"required": ["password"]}, {"required": ["email"]}]
    user_update["dependentSchemas"] = {"current_password": {"anyOf": either}}
    for operation in document["paths"][f"{prefix}/media/{{media_id}}/thumbnail"].values():
        for parameter in operation["parameters"]:
            if parameter["name"] == "size":  # read as text: exactly a configured size's digits
                parameter["schema"] = {"type": "integer", "enum": sorted(thumbnail_sizes)}


def _complete(method: str, operation: dict[str, Any], spec: Spec, opt: dict[str, Any]) -> None:
    parameters = operation.get("parameters") or []
    body = operation.get("requestBody")
    statuses = set(spec.errors) | {500, 503}  # 503: e.g. SQLite's write lock busy, the rate-limit store down
    if parameters or body:
        statuses.add(400)
    if body:
        statuses.add(413)
    if any(p.get("in") == "path" for p in parameters):
        statuses.add(404)
    if not opt.get("public"):
        statuses.add(401)
        if required_scope(opt, method.upper()) is not None:
            statuses.add(403)  # an API key limited to other scopes (mediavault.auth.scopes)
        operation["security"] = [{"bearerAuth": []}] + ([] if spec.token_only else [{"apiKeyAuth": []}])
    if not opt.get("rate_limit_exempt"):
        statuses.add(429)
    responses = {code: r for code, r in operation["responses"].items() if code.startswith("2")}
    if spec.bytes:
        responses = _download_responses(spec, method)
    for status in sorted(statuses):
        if status == 503 and opt.get("rate_limit_exempt"):  # /health: its own body, status "degraded"
            responses["503"] = {**responses["200"], "description": "A dependency failed (status degraded)"}
        else:
            responses[str(status)] = {"$ref": f"#/components/responses/{_ERRORS[status][0]}"}
    for code, response in responses.items():
        if "$ref" not in response:
            response["headers"] = {
                **(response.get("headers") or {}),
                "X-Request-ID": {**_REQUEST_ID, "required": True},
                **({} if opt.get("rate_limit_exempt") else _RATE_HEADERS),
            }
            if code == "204" or spec.headers_only:
                response.pop("content", None)
    operation["responses"] = dict(sorted(responses.items()))
    if spec.example is not None and body and "application/json" in body.get("content", {}):
        body["content"]["application/json"]["example"] = spec.example


def _operation_id(handler_name: str, method: str) -> str:
    """``list_media`` → ``listMedia``; the ``HEAD`` twin of a download ``get_content`` → ``getContentHead``."""
    first, *rest = handler_name.split("_")
    return first + "".join(word.capitalize() for word in rest) + ("Head" if method == "head" else "")


def _link(operations: dict[str, dict[str, Any]]) -> None:
    """Links from each creating operation's 201 to the operations that take what it created (:attr:`Spec.creates`)
    as all their path parameters. ``POST`` targets are left out: their bodies name other resources too (a 404
    there need not mean the created one is gone)."""
    for key, operation in operations.items():
        if not (creates := dict(OPERATIONS[key].creates)):
            continue
        links = operation["responses"]["201"].setdefault("links", {})
        for target_key, target in operations.items():
            names = {p["name"] for p in target.get("parameters") or () if p["in"] == "path"}
            if names and names <= creates.keys() and not target_key.startswith("POST "):
                parameters = {name: f"$response.body#{creates[name]}" for name in sorted(names)}
                links[target["operationId"]] = {"operationId": target["operationId"], "parameters": parameters}


def vault_openapi(app: Litestar, config: MediaVaultConfig) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the vault configured by ``config`` in ``app`` (Litestar's, limited to the
    vault's ``path_prefix`` and completed from :data:`OPERATIONS`).
    """
    prefix = config.path_prefix
    document = app.openapi_schema.to_schema()
    handlers = _vault_handlers(app, prefix)
    paths, operations = {}, {}
    for path, item in document.get("paths", {}).items():
        if path != prefix and not path.startswith(prefix + "/"):
            continue
        for method in _METHODS:
            if (operation := item.get(method)) is not None:
                key = f"{method.upper()} {path[len(prefix) :] or '/'}"
                if key in OPERATIONS:
                    handler = handlers[(method, path)]
                    _complete(method, operation, OPERATIONS[key], handler.opt)
                    operation["operationId"] = _operation_id(handler.handler_name, method)
                    operations[key] = operation
        paths[path] = item
    document["paths"] = paths
    _link(operations)
    components = document.setdefault("components", {})
    requests = _request_schemas(handlers.values())
    for schema in requests.values():
        _no_nul(schema)
    components.setdefault("schemas", {}).update({**requests, **_error_schemas()})
    components.setdefault("responses", {}).update(_error_responses())
    components.setdefault("securitySchemes", {}).update(_SECURITY_SCHEMES)
    _rename_envelopes(document)
    _refine(document, prefix, config.thumbnail_sizes)
    _describe_tus(document, prefix, config.max_upload_size)
    return document


def _describe_tus(document: dict[str, Any], prefix: str, max_upload_size: int) -> None:
    """The tus 1.0.0 request headers and ``PATCH`` body (docs/uploads.md), which the handlers read themselves:
    ``Tus-Resumable: 1.0.0`` on every request but ``OPTIONS`` (else 412), ``Upload-Length`` at creation (at most
    ``max_upload_size``), ``Upload-Offset`` and an ``application/offset+octet-stream`` body to append."""

    def header(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
        return {"name": name, "in": "header", "required": True, "schema": schema, "description": description}

    tus = header("Tus-Resumable", {"type": "string", "const": "1.0.0"}, "The tus protocol version")
    length = header(
        "Upload-Length", {"type": "integer", "minimum": 1, "maximum": max_upload_size}, "The upload's size in bytes"
    )
    offset = header("Upload-Offset", {"type": "integer", "minimum": 0}, "Where the body's bytes go (the server's)")
    uploads, upload = document["paths"][f"{prefix}/uploads"], document["paths"][f"{prefix}/uploads/{{upload_id}}"]
    for operation, extra in ((uploads["post"], [length]), (upload["patch"], [offset])):
        operation["parameters"] = [*(operation.get("parameters") or []), tus, *extra]
    for method in ("head", "delete"):
        upload[method]["parameters"] = [*(upload[method].get("parameters") or []), tus]
    upload["patch"]["requestBody"] = {
        "required": True,
        "content": {"application/offset+octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }


def cached_vault_openapi(app: Litestar, config: MediaVaultConfig) -> dict[str, Any]:
    """:func:`vault_openapi`, built once per app and vault (kept in ``app.state``)."""
    key = f"mediavault.openapi:{config.path_prefix}"
    if key not in app.state:
        app.state[key] = vault_openapi(app, config)
    return cast("dict[str, Any]", app.state[key])
