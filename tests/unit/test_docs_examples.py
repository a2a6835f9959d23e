"""The complete examples of the docs run as written: the small storage plugin of docs/storage-plugins.md and
the tests shown for it (through the real app, and the storage contract run by pytest), in a fresh directory;
the Starlette and FastAPI hosts and the host models of docs/embedding.md are examples/*.py verbatim (run by
tests/api/test_mount.py, test_host_users.py and test_host_references.py)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"


def python_blocks(page: str) -> dict[str, str]:
    """The page's Python code blocks that start with a ``# <file name>`` comment, by file name."""
    blocks = re.findall(r"```python\n(.*?)```", (DOCS / page).read_text(), re.DOTALL)
    return {m.group(1): block for block in blocks if (m := re.match(r"# (\w+\.py)\b", block))}


def test_the_small_storage_plugin_and_its_test_run_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = python_blocks("storage-plugins.md")
    assert set(files) >= {"app.py", "test_app.py"}
    for name, code in files.items():
        (tmp_path / name).write_text(code)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "app", raising=False)
    namespace: dict[str, object] = {}
    try:
        exec(compile(files["test_app.py"], str(tmp_path / "test_app.py"), "exec"), namespace)
        namespace["test_deleted_media_keep_their_bytes"]()  # type: ignore[operator]
    finally:
        sys.modules.pop("app", None)
    assert (tmp_path / "vault.db").is_file()


def run_pytest(directory: Path, *args: str) -> str:
    """``python -m pytest`` in ``directory`` (a project of its own: none of this repository's conftest files); its
    output, after asserting that everything collected passed (none failed, errored or was skipped)."""
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=directory,
        capture_output=True,
        text=True,
        check=False,
    )
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr
    assert done.returncode == 0 and re.fullmatch(r"\d+ passed(, \d+ warnings?)? in .*", summary), (
        done.stdout + done.stderr
    )
    return done.stdout


def test_the_storage_plugins_contract_test_runs_as_written(tmp_path: Path) -> None:
    files = python_blocks("storage-plugins.md")
    for name in ("app.py", "test_storage.py"):
        (tmp_path / name).write_text(files[name])
    output = run_pytest(tmp_path, "test_storage.py")
    assert int(output.strip().splitlines()[-1].split()[0]) > 30  # the whole contract, not one test


def test_the_pytest_plugin_example_of_the_testing_page_runs_as_written(tmp_path: Path) -> None:
    files = python_blocks("testing.md")
    for name in ("conftest.py", "test_my_plugin.py"):
        (tmp_path / name).write_text(files[name])
    assert "1 passed" in run_pytest(tmp_path, "test_my_plugin.py")


@pytest.mark.parametrize("example", ["fastapi_mount.py", "starlette_mount.py", "host_users.py", "host_references.py"])
def test_embedding_shows_the_examples_verbatim(example: str) -> None:
    # the examples themselves run in tests/api/test_mount.py, test_host_users.py and test_host_references.py
    code = (DOCS.parent / "examples" / example).read_text()
    assert f"```python\n{code}```" in (DOCS / "embedding.md").read_text()
