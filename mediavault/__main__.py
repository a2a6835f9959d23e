"""``python -m mediavault``: the same as the ``mediavault`` command."""

from mediavault.cli import main

main(prog_name="mediavault")
