"""Recipe `user-account-control`: standalone, plus Keycloak login and a token check at the DICOMweb proxy.

    browser --HTTPS--> static site: the viewer, with OIDC (code flow + PKCE)
       +--HTTPS--> Keycloak: your existing one (realm managed with pulumi-keycloak),
       |           or a provisioned one behind the CDN (realm imported at first start),
       |           its accounts in the cloud's managed PostgreSQL (or yours)
       +--HTTPS + Bearer token--> DICOMweb proxy (njs checks the token) --> your archive

Fork here: this file is the whole composition, on top of recipes/standalone.py, and it runs wherever
the stack says: AWS, Azure, or this machine (`python -m sandbox up`).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import pulumi

from components.render.realm import oidc_settings, realm_model, token_check
from components.target import IdentityProviderSpec, Target
from recipes import standalone
from settings import StackSettings


@dataclass
class Outputs(standalone.Outputs):
    keycloak_url: pulumi.Output[str]
    realm: pulumi.Output[str]


def deploy(target: Target, settings: StackSettings) -> Outputs:
    auth = settings.auth
    site = standalone.viewer_site(target, settings)
    model = realm_model(auth, settings.viewer, viewer_origin="", share=settings.share)
    # The realm's redirect URIs name the viewer's origin, so Keycloak comes after the site.
    keycloak = target.identity_provider("keycloak", IdentityProviderSpec(
        realm=model, viewer_origin=site.origin, existing_url=auth.keycloak_url,
        existing_database_url=auth.keycloak_database_url))
    dicomweb_url = standalone.archive_path(target, settings, site,
                                           token_check=keycloak.url.apply(lambda url: token_check(model, url)))
    standalone.publish_app_config(target, settings, site, dicomweb_url,
                                  oidc=keycloak.url.apply(lambda url: oidc_settings(model, url)))
    base = standalone.Outputs(viewer_url=site.url, dicomweb_url=dicomweb_url)
    return Outputs(**{f.name: getattr(base, f.name) for f in fields(base)},
                   keycloak_url=keycloak.url, realm=pulumi.Output.from_input(model.name))
