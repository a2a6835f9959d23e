"""The ``mediavault`` command against a REAL ``mediavault serve``: ``users create`` on the server's database (a
server command reached through the SDK's command), ``login``/``logout``, a folder upload that fails part-way (a file
over the size limit, or SIGKILL) and is re-run (what is there is skipped, the rest sent), ids and ``--json`` on
standard output, ``ls`` with its filters, downloads that round-trip byte for byte, and Ctrl-C (exit 130, no
traceback) in a process of its own."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from mediavault_sdk import Client, Forbidden, QuotaExceeded, Unauthorized, Usage
from mediavault_sdk._core import Call
from mediavault_sdk._resumable import TUS

from tests.e2e._cli import CliUser, cli_env, mediavault
from tests.e2e.conftest import PASSWORD, ServerFactory, VaultServer
from tests.files import make_jpeg, make_pdf, make_png

MAX_UPLOAD = 2 * 1024 * 1024  # bytes: a larger file fails to upload


@pytest.fixture(scope="module")
def server(module_servers: ServerFactory) -> VaultServer:
    return module_servers.start(env={"MEDIAVAULT_MAX_UPLOAD_SIZE": str(MAX_UPLOAD)})


def _command(*args: str) -> list[str]:
    """``mediavault ARGS`` as the console script runs it, by this interpreter (no reliance on PATH)."""
    return [sys.executable, "-c", "from mediavault_cli import main; main()", *args]


def _summary(output: str) -> str:
    return output.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def account(server: VaultServer, tmp_path_factory: pytest.TempPathFactory) -> CliUser:
    """An operator-made account (``users create``), logged in with ``mediavault login``."""
    config_home = tmp_path_factory.mktemp("config")
    env = cli_env(config_home, server)
    created = mediavault(
        "users", "create", "cli@example.com", "--password-stdin", "--data-dir", str(server.data_dir),
        env=env, stdin=f"{PASSWORD}\n",
    )  # fmt: skip
    assert created.returncode == 0, created.stdout
    logged_in = mediavault(
        "login", "--url", server.base_url, "--email", "cli@example.com", "--password-stdin", env=env, stdin=PASSWORD
    )
    assert logged_in.returncode == 0, logged_in.stdout
    stored = json.loads((config_home / "mediavault" / "credentials.json").read_text())
    return CliUser(env, stored["api_key"])


def _vault(server: VaultServer, account: CliUser) -> Client:
    return Client(server.base_url, api_key=account.api_key)


def _clear(vault: Client) -> None:
    for media in list(vault.iter_media(per_page=100)):
        vault.delete_media(media.id)


def _checksums(root: Path) -> set[str]:
    return {hashlib.sha256(p.read_bytes()).hexdigest() for p in root.rglob("*") if p.is_file() and p.stat().st_size}


# ----------------------------------------------------------------------------------------------- accounts


def test_users_create_login_and_logout(server: VaultServer, tmp_path: Path) -> None:
    env = cli_env(tmp_path / "config", server)
    data_dir = str(server.data_dir)
    admin = mediavault(
        "users", "create", "Boss@Example.com", "--admin", "--password-stdin", "--data-dir", data_dir,
        env=env, stdin=f"{PASSWORD}\n",
    )  # fmt: skip
    assert admin.returncode == 0 and "Created admin boss@example.com" in admin.stdout, admin.stdout
    database = admin.stdout.rsplit(" in ", 1)[1].strip()  # where it was written: the server's own database
    assert str(server.data_dir) in database or database.startswith("postgresql"), database
    again = mediavault(
        "users", "create", "boss@example.com", "--password-stdin", "--data-dir", data_dir, env=env, stdin=PASSWORD
    )
    assert again.returncode == 1 and "already exists" in again.stdout
    short = mediavault(
        "users", "create", "new@example.com", "--password-stdin", "--data-dir", data_dir, env=env, stdin="short\n"
    )
    assert short.returncode == 1 and "8 to 1024 characters" in short.stdout
    bad_email = mediavault(
        "users", "create", "not-an-email", "--password-stdin", "--data-dir", data_dir, env=env, stdin=PASSWORD
    )
    assert bad_email.returncode == 1 and "not an email address" in bad_email.stdout

    with Client(server.base_url) as vault:  # the account works on the running server
        vault.login("boss@example.com", PASSWORD)
        assert vault.me().role == "admin"

    wrong = mediavault(
        "login", "--url", server.base_url, "--email", "boss@example.com", "--password-stdin", env=env, stdin="nope\n"
    )
    assert wrong.returncode == 1 and "Invalid email or password" in wrong.stdout
    assert not (tmp_path / "config" / "mediavault" / "credentials.json").exists()
    logged_in = mediavault(
        "login", "--url", server.base_url, "--email", "boss@example.com", "--password-stdin", env=env, stdin=PASSWORD
    )
    assert logged_in.returncode == 0, logged_in.stdout
    stored_path = tmp_path / "config" / "mediavault" / "credentials.json"
    assert stat.S_IMODE(stored_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(stored_path.parent.stat().st_mode) == 0o700
    key = json.loads(stored_path.read_text())["api_key"]
    assert key not in logged_in.stdout  # only its prefix is shown
    with Client(server.base_url, api_key=key) as keyed:
        assert keyed.me().email == "boss@example.com"

    revoked = mediavault("logout", "--revoke", "--password-stdin", env=env, stdin=PASSWORD)
    assert revoked.returncode == 0 and "deleted" in revoked.stdout, revoked.stdout
    assert not stored_path.exists()
    refused = mediavault(
        "upload", str(tmp_path), env=env | {"MEDIAVAULT_URL": server.base_url, "MEDIAVAULT_API_KEY": key}
    )
    assert refused.returncode == 1 and "refused the credential" in refused.stdout
    nowhere = mediavault("upload", str(tmp_path), env=env)
    assert nowhere.returncode == 1 and "mediavault login" in nowhere.stdout


def test_an_admin_made_with_users_create_governs_through_the_sdk(server: VaultServer, tmp_path: Path) -> None:
    """``users create --admin``, then the SDK's admin, usage, scoped-key and audit calls on the real server."""
    env = cli_env(tmp_path / "config", server)
    made = mediavault(
        "users", "create", "chief@example.com", "--admin", "--password-stdin", "--data-dir", str(server.data_dir),
        env=env, stdin=f"{PASSWORD}\n",
    )  # fmt: skip
    assert made.returncode == 0, made.stdout
    with Client(server.base_url) as chief, Client(server.base_url) as member:
        chief.login("chief@example.com", PASSWORD)
        member.register("member@example.com", PASSWORD)
        member.login("member@example.com", PASSWORD)
        member_id = member.me().id
        assert [u.email for u in chief.iter_users(q="member@")] == ["member@example.com"]
        assert chief.update_user(member_id, quota_bytes=1000).quota_bytes == 1000
        assert member.usage() == Usage(used_bytes=0, quota_bytes=1000, media_count=0)
        with pytest.raises(Forbidden):
            member.list_users()
        with pytest.raises(QuotaExceeded):
            member.upload(io.BytesIO(os.urandom(1001)), filename="big.bin")
        frame = member.create_api_key("photo frame", scopes=["media:read"], expires_in=3600)
        assert frame.scopes == ["media:read"] and frame.expires_at is not None
        with Client(server.base_url, api_key=frame.key) as keyed:
            assert keyed.list_media().items == []
            with pytest.raises(Forbidden, match="media:write"):
                keyed.upload(io.BytesIO(b"x"), filename="x.bin")
            assert chief.update_user(member_id, disabled=True).disabled
            with pytest.raises(Unauthorized):
                keyed.list_media()
        with pytest.raises(Unauthorized):
            member.me()
        actions = [e.action for e in chief.iter_audit_events(actor_id=chief.me().id)]
        assert actions[:2] == ["admin.user_updated", "admin.user_updated"] and actions[-1] == "auth.login"


