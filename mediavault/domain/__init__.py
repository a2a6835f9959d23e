"""The vault's API, one folder per area: controllers (HTTP) → services (rules) → repositories/storage."""
