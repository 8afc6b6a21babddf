"""A remote server over streamable HTTP, SSE, or both tried in turn (`auto`).

`auto` yields streamable HTTP first, then SSE: the session tries them in that order and, when
neither works, its error names both attempts.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx2
from mcp.client._transport import Transport
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client

from .base import Target

__all__ = ["HttpConnector"]


@dataclass
class HttpConnector:
    """A remote server over streamable HTTP, SSE, or both tried in turn (`auto`)."""

    name: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    transport: str = "auto"
    connect_timeout: float = 30.0
    request_timeout: float | None = 60.0
    sse_read_timeout: float = 300.0
    verify: bool = True

    def transports(self) -> Iterator[tuple[str, Target]]:
        if self.transport in ("auto", "streamable_http"):
            yield "streamable HTTP", self._streamable_http()
        if self.transport in ("auto", "sse"):
            yield "SSE", sse_client(
                self.url,
                headers=self.headers,
                timeout=self.connect_timeout,
                sse_read_timeout=self.sse_read_timeout,
                httpx_client_factory=self._client_factory,
            )

    def diagnostics(self) -> str:
        return ""

    def _streamable_http(self) -> Transport:
        client = self._client_factory(headers=self.headers)
        return streamable_http_client(self.url, http_client=client)

    def _client_factory(
        self,
        headers: dict[str, str] | None = None,
        timeout: httpx2.Timeout | None = None,
        auth: httpx2.Auth | None = None,
    ) -> httpx2.AsyncClient:
        return httpx2.AsyncClient(
            headers=headers,
            timeout=timeout or httpx2.Timeout(self.connect_timeout, read=self.sse_read_timeout),
            auth=auth,
            verify=self.verify,
        )
