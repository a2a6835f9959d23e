"""``mediavault export`` / ``mediavault import`` and ``mediavault storage migrate`` (issue 16, item 8), run as the
operator runs them (the CLI on the configured database and storage) against vaults filled through the real app.
On the embedded leg SQLite and local files, on the full leg PostgreSQL and S3 (moto); the storage migration copies
local files to S3 on both."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import os
import re
import uuid
from pathlib import Path
from typing import Any

import msgspec
import pytest
from click.testing import CliRunner, Result
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import event

from mediavault import MediaVault, MediaVaultConfig
from mediavault.backup import export_vault
from mediavault.backup.manifest import Manifest, object_path
from mediavault.cli import main
from mediavault.db.engine import VERSION_TABLE
from mediavault.db.models import ApiKey, User, metadata
from mediavault.meta import VERSION
from tests.api._admin import make_admin
from tests.api._checks import processed, success
from tests.backends import BACKENDS, query, snapshot, stored_objects, table_names
from tests.conftest import PREFIX, Account, make_config
from tests.files import make_photo
from tests.s3 import MotoS3


def _cli(config: MediaVaultConfig, root: Path, *args: str, **env: str) -> Result:
    """``mediavault ARGS --data-dir ROOT`` with ``config``'s database and storage (and ``env``) in its environment."""
    env = {
        "MEDIAVAULT_DATABASE_URL": config.database_url,
        "MEDIAVAULT_STORAGE_URL": config.storage_url,
        "MEDIAVAULT_STORAGE_OPTIONS": json.dumps(config.storage_options),
        "MEDIAVAULT_SECRET_KEY": config.secret_key,
        "MEDIAVAULT_LOAD_ENTRY_POINTS": "false",
        **env,
    }
    return CliRunner().invoke(main, [*args, "--data-dir", str(root)], env=env)


