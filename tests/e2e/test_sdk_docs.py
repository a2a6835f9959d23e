"""The Python walk-through of docs/sdk.md runs as written, as a script of its own, against a REAL
``mediavault serve``: log in, upload with progress, list, download a range, share, realtime."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.e2e.conftest import ServerFactory, process_env
from tests.files import make_jpeg

DOCS = Path(__file__).resolve().parents[2] / "docs"


def walkthrough() -> str:
    """The ``# walkthrough.py`` block of docs/sdk.md."""
    blocks = re.findall(r"```python\n(# walkthrough\.py\n.*?)```", (DOCS / "sdk.md").read_text(), re.DOTALL)
    assert len(blocks) == 1
    return blocks[0]


def test_the_python_walkthrough_runs_as_written(vault_servers: ServerFactory, tmp_path: Path) -> None:
    server = vault_servers.start()
    (tmp_path / "walkthrough.py").write_text(walkthrough())
    photo = make_jpeg(640, 480)
    (tmp_path / "photo.jpg").write_bytes(photo)

    def run() -> str:
        done = subprocess.run(
            [sys.executable, "walkthrough.py", "photo.jpg"],
            cwd=tmp_path,
            env=process_env(server.data_dir, {"MEDIAVAULT_URL": server.base_url}),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    out = run()
    media_id = re.search(r"uploaded ([0-9a-f-]{36}): image, (\d+) bytes", out)
    assert media_id and int(media_id.group(2)) == len(photo), out
    assert f"{len(photo)}/{len(photo)} bytes sent" in out
    assert f"listed {media_id.group(1)} photo.jpg {len(photo)}" in out
    assert (tmp_path / "first-kib.bin").read_bytes() == photo[:1024]
    assert f"downloaded bytes 0-1023 of {len(photo)}" in out
    assert (tmp_path / "shared-copy").read_bytes()[:2] == b"\xff\xd8"  # a JPEG (without its metadata, if any)
    assert f"event media.updated {media_id.group(1)} Sunset" in out

    again = run()  # a second run logs in to the account the first registered, and lists both uploads
    assert again.count("listed ") == 2
