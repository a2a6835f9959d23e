"""Invalid settings are reported by name: a database driver that is not installed names what to install, and the
server's commands print the message (exit status 1) instead of a traceback."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from mediavault import MediaVaultConfig
from mediavault.cli import main

SECRET = "s" * 40


def test_a_postgresql_url_without_asyncpg_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "asyncpg", None)  # as if `pip install mediavault` without [postgres]
    with pytest.raises(
        ValueError, match=r"database_url: its driver asyncpg is not installed: .*mediavault\[postgres\]"
    ):
        MediaVaultConfig(secret_key=SECRET, database_url="postgresql+asyncpg://postgres@127.0.0.1/test")


def test_another_missing_driver_is_named() -> None:
    with pytest.raises(ValueError, match=r"its driver psycopg is not installed: pip install psycopg$"):
        MediaVaultConfig(secret_key=SECRET, database_url="postgresql+psycopg://postgres@127.0.0.1/test")


def test_serve_reports_an_invalid_setting_without_a_traceback(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["serve", "--data-dir", str(tmp_path)], env={"MEDIAVAULT_SECRET_KEY": "short"}, catch_exceptions=False
    )
    assert result.exit_code == 1
    assert "Error: invalid setting: secret_key: must be at least 32 characters" in result.output
    assert "Traceback" not in result.output
