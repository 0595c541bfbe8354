"""Who may reach the stack, decided at its edge: the allow-list of networks and the rate limit per client address.

One source for the three edges, each of which runs in front of everything else the stack serves:
    AWS      a WAF web ACL on every CloudFront distribution (components/aws/edge_firewall.py)
    Azure    a Front Door WAF policy on every endpoint (components/azure/edge_firewall.py)
    sandbox  nginx, from `render_nginx_edge`, first in every server block that stands in for a CDN

The address each edge judges is the socket peer: the address the TCP connection comes from, which a client
cannot choose. Never `X-Forwarded-For` (or Front Door's RemoteAddr, which is read from it): a client writes that
header itself, so an allow-list that read it would admit anyone who claims an allowed address.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

from components.render.dicomweb_proxy.interface import DICOMWEB_PATH

RATE_WINDOW_SECONDS = 300
"""The window a rate limit counts in: five minutes, which AWS WAF's rate-based rules and Front Door's both offer."""
RATE_LIMITED_PATH = f"{DICOMWEB_PATH}/"
"""What the rate limit counts: DICOMweb requests, where a script would copy the archive from."""
RATE_RETRY_AFTER_SECONDS = 60
"""What a client over the limit is told to wait (Retry-After); the edges count continuously, so a minute frees room."""
KEY_SET_PREFIX, KEY_SET_SUFFIX = "/realms/", "/protocol/openid-connect/certs"
"""A realm's public keys (`/realms/<realm>/protocol/openid-connect/certs`) stay open to every address: the proxy VMs
fetch them from Keycloak's public URL through their NAT address, which no allow-list names
(components/render/realm.py: token_check). They are public keys; every edge admits them before the allow-list."""
REFUSED = "forbidden: this address may not reach this service"


def rate_per_minute(rate_limit: int) -> int:
    """The five-minute limit as a steady rate per minute, for an edge that meters a rate (nginx's limit_req)."""
    return max(1, round(rate_limit * 60 / RATE_WINDOW_SECONDS))


@dataclass(frozen=True)
class NginxEdge:
    """The sandbox's stand-in for a CDN's edge (HTTPS only, its firewall), in three parts for where they go in
    nginx.conf."""

    http: str
    """Once per nginx, in the http context: which addresses are outside, and the rate counters."""
    server: str
    """First in a server block: plain HTTP is redirected to HTTPS, and outsiders get 403 before anything else of the
    server runs."""
    rate_limit: str
    """In the server or location that serves DICOMweb: over the limit gets 429 (Retry-After: $ohif_edge_retry_after)."""

    def server_directives(self, indent: str = "    ") -> str:
        return textwrap.indent(self.server, indent)

    def rate_limit_directives(self, indent: str = "    ") -> str:
        return textwrap.indent(self.rate_limit, indent)


def render_nginx_edge(allowed_networks: tuple[str, ...], rate_limit: int) -> NginxEdge:
    """The allow-list (empty: everyone) and the rate limit, as nginx enforces them.

    A `geo` block and a `return` at the top of the server, not `allow`/`deny`: those run in the access phase, after
    every `return` of the rewrite phase, so a preflight the proxy answers with `return 204` would slip past them, where
    a WAF refuses it. `geo` reads $remote_addr, the socket peer: no realip module is configured to rewrite it."""
    outside = ""
    if allowed_networks:
        networks = "".join(f"    {n} 0;\n" for n in allowed_networks)
        outside = f"""\
geo $ohif_edge_outside {{
    default 1;
{networks}}}
map "$ohif_edge_outside:$uri" $ohif_edge_refused {{
    "~^1:{KEY_SET_PREFIX}[^/]+{KEY_SET_SUFFIX}$" 0;
    "~^1:" 1;
    default 0;
}}
"""
    http = f"""\
# The edge: who may reach this host, and how fast (components/render/edge.py).
{outside}limit_req_zone $binary_remote_addr zone=ohif_edge_rate:10m rate={rate_per_minute(rate_limit)}r/m;
map $status $ohif_edge_retry_after {{
    429 "{RATE_RETRY_AFTER_SECONDS}";
    default "";
}}
"""
    # HTTPS only, as the CDNs' viewer protocol policy: plain HTTP sent to the TLS port (nginx's 497) is redirected.
    server = "error_page 497 =301 https://$http_host$request_uri;\n"
    if allowed_networks:
        server += f"if ($ohif_edge_refused) {{ return 403 '{{\"error\": \"{REFUSED}\"}}'; }}\n"
    # `burst` lets a whole window's worth through at once, as a WAF counting a window does; then the steady rate.
    rate = f"limit_req zone=ohif_edge_rate burst={rate_limit} nodelay;\nlimit_req_status 429;\n"
    return NginxEdge(http=http, server=server, rate_limit=rate)
