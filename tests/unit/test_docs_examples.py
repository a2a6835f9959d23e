"""The complete examples of the docs run as written: the small storage plugin of docs/storage-plugins.md and
the tests shown for it (through the real app, and the storage contract run by pytest), in a fresh directory;
the Starlette and FastAPI hosts and the host models of docs/embedding.md are examples/*.py verbatim (run by
tests/api/test_mount.py, test_host_users.py and test_host_references.py); README.md's app and its in-transaction
route run as written."""

from __future__ import annotations

import importlib
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


def test_the_readmes_app_and_its_order_route_run_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # README.md's embedding example, then its in-transaction route on the same `vault` and `app`, in one module
    from litestar.testing import TestClient

    readme = (DOCS.parent / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, re.DOTALL)
    app_block = next(block for block in blocks if "plugins=[vault]" in block)
    route_block = next(block for block in blocks if "vault.api(" in block)
    (tmp_path / "readme_app.py").write_text(app_block + route_block)
    monkeypatch.chdir(tmp_path)  # the example's relative vault.db and vault-media
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        app = importlib.import_module("readme_app").app
    finally:
        sys.modules.pop("readme_app", None)
    with TestClient(app) as client:
        assert client.get("/").json() == {"hello": "world"}
        created = client.post("/orders", headers={"x-customer-id": "7"}, files={"data": ("a.txt", b"a photo")})
        assert created.status_code == 201, created.text
        assert created.json()["url"] == f"/api/v1/media/{created.json()['photo']}/content"
    assert (tmp_path / "vault.db").is_file()
    assert [p.read_bytes() for p in (tmp_path / "vault-media").rglob("*") if p.is_file()] == [b"a photo"]
