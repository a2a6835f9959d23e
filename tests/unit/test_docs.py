"""The docs must keep up with the code: every config field and every hookspec is documented (a hookspec with an
example and a test), every method of the Python and TypeScript SDKs is in their endpoint tables, and the files
CONTRIBUTING.md points at exist."""

from __future__ import annotations

import dataclasses
import inspect
import re
from pathlib import Path

from mediavault_sdk._methods import Endpoint, Endpoints, Pages

from mediavault import hookspecs
from mediavault.config import NOT_FROM_ENV, MediaVaultConfig

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_every_config_field_is_in_the_configuration_reference() -> None:
    text = (DOCS / "configuration.md").read_text()
    missing = [f.name for f in dataclasses.fields(MediaVaultConfig) if f"| `{f.name}`" not in text]
    assert missing == []


def test_the_configuration_reference_names_exactly_the_variables_from_env_reads() -> None:
    # a field set in code only (plugins, host_identity) has no MEDIAVAULT_* variable in its row
    rows = dict(re.findall(r"^\| `(\w+)` \| ([^|]+) \|", (DOCS / "configuration.md").read_text(), re.MULTILINE))
    for f in dataclasses.fields(MediaVaultConfig):
        variable = "—" if f.name in NOT_FROM_ENV else f"`MEDIAVAULT_{f.name.upper()}`"
        assert rows[f.name].strip() == variable, f.name


def test_every_hookspec_is_documented_with_its_arguments() -> None:
    text = (DOCS / "hooks.md").read_text()
    specs = [name for name, fn in vars(hookspecs).items() if name.startswith("mediavault_") and callable(fn)]
    assert specs, "no hookspecs found"
    for name in specs:
        args = ", ".join(inspect.signature(getattr(hookspecs, name)).parameters)
        assert f"## `{name}({args})`" in text, name
        section = text.split(f"## `{name}({args})`", 1)[1].split("\n## ", 1)[0]
        assert "```python" in section and f"def {name}(" in section, f"{name}: no example implementing it"


def test_every_hookspec_has_an_example_in_its_docstring_and_a_test() -> None:
    root = DOCS.parent
    test_files = [*(root / "tests").rglob("test_*.py"), *(root / "plugins").glob("*/tests/test_*.py")]
    tests = "\n".join(path.read_text() for path in test_files)
    for name, fn in vars(hookspecs).items():
        if name.startswith("mediavault_") and callable(fn):
            assert "Examples:" in (fn.__doc__ or ""), f"{name}: no example in its docstring"
            assert re.search(rf"\b{name}\b", tests), f"{name}: no test file exercises it"


def test_every_path_in_the_contributors_guide_exists() -> None:
    root = DOCS.parent
    text = (root / "CONTRIBUTING.md").read_text()
    paths = {p.rstrip("/") for p in re.findall(r"`((?:mediavault|sdks|tests|docs|benchmarks|\.ci)/[^`\s<*:]+)`", text)}
    paths |= set(re.findall(r"\]\(((?:docs|benchmarks)/[^)#]+)", text))
    assert len(paths) > 20
    assert sorted(p for p in paths if not (root / p).exists()) == []


def _called(text: str, heading: str, name: str) -> set[str]:
    """The names called in the first Markdown table after ``heading``: each backticked cell's leading ``name`` (a
    regular expression) when it stands alone or is followed by ``(`` (``listMedia``, ``upload(source, ...)``)."""
    section = text.split(f"\n{heading}\n", 1)[1]
    table = section[section.index("\n|") : section.index("\n\n", section.index("\n|"))]
    return {found for cell in re.findall(r"`([^`]+)`", table) for found in re.findall(rf"^({name})(?:\(|$)", cell)}


def test_the_python_sdks_endpoint_table_names_every_method() -> None:
    methods = {name for name, value in vars(Endpoints).items() if isinstance(value, Endpoint | Pages)}
    assert len(methods) > 50
    assert sorted(methods - _called((DOCS / "sdk.md").read_text(), "### Endpoints", r"[a-z]\w*")) == []


def test_the_typescript_sdks_endpoint_table_names_exactly_its_methods() -> None:
    js = DOCS.parent / "sdks" / "js"
    source = (js / "src" / "client.ts").read_text()
    vault = source[source.index("export class Vault") :]
    vault = vault[: re.search(r"^}", vault, re.MULTILINE).start()]
    methods = set(re.findall(r"^  (?:async )?([a-z]\w*)[<(]", vault, re.MULTILINE)) - {"constructor", "url"}
    assert len(methods) > 50  # url(path) resolves a path against the server: no endpoint
    # camelCase names only: snake_case cells are wire fields (`quota_bytes`)
    listed = _called((js / "README.md").read_text(), "## Endpoints", r"[a-z][A-Za-z0-9]*")
    assert (sorted(methods - listed), sorted(listed - methods)) == ([], [])
