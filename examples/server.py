"""The reference server, spelled out: what ``mediavault serve`` runs.

Every setting comes from ``MEDIAVAULT_<FIELD>`` environment variables over defaults that keep all
state under a data directory (see :func:`mediavault.server.load_config`). Run it with any ASGI server::

    uvicorn examples.server:app --port 8080

For several processes, run ``mediavault migrate`` once first and set ``MEDIAVAULT_AUTO_MIGRATE=false``.
"""

from __future__ import annotations

from mediavault.server import create_app, load_config

app = create_app(load_config("./mediavault-data"))
