"""The Python SDK (``sdks/python``) stands on its own: it imports without the server's dependencies, the
``mediavault`` command starts its client commands without them, the server's answer shapes keep the SDK's fields
(they derive from them; a field added on one side only fails here), and the server's exceptions are the SDK's
classes of the same codes."""

from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys

import mediavault_sdk
import msgspec
import pytest
from mediavault_sdk import errors as sdk_errors
from mediavault_sdk import types

import mediavault.client
import mediavault.errors as server_errors
from mediavault.domain.api_keys.schemas import ApiKeyCreated, ApiKeyOut
from mediavault.domain.auth.schemas import TokenPair
from mediavault.domain.collections.schemas import CollectionOut
from mediavault.domain.link_uploads.schemas import SignedUploadOut
from mediavault.domain.media.schemas import MediaOut, MediaProcessingOut, VariantOut
from mediavault.domain.shares.schemas import SharedCollectionOut, SharedMediaOut, ShareOut
from mediavault.domain.system import Health
from mediavault.domain.users.schemas import UserOut
from mediavault.domain.webhooks.schemas import DeliveryOut, WebhookCreated, WebhookOut
from mediavault.http.envelope import Pagination, PaginationLinks

SERVER_ONLY = ("litestar", "sqlalchemy", "advanced_alchemy", "alembic", "PIL", "mediavault", "uvicorn", "pluggy")


def _modules_after(code: str, *args: str) -> set[str]:
    """The top-level names of every module a fresh interpreter has imported after running ``code``."""
    probe = f"import sys, json\ntry:\n    {code}\nfinally:\n    print(json.dumps(sorted(sys.modules)))"
    run = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, timeout=60, check=False)
    last = run.stdout.strip().splitlines()[-1]
    return {name.split(".")[0] for name in json.loads(last)}


def test_the_sdk_imports_without_the_server_or_its_dependencies() -> None:
    loaded = _modules_after("import mediavault_sdk; mediavault_sdk.Client; mediavault_sdk.AsyncClient")
    assert {"httpx", "msgspec", "mediavault_sdk"} <= loaded
    # (httpx itself imports click and rich for its own command line when they are installed, as they are here)
    assert not loaded & {*SERVER_ONLY, "websockets", "mediavault_cli"}


@pytest.mark.parametrize("args", [["--version"], ["upload", "--help"], ["ls", "--help"], ["login", "--help"]])
def test_client_commands_start_without_the_server(args: list[str]) -> None:
    code = "from mediavault_cli import main\n    try:\n        main()\n    except SystemExit:\n        pass"
    loaded = _modules_after(code, *args)
    assert "click" in loaded
    assert not loaded & set(SERVER_ONLY)


@pytest.mark.parametrize("args", [["--help"], ["serve", "--help"], ["users", "create", "--help"]])
def test_server_commands_are_listed_without_what_they_run_on(args: list[str]) -> None:
    code = "from mediavault_cli import main\n    try:\n        main()\n    except SystemExit:\n        pass"
    loaded = _modules_after(code, *args)
    assert "mediavault" in loaded  # the server's commands were found
    assert not loaded & {"litestar", "sqlalchemy", "advanced_alchemy", "alembic", "PIL", "uvicorn"}


def test_server_commands_are_reached_through_the_entry_point_group() -> None:
    run = subprocess.run(
        [sys.executable, "-c", "from mediavault_cli import main; main()", "serve", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0 and "Run the reference server" in run.stdout, run.stderr


def test_mediavault_client_is_the_sdk() -> None:
    assert mediavault.client.Client is mediavault_sdk.Client
    assert set(mediavault.client.__all__) == set(mediavault_sdk.__all__)
    assert all(getattr(mediavault.client, name) is getattr(mediavault_sdk, name) for name in mediavault_sdk.__all__)


@pytest.mark.parametrize("sdk_class", sdk_errors.ERRORS)
def test_server_errors_are_the_sdk_classes_of_their_codes(sdk_class: type[sdk_errors.VaultError]) -> None:
    server_class = getattr(server_errors, sdk_class.__name__)
    assert issubclass(server_class, sdk_class) and issubclass(server_class, mediavault_sdk.VaultError)
    retry_later = sdk_class in (sdk_errors.RateLimited, sdk_errors.ServiceUnavailable)
    error = server_class(retry_after=3) if retry_later else server_class()
    assert (error.status_code, error.code) == (sdk_class.status_code, sdk_class.code)
    assert error.message == server_class.default_message and str(error) == error.message


@pytest.mark.parametrize(
    ("sdk_type", "server_type"),
    [
        (types.Health, Health),
        (types.TokenPair, TokenPair),
        (types.User, UserOut),
        (types.ApiKey, ApiKeyOut),
        (types.ApiKeyCreated, ApiKeyCreated),
        (types.Media, MediaOut),
        (types.Variant, VariantOut),
        (types.MediaProcessing, MediaProcessingOut),
        (types.Collection, CollectionOut),
        (types.Share, ShareOut),
        (types.SharedMedia, SharedMediaOut),
        (types.SharedCollection, SharedCollectionOut),
        (types.SignedUpload, SignedUploadOut),
        (types.Webhook, WebhookOut),
        (types.WebhookCreated, WebhookCreated),
        (types.Delivery, DeliveryOut),
        (types.Pagination, Pagination),
        (types.PaginationLinks, PaginationLinks),
    ],
)
def test_sdk_types_have_the_fields_the_server_sends(sdk_type: type, server_type: type) -> None:
    def fields(cls: type) -> dict[str, str]:
        info = msgspec.inspect.type_info(cls)
        assert isinstance(info, msgspec.inspect.StructType)
        return {f.name: _shape(f.type) for f in info.fields}

    assert fields(sdk_type) == fields(server_type)


def _shape(info: msgspec.inspect.Type) -> str:
    """A type's JSON shape without names of classes or constraints (the server's types carry length limits)."""
    if isinstance(info, msgspec.inspect.StructType):
        return "{" + ",".join(f"{f.name}:{_shape(f.type)}" for f in info.fields) + "}"
    if isinstance(info, msgspec.inspect.UnionType):
        return "|".join(sorted(_shape(t) for t in info.types))
    if isinstance(info, msgspec.inspect.ListType):
        return f"[{_shape(info.item_type)}]"
    if isinstance(info, msgspec.inspect.DictType):
        return f"{{{_shape(info.key_type)}:{_shape(info.value_type)}}}"
    if isinstance(info, msgspec.inspect.LiteralType):
        return "literal" + repr(sorted(info.values))
    if isinstance(info, msgspec.inspect.AnyType) or (
        isinstance(info, msgspec.inspect.CustomType) and info.cls is object
    ):
        return "any"  # the server's dict[str, object] is the SDK's dict[str, Any]
    return type(info).__name__


def test_the_realtime_client_without_its_extra_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without ``websockets`` (``mediavault-sdk[realtime]`` not installed) the import says what to install."""
    monkeypatch.setitem(sys.modules, "websockets.asyncio.client", None)
    monkeypatch.delitem(sys.modules, "mediavault_sdk.realtime", raising=False)
    with pytest.raises(ModuleNotFoundError, match=re.escape('pip install "mediavault-sdk[realtime]"')):
        importlib.import_module("mediavault_sdk.realtime")
