"""What stands between the desk and the internet: headers, rate limits, signed notices."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.typedefs import Middleware

# Nothing from elsewhere: no inline script or style, no frames, forms post only here; pictures
# from the map tiles' host alone, when the operator named one (TIPLINE_DESK_TILES_URL).
POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:{tiles}; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    # Tips must not stay in a shared computer's cache, nor in a proxy's.
    "Cache-Control": "no-store",
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def tiles_origin(tiles_url: str) -> str:
    """The one address map tiles come from ("https://tile.example.org"), or "" for none."""
    parts = urlsplit(tiles_url)
    return f"{parts.scheme}://{parts.netloc}" if tiles_url else ""


def security_headers(tiles_url: str = "") -> Middleware:
    """Every desk response, pages, files and errors alike, carries the security headers; the
    policy lets pictures come from the tiles' host only when there is one."""
    origin = tiles_origin(tiles_url)
    headers = HEADERS | {
        "Content-Security-Policy": POLICY.format(tiles=f" {origin}" * bool(origin))
    }

    @web.middleware
    async def guarded(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            response = await handler(request)
        except web.HTTPException as error:
            error.headers.update(headers)
            raise
        response.headers.update(headers)
        return response

    return guarded


class Attempts:
    """At most `limit` attempts per key (an address) in any `window` seconds, kept in memory:
    lost at a restart, which only gives a guesser a fresh minute against 256-bit tokens."""

    def __init__(
        self, limit: int, window: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._seen: dict[str, deque[float]] = {}

    def allow(self, key: str) -> bool:
        """Count one attempt; False once the key has used up its window."""
        now = self.clock()
        seen = self._seen.setdefault(key, deque())
        while seen and seen[0] <= now - self.window:
            seen.popleft()
        if len(seen) >= self.limit:
            return False
        seen.append(now)
        if len(self._seen) > 10_000:  # forget idle addresses rather than grow for ever
            self._seen = {k: v for k, v in self._seen.items() if v and v[-1] > now - self.window}
        return True


def seal_notice(key: str, said: str, values: dict[str, Any]) -> str:
    """A result to show after a redirect, signed so a crafted link cannot put words on a page."""
    body = base64.urlsafe_b64encode(json.dumps([said, values]).encode()).decode()
    return f"{body}.{_mac(key, body)}"


def open_notice(key: str, sealed: str) -> tuple[str, dict[str, Any]] | None:
    """The result a signed notice names; None when it was not signed with this key."""
    body, _, mac = sealed.partition(".")
    if not body or not hmac.compare_digest(mac.encode(), _mac(key, body).encode()):
        return None
    try:
        said, values = json.loads(base64.urlsafe_b64decode(body.encode()))
    except ValueError:
        return None
    return (said, values) if isinstance(said, str) and isinstance(values, dict) else None


def _mac(key: str, body: str) -> str:
    return hmac.new(key.encode(), body.encode(), hashlib.sha256).hexdigest()[:32]
