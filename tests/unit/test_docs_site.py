"""The documentation site builds with ``mkdocs build --strict``: no broken link, anchor, snippet or nav entry.

mkdocs-material is in the ``test`` extra, so this runs wherever the suite runs (CI included) instead of in a
separate CI step that a local ``pytest`` would not cover. The build takes a few seconds.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _nav_pages(nav: list) -> list[str]:
    pages: list[str] = []
    for entry in nav:
        for value in entry.values() if isinstance(entry, dict) else [entry]:
            pages.extend(_nav_pages(value) if isinstance(value, list) else [value])
    return pages


def test_site_builds_strict_without_warnings(tmp_path: Path) -> None:
    site = tmp_path / "site"
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    log = result.stdout + result.stderr
    assert result.returncode == 0, log
    assert not re.search(r"^(WARNING|ERROR)\b", log, re.MULTILINE), log

    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    pages = _nav_pages(config["nav"])
    assert {"index.md", "configuration.md", "hooks.md", "storage-plugins.md", "security.md"} <= set(pages)
    orphans = sorted({p.name for p in (ROOT / "docs").glob("*.md")} - set(pages))
    assert orphans == [], f"pages missing from the nav of mkdocs.yml (add them there): {orphans}"
    for page in pages:
        html = site / ("index.html" if page == "index.md" else page.removesuffix(".md") + "/index.html")
        assert html.is_file(), page
    # The performance page shows the figures of benchmarks/README.md itself (included at build time, not copied).
    performance = (site / "performance" / "index.html").read_text()
    assert "request_overhead.py" in performance and "--8&lt;--" not in performance


def test_readme_links_point_at_files_that_exist() -> None:
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", (ROOT / "README.md").read_text())
    local = [link for link in links if "://" not in link and not link.startswith("mailto:")]
    assert "docs/api.md" in local
    assert [link for link in local if not (ROOT / link).exists()] == []
