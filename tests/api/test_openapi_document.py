"""The OpenAPI document states what the routes really answer, and the HTTP details schemathesis found are right.

The document as a whole is checked against a live server by ``tests/e2e/test_openapi.py`` (schemathesis); these
tests pin the rules :mod:`mediavault.http.openapi` states, on the in-process app.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar, get
from litestar.testing import TestClient
from openapi_spec_validator import validate

from mediavault import MediaVault
from mediavault.http.openapi import OPERATIONS
from mediavault.server import create_app
from tests.api._checks import error, fields, success
from tests.conftest import PREFIX, Account, make_config

PUBLIC = {
    "POST /auth/register",
    "POST /auth/login",
    "POST /auth/refresh",
    "GET /health",
    "OPTIONS /uploads",
    "POST /uploads/signed/{token}",
}
ERROR_REF = "#/components/schemas/ErrorEnvelope"


@pytest.fixture(scope="module")
def document(shared_client: TestClient[Litestar]) -> dict[str, Any]:
    response = shared_client.get(f"{PREFIX}/schema/openapi.json")
    assert response.status_code == 200
    return response.json()


def operations(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        f"{method.upper()} {path.removeprefix(PREFIX)}": operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in {"get", "head", "post", "put", "patch", "delete", "options"}
    }


def response_of(document: dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in response:
        return document["components"]["responses"][response["$ref"].rsplit("/", 1)[-1]]
    return response


def test_the_document_validates_and_describes_every_route_of_the_table(document: dict[str, Any]) -> None:
    validate(document)
    assert set(operations(document)) == set(OPERATIONS)


def test_every_error_is_the_vaults_envelope_and_every_route_documents_its_errors(document: dict[str, Any]) -> None:
    for key, operation in operations(document).items():
        responses = operation["responses"]
        public = key in PUBLIC or key.split(" ")[1].startswith("/s/")
        expected = {"500", "503"} | ({"429"} if key != "GET /health" else set()) | (set() if public else {"401"})
        if any(p["in"] == "path" for p in operation.get("parameters") or ()):
            expected |= {"400", "404"}
        if "requestBody" in operation:
            expected |= {"400", "413"}
        assert expected <= set(responses), (key, sorted(responses))
        for status, response in responses.items():
            if int(status) >= 400 and (key, status) != ("GET /health", "503"):  # 503: the health body, degraded
                content = response_of(document, response)["content"]
                assert content == {"application/json": {"schema": {"$ref": ERROR_REF}}}, (key, status)
        if key.startswith("POST /auth/register"):
            assert {"403", "409"} <= set(responses)
        if key == "POST /media/upload":
            assert "507" in responses  # a full disk (insufficient_storage)
        if key.startswith(("GET /s/", "HEAD /s/")):
            assert "401" in responses, key  # a missing or wrong X-Share-Password
    envelope = document["components"]["schemas"]["ErrorEnvelope"]
    assert set(envelope["required"]) == {"success", "error", "meta"}


def test_security_schemes_apply_to_every_route_but_the_public_ones(document: dict[str, Any]) -> None:
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearerAuth"]["scheme"] == "bearer"
    assert (schemes["apiKeyAuth"]["in"], schemes["apiKeyAuth"]["name"]) == ("header", "X-API-Key")
    for key, operation in operations(document).items():
        public = key in PUBLIC or key.split(" ")[1].startswith("/s/")
        if public:
            assert "security" not in operation, key
        elif key.split(" ")[1].startswith("/users/me/api-keys") or key == "POST /auth/logout":
            assert operation["security"] == [{"bearerAuth": []}], key  # an API key cannot manage keys, log out (403)
            assert "403" in operation["responses"]
        else:
            assert operation["security"] == [{"bearerAuth": []}, {"apiKeyAuth": []}], key


def test_downloads_are_bytes_with_range_and_validators(document: dict[str, Any]) -> None:
    ops = operations(document)
    for path in ("/media/{media_id}/content", "/media/{media_id}/thumbnail", "/s/{token}/content"):
        get = ops[f"GET {path}"]["responses"]
        assert {"200", "206", "304", "416"} <= set(get)
        assert get["200"]["content"] == {"*/*": {"schema": {"type": "string", "format": "binary"}}}
        assert {"ETag", "Last-Modified", "Accept-Ranges", "Content-Disposition"} <= set(get["200"]["headers"])
        assert get["206"]["headers"]["Content-Range"]["required"] is True
        assert "content" not in get["304"]
        assert "Content-Range" in response_of(document, get["416"])["headers"]
        head = ops[f"HEAD {path}"]["responses"]
        assert "content" not in head["200"] and "206" not in head
    assert "307" in ops["GET /media/{media_id}/content"]["responses"]


def test_204_has_no_body_and_lists_are_pages(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    for key, operation in operations(document).items():
        if "204" in operation["responses"]:
            assert "content" not in operation["responses"]["204"], key
        ok = operation["responses"].get("200", {}).get("content", {}).get("application/json")
        if ok and key.startswith("GET ") and key.split(" ")[1] in {"/media", "/collections", "/shares", "/search"}:
            name = ok["schema"]["$ref"].rsplit("/", 1)[-1]
            assert name.endswith("Page"), key
            meta = schemas[schemas[name]["properties"]["meta"]["$ref"].rsplit("/", 1)[-1]]
            assert "pagination" in meta["required"]
    assert not [name for name in schemas if name.startswith("Envelope_")]
    media = operations(document)["GET /media/{media_id}"]["responses"]["200"]
    assert media["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/MediaOutEnvelope"}
    assert media["headers"]["X-Request-ID"]["required"] is True
    guest = operations(document)["POST /s/{token}/upload"]["responses"]["201"]  # a share link's view: no owner_id
    assert guest["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/SharedMediaOutEnvelope"}
    tus = {key: op for key, op in operations(document).items() if key.split(" ")[1].startswith("/uploads/{")}
    tus["POST /uploads"] = operations(document)["POST /uploads"]
    for key, operation in tus.items():  # tus answers are headers only
        assert [code for code, r in operation["responses"].items() if code < "300" and "content" in r] == [], key


def test_request_bodies_state_what_msgspec_checks_and_have_examples(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    assert schemas["RegisterIn"]["additionalProperties"] is False
    assert schemas["MediaUpdate"]["properties"]["tags"]["items"]["minLength"] == 1
    assert "media.uploaded" in schemas["WebhookCreate"]["properties"]["events"]["items"]["enum"]
    assert len(schemas["ShareCreate"]["oneOf"]) == 2
    register = operations(document)["POST /auth/register"]["requestBody"]["content"]["application/json"]
    assert register["example"]["email"] == "ada@example.com"
    upload = operations(document)["POST /media/upload"]["requestBody"]["content"]["multipart/form-data"]
    assert upload["schema"]["additionalProperties"] is False
    thumbnail = operations(document)["GET /media/{media_id}/thumbnail"]["parameters"]
    assert next(p for p in thumbnail if p["name"] == "size")["schema"]["enum"] == [256, 1024]


def test_uploads_and_creations_link_to_what_uses_their_ids(document: dict[str, Any]) -> None:
    links = operations(document)["POST /media/upload"]["responses"]["201"]["links"]
    assert links["getContent"] == {"operationId": "getContent", "parameters": {"media_id": "$response.body#/data/id"}}
    assert "removeMedia" not in links  # it needs a collection id too
    collection_links = operations(document)["POST /collections"]["responses"]["201"]["links"]
    assert {"getCollection", "listCollectionMedia"} <= set(collection_links)
    assert "addMedia" not in collection_links  # a POST: its body names other resources


def test_options_and_405_allow_every_method_of_the_path(shared_alice: Account) -> None:
    client, headers = shared_alice.client, shared_alice.headers
    cases = {
        "/users/me": "GET, OPTIONS, PATCH",
        "/collections/x": "DELETE, GET, OPTIONS, PATCH",
        "/media/x/content": "GET, HEAD, OPTIONS, PUT",
    }
    for path, allow in cases.items():
        response = client.options(f"{PREFIX}{path}", headers=headers)
        assert response.status_code == 204 and response.headers["allow"] == allow, (path, response.headers)
    wrong = client.put(f"{PREFIX}/users/me", headers=headers)
    error(wrong, 405, "method_not_allowed")
    assert set(wrong.headers["allow"].split(", ")) == {"GET", "OPTIONS", "PATCH"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"active": 0}, "active"),  # 0 is not false
        ({"description": 5}, "description"),
        ({"events": "media.uploaded"}, "events"),
    ],
)
def test_json_bodies_are_decoded_strictly(shared_alice: Account, body: dict[str, Any], field: str) -> None:
    client, headers = shared_alice.client, shared_alice.headers
    created = client.post(
        f"{PREFIX}/webhooks", headers=headers, json={"url": "https://8.8.8.8/hook", "events": ["media.uploaded"]}
    )
    hook = success(created, 201)
    assert fields(
        error(client.patch(f"{PREFIX}/webhooks/{hook['id']}", headers=headers, json=body), 400, "validation_error")
    ) == {field}
    assert success(client.get(f"{PREFIX}/webhooks/{hook['id']}", headers=headers))["active"] is True


def test_a_json_integer_may_be_written_with_a_zero_fraction(shared_alice: Account) -> None:
    media = shared_alice.upload(b"some bytes")
    body = {"media_id": media["id"], "expires_in": 60.0}
    assert success(shared_alice.client.post(f"{PREFIX}/shares", headers=shared_alice.headers, json=body), 201)
    body["expires_in"] = "60"
    err = error(
        shared_alice.client.post(f"{PREFIX}/shares", headers=shared_alice.headers, json=body), 400, "validation_error"
    )
    assert fields(err) == {"expires_in"}


def test_an_unknown_upload_part_is_refused_and_nothing_is_kept(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    with TestClient(Litestar(plugins=[MediaVault(config)])) as client:
        account = Account(client, "parts@example.com")
        response = client.post(
            f"{PREFIX}/media/upload",
            headers=account.headers,
            files={"file": ("a.txt", b"hello")},
            data={"title": "ok", "owner_id": "someone else"},
        )
        assert fields(error(response, 400, "validation_error")) == {"owner_id"}
        assert success(client.get(f"{PREFIX}/media", headers=account.headers)) == []


@pytest.mark.parametrize("size", ["null", "0256", "256.0", ""])
def test_a_thumbnail_size_is_exactly_a_configured_one(shared_alice: Account, size: str) -> None:
    media = shared_alice.upload(b"not an image")
    response = shared_alice.client.get(
        f"{PREFIX}/media/{media['id']}/thumbnail", params={"size": size}, headers=shared_alice.headers
    )
    assert fields(error(response, 400, "validation_error")) == {"size"}


def test_the_reference_servers_docs_page_loads_nothing_from_elsewhere(tmp_path: Path) -> None:
    with TestClient(create_app(make_config(tmp_path))) as client:
        page = client.get(f"{PREFIX}/docs")
        assert page.status_code == 200 and "SwaggerUIBundle" in page.text
        sources = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text)
        assert sources and all(source.startswith(f"{PREFIX}/docs/assets/") for source in sources), sources
        for source in sources:
            asset = client.get(source)
            assert asset.status_code == 200 and len(asset.content) > 100, source
        assert '"bearerAuth"' in page.text  # the vault's document, with its security schemes
        assert client.get(f"{PREFIX}/docs/openapi.json").json() == client.get(f"{PREFIX}/schema/openapi.json").json()


def test_text_with_a_nul_is_refused_everywhere(shared_alice: Account) -> None:
    """PostgreSQL cannot store NUL in text (it answered 500 there): refused on every engine, naming the field."""
    client, headers = shared_alice.client, shared_alice.headers
    media = shared_alice.upload(b"nul test")
    patch = client.patch(f"{PREFIX}/media/{media['id']}", headers=headers, json={"tags": ["ok", "a\x00b"]})
    assert fields(error(patch, 400, "validation_error")) == {"tags[1]"}
    search = client.get(f"{PREFIX}/media", params={"q": "a\x00"}, headers=headers)
    assert fields(error(search, 400, "validation_error")) == {"q"}
    upload = client.post(
        f"{PREFIX}/media/upload", headers=headers, files={"file": ("n.txt", b"x")}, data={"title": "a\x00b"}
    )
    assert fields(error(upload, 400, "validation_error")) == {"title"}
    assert success(client.get(f"{PREFIX}/media/{media['id']}", headers=headers))["tags"] == []
    schema = client.get(f"{PREFIX}/schema/openapi.json").json()["components"]["schemas"]["MediaUpdate"]
    assert schema["properties"]["tags"]["items"]["pattern"] == "^[^\\x00]*$"


def test_a_hosts_own_route_under_the_prefix_is_left_as_litestar_describes_it(tmp_path: Path) -> None:
    @get(f"{PREFIX}/hosted", sync_to_thread=False)
    def hosted() -> dict[str, str]:
        return {"hello": "world"}

    with TestClient(Litestar(route_handlers=[hosted], plugins=[MediaVault(make_config(tmp_path))])) as client:
        document = client.get(f"{PREFIX}/schema/openapi.json").json()
    validate(document)
    operation = document["paths"][f"{PREFIX}/hosted"]["get"]
    assert "security" not in operation and set(operation["responses"]) == {"200"}  # the host's, not the vault's
    assert set(operations(document)) - {"GET /hosted"} == set(OPERATIONS)
