"""Authentication: password hashing, JWTs, principals and auth providers."""
