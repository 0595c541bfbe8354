"""How nginx knows a request came through our CDN, one type per kind of check. Each renders its server-level lines;
a proxy or Keycloak VM places them in every server a client reaches.

    SharedSecretCheck  CloudFront's X-Origin-Verify with a generated secret, in the config itself
    SecretFileCheck    the same check, in a file the VM writes at boot from the cloud's secret store, so the secret
                       is not in user data (components/render/secret_files.py)
    FrontDoorCheck     Front Door's X-Azure-FDID, our profile's ID
    NoOriginCheck      no CDN in front: the sandbox
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from components.render.dicomweb_proxy.interface import FRONT_DOOR_ID_HEADER, ORIGIN_VERIFY_HEADER
from components.render.dicomweb_proxy.quoting import nginx_string

ORIGIN_CHECK_PATH = "/etc/nginx/ohif-secrets/origin-check.conf"
"""Where a VM's nginx finds the origin check when its value is a secret, written at boot from the cloud's secret
store."""
ORIGIN_CHECK_CLOSED = "    return 403 '{\"error\": \"forbidden\"}';\n"
"""What that file holds until the secret arrives: every request refused."""


def _header_check(header: str, value: str) -> str:
    return f"""
    # Only our CDN sends this value: a request without it did not come through our CDN. (A body of its own:
    # an error page would run this server-level check again and end in nginx's HTML.)
    if ($http_{header.lower().replace("-", "_")} != "{value}") {{ return 403 '{{"error": "forbidden"}}'; }}
"""


@dataclass(frozen=True)
class OriginCheck(ABC):
    """A check that a request came through our CDN."""

    @abstractmethod
    def directives(self) -> str:
        """Its lines in a server block."""

    def boot_files(self) -> list[dict]:
        """The cloud-init `write_files` entries it needs before nginx starts."""
        return []


@dataclass(frozen=True)
class SharedSecretCheck(OriginCheck):
    """CloudFront sends ORIGIN_VERIFY_HEADER with `secret`; no one else knows it."""

    secret: str

    def __post_init__(self) -> None:
        nginx_string(self.secret)

    def directives(self) -> str:
        return _header_check(ORIGIN_VERIFY_HEADER, self.secret)


@dataclass(frozen=True)
class SecretFileCheck(OriginCheck):
    """A SharedSecretCheck's lines, which the VM writes to `path` at boot from the cloud's secret store."""

    path: str = ORIGIN_CHECK_PATH

    def directives(self) -> str:
        return f"    include {self.path};\n"

    def boot_files(self) -> list[dict]:
        """The file in place before the secret arrives, so that nginx starts with its door closed."""
        return [{"path": self.path, "permissions": "0600", "content": ORIGIN_CHECK_CLOSED}]


@dataclass(frozen=True)
class FrontDoorCheck(OriginCheck):
    """Front Door sends FRONT_DOOR_ID_HEADER with its profile's ID: any tenant's Front Door could reach the VM, only
    ours sends our ID."""

    front_door_id: str

    def __post_init__(self) -> None:
        nginx_string(self.front_door_id)

    def directives(self) -> str:
        return _header_check(FRONT_DOOR_ID_HEADER, self.front_door_id)


@dataclass(frozen=True)
class NoOriginCheck(OriginCheck):
    """No CDN in front (the sandbox): nothing to check."""

    def directives(self) -> str:
        return ""
