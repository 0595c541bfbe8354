"""Content-Security-Policy values as the frame-ancestors rules read them.

The embedded recipe lets its host applications frame the viewer with `frame-ancestors 'self' <host origins>`
(components/render/headers.py: viewer_headers). A source that names no single origin lets pages nobody
listed frame the viewer, signed-in session and studies included (clickjacking, and a page that reads what
the viewer posts to its parent):
- `*`;
- any source with a wildcard: `*.example.org` or `https://*.example.org` admit every subdomain, among them
  ones another team, a user-content host or a dangling DNS record hands to someone else;
  `https://portal.example.org:*` admits every port of the host;
- a scheme-only source: `https:` admits every HTTPS site, `data:` and `blob:` pages anyone can make.
`'self'`, `'none'` and exact origins (scheme, host, optional port) pass.
(www.w3.org/TR/CSP3/#directive-frame-ancestors)
"""

from __future__ import annotations

import re
from collections.abc import Iterable

CSP_HEADER = "content-security-policy"
SCHEME_ONLY = re.compile(r"^[a-z][a-z0-9+.-]*:$", re.I)


def frame_ancestors(csp: str) -> list[str]:
    """The sources of each frame-ancestors directive in a CSP header value (policies are separated by commas,
    directives by semicolons, directive names are case-insensitive)."""
    sources = []
    for policy in csp.split(","):
        for directive in policy.split(";"):
            tokens = directive.split()
            if tokens and tokens[0].lower() == "frame-ancestors":
                sources += tokens[1:]
    return sources


def unnamed_sources(sources: Iterable[str]) -> list[str]:
    """The sources that admit pages they do not name: wildcards and scheme-only sources."""
    return [s for s in sources if "*" in s or SCHEME_ONLY.match(s)]
