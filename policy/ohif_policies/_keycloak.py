"""Keycloak realms and clients as several rules read them: pulumi-keycloak resources (an existing Keycloak),
or the realm import a provisioned Keycloak VM writes at first start (in its user data or custom data)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from ._azure import VM, custom_data
from ._cloud_init import written_files
from ._ec2 import INSTANCE, user_data

REALM = "keycloak:index/realm:Realm"
CLIENT = "keycloak:openid/client:Client"
IMPORT_DIR = "/etc/keycloak/import/"


def realm_imports(args: Any) -> Iterator[dict]:
    """Realm representations in a VM's cloud-init: an EC2 Instance's user data, or an Azure VM's custom data."""
    if args.resource_type == INSTANCE:
        cloud_init = user_data(args)
    elif args.resource_type == VM:
        cloud_init = custom_data(args.props)
    else:
        return
    for f in written_files(cloud_init):
        if str(f.get("path", "")).startswith(IMPORT_DIR):
            yield json.loads(f["content"])


def clients(args: Any) -> Iterator[dict]:
    """Each OpenID client as {name, public, code_flow, pkce, implicit, password_grant, redirects, origins}."""
    if args.resource_type == CLIENT:
        p = args.props
        yield {"name": p.get("clientId"), "public": p.get("accessType") == "PUBLIC",
               "code_flow": bool(p.get("standardFlowEnabled")),
               "pkce": p.get("pkceCodeChallengeMethod") or "", "implicit": bool(p.get("implicitFlowEnabled")),
               "password_grant": bool(p.get("directAccessGrantsEnabled")),
               "redirects": list(p.get("validRedirectUris") or []) + list(p.get("validPostLogoutRedirectUris") or []),
               "origins": list(p.get("webOrigins") or [])}
    for realm in realm_imports(args):
        for c in realm.get("clients") or []:
            attributes = c.get("attributes") or {}
            yield {"name": c.get("clientId"), "public": bool(c.get("publicClient")),
                   "code_flow": bool(c.get("standardFlowEnabled", True)),
                   "pkce": attributes.get("pkce.code.challenge.method") or "",
                   "implicit": bool(c.get("implicitFlowEnabled")),
                   "password_grant": bool(c.get("directAccessGrantsEnabled", True)),
                   "redirects": list(c.get("redirectUris") or [])
                   + [u for u in (attributes.get("post.logout.redirect.uris") or "").split("##") if u],
                   "origins": list(c.get("webOrigins") or [])}


def ssl_required(args: Any) -> Iterator[tuple[str, str]]:
    """(realm name, sslRequired) of each realm."""
    if args.resource_type == REALM:
        yield args.props.get("realm"), args.props.get("sslRequired") or "external"
    for realm in realm_imports(args):
        yield realm.get("realm"), realm.get("sslRequired") or "external"
