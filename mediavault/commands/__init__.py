"""The server's commands that are more than a few lines: ``users create`` (:mod:`.users`) works on the configured
database, like ``mediavault migrate``; ``export``, ``import`` and ``storage migrate`` (:mod:`.backup`) on its
database and storage. :mod:`mediavault.cli` adds them to its group. (The commands for people, ``login``,
``upload``, ``download``, ``ls``, come with the SDK: :mod:`mediavault_cli`.)"""
