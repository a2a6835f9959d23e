"""Persistence: models, engine set-up and migrations of the vault's own tables."""
