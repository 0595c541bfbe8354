"""The Keycloak realm as one cloud-neutral model, rendered as a realm import (JSON) for a new Keycloak.

The same model drives `components/keycloak_realm.py` (pulumi-keycloak resources on an existing
Keycloak) and the viewer's `oidc` settings, so the redirect URIs, the client and the roles the proxy
checks cannot drift apart.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from components.render.dicomweb_proxy.study_scope import SCOPE_CLAIM
from components.render.dicomweb_proxy.token_check import TokenCheck
from settings.model import ShareSettings

STUDY_UID_PATTERN = "^[0-9]+(\\.[0-9]+)*$"
SHARE_CLIENT_ID = "ohif-share"
"""With share links: the public client `python3 -m share` logs a sharer in with (OAuth device authorization
grant, RFC 8628: a terminal has no browser of its own)."""
"""What each value of a reader's studies attribute must look like: a StudyInstanceUID."""


@dataclass(frozen=True)
class RealmModel:
    name: str
    """The realm's name (and the last part of its issuer URL)."""
    viewer_origin: str
    """https://<viewer host>: the one web origin the client allows."""
    base_path: str = "/"
    """The viewer's path, under which its callback pages lie."""
    client_id: str = "ohif-viewer"
    reader_role: str = "dicom-reader"
    """Needed to read studies through the DICOMweb proxy."""
    uploader_role: str = "dicom-uploader"
    """Needed to store studies (STOW-RS), where the proxy lets uploads through."""
    require_pkce: bool = True
    access_token_minutes: int = 5
    sso_idle_minutes: int = 30
    sso_max_hours: int = 10
    ssl_required: str = "external"
    """Keycloak's sslRequired: `external` lets loopback and private addresses use plain HTTP, nothing else."""
    brute_force_failures: int = 5
    unscoped_readers: str = "archive"
    """What a reader whose account lists no studies may read (settings.model.UNSCOPED_READERS)."""
    share: ShareSettings | None = None
    """Share links on: the realm has their sharer role, and the proxy signs and checks them."""
    studies_attribute: str = SCOPE_CLAIM
    """The user attribute, set by an admin only, that lists the studies a reader may read; the access token carries
    it as the claim the proxy limits the reader to."""

    @property
    def viewer_url(self) -> str:
        return self.viewer_origin + self.base_path

    @property
    def redirect_uris(self) -> list[str]:
        """Exact pages Keycloak may send a code to: OHIF's callback and its silent-renew page."""
        return [f"{self.viewer_url}callback", f"{self.viewer_url}silent-refresh.html"]

    @property
    def post_logout_redirect_uris(self) -> list[str]:
        return [self.viewer_url]

    @property
    def roles_by_kind(self) -> dict[str, str]:
        """The realm's roles, by what they let a user do."""
        return {"reader": self.reader_role, "uploader": self.uploader_role,
                **({"sharer": self.share.sharer_role, "share-admin": self.share.admin_role} if self.share else {})}

    @property
    def roles(self) -> list[str]:
        return list(self.roles_by_kind.values())

    @property
    def pkce_method(self) -> str:
        return "S256" if self.require_pkce else ""


# Keycloak's default user profile (keycloak-services: keycloak-default-user-profile.json), which a realm's own
# profile replaces whole, so it is restated here.
_PERSON = {"view": ["admin", "user"], "edit": ["admin", "user"]}
_DEFAULT_ATTRIBUTES = [
    {"name": "username", "displayName": "${username}", "permissions": _PERSON,
     "validations": {"length": {"min": 3, "max": 255}, "username-prohibited-characters": {},
                     "up-username-not-idn-homograph": {}}},
    {"name": "email", "displayName": "${email}", "required": {"roles": ["user"]}, "permissions": _PERSON,
     "validations": {"email": {}, "length": {"max": 255}}},
    {"name": "firstName", "displayName": "${firstName}", "required": {"roles": ["user"]}, "permissions": _PERSON,
     "validations": {"length": {"max": 255}, "person-name-prohibited-characters": {}}},
    {"name": "lastName", "displayName": "${lastName}", "required": {"roles": ["user"]}, "permissions": _PERSON,
     "validations": {"length": {"max": 255}, "person-name-prohibited-characters": {}}},
]


def user_profile(model: RealmModel) -> dict:
    """The realm's user profile: Keycloak's default, plus the studies a reader is limited to, which only an admin
    sees and sets (a user who could edit it would widen their own access)."""
    studies = {"name": model.studies_attribute, "displayName": "DICOM studies (StudyInstanceUIDs)",
               "multivalued": True, "permissions": {"view": ["admin"], "edit": ["admin"]},
               "validations": {"pattern": {"pattern": STUDY_UID_PATTERN, "error-message": "a StudyInstanceUID"},
                               "length": {"max": 64}}}
    return {"attributes": [*_DEFAULT_ATTRIBUTES, studies],
            "groups": [{"name": "user-metadata", "displayHeader": "User metadata",
                        "displayDescription": "Attributes, which refer to user metadata"}]}


