"""``/admin``: users and the audit log, for admins (anyone else → 403)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from litestar import Controller, Request, Response
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody

from mediavault.auth.scopes import EVERY_SCOPE, SCOPE_OPT
from mediavault.domain.admin.schemas import AdminUserOut, AdminUserUpdate, AuditEventOut
from mediavault.domain.admin.services import AdminService
from mediavault.domain.deps import CurrentPrincipal
from mediavault.http.auth import require_admin
from mediavault.http.envelope import Envelope, PageParam, PerPageParam, envelope, paginated
from mediavault.http.routes import get, patch

__all__ = ("AdminController", "AdminServiceDep")

AdminServiceDep = NamedDependency[AdminService]
"""``mediavault_admin_service``."""


class AdminController(Controller):
    """Users and the audit log (role ``admin``; an API key needs every scope)."""

    path = "/admin"
    tags = ["admin"]
    guards = [require_admin]
    opt = {SCOPE_OPT: EVERY_SCOPE}

    @get("/users")
    async def list_users(
        self,
        request: Request[Any, Any, Any],
        mediavault_admin_service: AdminServiceDep,
        q: FromQuery[str | None] = None,
        page: PageParam = 1,
        per_page: PerPageParam = 20,
    ) -> Response[Envelope[list[AdminUserOut]]]:
        """Every user (oldest first), paginated; ``q`` keeps those whose email or display name contains it."""
        users, total = await mediavault_admin_service.list_users(q=q, page=page, per_page=per_page)
        return paginated(
            request, [AdminUserOut.of(u) for u in users], total=total, page=page, per_page=per_page, path="/admin/users"
        )

    @get("/users/{user_id:str}")
    async def get_user(
        self, request: Request[Any, Any, Any], user_id: FromPath[str], mediavault_admin_service: AdminServiceDep
    ) -> Response[Envelope[AdminUserOut]]:
        """One user, with ``disabled``, ``quota_bytes`` and ``used_bytes``."""
        return envelope(request, AdminUserOut.of(await mediavault_admin_service.get_user(user_id)))

    @patch("/users/{user_id:str}")
    async def update_user(
        self,
        request: Request[Any, Any, Any],
        user_id: FromPath[str],
        data: JSONBody[AdminUserUpdate],
        mediavault_principal: CurrentPrincipal,
        mediavault_admin_service: AdminServiceDep,
    ) -> Response[Envelope[AdminUserOut]]:
        """Set ``disabled``, ``role`` or ``quota_bytes`` (``null``: unlimited). Disabling ends the user's logins and
        refuses their API keys at once; disabling or demoting yourself → 400."""
        found = await mediavault_admin_service.update_user(mediavault_principal, user_id, data)
        return envelope(request, AdminUserOut.of(found))

    @get("/audit")
    async def list_audit(
        self,
        request: Request[Any, Any, Any],
        mediavault_admin_service: AdminServiceDep,
        action: FromQuery[str | None] = None,
        actor_id: FromQuery[str | None] = None,
        since: FromQuery[dt.datetime | None] = None,
        until: FromQuery[dt.datetime | None] = None,
        page: PageParam = 1,
        per_page: PerPageParam = 20,
    ) -> Response[Envelope[list[AuditEventOut]]]:
        """The audit log, newest first, paginated; filtered by ``action``, ``actor_id`` and a time window (``since``
        inclusive, ``until`` exclusive, RFC 3339)."""
        rows, total = await mediavault_admin_service.audit_page(
            action=action, actor_id=actor_id, since=since, until=until, page=page, per_page=per_page
        )
        return paginated(
            request, [AuditEventOut.of(r) for r in rows], total=total, page=page, per_page=per_page, path="/admin/audit"
        )
