"""An aiohttp transport for python-telegram-bot (its ``BaseRequest`` interface).

PTB's default transport is httpx, whose connection pool scans every connection on every
request; with the dozens of requests a busy bot has in flight that scan dominated the CPU
profile. PTB still builds and parses every Bot API call; this class only moves the bytes.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlsplit
from urllib.request import getproxies, proxy_bypass_environment

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData


def _value(given: Any, default: float | None) -> float | None:
    return default if isinstance(given, DefaultValue) else given


class AiohttpRequest(BaseRequest):
    def __init__(self, connections: int = 16, *, read_timeout: float | None = 5.0,
                 write_timeout: float | None = 5.0, connect_timeout: float | None = 5.0,
                 pool_timeout: float | None = 30.0, media_write_timeout: float | None = 20.0
                 ) -> None:
        self._connections = connections
        self._read = read_timeout
        self._write = write_timeout
        self._connect = connect_timeout
        self._pool = pool_timeout
        self._media_write = media_write_timeout
        self._session: aiohttp.ClientSession | None = None
        self._proxies: dict[str, str | None] = {}

    @property
    def read_timeout(self) -> float | None:
        return self._read

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._connections, ttl_dns_cache=300)
            self._session = aiohttp.ClientSession(
                connector=connector, headers={"User-Agent": self.USER_AGENT})
            self._proxies = {}

    def _proxy_for(self, url: str) -> str | None:
        """HTTPS_PROXY / ALL_PROXY / NO_PROXY, as PTB's default transport honours them.

        Looked up once per host: aiohttp's trust_env reads them on every request, which cost
        a third of the throughput.
        """
        parts = urlsplit(url)
        key = f"{parts.scheme}://{parts.hostname}"
        if key not in self._proxies:
            proxies = getproxies()
            proxy = proxies.get(parts.scheme) or proxies.get("all")
            if proxy and proxy_bypass_environment(parts.hostname or ""):
                proxy = None
            self._proxies[key] = proxy or None
        return self._proxies[key]

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Send one Bot API request; map aiohttp failures to PTB's TimedOut/NetworkError."""
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        data: Any = None
        files = request_data is not None and request_data.contains_files
        if request_data is not None:
            if files:
                # Telegram shows file names as sent: no percent-encoding, no quotes
                form = aiohttp.FormData(quote_fields=False)
                for name, value in request_data.json_parameters.items():
                    form.add_field(name, value)
                for name, (filename, content, mimetype) in request_data.multipart_data.items():
                    if not isinstance(content, bytes):  # aiohttp would close a file handle,
                        content = content.read()  # breaking a retry of the same upload
                    safe = (filename or name).replace('"', "").replace(";", "")
                    form.add_field(name, content, filename=safe, content_type=mimetype)
                data = form
            else:
                data = request_data.json_parameters
        connect = _value(connect_timeout, self._connect)
        pool = _value(pool_timeout, self._pool)
        read = _value(read_timeout, self._read)
        write = _value(write_timeout, self._media_write if files else self._write)
        waits = [t for t in (connect, pool) if t is not None]
        timeout = aiohttp.ClientTimeout(
            # aiohttp has no separate write timeout; an upload may take as long as it makes
            # progress (sock_read only starts once the body is sent)
            total=None if files or read is None or write is None else read + write + sum(waits),
            connect=sum(waits) if waits else None,  # waiting for a free connection included
            sock_connect=connect,
            sock_read=read,
        )
        try:
            async with self._session.request(method, url, data=data, timeout=timeout,
                                             proxy=self._proxy_for(url)) as resp:
                return resp.status, await resp.read()
        except TimeoutError as err:
            raise TimedOut from err
        except asyncio.CancelledError:
            raise
        except aiohttp.ClientError as err:
            # aiohttp's messages can carry the URL, which carries the bot token
            message = str(err).replace(url, "<Bot API URL>")
            raise NetworkError(f"aiohttp.{type(err).__name__}: {message}") from err
