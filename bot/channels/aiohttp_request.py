"""python-telegram-bot's HTTP calls over aiohttp instead of httpx.

Under a burst the bot's own replies cost more CPU than its database work, most of it in httpx
(py-spy on bench/throughput.py: 14% of samples in httpx, 11% in handling updates); aiohttp
does the same calls for less.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import ClientError, ClientSession, ClientTimeout, FormData, TCPConnector
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData


# RequestData is final to type checkers only. Subclassing it lets a call skip the Bot's layers
# and still get python-telegram-bot's answer parsing and errors from BaseRequest.post().
class JsonFields(RequestData):  # type: ignore[misc]
    """A call's fields as one JSON body, for the calls every update makes.

    python-telegram-bot wraps each field in an object, JSON-encodes it and form-encodes the
    lot; aiohttp sends this body as it is. Other requests still read the fields as usual.
    """

    def __init__(self, fields: dict[str, Any]) -> None:
        super().__init__()
        self.fields = fields
        self.body = json.dumps(fields, ensure_ascii=False).encode()

    @property
    def parameters(self) -> dict[str, Any]:
        """The fields as given."""
        return dict(self.fields)

    @property
    def json_parameters(self) -> dict[str, str]:
        """Each field JSON-encoded, strings left as they are (python-telegram-bot's form)."""
        return {k: v if isinstance(v, str) else json.dumps(v) for k, v in self.fields.items()}


class AiohttpRequest(BaseRequest):
    """One aiohttp session with a connection pool; timeouts as python-telegram-bot passes them.

    aiohttp has no separate write timeout: a slow upload is bounded by the connect and read
    timeouts of the call.
    """

    def __init__(
        self,
        *,
        connections: int = 256,
        read_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
    ) -> None:
        self._connections = connections
        self._read_timeout = read_timeout
        self._connect_timeout = connect_timeout
        self._session: ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        """The read timeout used when a call does not name one."""
        return self._read_timeout

    async def initialize(self) -> None:
        """Open the session (again, after a shutdown)."""
        if self._session is None or self._session.closed:
            connector = TCPConnector(limit=self._connections)
            headers = {"User-Agent": self.USER_AGENT}
            self._session = ClientSession(connector=connector, headers=headers)

    async def shutdown(self) -> None:
        """Close the session and its connections."""
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(  # noqa: PLR0917 - python-telegram-bot's signature
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """One HTTP call; a timeout becomes TimedOut, any other failure NetworkError."""
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        read = self._read_timeout if read_timeout is BaseRequest.DEFAULT_NONE else read_timeout
        connect = (
            self._connect_timeout
            if connect_timeout is BaseRequest.DEFAULT_NONE
            else connect_timeout
        )
        timeout = ClientTimeout(total=None, sock_connect=connect, sock_read=read)
        try:
            data, headers = _body(request_data)
            async with self._session.request(
                method, url, data=data, headers=headers, timeout=timeout
            ) as response:
                return response.status, await response.read()
        except TimeoutError as error:
            raise TimedOut from error
        except (ClientError, asyncio.IncompleteReadError) as error:
            raise NetworkError(f"aiohttp.{type(error).__name__}: {error}") from error


def _body(request_data: RequestData | None) -> tuple[FormData | bytes | None, dict[str, str]]:
    """The body and its headers: form fields encoded here (aiohttp's form machinery cost a
    send a seventh of its CPU, bench/README.md), files as multipart parts.
    """
    if request_data is None:
        return None, {}
    if isinstance(request_data, JsonFields):
        return request_data.body, {"Content-Type": "application/json"}
    files = request_data.multipart_data
    if not files:
        encoded = request_data.url_encoded_parameters().encode()
        return encoded, {"Content-Type": "application/x-www-form-urlencoded"}
    form = FormData(request_data.json_parameters)
    for name, (filename, content, mime_type) in files.items():
        form.add_field(name, content, filename=filename, content_type=mime_type)
    return form, {}
