"""The complete examples of the docs run as written: the small storage plugin of docs/storage-plugins.md and
the test shown for it (through the real app, in a fresh directory)."""

from __future__ import annotations

import re
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
