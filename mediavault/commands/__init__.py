"""The ``mediavault`` commands for people: ``login``/``logout`` (:mod:`.session`), ``upload``/``download``
(:mod:`.transfer`) talk to a server through :mod:`mediavault.client`; ``users create`` (:mod:`.users`) works on the
configured database, like ``mediavault migrate``. :mod:`mediavault.cli` adds them to its group."""
