"""What a request may ask for, checked before the archive or the proxy's cache sees it: its query must decode, and,
with login, a token that carries a study scope reaches only the studies listed in it.

components/render/access.js does both, as variables the read locations test in nginx's rewrite phase, ahead of
the token check (access phase) and the cache (content phase).
"""

from __future__ import annotations

SCOPE_CLAIM = "dicom_studies"
"""The access token's claim that lists the StudyInstanceUIDs its holder may read (access.js reads it)."""
BAD_QUERY = "query: not valid percent-encoded UTF-8"
OUT_OF_SCOPE = "outside the studies this token may read"


def http_block(unscoped_readers: str | None) -> str:
    """`unscoped_readers`: with login, what a token without a scope reads (settings.model.UNSCOPED_READERS); None:
    no login."""
    scope = "" if unscoped_readers is None else f"""\
# A token's study scope (its {SCOPE_CLAIM} claim); a token without one reads: {unscoped_readers}.
map $host $ohif_unscoped_readers {{ default "{unscoped_readers}"; }}
js_set $ohif_scope_refused ohif_access.scopeRefused;
js_set $ohif_scoped_args ohif_access.scopedArgs;
"""
    return f"""
# What a request asks for, checked before the archive or the cache sees it (access.js).
js_set $ohif_query_refused ohif_access.queryRefused;
{scope}"""


def request_checks(login: bool) -> str:
    """In every location that passes a client's request on, after its method checks: a query that does not decode
    never reaches the archive (nor a signer); with login, a study search without a study names the token's scope."""
    checks = f"""\
        if ($ohif_query_refused) {{ return 400 '{{"error": "{BAD_QUERY}"}}'; }}
"""
    if login:
        checks += f"""\
        if ($ohif_scope_refused) {{ return 403 '{{"error": "{OUT_OF_SCOPE}"}}'; }}
        set $args $ohif_scoped_args;
"""
    return checks
