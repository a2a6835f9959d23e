"""``mediavault``'s public names are imported on first use (PEP 562); a failure inside that import must stay visible."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import mediavault


def test_every_public_name_resolves() -> None:
    for name in mediavault.__all__:
        assert getattr(mediavault, name) is not None


def test_an_attribute_error_while_importing_is_not_hidden_as_cannot_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Python turns an AttributeError from a module's __getattr__ into "cannot import name 'X'", which names the
    # wrong culprit (seen with a stale SDK install: the real error was inside mediavault.errors).
    (tmp_path / "mv_broken_home.py").write_text("import os\nos.no_such_thing\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(mediavault._HOMES, "Broken", "mv_broken_home")
    monkeypatch.delitem(sys.modules, "mv_broken_home", raising=False)
    with pytest.raises(ImportError, match=r"importing mv_broken_home for mediavault\.Broken failed: .*no_such_thing"):
        from mediavault import Broken  # type: ignore[attr-defined]  # noqa: F401


def test_importing_the_plugin_warns_of_nothing() -> None:
    # A host whose tests turn warnings into errors (``filterwarnings = ["error"]``) imports the vault too: Litestar
    # 2's route handler classes warn when subclassed (mediavault.http.routes builds on HTTPRouteHandler instead).
    probe = "from mediavault import MediaVault; import mediavault.http.routes"
    run = subprocess.run(
        [sys.executable, "-W", "error::DeprecationWarning", "-c", probe],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stderr
