"""The trash: deleted media, restorable until purged (``trash_retention_days``)."""
