"""The docs must keep up with the code: every config field and every hookspec is documented (a hookspec with an
example and a test), and the files CONTRIBUTING.md points at exist."""

from __future__ import annotations

import dataclasses
import inspect
import re
from pathlib import Path

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
