"""Lets the plugin's tests import ``mediavault_encrypted`` from this directory without installing it."""

import sys
from pathlib import Path

HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:
    sys.path.insert(0, HERE)
