"""Recipe `user-account-control`: standalone, plus Keycloak login and a token check at the archive proxy.

    browser --HTTPS--> CloudFront (StaticSite): the viewer, with OIDC (code flow + PKCE)
       +--HTTPS--> Keycloak: your existing one (realm managed with pulumi-keycloak),
       |           or a new KeycloakHost VM behind its own CloudFront (realm imported at first start)
       +--HTTPS + Bearer token--> ArchiveProxy VM (njs checks the token) --> your archive

Fork here: this file is the whole composition, on top of recipes/standalone.py.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import pulumi
import pulumi_keycloak as keycloak

from components.aws.archive_proxy import JWKS_CACHE_DIR, NJS_MODULE_PATH
from components.aws.keycloak_host import KeycloakHost, KeycloakHostArgs
from components.keycloak_realm import KeycloakRealm, KeycloakRealmArgs
from components.keycloak_realm_model import oidc_settings, proxy_auth, realm_model, render_realm_import
from recipes import standalone
from settings import StackSettings


@dataclass
class Outputs(standalone.Outputs):
    keycloak_url: pulumi.Output[str]
    realm: pulumi.Output[str]


def deploy(settings: StackSettings) -> Outputs:
    auth = settings.auth
    model = realm_model(auth, settings.viewer, viewer_origin="")  # the origin is filled in once the CDN exists
    host = None
    if auth.keycloak_url:
        keycloak_url = pulumi.Output.from_input(auth.keycloak_url.rstrip("/"))
    else:
        host = KeycloakHost("keycloak", KeycloakHostArgs(instance_type=auth.instance_type,
                                                         price_class=settings.viewer.price_class))
        keycloak_url = host.url

    token_check = keycloak_url.apply(
        lambda url: proxy_auth(model, url, module_path=NJS_MODULE_PATH, cache_dir=JWKS_CACHE_DIR))
    site, viewer = standalone.compose(settings, proxy_auth=token_check,
                                      oidc=keycloak_url.apply(lambda url: oidc_settings(model, url)))

    if host is not None:
        host.launch(site.viewer_origin.apply(lambda origin: render_realm_import(replace(model, viewer_origin=origin))))
    else:
        # Admin credentials from the stack: `pulumi config set keycloak:username …`, `--secret keycloak:password …`.
        config = pulumi.Config("keycloak")
        provider = keycloak.Provider("keycloak", url=auth.keycloak_url, client_id="admin-cli",
                                     username=config.require("username"), password=config.require_secret("password"))
        KeycloakRealm("realm", KeycloakRealmArgs(model=model, viewer_origin=site.viewer_origin, provider=provider))

    return Outputs(**{f.name: getattr(viewer, f.name) for f in fields(viewer)},
                   keycloak_url=keycloak_url, realm=pulumi.Output.from_input(model.name))
