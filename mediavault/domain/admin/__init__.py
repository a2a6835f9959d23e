"""Administration: users (disable, role, quota) and the audit log, for admins only: ``/admin``."""