def studies_mapper(model: RealmModel) -> dict:
    """The viewer client's protocol mapper that puts a reader's studies in the access token."""
    return {"name": "dicom studies", "protocol": "openid-connect", "protocolMapper": "oidc-usermodel-attribute-mapper",
            "config": {"user.attribute": model.studies_attribute, "claim.name": SCOPE_CLAIM, "multivalued": "true",
                       "jsonType.label": "String", "access.token.claim": "true", "id.token.claim": "false",
                       "userinfo.token.claim": "false", "introspection.token.claim": "true"}}


def audience_mapper(model: RealmModel) -> dict:
    """The share client's protocol mapper that names the viewer client as its tokens' audience: the proxy accepts a
    token for the viewer client only, and the command's tokens are for the same proxy."""
    return {"name": "viewer audience", "protocol": "openid-connect", "protocolMapper": "oidc-audience-mapper",
            "config": {"included.client.audience": model.client_id, "access.token.claim": "true",
                       "id.token.claim": "false", "introspection.token.claim": "true"}}


def share_client(model: RealmModel) -> dict:
    """The client `python3 -m share` logs in with: public, device authorization grant only, its tokens carrying the
    sharer's studies and the viewer client as audience."""
    return {
        "clientId": SHARE_CLIENT_ID,
        "name": "OHIF share links (python3 -m share)",
        "enabled": True,
        "protocol": "openid-connect",
        "publicClient": True,
        "standardFlowEnabled": False,
        "implicitFlowEnabled": False,
        "directAccessGrantsEnabled": False,
        "serviceAccountsEnabled": False,
        "attributes": {"oauth2.device.authorization.grant.enabled": "true"},
        "protocolMappers": [studies_mapper(model), audience_mapper(model)],
    }


def render_realm_import(model: RealmModel) -> dict:
    """A realm representation for `kc.sh --import-realm` (data/import/<realm>.json)."""
    return {
        "realm": model.name,
        "enabled": True,
        "sslRequired": model.ssl_required,
        "registrationAllowed": False,
        "bruteForceProtected": True,
        "failureFactor": model.brute_force_failures,
        "permanentLockout": False,
        "accessTokenLifespan": model.access_token_minutes * 60,
        "ssoSessionIdleTimeout": model.sso_idle_minutes * 60,
        "ssoSessionMaxLifespan": model.sso_max_hours * 3600,
        "roles": {"realm": [{"name": role} for role in model.roles]},
        "clients": [{
            "clientId": model.client_id,
            "name": "OHIF Viewer",
            "enabled": True,
            "protocol": "openid-connect",
            "publicClient": True,
            "standardFlowEnabled": True,
            "implicitFlowEnabled": False,
            "directAccessGrantsEnabled": False,
            "serviceAccountsEnabled": False,
            "frontchannelLogout": True,
            "redirectUris": model.redirect_uris,
            "webOrigins": [model.viewer_origin],
            "attributes": {
                "pkce.code.challenge.method": model.pkce_method,
                "post.logout.redirect.uris": "##".join(model.post_logout_redirect_uris),
            },
            "protocolMappers": [studies_mapper(model)],
        }, *([share_client(model)] if model.share else [])],
        "components": {"org.keycloak.userprofile.UserProfileProvider": [{
            "providerId": "declarative-user-profile",
            "config": {"kc.user.profile.config": [json.dumps(user_profile(model))]}}]},
    }


def oidc_settings(model: RealmModel, keycloak_url: str) -> dict:
    """OHIF's `oidc` entry (authorization code flow; oidc-client-ts adds PKCE)."""
    return {
        "authority": issuer(keycloak_url, model),
        "client_id": model.client_id,
        "redirect_uri": "/callback",
        "silent_redirect_uri": "/silent-refresh.html",
        "post_logout_redirect_uri": "/",
        "response_type": "code",
        "scope": "openid",
        "automaticSilentRenew": True,
        "revokeAccessTokenOnSignout": True,
    }


def realm_model(auth, viewer, viewer_origin: str, share: ShareSettings | None = None) -> RealmModel:
    """The realm a stack's `ohif:auth`, `ohif:viewer` and `ohif:share` settings describe, for a viewer at
    `viewer_origin`."""
    return RealmModel(name=auth.realm, viewer_origin=viewer_origin, base_path=viewer.base_path,
                      client_id=auth.client_id, reader_role=auth.required_role, require_pkce=auth.require_pkce,
                      access_token_minutes=auth.access_token_minutes, unscoped_readers=auth.unscoped_readers,
                      share=share)


def issuer(keycloak_url: str, model: RealmModel) -> str:
    return f"{keycloak_url.rstrip('/')}/realms/{model.name}"


def token_check(model: RealmModel, keycloak_url: str) -> TokenCheck:
    """What the DICOMweb proxy checks tokens against: this realm at `keycloak_url`."""
    realm_url = issuer(keycloak_url, model)
    return TokenCheck(issuer=realm_url, jwks_url=f"{realm_url}/protocol/openid-connect/certs",
                      client_id=model.client_id, required_role=model.reader_role, upload_role=model.uploader_role,
                      unscoped_readers=model.unscoped_readers)
