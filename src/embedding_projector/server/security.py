"""Who may talk to the server.

- On loopback (the default) only requests addressed to this machine are served: a
  ``Host`` that is a loopback IP literal, or ``localhost`` exactly. A page of another
  site whose name was rebound to 127.0.0.1 sends its own name (``127.0.0.1.evil.example``
  is a name, not an address), so DNS rebinding is refused.
- Beyond loopback a random token is required: given once as ``?token=`` (then kept in
  a cookie), or as ``Authorization: Bearer``; compared in constant time.
- A loopback server reached through a proxy that forwards the browser's own ``Host``
  (jupyter-server-proxy does) has a token too: requests addressed to another name need it,
  which a rebinding page cannot know; loopback names still need none.
- Requests that change state, and WebSockets, must come from the page itself: a
  foreign ``Origin`` is refused (no CORS, and no cross-site requests either).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import re
from urllib.parse import parse_qs, urlsplit

from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# RFC 9110 Host: a name or IPv4 literal, or an IPv6 literal in brackets; then an optional port.
_HOST = re.compile(r"(?P<name>\[[^\[\]]*\]|[^:\[\]]*)(?::[0-9]*)?")


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a bind address, or the name part of a ``Host``) is this machine only.

    Only an IP literal is judged by its address (127.0.0.0/8, ``::1``, and IPv4-mapped
    ``::ffff:127.x.y.z``); a name must be ``localhost`` itself, since any other name
    (``127.0.0.1.evil.example`` included) resolves wherever its owner wants.
    """
    if host.lower() == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host.removeprefix("[").removesuffix("]"))
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def host_name(host: str) -> str | None:
    """The name or address of a ``Host`` header without its port; None when malformed."""
    match = _HOST.fullmatch(host)
    return match.group("name") if match else None


def token_cookie(token: str) -> str:
    """The cookie that keeps ``token``: one name per server, as cookies ignore ports and
    several servers can sit behind one Jupyter server."""
    return f"projector_token_{hashlib.sha256(token.encode()).hexdigest()[:8]}"


class SecurityMiddleware:
    """ASGI middleware applying the rules of this module to HTTP and WebSocket requests.

    ``loopback_only``: the server listens on loopback and judges host names.
    """

    def __init__(self, app: ASGIApp, *, token: str | None, loopback_only: bool) -> None:
        self.app = app
        self.token = token
        self.loopback_only = loopback_only

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        host = headers.get("host", "")
        refusal = self._refusal(scope, headers, host)
        if refusal is not None:
            await _refuse(scope, send, *refusal)
            return
        if self.token and _query_token(scope) == self.token and scope["type"] == "http":
            send = _setting_cookie(send, self.token)
        await self.app(scope, receive, send)

    def _refusal(self, scope: Scope, headers: dict[str, str], host: str) -> tuple[int, str] | None:
        loopback_host = is_loopback(host_name(host) or "")
        if self.loopback_only and not loopback_host and not self.token:
            return 403, f"host {host!r} refused: this server only answers on loopback"
        origin = headers.get("origin")
        unsafe = scope["type"] == "websocket" or scope.get("method") not in _SAFE_METHODS
        if unsafe and origin and urlsplit(origin).netloc != host:
            return 403, f"cross-origin request from {origin!r} refused"
        token_needed = self.token is not None and not (self.loopback_only and loopback_host)
        if token_needed and not self._authorized(scope, headers):
            return 401, "a token is required: open the URL the server printed (with ?token=...)"
        return None

    def _authorized(self, scope: Scope, headers: dict[str, str]) -> bool:
        assert self.token is not None
        cookies = cookie_parser(headers.get("cookie", ""))
        candidates = [
            _query_token(scope),
            cookies.get(token_cookie(self.token)),
            headers.get("authorization", "").removeprefix("Bearer ").strip() or None,
        ]
        expected = self.token.encode()
        return any(c is not None and hmac.compare_digest(c.encode(), expected) for c in candidates)


def _query_token(scope: Scope) -> str | None:
    values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token")
    return values[0] if values else None


def _setting_cookie(send: Send, token: str) -> Send:
    """Wrap ``send`` to set the token cookie on the response start."""

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            cookie = f"{token_cookie(token)}={token}; Path=/; HttpOnly; SameSite=Strict"
            message.setdefault("headers", []).append((b"set-cookie", cookie.encode()))
        await send(message)

    return wrapped


async def _refuse(scope: Scope, send: Send, status: int, message: str) -> None:
    if scope["type"] == "websocket":
        # Closing before accepting makes the server answer the handshake with 403.
        await send({"type": "websocket.close", "code": 1008, "reason": message[:120]})
        return
    code = "unauthorized" if status == 401 else "forbidden"
    body = json.dumps({"error": {"code": code, "message": message, "detail": None}}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
