"""A Litestar app whose own logged-in users use the vault (docs/embedding.md, "The host's users")."""

from dataclasses import dataclass, replace

from litestar import Litestar, get
from litestar.connection import ASGIConnection
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult, DefineMiddleware

from mediavault import HostIdentity, MediaVault, MediaVaultConfig


@dataclass
class Account:  # the host's own user model
    id: int
    email: str
    name: str


SESSIONS = {"s3cr3t-ada": Account(1, "ada@example.com", "Ada")}  # stands in for the host's session store


class SessionAuth(AbstractAuthenticationMiddleware):
    """The host's authentication: its session cookie, for HTTP requests and WebSocket handshakes alike."""

    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        return AuthenticationResult(user=SESSIONS.get(connection.cookies.get("session", "")), auth=None)


def vault_identity(connection: ASGIConnection) -> HostIdentity | None:
    account = connection.scope.get("user")  # what SessionAuth found: Litestar's request.user
    if account is None:
        return None
    return HostIdentity(external_id=str(account.id), email=account.email, display_name=account.name)


@get("/hello")
async def hello(request: ASGIConnection) -> dict[str, str]:
    return {"hello": request.user.name if request.user else "stranger"}


def create_app(config: MediaVaultConfig) -> Litestar:
    return Litestar(
        route_handlers=[hello],
        middleware=[DefineMiddleware(SessionAuth)],
        plugins=[MediaVault(replace(config, host_identity=vault_identity))],
    )
