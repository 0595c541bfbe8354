"""The share links' signing keys, generated per stack: one per key ID (ohif:share.signing_keys), each a Pulumi secret
from the moment it exists, bound for the cloud's secret store and from there to every proxy as the file
components/render/dicomweb_proxy/token_check.py renders (share_keys_conf)."""

from __future__ import annotations

import base64

import pulumi
import pulumi_random as random

from components.render.dicomweb_proxy.token_check import share_keys_conf
from settings import ShareSettings

KEY_BYTES = 32
"""HS256's key: as long as its hash (RFC 7518 §3.2 asks for at least that)."""


def share_keys(name: str, share: ShareSettings, opts: pulumi.ResourceOptions) -> pulumi.Output[str]:
    """The keys' file, secret: the last key ID signs, every one verifies. Removing an ID deletes its key (its links
    stop working); adding one generates it."""
    keys = {kid: random.RandomBytes(f"{name}-share-key-{kid}", length=KEY_BYTES, opts=opts).base64
            for kid in share.signing_keys}
    return pulumi.Output.secret(pulumi.Output.all(**keys)).apply(lambda k: share_keys_conf(
        {kid: _base64url(value) for kid, value in k.items()}, signing=share.signing_keys[-1]))


def _base64url(value: str) -> str:
    return base64.urlsafe_b64encode(base64.b64decode(value)).rstrip(b"=").decode()
