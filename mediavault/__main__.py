"""``python -m mediavault``: the same as the ``mediavault`` command (the SDK's, with the server's commands)."""

from mediavault_cli import main

main()
