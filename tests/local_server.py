"""Serving a fake of an outside service on this machine, at a port nobody else has."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from aiohttp import web


async def serve_locally(app: web.Application) -> tuple[web.AppRunner, str]:
    """Start `app` on 127.0.0.1 at a free port; returns its runner and its root URL."""
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    return runner, f"http://{host}:{port}"


class LocalFake:
    """A fake service used as `async with`: served while inside, at `root`."""

    root = ""
    _runner: web.AppRunner | None = None

    def routes(self, app: web.Application) -> None:
        """Add the fake's endpoints."""
        raise NotImplementedError

    def closing(self) -> None:
        """Wake whatever waits inside the fake, before it stops."""

    async def __aenter__(self) -> Self:
        app = web.Application()
        self.routes(app)
        self._runner, self.root = await serve_locally(app)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.closing()
        if self._runner is not None:
            await self._runner.cleanup()
