"""Where a VM behind the CDN may connect to: the archive, or an existing database, read from its URL. Cloud-neutral;
each cloud's VM turns it into its firewall's rules (components/aws/origin_vm.py: a security group;
components/azure/origin_vm.py: an NSG).

Security groups and network security groups match addresses and ports, never host names. An archive given by
its address gets a rule for that one address and port. An archive given by a name gets its port to any address:
the address behind a name is resolved by the VM while it runs (nginx asks the cloud's resolver, and may get a
new answer each minute), so an address written into a rule at deploy time could go stale and cut the archive off.
Give `archive.upstream_url` by address to keep the rule to one host.

A VM's egress is a plan of intents (`egress_plan`): the cloud's resolver, HTTP(S) anywhere, the places of its own,
nothing else. Each cloud writes the plan in its firewall's terms and words, so a new place a VM reaches is one
more intent here and one translation per cloud.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from enum import Enum
from urllib.parse import urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443, "postgresql": 5432}


@dataclass(frozen=True)
class Destination:
    """A host and TCP port a VM connects to."""

    host: str
    port: int
    address: str | None
    """The host as an address (IPv4 or IPv6), or None where the host is a name."""

    @property
    def cidr(self) -> str | None:
        """The one-address block of `address` (/32 or /128); None for a name."""
        if self.address is None:
            return None
        return str(ipaddress.ip_network(self.address))

    @property
    def ipv6(self) -> bool:
        return self.address is not None and ipaddress.ip_address(self.address).version == 6


def url_destination(url: str) -> Destination:
    """The host and port of a URL, such as the archive's DICOMweb root http://10.0.1.20:8042/dicom-web/."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or DEFAULT_PORTS[parts.scheme]
    try:
        address = str(ipaddress.ip_address(host))
    except ValueError:
        address = None
    return Destination(host=host, port=port, address=address)


class Reach(Enum):
    """What an egress intent lets a VM reach."""

    DNS = "dns"
    """The cloud's resolver, inside the network (on Azure, the platform address, which also serves DHCP and the VM
    agent)."""
    WEB = "web"
    """HTTP and HTTPS anywhere: Debian's mirrors and container registries sit behind CDNs with no fixed addresses,
    and the proxy fetches the realm's keys from Keycloak's public URL."""
    ARCHIVE = "archive"
    """The archive's host and port."""
    DATABASE = "database"
    """Keycloak's database: an existing one's host and port, or the one the cloud provisions."""
    NOTHING_ELSE = "nothing-else"
    """Every other destination refused."""


@dataclass(frozen=True)
class Egress:
    """One intent of a VM's egress plan."""

    reach: Reach
    to: Destination | None = None
    """For ARCHIVE and DATABASE: the host and port; None for a database the cloud provisions (the cloud knows
    where it is)."""


def egress_plan(*own: Egress) -> tuple[Egress, ...]:
    """What a VM behind the CDN may connect to: its cloud's resolver, HTTP(S) anywhere, the places of its `own`
    (the archive, Keycloak's database), and nothing else."""
    return (Egress(Reach.DNS), Egress(Reach.WEB), *own, Egress(Reach.NOTHING_ELSE))
