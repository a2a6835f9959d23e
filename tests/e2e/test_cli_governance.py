"""The ``mediavault`` command's lifecycle and governance commands against a REAL ``mediavault serve``: ``replace``,
``versions`` and ``edit`` on one media, ``ls --meta``, ``keys`` (created with scopes and an expiry, listed, revoked),
and an admin's ``admin`` and ``audit`` commands; each checked against the server through the SDK."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import pytest
from mediavault_sdk import Client, Forbidden, Unauthorized

from tests.e2e._cli import CliUser, cli_env, mediavault
from tests.e2e.conftest import PASSWORD, ServerFactory, VaultServer, create_admin

EMAIL = "owner@example.com"
ADMIN = "admin@example.com"


@pytest.fixture(scope="module")
def server(module_servers: ServerFactory) -> VaultServer:
    return module_servers.start(env={"MEDIAVAULT_TRASH_RETENTION_DAYS": "30", "MEDIAVAULT_MAX_VERSIONS": "5"})


@pytest.fixture(scope="module")
def owner(server: VaultServer, tmp_path_factory: pytest.TempPathFactory) -> CliUser:
    """An account logged in with ``mediavault login`` (its stored API key holds every scope)."""
    with Client(server.base_url) as vault:
        vault.register(EMAIL, PASSWORD)
    env = cli_env(tmp_path_factory.mktemp("config"), server)
    logged_in = mediavault(
        "login", "--url", server.base_url, "--email", EMAIL, "--password-stdin", env=env, stdin=PASSWORD
    )
    assert logged_in.returncode == 0, logged_in.stdout
    stored = json.loads((Path(str(env["XDG_CONFIG_HOME"])) / "mediavault" / "credentials.json").read_text())
    return CliUser(env, stored["api_key"])


@pytest.fixture(scope="module")
def admin(server: VaultServer, tmp_path_factory: pytest.TempPathFactory) -> CliUser:
    """An admin made with ``users create --admin``, logged in with ``mediavault login``."""
    create_admin(server, ADMIN)
    env = cli_env(tmp_path_factory.mktemp("config"), server)
    logged_in = mediavault(
        "login", "--url", server.base_url, "--email", ADMIN, "--password-stdin", env=env, stdin=PASSWORD
    )
    assert logged_in.returncode == 0, logged_in.stdout
    stored = json.loads((Path(str(env["XDG_CONFIG_HOME"])) / "mediavault" / "credentials.json").read_text())
    return CliUser(env, stored["api_key"])


def test_replace_versions_and_restore(server: VaultServer, owner: CliUser, tmp_path: Path) -> None:
    with Client(server.base_url, api_key=owner.api_key) as vault:
        media = vault.upload(io.BytesIO(b"first draft\n"), filename="notes.txt")
    corrected = tmp_path / "notes-v2.txt"
    corrected.write_bytes(b"the corrected notes\n")

    replaced = mediavault("replace", media.id, str(corrected), "--filename", "notes.txt", env=owner.env)
    assert replaced.returncode == 0, replaced.stdout
    assert replaced.out == f"{media.id}  version 2  20 bytes  notes.txt\n"
    listed = mediavault("versions", media.id, env=owner.env)
    assert listed.returncode == 0, listed.stdout
    lines = listed.out.splitlines()
    assert [line.split()[:2] for line in lines] == [["*", "2"], ["1", "12"]]  # newest, the current one, first
    assert lines[1].split()[-2:] == [media.checksum_sha256, "text/plain"]

    saved = tmp_path / "first.txt"
    downloaded = mediavault("versions", media.id, "--download", "1", "-o", str(saved), env=owner.env)
    assert downloaded.returncode == 0, downloaded.stdout
    assert saved.read_bytes() == b"first draft\n"
    restored = mediavault("versions", media.id, "--restore", "1", "--json", env=owner.env)
    assert restored.returncode == 0, restored.stdout
    assert (json.loads(restored.out)["version"], json.loads(restored.out)["size"]) == (3, 12)
    rows = json.loads(mediavault("versions", media.id, "--json", env=owner.env).out)
    assert [(row["version"], row["current"]) for row in rows] == [(3, True), (2, False), (1, False)]

    both = mediavault("versions", media.id, "--restore", "1", "--download", "1", env=owner.env)
    assert both.returncode == 2 and "at most one" in both.stdout
    alone = mediavault("versions", media.id, "--download", "1", env=owner.env)
    assert alone.returncode == 2 and "go together" in alone.stdout
    missing = mediavault("versions", media.id, "--restore", "9", env=owner.env)  # the server's 404, as a message
    assert missing.returncode == 1 and "not found" in missing.stdout.lower()


def test_edit_merges_metadata_and_ls_filters_on_it(server: VaultServer, owner: CliUser) -> None:
    with Client(server.base_url, api_key=owner.api_key) as vault:
        plan = vault.upload(io.BytesIO(b"plan"), filename="plan.txt", metadata={"project": "apollo"})
        memo = vault.upload(io.BytesIO(b"memo"), filename="memo.txt", metadata={"project": "apollo"})

        edited = mediavault(
            "edit", plan.id, "--title", "Flight plan", "--tag", "Space", "--tag", "plans",
            "--metadata", '{"stage": "review"}', "--json", env=owner.env,
        )  # fmt: skip
        assert edited.returncode == 0, edited.stdout
        answer = json.loads(edited.out)
        assert (answer["title"], sorted(answer["tags"])) == ("Flight plan", ["plans", "space"])
        assert answer["metadata"] == {"project": "apollo", "stage": "review"}  # merged, not replaced

        def ids(*args: str) -> list[str]:
            run = mediavault("ls", *args, env=owner.env)
            assert run.returncode == 0, run.stdout
            return [line.split()[0] for line in run.out.splitlines()]

        assert ids("--meta", "project=apollo") == [memo.id, plan.id]
        assert ids("--meta", "project=apollo", "--meta", "stage=review") == [plan.id]
        assert ids("--meta", "stage=draft") == []

        removed = mediavault("edit", plan.id, "--metadata", '{"stage": null}', "--title", "", env=owner.env)
        assert removed.returncode == 0, removed.stdout
        assert (vault.get_media(plan.id).metadata, vault.get_media(plan.id).title) == ({"project": "apollo"}, None)
        assert ids("--meta", "stage=review") == []
        untagged = mediavault("edit", plan.id, "--no-tags", env=owner.env)
        assert untagged.returncode == 0 and vault.get_media(plan.id).tags == []

    assert mediavault("edit", plan.id, env=owner.env).returncode == 2  # nothing to change
    assert mediavault("edit", plan.id, "--metadata", "[1]", env=owner.env).returncode == 2  # not an object
    assert mediavault("ls", "--meta", "no-equals-sign", env=owner.env).returncode == 2


def test_keys_create_list_and_revoke(server: VaultServer, owner: CliUser) -> None:
    login = ("--password-stdin",)  # the stored login's account; the stored API key cannot manage keys
    made = mediavault(
        "keys", "create", "photo frame", "--scope", "media:read", "--expires-in", "3600", *login,
        env=owner.env, stdin=PASSWORD,
    )  # fmt: skip
    assert made.returncode == 0, made.stdout
    key_id, key = made.out.split()
    assert key.startswith("mvk_")
    with Client(server.base_url, api_key=key) as frame:
        assert frame.list_media().items is not None
        with pytest.raises(Forbidden, match="media:write"):
            frame.upload(io.BytesIO(b"x"), filename="x.bin")

    listed = mediavault("keys", "list", *login, env=owner.env, stdin=PASSWORD)
    assert listed.returncode == 0, listed.stdout
    line = next(line for line in listed.out.splitlines() if line.startswith(key_id))
    assert line.split()[1:3] == [key[:12], "media:read"] and line.endswith("  photo frame")
    expires = dt.datetime.strptime(" ".join(line.split()[3:5]), "%Y-%m-%d %H:%M").replace(tzinfo=dt.UTC)
    assert dt.timedelta(minutes=58) < expires - dt.datetime.now(dt.UTC) <= dt.timedelta(hours=1)
    rows = json.loads(mediavault("keys", "list", "--json", *login, env=owner.env, stdin=PASSWORD).out)
    by_id = {row["id"]: row for row in rows}
    assert by_id[key_id]["scopes"] == ["media:read"] and by_id[key_id]["last_used_at"] is not None

    revoked = mediavault("keys", "revoke", key_id, *login, env=owner.env, stdin=PASSWORD)
    assert revoked.returncode == 0 and revoked.out == f"revoked {key_id}\n"
    with Client(server.base_url, api_key=key) as frame, pytest.raises(Unauthorized):
        frame.list_media()

    with Client(server.base_url) as vault:  # an access token instead of the password
        token = vault.login(EMAIL, PASSWORD).token
        with_token = mediavault("keys", "list", env=owner.env | {"MEDIAVAULT_TOKEN": token})
        assert with_token.returncode == 0 and key_id not in with_token.out and with_token.out
    wrong = mediavault("keys", "list", *login, env=owner.env, stdin="not the password")
    assert wrong.returncode == 1 and "invalid" in wrong.stdout.lower()


def test_admin_manages_accounts_and_reads_the_audit_log(server: VaultServer, owner: CliUser, admin: CliUser) -> None:
    with Client(server.base_url, api_key=owner.api_key) as vault:
        owner_id = vault.me().id
    with Client(server.base_url, api_key=admin.api_key) as chief:
        admin_id = chief.me().id

    users = mediavault("admin", "users", "-q", "owner@", env=admin.env)
    assert users.returncode == 0, users.stdout
    assert [line.split()[:3] for line in users.out.splitlines()] == [[owner_id, "user", "active"]]
    assert users.out.rstrip().endswith(f"-  {EMAIL}")  # no quota
    quota = mediavault("admin", "quota", owner_id, "1000000", env=admin.env)
    assert quota.returncode == 0 and quota.out.split()[4] == "1000000", quota.stdout
    with Client(server.base_url, api_key=owner.api_key) as vault:
        assert vault.usage().quota_bytes == 1000000
    shown = json.loads(mediavault("admin", "user", owner_id, "--json", env=admin.env).out)
    assert (shown["email"], shown["quota_bytes"], shown["disabled"]) == (EMAIL, 1000000, False)
    assert mediavault("admin", "quota", owner_id, "none", env=admin.env).out.split()[4] == "-"
    assert mediavault("admin", "role", owner_id, "admin", env=admin.env).out.split()[1] == "admin"
    assert mediavault("admin", "role", owner_id, "user", env=admin.env).out.split()[1] == "user"

    disabled = mediavault("admin", "disable", owner_id, env=admin.env)
    assert disabled.returncode == 0 and disabled.out.split()[2] == "disabled"
    with Client(server.base_url, api_key=owner.api_key) as vault, pytest.raises(Unauthorized):
        vault.me()  # the owner's key is refused at once
    assert mediavault("admin", "enable", owner_id, env=admin.env).out.split()[2] == "active"
    with Client(server.base_url, api_key=owner.api_key) as vault:
        assert vault.me().id == owner_id

    itself = mediavault("admin", "disable", admin_id, env=admin.env)
    assert itself.returncode == 1 and "your own account" in itself.stdout
    assert mediavault("admin", "quota", owner_id, "lots", env=admin.env).returncode == 2
    refused = mediavault("admin", "users", env=owner.env)  # not an admin: the server's 403, as a message
    assert refused.returncode == 1 and "Only administrators" in refused.stdout

    audit = mediavault("audit", "--action", "admin.user_updated", "--actor", admin_id, env=admin.env)
    assert audit.returncode == 0, audit.stdout
    lines = audit.out.splitlines()
    assert len(lines) == 6 and all(
        line.split()[2:5] == ["admin.user_updated", admin_id, f"user:{owner_id}"] for line in lines
    )
    newest = json.loads(mediavault("audit", "--json", "-n", "1", env=admin.env).out)
    assert [(e["action"], e["target_id"]) for e in newest] == [("admin.user_updated", owner_id)]
    assert mediavault("audit", "--since", "2999-01-01", env=admin.env).out == ""
    assert mediavault("audit", "--until", "2000-01-01", "--json", env=admin.env).out.strip() == "[]"
    logins = mediavault("audit", "--action", "auth.login", "--actor", owner_id, "--json", env=admin.env)
    assert json.loads(logins.out) and all(e["actor_id"] == owner_id for e in json.loads(logins.out))
