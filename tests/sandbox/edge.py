"""Requests from a chosen source address: every 127.0.0.0/8 address is local, so a test can come from outside the
sandbox's allow-list (127.0.0.1/32) by sending from 127.0.0.2, with no set-up."""

from __future__ import annotations

import http.client
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

INSIDE, OUTSIDE = "127.0.0.1", "127.0.0.2"


@dataclass(frozen=True)
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes


def fetch_from(source: str, url: str, method: str = "GET", headers: dict[str, str] | None = None) -> Answer:
    parts = urlsplit(url)
    if parts.scheme == "https":  # trusting what this process trusts (tests/conftest.py: the session's CA)
        connection = http.client.HTTPSConnection(parts.hostname, parts.port, timeout=30, source_address=(source, 0),
                                                 context=ssl.create_default_context())
    else:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30, source_address=(source, 0))
    try:
        connection.request(method, parts.path + (f"?{parts.query}" if parts.query else ""), headers=headers or {})
        reply = connection.getresponse()
        return Answer(reply.status, reply.headers, reply.read())
    finally:
        connection.close()