# ----------------------------------------------------------------------------------------------- upload


def _tree(root: Path) -> None:
    (root / "photos" / "2026" / "june").mkdir(parents=True)
    (root / "docs").mkdir()
    (root / "photos" / "a.png").write_bytes(make_png())
    (root / "photos" / "2026" / "b.jpg").write_bytes(make_jpeg())
    (root / "photos" / "2026" / "june" / "c.png").write_bytes(make_png(32, 32, (1, 2, 3, 255)))
    (root / "photos" / "2026" / "june" / "copy of a.png").write_bytes(make_png())  # same content as a.png
    (root / "docs" / "report.pdf").write_bytes(make_pdf())
    (root / "docs" / "notes.txt").write_text("some notes\n")
    (root / "docs" / "later.txt").write_bytes(b"")  # the vault keeps no empty files: skipped with a note
    (root / "docs" / "huge.bin").write_bytes(os.urandom(MAX_UPLOAD + 1))  # over the server's limit: fails


def _ids(out: str) -> dict[str, str]:
    """``{path: media id}`` from the ``ID  PATH`` lines an upload prints on standard output."""
    return {path: media_id for media_id, path in (line.split("  ", 1) for line in out.splitlines())}


def test_folder_upload_fails_part_way_and_resumes(server: VaultServer, account: CliUser, tmp_path: Path) -> None:
    _tree(tmp_path)
    with _vault(server, account) as vault:
        _clear(vault)
        first = mediavault(
            "upload", "-j", "3", "--tag", "cli", str(tmp_path / "photos"), str(tmp_path / "docs"), env=account.env
        )
        assert first.returncode == 1, first.stdout
        assert _summary(first.stdout) == "uploaded 5, skipped 2, failed 1"
        assert f"skipped {tmp_path / 'docs' / 'later.txt'}: empty file" in first.stdout
        assert (
            f"failed {tmp_path / 'docs' / 'huge.bin'}: File larger than the {MAX_UPLOAD} byte limit" in first.stdout
        ), first.stdout
        stored = list(vault.iter_media())
        assert len(stored) == 5 and all(m.tags == ["cli"] for m in stored)
        # standard output: one "ID  PATH" line per new media, nothing else (no bar, no summary)
        printed = _ids(first.out)
        assert {Path(path).name: media_id for path, media_id in printed.items()} == {m.filename: m.id for m in stored}

        (tmp_path / "docs" / "later.txt").write_text("written after the first run\n")
        (tmp_path / "docs" / "huge.bin").write_bytes(os.urandom(MAX_UPLOAD // 2))
        os.mkfifo(tmp_path / "docs" / "pipe")  # a folder walk leaves it out (reading it would block)
        second = mediavault("upload", "--json", str(tmp_path), env=account.env)
        assert second.returncode == 0, second.stdout
        assert _summary(second.stdout) == "uploaded 2, skipped 6, failed 0"
        outcomes = {Path(row["path"]).name: row for row in json.loads(second.out)}
        assert {name: row["status"] for name, row in outcomes.items()} == {
            "a.png": "skipped", "b.jpg": "skipped", "c.png": "skipped", "copy of a.png": "skipped",
            "report.pdf": "skipped", "notes.txt": "skipped", "later.txt": "uploaded", "huge.bin": "uploaded",
        }  # fmt: skip
        assert outcomes["a.png"]["detail"] == "already in the vault"
        assert outcomes["copy of a.png"]["id"] == outcomes["a.png"]["id"]  # the same content has one id
        stored = list(vault.iter_media())
        assert len(stored) == 7
        assert {row["id"] for row in outcomes.values()} == {m.id for m in stored}
        assert {m.checksum_sha256 for m in stored} == _checksums(tmp_path)
        assert sorted(m.filename for m in stored) == [
            "a.png", "b.jpg", "c.png", "huge.bin", "later.txt", "notes.txt", "report.pdf"
        ]  # fmt: skip

        named = [str(tmp_path / "docs" / "notes.txt"), str(tmp_path / "missing.txt"), str(tmp_path / "docs" / "pipe")]
        third = mediavault("upload", *named, env=account.env)
        assert third.returncode == 1
        assert _summary(third.stdout) == "uploaded 0, skipped 1, failed 2"
        assert "missing.txt: No such file or directory" in third.stdout and "not a regular file" in third.stdout


def test_upload_killed_mid_way_then_rerun(server: VaultServer, account: CliUser, tmp_path: Path) -> None:
    count, size = 40, 1024 * 1024
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(count):
        (folder / f"part-{i:02}.bin").write_bytes(os.urandom(size))
    with _vault(server, account) as vault:
        _clear(vault)
        env = {k: v for k, v in os.environ.items() if k not in account.env} | {
            k: v for k, v in account.env.items() if v is not None
        }
        process = subprocess.Popen(  # a process of its own, to be killed
            _command("upload", "-j", "1", str(folder)),
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 60
            while vault.list_media(per_page=1).pagination.total < 3 and time.monotonic() < deadline:
                time.sleep(0.01)
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait(10)
        there = vault.list_media(per_page=1).pagination.total
        assert 3 <= there < count, "the upload finished before it could be interrupted"

        rerun = mediavault("upload", "-j", "4", str(folder), env=account.env)
        assert rerun.returncode == 0, rerun.stdout
        # An upload in flight when the process died may still land on the server after ``there`` was read
        # (or be dropped): the rerun skips all that arrived and uploads exactly the rest.
        summary = re.fullmatch(r"uploaded (\d+), skipped (\d+), failed 0", _summary(rerun.stdout))
        assert summary, rerun.stdout
        uploaded, skipped = map(int, summary.groups())
        assert uploaded + skipped == count and skipped >= there
        stored = list(vault.iter_media(per_page=100))
        assert len(stored) == count  # nothing twice
        assert {m.checksum_sha256 for m in stored} == _checksums(folder)


def _stopped_past_half(process: subprocess.Popen[bytes], vault: Client, state: Path, size: int) -> int:
    """Let ``process`` run a few milliseconds at a time (SIGCONT, SIGSTOP) until the server holds at least half of
    its resumable upload; return that offset with the process stopped."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        process.send_signal(signal.SIGSTOP)
        entries = json.loads(state.read_text()) if state.exists() else {}
        if entries:
            upload_id = next(iter(entries.values()))
            head = Call("HEAD", f"/uploads/{upload_id}", lambda r: int(r.headers["Upload-Offset"]), headers=TUS)
            offset = vault.send(head)
            assert offset < size, "the upload finished before it could be interrupted"
            if offset >= size // 2:
                return offset
        process.send_signal(signal.SIGCONT)
        time.sleep(0.005)
    raise AssertionError("the upload did not get half way in 120 s")


@pytest.mark.parametrize("command", ["upload", "replace"])
def test_large_file_first_run_says_nothing_of_resuming(
    server: VaultServer, account: CliUser, tmp_path: Path, command: str
) -> None:
    """A first run of a resumable upload (nothing saved from an earlier run) starts at byte 0 without a
    ``resuming`` line, though its chunks report progress from the first bytes on."""
    data = os.urandom(300_000)
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    with _vault(server, account) as vault:
        _clear(vault)
        target = [vault.upload(io.BytesIO(b"the old bytes"), filename="old.txt").id] if command == "replace" else []
        args = (command, *target, "--resumable-from", "0", "--chunk-size", "50000", str(path))
        run = mediavault(*args, env=account.env | {"XDG_STATE_HOME": str(tmp_path / "state")})
        assert run.returncode == 0, run.stdout
        assert "resuming" not in run.stdout
        (stored,) = vault.iter_media(per_page=100)
        assert stored.checksum_sha256 == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("command", ["upload", "replace"])
def test_large_file_killed_half_way_continues_from_the_servers_offset(
    server: VaultServer, account: CliUser, tmp_path: Path, command: str
) -> None:
    """``upload FILE`` (a new item) and ``replace ID FILE`` (an item's new bytes, through the same resumable upload
    naming the item), killed half way and run again: they continue from the server's offset, and say so."""
    data = os.urandom(1_500_000)
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    state_home = tmp_path / "state"
    with _vault(server, account) as vault:
        _clear(vault)
        before = [vault.upload(io.BytesIO(b"the old bytes"), filename="old.txt")] if command == "replace" else []
        target = [m.id for m in before]
        args = (command, *target, "--resumable-from", "0", "--chunk-size", "50000", str(path))
        env = _process_env(account) | {"XDG_STATE_HOME": str(state_home)}
        process = subprocess.Popen(_command(*args), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            offset = _stopped_past_half(process, vault, state_home / "mediavault" / "uploads.json", len(data))
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait(10)
        shown = [(m.id, m.version, m.checksum_sha256) for m in vault.iter_media()]
        assert shown == [(m.id, m.version, m.checksum_sha256) for m in before]  # nothing made or changed yet

        rerun = mediavault(*args, env=account.env | {"XDG_STATE_HOME": str(state_home)})
        assert rerun.returncode == 0, rerun.stdout
        resumed = re.search(r"resuming \S*big\.bin at (\d+) %", rerun.stdout)
        assert resumed, rerun.stdout  # the bars start there, not at 0
        assert int(resumed.group(1)) >= 100 * offset // len(data) >= 50
        (stored,) = vault.iter_media(per_page=100)
        assert stored.checksum_sha256 == hashlib.sha256(data).hexdigest()
        if command == "upload":
            assert _ids(rerun.out) == {str(path): stored.id}
        else:  # the same item, one version more
            assert (stored.id, stored.version, stored.filename) == (before[0].id, 2, "big.bin")
            assert rerun.out == f"{stored.id}  version 2  {len(data)} bytes  big.bin\n"
            assert [v.version for v in vault.list_versions(stored.id)] == [2, 1]
            copy = io.BytesIO()
            vault.download(stored.id, copy)
            assert copy.getvalue() == data


# ----------------------------------------------------------------------------------------------- download


def test_download_round_trips_byte_for_byte(server: VaultServer, account: CliUser, tmp_path: Path) -> None:
    originals = {"photo.png": make_png(), "scan.pdf": make_pdf(), "big.bin": os.urandom(MAX_UPLOAD - 7)}
    with _vault(server, account) as vault:
        ids = {name: vault.upload(io.BytesIO(data), filename=name).id for name, data in originals.items()}
    out = tmp_path / "out"
    first = mediavault("download", *ids.values(), "-o", str(out), env=account.env)
    assert first.returncode == 0, first.stdout
    assert _summary(first.stdout) == "downloaded 3, skipped 0, failed 0"
    assert {p.name: p.read_bytes() for p in out.iterdir()} == originals  # no temporary files left either

    again = mediavault("download", *ids.values(), "-o", str(out), env=account.env)
    assert _summary(again.stdout) == "downloaded 0, skipped 3, failed 0"

    (out / "scan.pdf").write_bytes(b"edited locally")
    kept = mediavault("download", ids["scan.pdf"], "missing-id", "-o", str(out), env=account.env)
    assert kept.returncode == 1 and _summary(kept.stdout) == "downloaded 0, skipped 0, failed 2"
    assert "--overwrite" in kept.stdout and "no such media" in kept.stdout
    assert (out / "scan.pdf").read_bytes() == b"edited locally"
    replaced = mediavault("download", ids["scan.pdf"], "-o", str(out), "--overwrite", env=account.env)
    assert replaced.returncode == 0 and (out / "scan.pdf").read_bytes() == originals["scan.pdf"]


# ----------------------------------------------------------------------------------------------- ls


def test_upload_with_metadata_stores_it_on_every_file(server: VaultServer, account: CliUser, tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(make_png())
    (tmp_path / "b.pdf").write_bytes(make_pdf())
    with _vault(server, account) as vault:
        _clear(vault)
        # --resumable-from 0 would send every file in resumable chunks: with metadata, each goes in one request
        run = mediavault(
            "upload", str(tmp_path), "--metadata", '{"project": "apollo", "n": 1}', "--resumable-from", "0",
            env=account.env,
        )  # fmt: skip
        assert run.returncode == 0, run.stdout
        ids = _ids(run.out)
        assert len(ids) == 2
        assert all(vault.get_media(i).metadata == {"project": "apollo", "n": 1} for i in ids.values())
    for bad in ("[1]", "not json"):
        refused = mediavault("upload", str(tmp_path), "--metadata", bad, env=account.env)
        assert refused.returncode == 2 and "--metadata" in refused.stdout


def test_ls_lists_filters_and_prints_json(server: VaultServer, account: CliUser, tmp_path: Path) -> None:
    with _vault(server, account) as vault:
        _clear(vault)
        photo = vault.upload(io.BytesIO(make_png()), filename="beach.png", tags=["Holiday"], title="Sunset")
        scan = vault.upload(io.BytesIO(make_pdf()), filename="scan.pdf")
        notes = vault.upload(io.BytesIO(b"some notes\n"), filename="notes.txt", tags=["holiday"])
        album = vault.create_collection("Album")
        vault.add_to_collection(album.id, [scan.id])

        everything = mediavault("ls", env=account.env)
        assert everything.returncode == 0, everything.stdout
        lines = everything.out.splitlines()
        assert [line.split()[0] for line in lines] == [notes.id, scan.id, photo.id]  # newest first
        assert lines[1].split()[1:3] == [str(scan.size), "document"] and lines[1].endswith("  scan.pdf")

        def ids(*args: str) -> list[str]:
            run = mediavault("ls", *args, env=account.env)
            assert run.returncode == 0, run.stdout
            return [line.split()[0] for line in run.out.splitlines()]

        assert ids("--tag", "HOLIDAY", "--sort", "filename") == [photo.id, notes.id]
        assert ids("--type", "image") == [photo.id]
        assert ids("-q", "sunset") == [photo.id]
        assert ids("--collection", album.id) == [scan.id]
        assert (
            ids("--sort", "size", "-n", "2")
            == sorted([photo.id, scan.id, notes.id], key=lambda i: vault.get_media(i).size)[:2]
        )

        as_json = mediavault("ls", "--json", "--tag", "holiday", env=account.env)
        assert as_json.returncode == 0
        rows = json.loads(as_json.out)
        assert [row["id"] for row in rows] == [notes.id, photo.id]
        assert rows[1]["checksum_sha256"] == photo.checksum_sha256 and rows[1]["tags"] == ["holiday"]

        unknown = mediavault("ls", "--collection", "00000000-0000-4000-8000-000000000000", env=account.env)
        assert unknown.returncode == 1 and "not found" in unknown.stdout.lower()
        bad = mediavault("ls", "--type", "sculpture", env=account.env)
        assert bad.returncode == 2


# ----------------------------------------------------------------------------------------------- Ctrl-C


def _process_env(account: CliUser) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in account.env}
    return env | {k: v for k, v in account.env.items() if v is not None}


def test_ctrl_c_exits_130_without_a_traceback(server: VaultServer, account: CliUser, tmp_path: Path) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(40):
        (folder / f"part-{i:02}.bin").write_bytes(os.urandom(MAX_UPLOAD // 2))
    with _vault(server, account) as vault:
        _clear(vault)
        process = subprocess.Popen(  # SIGINT as a terminal delivers it, even when this run ignores it
            _command("upload", "-j", "1", str(folder)),
            preexec_fn=_default_sigint,
            env=_process_env(account),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            deadline = time.monotonic() + 60
            while vault.list_media(per_page=1).pagination.total < 1 and time.monotonic() < deadline:
                time.sleep(0.01)
            assert process.poll() is None, "the upload finished before it could be interrupted"
            process.send_signal(signal.SIGINT)
            _out, err = process.communicate(timeout=30)
        finally:
            process.kill()
            process.wait(10)
    assert process.returncode == 130, err
    assert b"Traceback" not in err and err.rstrip().endswith(b"Interrupted."), err


def _default_sigint() -> None:
    """In the child: SIGINT's default disposition. A test run started as a background job (``cmd &`` in a
    non-interactive shell) ignores SIGINT, children inherit that, and Python then installs no KeyboardInterrupt
    handler: Ctrl-C would be ignored for a reason that has nothing to do with the command."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _interrupt(process: subprocess.Popen[bytes]) -> tuple[bytes, bytes]:
    """Ctrl-C, and what the command printed. A second SIGINT follows only if the first one changed nothing for 10 s:
    once in about ten loaded full-leg runs the command, blocked reading from the silent server, never acted on the
    first one (not understood yet; the command itself handles each SIGINT the same way)."""
    process.send_signal(signal.SIGINT)
    try:
        return process.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGINT)
        return process.communicate(timeout=30)


def test_ctrl_c_while_connecting_exits_130(account: CliUser, tmp_path: Path) -> None:
    # A server that accepts the connection and never answers: the command is interrupted in its start-up check
    # of the login (GET /users/me), deterministically.
    (tmp_path / "a.txt").write_text("a")
    with socket.create_server(("127.0.0.1", 0)) as silent:
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        process = subprocess.Popen(  # SIGINT as a terminal delivers it, even when this run ignores it
            _command("upload", str(tmp_path)),
            preexec_fn=_default_sigint,
            env=_process_env(account) | {"MEDIAVAULT_URL": url, "MEDIAVAULT_API_KEY": account.api_key},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            silent.settimeout(60)
            connection, _ = silent.accept()
            with connection:
                _out, err = _interrupt(process)
        finally:
            process.kill()
            process.wait(10)
    assert process.returncode == 130, err
    assert b"Traceback" not in err and err.rstrip().endswith(b"Interrupted."), err


def test_ctrl_c_at_a_prompt_exits_130(server: VaultServer, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIAVAULT_")}
    process = subprocess.Popen(  # SIGINT as a terminal delivers it, even when this run ignores it
        _command("login", "--url", server.base_url),
        preexec_fn=_default_sigint,
        env=env | {"XDG_CONFIG_HOME": str(tmp_path)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.read(len(b"Email: ")) == b"Email: "  # waiting for an answer
        process.send_signal(signal.SIGINT)
        _out, err = process.communicate(timeout=30)
    finally:
        process.kill()
        process.wait(10)
    assert process.returncode == 130, err
    assert b"Traceback" not in err and err.rstrip().endswith(b"Interrupted."), err


# ----------------------------------------------------------------------------------------------- trash, usage

QUOTA = 10 * 1024 * 1024  # bytes: every account's default quota on the trash server


@pytest.fixture(scope="module")
def trash_user(module_servers: ServerFactory, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, CliUser]:
    """An account on a server keeping a trash (and a default quota), the CLI set up with an API key through
    ``MEDIAVAULT_URL``/``MEDIAVAULT_API_KEY``; and the server's URL."""
    trash_server = module_servers.start(
        env={"MEDIAVAULT_TRASH_RETENTION_DAYS": "30", "MEDIAVAULT_DEFAULT_QUOTA_BYTES": str(QUOTA)}
    )
    with Client(trash_server.base_url) as owner:
        owner.register("trash@example.com", PASSWORD)
        owner.login("trash@example.com", PASSWORD)
        key = owner.create_api_key("cli").key
    env = cli_env(tmp_path_factory.mktemp("config"), trash_server, MEDIAVAULT_URL=trash_server.base_url)
    env["MEDIAVAULT_API_KEY"] = key
    return trash_server.base_url, CliUser(env, key)


def test_trash_lists_restores_purges_and_empties(trash_user: tuple[str, CliUser]) -> None:
    url, user = trash_user
    with Client(url, api_key=user.api_key) as vault:
        photo = vault.upload(io.BytesIO(make_png()), filename="beach.png")
        scan = vault.upload(io.BytesIO(make_pdf()), filename="scan.pdf")
        notes = vault.upload(io.BytesIO(b"some notes\n"), filename="notes.txt")
        for media in (photo, scan, notes):
            vault.delete_media(media.id)

        listed = mediavault("trash", env=user.env)
        assert listed.returncode == 0, listed.stdout
        lines = listed.out.splitlines()
        assert [line.split()[0] for line in lines] == [notes.id, scan.id, photo.id]  # most recently deleted first
        assert lines[1].split()[1:3] == [str(scan.size), "document"] and lines[1].endswith("  scan.pdf")
        rows = json.loads(mediavault("trash", "--json", env=user.env).out)
        assert [row["id"] for row in rows] == [notes.id, scan.id, photo.id] and rows[0]["purge_at"] > rows[0][
            "deleted_at"
        ]

        restored = mediavault("trash", "--restore", photo.id, env=user.env)
        assert restored.returncode == 0 and restored.out == f"{photo.id}  beach.png\n"
        assert vault.get_media(photo.id).checksum_sha256 == photo.checksum_sha256
        purged = mediavault("trash", "--purge", scan.id, "--json", env=user.env)
        assert purged.returncode == 0 and json.loads(purged.out) == {"purged": scan.id}
        assert [item.id for item in vault.list_trash().items] == [notes.id]

        again = mediavault("trash", "--purge", scan.id, env=user.env)  # gone: the server's 404, as a message
        assert again.returncode == 1 and "not found" in again.stdout.lower()
        declined = mediavault("trash", "--empty", env=user.env, stdin="n\n")
        assert declined.returncode == 1 and vault.list_trash().items
        emptied = mediavault("trash", "--empty", env=user.env, stdin="y\n")
        assert emptied.returncode == 0 and emptied.out.endswith("trash emptied\n")
        assert vault.list_trash().items == []
        nothing = mediavault("trash", env=user.env)  # said on standard error; standard output has no rows
        assert nothing.returncode == 0 and (nothing.stdout, nothing.out) == ("The trash is empty.\n", "")
        assert json.loads(mediavault("trash", "--json", env=user.env).out) == []
        assert mediavault("trash", "--yes", "--empty", env=user.env).returncode == 0  # nothing left: still fine
        both = mediavault("trash", "--restore", photo.id, "--empty", env=user.env)
        assert both.returncode == 2 and "at most one" in both.stdout


def test_usage_prints_bytes_quota_and_count(trash_user: tuple[str, CliUser]) -> None:
    url, user = trash_user
    with Client(url, api_key=user.api_key) as vault:
        expected = vault.usage()
        plain = mediavault("usage", env=user.env)
        assert plain.returncode == 0, plain.stdout
        assert plain.out.startswith(f"used {expected.used_bytes} bytes (quota {QUOTA} bytes, ")
        assert plain.out.endswith(f"), {expected.media_count} media\n")
        assert json.loads(mediavault("usage", "--json", env=user.env).out) == {
            "used_bytes": expected.used_bytes, "quota_bytes": QUOTA, "media_count": expected.media_count
        }  # fmt: skip
