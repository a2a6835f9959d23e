"""The Python SDK under its former name: everything here is :mod:`mediavault_sdk` (the ``mediavault-sdk``
distribution, installed with ``mediavault``). New code imports ``mediavault_sdk`` directly."""

from mediavault_sdk import *  # noqa: F403
from mediavault_sdk import __all__  # noqa: F401
