"""Versions of media items' bytes: list, download and restore previous ones."""
