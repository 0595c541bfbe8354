"""SigV4 as AWS computes it, by botocore's SigV4Auth: the yardstick the proxy's own signer (components/render/
archive_credentials.js) is measured against, and what the sandbox's stand-in HealthImaging checks requests with."""

from __future__ import annotations

import datetime
from unittest import mock
from urllib.parse import unquote

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

AMZ_DATE = "%Y%m%dT%H%M%SZ"


def query_pairs(query: str) -> list[tuple[str, str]]:
    """A raw query string's names and values, decoded as a service decodes them ('+' stays a plus)."""
    pairs = []
    for part in filter(None, query.split("&")):
        name, _, value = part.partition("=")
        pairs.append((unquote(name), unquote(value)))
    return pairs


def authorization(*, method: str, host: str, path: str, query: str, key: str, secret: str, token: str | None,
                  amz_date: str, region: str, service: str) -> str:
    """The Authorization header botocore signs this GET/HEAD request with (headers Host, X-Amz-Date and, with a
    session token, X-Amz-Security-Token) at `amz_date`."""
    request = AWSRequest(method=method, url=f"https://{host}{path}", params=query_pairs(query),
                         headers={"Host": host})
    when = datetime.datetime.strptime(amz_date, AMZ_DATE)
    with mock.patch("botocore.auth.get_current_datetime", return_value=when):
        SigV4Auth(Credentials(key, secret, token), service, region).add_auth(request)
    return request.headers["Authorization"]