def _vault_rows(config: MediaVaultConfig) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every vault table (SQLite's full-text index, derived from the media rows, left out)."""
    return {
        name: rows
        for name, rows in snapshot(config).items()
        if name != VERSION_TABLE and not name.startswith("mediavault_media_fts")
    }


def _fill(client: TestClient[Litestar]) -> tuple[Account, dict[str, Any]]:
    """Two users with media (a processed photo with its variants, a deduplicated copy), tags, a collection, a share,
    an API key and a webhook: a row in most tables."""
    alice, bob = Account(client, "alice@example.com"), Account(client, "bob@example.com")
    photo = alice.upload(make_photo(), "photo.jpg", title="Ré: été", tags="sea,holiday")
    note = alice.upload(b"a note\n" * 100, "note.txt")
    alice.upload(b"a note\n" * 100, "same-note.txt")  # deduplicated: one blob, two items
    bob.upload(b"bob's bytes", "bob.bin")
    assert processed(alice, photo["id"])["status"] == "done"
    collection = success(client.post(f"{PREFIX}/collections", json={"name": "Trip"}, headers=alice.headers), 201)
    added = client.post(
        f"{PREFIX}/collections/{collection['id']}/media", json={"media_ids": [photo["id"]]}, headers=alice.headers
    )
    success(added)
    success(client.post(f"{PREFIX}/shares", json={"media_id": note["id"]}, headers=alice.headers), 201)
    success(client.post(f"{PREFIX}/users/me/api-keys", json={"name": "frame"}, headers=alice.headers), 201)
    hook = {"url": "http://127.0.0.1:9/hook", "events": ["media.uploaded"]}
    success(client.post(f"{PREFIX}/webhooks", json=hook, headers=bob.headers), 201)
    return alice, photo


def test_export_then_import_reproduces_every_row_and_byte(tmp_path: Path) -> None:
    source = make_config(
        tmp_path / "source",
        dedup=True,
        processing_worker=True,
        processing_poll_interval=0.05,
        thumbnail_sizes=(64,),
        allow_private_webhook_targets=True,
    )
    with TestClient(Litestar(plugins=[MediaVault(source)])) as client:
        _fill(client)
    dump = tmp_path / "dump"

    exported = _cli(source, tmp_path / "source", "export", str(dump))

    assert exported.exit_code == 0, exported.output
    assert "exported" in exported.output and "1 storage keys named by rows hold no object" in exported.output
    assert f"objects ({sum(len(v) for v in stored_objects(source).values())} bytes), from mediavault {VERSION}\n" in (
        exported.output
    )  # as docs/cli.md shows it
    assert dump.stat().st_mode & 0o777 == 0o700  # it holds password hashes and webhook secrets
    manifest = Manifest.read(dump)
    vault_tables = {t for t in table_names(source) if t.startswith("mediavault_")} - {VERSION_TABLE}
    vault_tables = {t for t in vault_tables if not t.startswith("mediavault_media_fts")}
    assert [t.name for t in manifest.tables] == [t.name for t in metadata.sorted_tables]  # parents first
    assert {t.name for t in manifest.tables} == vault_tables  # every table the migrations made
    source_rows, source_objects = _vault_rows(source), stored_objects(source)
    assert {t.name: t.rows for t in manifest.tables} == {name: len(rows) for name, rows in source_rows.items()}
    assert manifest.objects.keys() == source_objects.keys()  # originals, the blob, thumbnails, share copies
    for key, data in source_objects.items():
        entry = manifest.objects[key]
        assert (entry.size, entry.sha256) == (len(data), hashlib.sha256(data).hexdigest())
        assert object_path(dump, key).read_bytes() == data

    target_root = tmp_path / "target"
    target = make_config(target_root, processing_worker=True)
    imported = _cli(target, target_root, "import", str(dump))

    assert imported.exit_code == 0, imported.output
    assert f"{len(source_objects)} objects" in imported.output and f"from mediavault {VERSION}" in imported.output
    assert _vault_rows(target) == source_rows
    target_objects = stored_objects(target)
    assert {k: hashlib.sha256(v).hexdigest() for k, v in target_objects.items()} == {
        k: hashlib.sha256(v).hexdigest() for k, v in source_objects.items()
    }
    with TestClient(Litestar(plugins=[MediaVault(target)])) as client:
        login = {"username": "alice@example.com", "password": "correct horse battery"}
        token = success(client.post(f"{PREFIX}/auth/login", json=login))["token"]  # the password hash came along
        headers = {"Authorization": f"Bearer {token}"}
        (found,) = success(client.get(f"{PREFIX}/search", params={"q": "holiday"}, headers=headers))
        assert found["filename"] == "photo.jpg" and found["tags"] == ["sea", "holiday"]  # the search index too
        content = client.get(f"{PREFIX}/media/{found['id']}/content", headers=headers)
        assert content.status_code == 200 and hashlib.sha256(content.content).hexdigest() == found["checksum_sha256"]
        again = _cli(target, target_root, "import", str(dump))
    assert again.exit_code == 1 and "the database is not empty" in again.output, again.output


def _fill_governance(client: TestClient[Litestar]) -> dict[str, Any]:
    """Rows of issue 16's features: an item in the trash, an item replaced twice (two previous versions with their
    own bytes), custom metadata, a scoped and expiring API key and a revoked one, and audit lines (sign-ins, a failed
    one, the delete, the keys, a share, an admin's change)."""
    admin = make_admin(Account(client, "admin@example.com"))
    alice = Account(client, "alice@example.com")
    kept = alice.upload(b"version 1\n" * 300, "kept.txt", metadata='{"camera": {"make": "Leica"}, "roll": 7}')
    url = f"{PREFIX}/media/{kept['id']}/content"
    for n in (2, 3):
        replaced = client.put(url, headers=alice.headers, files={"file": ("kept.txt", f"version {n}\n".encode() * 300)})
        assert success(replaced)["version"] == n
    trashed = alice.upload(b"into the trash\n" * 200, "trashed.txt", metadata='{"roll": 8}')
    assert client.delete(f"{PREFIX}/media/{trashed['id']}", headers=alice.headers).status_code == 204
    scoped = {"name": "frame", "scopes": ["media:read"], "expires_in": 86_400}
    key = success(client.post(f"{PREFIX}/users/me/api-keys", json=scoped, headers=alice.headers), 201)
    revoked = success(client.post(f"{PREFIX}/users/me/api-keys", json={"name": "old"}, headers=alice.headers), 201)
    assert client.delete(f"{PREFIX}/users/me/api-keys/{revoked['id']}", headers=alice.headers).status_code == 204
    success(client.post(f"{PREFIX}/shares", json={"media_id": kept["id"]}, headers=alice.headers), 201)
    wrong = client.post(f"{PREFIX}/auth/login", json={"username": alice.email, "password": "not the password"})
    assert wrong.status_code == 401
    patched = client.patch(f"{PREFIX}/admin/users/{alice.id}", headers=admin.headers, json={"quota_bytes": 10**6})
    assert success(patched)["quota_bytes"] == 10**6
    return {"kept": kept, "trashed": trashed, "key": key["key"], "admin": admin.headers}


def _login(client: TestClient[Litestar], email: str) -> dict[str, str]:
    login = {"username": email, "password": "correct horse battery"}
    return {"Authorization": f"Bearer {success(client.post(f'{PREFIX}/auth/login', json=login))['token']}"}


@pytest.mark.parametrize("engine", ["same", "other"])
def test_trash_versions_metadata_scoped_keys_and_audit_survive_export_and_import(tmp_path: Path, engine: str) -> None:
    source = make_config(tmp_path / "source", trash_retention_days=30, max_versions=5)
    with TestClient(Litestar(plugins=[MediaVault(source)])) as client:
        made = _fill_governance(client)
        audit_before = success(client.get(f"{PREFIX}/admin/audit", headers=made["admin"], params={"per_page": 100}))
    source_rows, source_objects = _vault_rows(source), stored_objects(source)
    for name in ("media_trash", "media_version", "media_metadata", "api_key", "audit_event"):
        assert source_rows[f"mediavault_{name}"], name  # each feature left rows to carry over
    assert len(source_rows["mediavault_media_version"]) == 2
    actions = {line["action"] for line in audit_before}
    assert {"auth.login", "auth.login_failed", "media.deleted", "api_key.created", "api_key.revoked"} <= actions
    assert {"share.created", "admin.user_updated"} <= actions
    assert _cli(source, tmp_path / "source", "export", str(tmp_path / "dump")).exit_code == 0

    target_root = tmp_path / "target"
    other: dict[str, Any] = {}  # "other": SQLite -> PostgreSQL on the embedded leg, PostgreSQL -> SQLite on the full
    if engine == "other" and source.database_url.startswith("sqlite"):
        other = {"database_url": BACKENDS.postgres_url(target_root)}
    elif engine == "other":
        other = {"database_url": f"sqlite+aiosqlite:///{target_root / 'other.db'}"}
    target = make_config(target_root, trash_retention_days=30, max_versions=5, **other)
    imported = _cli(target, target_root, "import", str(tmp_path / "dump"))
    assert imported.exit_code == 0, imported.output

    if engine == "same":
        assert _vault_rows(target) == source_rows
    else:  # rows compared as JSON values: exporting the imported vault gives the same tables
        assert _cli(target, target_root, "export", str(tmp_path / "again")).exit_code == 0
        for table in Manifest.read(tmp_path / "dump").tables:
            assert _rows_of(tmp_path / "again", table.file) == _rows_of(tmp_path / "dump", table.file), table.name
    target_objects = stored_objects(target)
    assert {k: hashlib.sha256(v).hexdigest() for k, v in target_objects.items()} == {
        k: hashlib.sha256(v).hexdigest() for k, v in source_objects.items()
    }
    with TestClient(Litestar(plugins=[MediaVault(target)])) as client:
        alice, admin = _login(client, "alice@example.com"), _login(client, "admin@example.com")
        kept, trashed = made["kept"], made["trashed"]
        # the trash: the item is still hidden, listed there, and restorable
        assert [m["id"] for m in success(client.get(f"{PREFIX}/media", headers=alice))] == [kept["id"]]
        assert [m["id"] for m in success(client.get(f"{PREFIX}/trash", headers=alice))] == [trashed["id"]]
        # the versions, with their bytes
        versions = success(client.get(f"{PREFIX}/media/{kept['id']}/versions", headers=alice))
        assert [(v["version"], v["current"]) for v in versions] == [(3, True), (2, False), (1, False)]
        for version in versions:
            path = f"{PREFIX}/media/{kept['id']}/versions/{version['version']}/content"
            content = client.get(path, headers=alice)
            assert content.status_code == 200, content.text
            assert content.content == f"version {version['version']}\n".encode() * 300
            assert hashlib.sha256(content.content).hexdigest() == version["checksum_sha256"]
        # custom metadata, and its filter index
        (found,) = success(client.get(f"{PREFIX}/media", headers=alice, params={"metadata.roll": "7"}))
        assert found["id"] == kept["id"] and found["metadata"] == {"camera": {"make": "Leica"}, "roll": 7}
        # the scoped key: still limited, still expiring
        key = {"X-API-Key": made["key"]}
        success(client.get(f"{PREFIX}/media", headers=key))
        assert client.post(f"{PREFIX}/collections", headers=key, json={"name": "x"}).status_code == 403
        (listed,) = success(client.get(f"{PREFIX}/users/me/api-keys", headers=alice))
        assert listed["scopes"] == ["media:read"] and listed["expires_at"] is not None
        # the audit log, every line as it was (the logins just made come on top)
        audit = success(client.get(f"{PREFIX}/admin/audit", headers=admin, params={"per_page": 100}))
        assert audit[-len(audit_before) :] == audit_before
        restored = client.post(f"{PREFIX}/trash/{trashed['id']}/restore", headers=alice)
        assert success(restored)["metadata"] == {"roll": 8}
        assert success(client.get(f"{PREFIX}/users/me/usage", headers=alice))["media_count"] == 2


def test_an_import_into_the_other_database_engine_exports_the_same(tmp_path: Path) -> None:
    """SQLite -> PostgreSQL on the embedded leg, PostgreSQL -> SQLite on the full one: exporting the imported vault
    gives the same rows (each table's rows compared as JSON values) and the same objects."""
    source = make_config(
        tmp_path / "source",
        dedup=True,
        processing_worker=True,
        processing_poll_interval=0.05,
        thumbnail_sizes=(64,),
        allow_private_webhook_targets=True,
    )
    with TestClient(Litestar(plugins=[MediaVault(source)])) as client:
        _fill(client)
    assert _cli(source, tmp_path / "source", "export", str(tmp_path / "first")).exit_code == 0
    target_root = tmp_path / "target"
    sqlite = source.database_url.startswith("sqlite")
    other = BACKENDS.postgres_url(target_root) if sqlite else f"sqlite+aiosqlite:///{target_root / 'other.db'}"
    target = make_config(target_root, database_url=other)

    imported = _cli(target, target_root, "import", str(tmp_path / "first"))
    assert imported.exit_code == 0, imported.output
    again = _cli(target, target_root, "export", str(tmp_path / "second"))
    assert again.exit_code == 0, again.output

    first, second = Manifest.read(tmp_path / "first"), Manifest.read(tmp_path / "second")
    assert (first.database, second.database) == (("sqlite", "postgresql") if sqlite else ("postgresql", "sqlite"))
    assert second.objects == first.objects
    for table in first.tables:
        assert _rows_of(tmp_path / "second", table.file) == _rows_of(tmp_path / "first", table.file), table.name


def _rows_of(dump: Path, file: str) -> list[Any]:
    return [json.loads(line) for line in (dump / file).read_bytes().splitlines()]


def test_the_rows_are_one_snapshot_while_the_vault_writes(tmp_path: Path) -> None:
    """A user and their API key committed after the export read the users but before it reads the keys: neither is
    exported (one snapshot), where separate reads would export a key whose owner is missing."""
    config = make_config(tmp_path)
    with TestClient(Litestar(plugins=[MediaVault(config)])) as client:
        Account(client, "first@example.com")
    runtime = MediaVault(config).runtime
    keys = ApiKey.__table__

    def commit_meanwhile(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if f"FROM {keys.name}" in statement:
            user_id = uuid.uuid4()
            query(config, User.__table__.insert().values(id=user_id, email="meanwhile@example.com", password_hash="x"))
            query(config, keys.insert().values(owner_id=user_id, name="k", prefix="mvk_x", key_hash="0" * 64))

    async def export() -> Manifest:
        event.listen(runtime.engine.sync_engine, "before_cursor_execute", commit_meanwhile)
        try:
            return (await export_vault(runtime.engine, runtime.storage, tmp_path / "dump")).manifest
        finally:
            await runtime.dispose()

    rows = {t.name: t.rows for t in asyncio.run(export()).tables}
    assert (rows["mediavault_user"], rows["mediavault_api_key"]) == (1, 0)
    assert len(query(config, "SELECT id FROM mediavault_api_key")) == 1  # it was committed, after the snapshot


def test_a_damaged_export_fails_the_import_with_nothing_written(tmp_path: Path) -> None:
    source = make_config(tmp_path / "source")
    with TestClient(Litestar(plugins=[MediaVault(source)])) as client:
        owner = Account(client, "owner@example.com")
        for n in range(3):
            owner.upload(f"file {n}".encode() * 1000, f"{n}.txt")
    dump = tmp_path / "dump"
    assert _cli(source, tmp_path / "source", "export", str(dump)).exit_code == 0
    manifest = Manifest.read(dump)
    target_root = tmp_path / "target"
    target = make_config(target_root)
    assert _cli(target, target_root, "migrate").exit_code == 0
    empty = _vault_rows(target)
    assert {t.name for t in manifest.tables} == empty.keys() and not any(empty.values())

    def refused(expected: str) -> None:
        result = _cli(target, target_root, "import", str(dump))
        assert result.exit_code == 1 and expected in result.output, result.output
        assert _vault_rows(target) == empty
        assert stored_objects(target) == {}

    damaged = object_path(dump, sorted(manifest.objects)[-1])  # others may be stored when it is found
    original = damaged.read_bytes()
    damaged.write_bytes(original[:10] + bytes([original[10] ^ 1]) + original[11:])  # one bit
    refused("does not match the manifest")
    damaged.write_bytes(original)

    rows = dump / "tables" / "mediavault_media.jsonl"
    lines = rows.read_bytes()
    rows.write_bytes(lines.replace(b'"size":6000', b'"size":6001', 1))
    refused("mediavault_media.jsonl does not match the manifest")
    rows.write_bytes(lines)

    manifest_bytes = (dump / "manifest.json").read_bytes()
    other = msgspec.structs.replace(manifest, schema_revision=["0001"])
    (dump / "manifest.json").write_bytes(msgspec.json.encode(other))
    refused("the export is of schema revision 0001 but the database is at")
    (dump / "manifest.json").unlink()
    refused("is not a finished export")
    (dump / "manifest.json").write_bytes(manifest_bytes)

    result = _cli(target, target_root, "import", str(dump))
    assert result.exit_code == 0, result.output
    assert stored_objects(target) == stored_objects(source)


def test_unfinished_resumable_uploads_are_left_out(tmp_path: Path) -> None:
    """A finished tus upload's row and bytes are exported; an unfinished one's are not (its pieces belong to the old
    storage): after the import its client gets 404 and starts again."""
    tus = {"Tus-Resumable": "1.0.0", "Content-Type": "application/offset+octet-stream"}
    source = make_config(tmp_path / "source")
    with TestClient(Litestar(plugins=[MediaVault(source)])) as client:
        owner = Account(client, "owner@example.com")
        done = client.post(
            f"{PREFIX}/uploads", headers={**owner.headers, **tus, "Upload-Length": "12"}, content=b"all 12 bytes"
        )
        assert done.status_code == 201 and "X-Media-Id" in done.headers, done.text
        half = client.post(
            f"{PREFIX}/uploads", headers={**owner.headers, **tus, "Upload-Length": "100"}, content=b"ten bytes."
        )
        assert half.status_code == 201 and half.headers["Upload-Offset"] == "10", half.text
    assert _cli(source, tmp_path / "source", "export", str(tmp_path / "dump")).exit_code == 0
    manifest = Manifest.read(tmp_path / "dump")
    assert {t.name: t.rows for t in manifest.tables}["mediavault_upload"] == 1
    assert len(manifest.objects) == 1  # the finished upload's media; no pieces

    target = make_config(tmp_path / "target")
    imported = _cli(target, tmp_path / "target", "import", str(tmp_path / "dump"))
    assert imported.exit_code == 0, imported.output
    with TestClient(Litestar(plugins=[MediaVault(target)])) as client:
        owner.client = client
        head = {**owner.headers, "Tus-Resumable": "1.0.0"}
        assert client.head(done.headers["Location"], headers=head).headers["X-Media-Id"] == done.headers["X-Media-Id"]
        assert client.head(half.headers["Location"], headers=head).status_code == 404
        content = client.get(f"{PREFIX}/media/{done.headers['X-Media-Id']}/content", headers=owner.headers)
        assert content.content == b"all 12 bytes"


def test_litestar_cli_exports_a_vault_of_a_host_app_and_imports_it_into_another(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``litestar mediavault export/import`` for a vault embedded in a host app (``tests/api/_cli_app.py``: two vaults
    at ``/one`` and ``/two``, configured in code)."""
    from litestar.cli.main import litestar_group

    monkeypatch.setenv("MV_TEST_DIR", str(tmp_path))
    monkeypatch.delenv("LITESTAR_APP", raising=False)

    def litestar(*args: str) -> Result:
        return CliRunner().invoke(litestar_group, ["--app", "tests.api._cli_app:create_app", "mediavault", *args])

    assert litestar("migrate").exit_code == 0
    one = make_config(tmp_path / "one", auto_migrate=False, path_prefix="/one")
    two = make_config(tmp_path / "two", auto_migrate=False, path_prefix="/two")
    with TestClient(Litestar(plugins=[MediaVault(one)])) as client:
        Account(client, "host@example.com", prefix="/one").upload(b"bytes of the host's user", "h.txt")
    dump = str(tmp_path / "dump")

    which = litestar("export", dump)
    assert which.exit_code == 2 and "choose one with --vault (/one, /two)" in which.output, which.output
    exported = litestar("export", dump, "--vault", "/one")
    assert exported.exit_code == 0 and "exported" in exported.output, exported.output
    imported = litestar("import", dump, "--vault", "/two")
    assert imported.exit_code == 0 and "imported" in imported.output, imported.output
    assert _vault_rows(two) == _vault_rows(one)
    assert stored_objects(two) == stored_objects(one) != {}


def _exported(tmp_path: Path) -> tuple[MediaVaultConfig, Path]:
    """A vault with one user and one upload, and its export at ``tmp_path / "dump"``."""
    source = make_config(tmp_path / "source")
    with TestClient(Litestar(plugins=[MediaVault(source)])) as client:
        Account(client, "alice@example.com").upload(b"alice's bytes", "a.txt")
    exported = _cli(source, tmp_path / "source", "export", str(tmp_path / "dump"))
    assert exported.exit_code == 0, exported.output
    return source, tmp_path / "dump"


def test_import_migrates_a_new_database_itself_unless_auto_migrate_is_off(tmp_path: Path) -> None:
    source, dump = _exported(tmp_path)
    target_root = tmp_path / "target"
    target = make_config(target_root, auto_migrate=False)  # a new database: not even the migrated seed

    refused = _cli(target, target_root, "import", str(dump), MEDIAVAULT_AUTO_MIGRATE="false")
    assert refused.exit_code == 1, refused.output
    assert "no vault tables yet: run `mediavault migrate` first (or turn the vault's auto_migrate on)" in refused.output
    assert not target_root.exists()  # the SQLite file the command opened and its directory are gone again

    imported = _cli(target, target_root, "import", str(dump))  # auto_migrate's default: on
    assert imported.exit_code == 0, imported.output
    assert _vault_rows(target) == _vault_rows(source)


def test_litestar_cli_import_migrates_as_the_vault_says_and_names_its_own_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from litestar.cli.main import litestar_group

    source, dump = _exported(tmp_path)
    monkeypatch.setenv("MV_TEST_DIR", str(tmp_path / "host"))
    monkeypatch.delenv("LITESTAR_APP", raising=False)

    def litestar(factory: str, *args: str) -> Result:
        return CliRunner().invoke(litestar_group, ["--app", f"tests.api._cli_app:{factory}", "mediavault", *args])

    refused = litestar("create_app", "import", str(dump), "--vault", "/one")  # auto_migrate off
    assert refused.exit_code == 1, refused.output
    said = " ".join(re.sub("[│╭╮╰╯─]", " ", refused.output).split())  # Litestar's CLI draws a box around it
    assert "no vault tables yet: run `litestar mediavault migrate` first" in said, said
    assert not (tmp_path / "host").exists()  # no empty SQLite database left behind
    imported = litestar("create_migrating_app", "import", str(dump), "--vault", "/one")
    assert imported.exit_code == 0, imported.output
    assert _vault_rows(make_config(tmp_path / "host" / "one", auto_migrate=False)) == _vault_rows(source)


def test_export_with_nothing_configured_leaves_no_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [name for name in os.environ if name.startswith("MEDIAVAULT_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    refused = CliRunner().invoke(main, ["export", "out"])
    assert refused.exit_code == 1, refused.output
    assert "mediavault-data/mediavault.db has no vault tables: nothing to export" in refused.output
    assert list(tmp_path.iterdir()) == []  # no ./mediavault-data (secret key, empty database), no ./out


def test_export_refuses_a_directory_that_is_not_empty(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    (tmp_path / "dump").mkdir()
    (tmp_path / "dump" / "keep.txt").write_text("mine")
    result = _cli(config, tmp_path, "export", str(tmp_path / "dump"))
    assert result.exit_code == 1 and "is not empty" in result.output
    assert [p.name for p in (tmp_path / "dump").iterdir()] == ["keep.txt"]


def test_storage_migrate_copies_local_files_to_s3_verified_and_resumable(tmp_path: Path, moto_s3: MotoS3) -> None:
    config = make_config(tmp_path, storage_url=(tmp_path / "media").as_uri())
    with TestClient(Litestar(plugins=[MediaVault(config)])) as client:
        owner = Account(client, "owner@example.com")
        uploaded = [owner.upload(f"object {n}".encode() * (n + 1) * 5000, f"{n}.bin") for n in range(5)]
    source = stored_objects(config)
    bucket = moto_s3.create_bucket()
    url = f"s3://{bucket}/vault"
    options = json.dumps(moto_s3.storage_options)

    first = _cli(config, tmp_path, "storage", "migrate", "--to", url, "--to-options", options)

    assert first.exit_code == 0, first.output
    assert "5 objects" in first.output and "5 copied and verified, 0 already at the target" in first.output
    assert f"MEDIAVAULT_STORAGE_URL={url}" in first.output and "MEDIAVAULT_STORAGE_OPTIONS" in first.output
    moved = dataclasses.replace(config, storage_url=url, storage_options=moto_s3.storage_options)
    assert stored_objects(moved) == source
    assert stored_objects(config) == source  # never deletes the source

    keys = sorted(source)
    s3 = moto_s3.client()
    s3.delete_object(Bucket=bucket, Key=f"vault/{keys[0]}")  # as if the first run had been interrupted
    s3.put_object(Bucket=bucket, Key=f"vault/{keys[1]}", Body=b"half written")  # or left a wrong copy
    second = _cli(config, tmp_path, "storage", "migrate", "--to", url, "--to-options", options)

    assert second.exit_code == 0, second.output
    assert "2 copied and verified, 3 already at the target and verified, 0 failed" in second.output
    assert stored_objects(moved) == source
    with TestClient(Litestar(plugins=[MediaVault(moved)])) as client:
        owner.client = client
        for media in uploaded:
            content = client.get(f"{PREFIX}/media/{media['id']}/content", headers=owner.headers)
            assert (
                content.status_code == 200 and hashlib.sha256(content.content).hexdigest() == media["checksum_sha256"]
            )

    same = _cli(config, tmp_path, "storage", "migrate", "--to", config.storage_url)
    assert same.exit_code == 2 and "is the configured storage itself" in same.output


def test_storage_migrate_from_the_legs_storage_to_a_folder(tmp_path: Path) -> None:
    """S3 -> local files on the full leg (local -> local on the embedded one); a second run only verifies."""
    config = make_config(tmp_path)
    with TestClient(Litestar(plugins=[MediaVault(config)])) as client:
        owner = Account(client, "owner@example.com")
        for n in range(3):
            owner.upload(f"object {n}".encode() * 1000, f"{n}.bin")
    folder = (tmp_path / "moved").as_uri()

    first = _cli(config, tmp_path, "storage", "migrate", "--to", folder)
    assert first.exit_code == 0 and "3 copied and verified" in first.output, first.output
    assert "MEDIAVAULT_STORAGE_OPTIONS" not in first.output  # a folder needs none
    moved = dataclasses.replace(config, storage_url=folder, storage_options={})
    assert stored_objects(moved) == stored_objects(config) != {}
    again = _cli(config, tmp_path, "storage", "migrate", "--to", folder)
    assert again.exit_code == 0 and "0 copied and verified, 3 already at the target" in again.output, again.output
