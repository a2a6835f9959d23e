"""``python -m mediavault_encrypted``: print a new random master key (base64 of 32 bytes)."""

from mediavault_encrypted.format import generate_key

print(generate_key())
