"""mkdocs hook: render the Sphinx roles of the package's docstrings (``:class:`~a.B``` and the like) in the
Python API reference as plain code (``B``), as Sphinx would show them, instead of leaving ``:class:`` in the text.
"""

from __future__ import annotations

import re
from typing import Any

_ROLE = re.compile(r":(?:class|meth|func|attr|mod|data|exc|obj):<code>(~?)([^<]*)</code>")


def _render(match: re.Match[str]) -> str:
    tilde, target = match.groups()
    return f"<code>{target.rsplit('.', 1)[-1] if tilde else target}</code>"


def on_page_content(html: str, **kwargs: Any) -> str:
    """Replace ``:role:<code>[~]target</code>`` with ``<code>target</code>`` (last component after ``~``)."""
    return _ROLE.sub(_render, html)
