"""HttpTransport: JSON requests to the broker, answers and failures as client exceptions."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from typing import Any

import aiohttp
import orjson

from pubsubgo.client.errors import ClientClosed, ServerUnreachable, error_for_status

#: Seconds to open a TCP connection: a broker that does not accept within this is down.
CONNECT_TIMEOUT_SECONDS = 10.0
#: Default seconds a whole request may take (a long-poll pull gets its wait on top).
REQUEST_TIMEOUT_SECONDS = 30.0

#: Requests that may be sent twice without a second effect.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE"})

_JSON_HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}


class HttpTransport:
    """Sends JSON requests to one broker over an aiohttp session.

    Args:
        url: the broker's base URL, e.g. ``http://localhost:8081``.
        token: a bearer token sent as ``Authorization``, if any.
        timeout: default seconds per request.
        session: a session to use instead of a private one; the caller closes it.
    """

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        timeout: float = REQUEST_TIMEOUT_SECONDS,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        # "localhost:8081" means http: a bare host is what people type after --server.
        self.url = (url if "://" in url else f"http://{url}").rstrip("/")
        self.timeout = timeout
        self.headers: dict[str, str] = {"Authorization": f"Bearer {token}"} if token else {}
        self._session = session
        self._owns_session = session is None
        self._closed = False

    @property
    def session(self) -> aiohttp.ClientSession:
        """The session, created on first use (inside the running loop)."""
        if self._closed:
            raise ClientClosed("client")
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(connect=CONNECT_TIMEOUT_SECONDS)
            )
        return self._session

    async def aclose(self) -> None:
        """Close the private session (a caller's session is left open)."""
        self._closed = True
        if self._owns_session and self._session is not None:
            await self._session.close()

    async def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        params: Mapping[str, str] | None = None,
        time_limit: float | None = None,
    ) -> Any:
        """Send one request and return the decoded JSON answer (None for an empty one).

        Raises:
            ServerUnreachable: no answer (refused, DNS, timeout, connection lost).
            PubSubClientError: the subclass for the broker's error status.
        """
        data = None if body is None else orjson.dumps(body)
        limit = aiohttp.ClientTimeout(
            total=time_limit or self.timeout, connect=CONNECT_TIMEOUT_SECONDS
        )
        with self.unreachable_as_error():
            try:
                return await self._send(method, path, data, params, limit)
            except aiohttp.ServerDisconnectedError:
                # A pooled keep-alive connection the broker closed (it restarted) fails
                # like this before the request is read; only a request that is safe to
                # repeat is sent again, on a fresh connection.
                if method not in IDEMPOTENT_METHODS:
                    raise
                return await self._send(method, path, data, params, limit)

    async def _send(
        self,
        method: str,
        path: str,
        data: bytes | None,
        params: Mapping[str, str] | None,
        limit: aiohttp.ClientTimeout,
    ) -> Any:
        async with self.session.request(
            method,
            self.url + path,
            data=data,
            params=params,
            headers=self.headers | _JSON_HEADERS,
            timeout=limit,
        ) as response:
            return self._answer(response, await response.read())

    def _answer(self, response: aiohttp.ClientResponse, raw: bytes) -> Any:
        decoded = _decode(raw)
        if response.status >= 400:
            raise error_for_status(
                response.status, decoded, response.reason or "", response.headers.get("Retry-After")
            )
        return decoded

    @contextlib.contextmanager
    def unreachable_as_error(self) -> Iterator[None]:
        """Turn aiohttp's connection failures and timeouts into :class:`ServerUnreachable`."""
        try:
            yield
        except aiohttp.ClientConnectorError as error:
            raise ServerUnreachable(self.url, _reason(error.os_error)) from error
        except aiohttp.ServerDisconnectedError as error:
            raise ServerUnreachable(self.url, "the connection was closed by the server") from error
        except aiohttp.InvalidURL as error:
            raise ServerUnreachable(self.url, "not a valid URL") from error
        except TimeoutError as error:  # aiohttp's own timeouts are TimeoutErrors too
            raise ServerUnreachable(self.url, "no answer in time") from error
        except aiohttp.ClientConnectionError as error:
            raise ServerUnreachable(self.url, str(error) or type(error).__name__) from error


def _decode(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None  # a proxy's HTML error page: the status alone must do


def _reason(error: OSError) -> str:
    """``connection refused``, ``name or service not known``: the OS's words, lower case."""
    # asyncio's own strerror ("Connect call failed ('127.0.0.1', 1)") says less than errno;
    # a DNS failure has a negative errno and its own words in strerror.
    if error.errno is not None and error.errno > 0:
        return os.strerror(error.errno).lower()
    return (error.strerror or str(error) or type(error).__name__).lower()
