"""API keys of the caller: ``/users/me/api-keys``."""
