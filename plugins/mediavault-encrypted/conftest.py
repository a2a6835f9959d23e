"""Lets the plugin's tests import ``mediavault_encrypted`` from this directory without installing it, and the
repository's test helpers (``tests/s3.py``: a real S3 API on loopback) as the main suite does."""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
for path in (str(HERE), str(HERE.parents[1])):
    if path not in sys.path:
        sys.path.insert(0, path)
