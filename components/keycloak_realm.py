"""KeycloakRealm: the realm model as pulumi-keycloak resources, managing a realm on an existing Keycloak.

The other rendering of the same `RealmModel` is the import JSON a new Keycloak reads at first start
(components/render/realm.py); tests check the two carry the same settings. Cloud-neutral: the
provider talks to Keycloak's admin API wherever it runs.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pulumi
import pulumi_keycloak as keycloak

from components.render.realm import RealmModel, audience_mapper, share_client, studies_mapper, user_profile
from components.target import IdentityProvider, IdentityProviderSpec


def _profile_attribute(a: dict) -> keycloak.RealmUserProfileAttributeArgs:
    """One attribute of the realm's user profile (components/render/realm.py) as the provider takes it."""
    return keycloak.RealmUserProfileAttributeArgs(
        name=a["name"], display_name=a["displayName"], multi_valued=a.get("multivalued", False),
        required_for_roles=a.get("required", {}).get("roles", []),
        permissions=keycloak.RealmUserProfileAttributePermissionsArgs(views=a["permissions"]["view"],
                                                                      edits=a["permissions"]["edit"]),
        validators=[keycloak.RealmUserProfileAttributeValidatorArgs(name=name, config={k: str(v) for k, v in
                                                                                      config.items()})
                    for name, config in a["validations"].items()])


def _duration(seconds: int) -> str:
    """Keycloak's provider takes Go durations ("5m0s")."""
    return f"{seconds // 3600}h{seconds % 3600 // 60}m{seconds % 60}s"


def _studies_mapper(name: str, realm_id: pulumi.Input[str], client_id: pulumi.Input[str],
                    model: pulumi.Output[RealmModel], opts: pulumi.ResourceOptions) -> None:
    """A client's mapper of a reader's studies into its access tokens (components/render/realm.py: studies_mapper)."""
    mapper = model.apply(studies_mapper)
    keycloak.openid.UserAttributeProtocolMapper(
        name, realm_id=realm_id, client_id=client_id, name=mapper["name"],
        user_attribute=mapper["config"]["user.attribute"], claim_name=mapper["config"]["claim.name"],
        multivalued=True, add_to_access_token=True, add_to_id_token=False, add_to_userinfo=False,
        add_to_token_introspection=True, opts=opts)


@dataclass
class KeycloakRealmArgs:
    model: RealmModel
    """The realm, its viewer client and its roles, but for the viewer's origin."""
    viewer_origin: pulumi.Input[str]
    """The viewer's origin, known once its CDN exists."""


class KeycloakRealm(pulumi.ComponentResource):
    """Takes the admin connection to the existing Keycloak as its provider (opts.providers)."""

    realm_name: pulumi.Output[str]
    client_id: pulumi.Output[str]

    def __init__(self, name: str, args: KeycloakRealmArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ohif:keycloak:KeycloakRealm", name, {}, opts)
        model = pulumi.Output.from_input(args.viewer_origin).apply(
            lambda origin: replace(args.model, viewer_origin=origin))
        child = pulumi.ResourceOptions(parent=self)
        realm = keycloak.Realm(
            f"{name}-realm", realm=model.name, enabled=True, ssl_required=model.ssl_required,
            registration_allowed=False,
            access_token_lifespan=model.access_token_minutes.apply(lambda m: _duration(m * 60)),
            sso_session_idle_timeout=model.sso_idle_minutes.apply(lambda m: _duration(m * 60)),
            sso_session_max_lifespan=model.sso_max_hours.apply(lambda h: _duration(h * 3600)),
            security_defenses=keycloak.RealmSecurityDefensesArgs(
                brute_force_detection=keycloak.RealmSecurityDefensesBruteForceDetectionArgs(
                    max_login_failures=model.brute_force_failures, permanent_lockout=False)),
            opts=child)
        for kind, role in args.model.roles_by_kind.items():
            keycloak.Role(f"{name}-role-{kind}", realm_id=realm.id, name=role, opts=child)
        client = keycloak.openid.Client(
            f"{name}-viewer-client", realm_id=realm.id, client_id=model.client_id, name="OHIF Viewer", enabled=True,
            access_type="PUBLIC", standard_flow_enabled=True, implicit_flow_enabled=False,
            direct_access_grants_enabled=False, service_accounts_enabled=False, frontchannel_logout_enabled=True,
            pkce_code_challenge_method=model.pkce_method, valid_redirect_uris=model.redirect_uris,
            valid_post_logout_redirect_uris=model.post_logout_redirect_uris,
            web_origins=model.viewer_origin.apply(lambda o: [o]),
            opts=child)
        # Who reads which study: a reader's studies, set by an admin, reach the access token as the proxy's scope.
        profile = model.apply(user_profile)
        keycloak.RealmUserProfile(
            f"{name}-user-profile", realm_id=realm.id,
            attributes=profile.apply(lambda p: [_profile_attribute(a) for a in p["attributes"]]),
            groups=profile.apply(lambda p: [keycloak.RealmUserProfileGroupArgs(
                name=g["name"], display_header=g["displayHeader"], display_description=g["displayDescription"])
                for g in p["groups"]]),
            opts=child)
        _studies_mapper(f"{name}-studies-mapper", realm.id, client.id, model, child)
        if args.model.share:
            # The client `python3 -m share` logs a sharer in with (components/render/realm.py: share_client).
            wanted = model.apply(share_client)
            share = keycloak.openid.Client(
                f"{name}-share-client", realm_id=realm.id, client_id=wanted["clientId"], name=wanted["name"],
                enabled=True, access_type="PUBLIC", standard_flow_enabled=False, implicit_flow_enabled=False,
                direct_access_grants_enabled=False, service_accounts_enabled=False,
                oauth2_device_authorization_grant_enabled=True, opts=child)
            _studies_mapper(f"{name}-share-studies-mapper", realm.id, share.id, model, child)
            audience = model.apply(audience_mapper)
            keycloak.openid.AudienceProtocolMapper(
                f"{name}-share-audience-mapper", realm_id=realm.id, client_id=share.id, name=audience["name"],
                included_client_audience=audience["config"]["included.client.audience"], add_to_access_token=True,
                add_to_id_token=False, opts=child)
        self.realm_name = realm.realm
        self.client_id = client.client_id
        self.register_outputs({"realm_name": self.realm_name, "client_id": self.client_id})


def existing_keycloak_realm(name: str, spec: IdentityProviderSpec) -> IdentityProvider:
    """The realm managed on the Keycloak at `spec.existing_url`, as a cloud target's identity provider.

    Admin credentials from the stack: `pulumi config set keycloak:username …`, `--secret keycloak:password …`."""
    config = pulumi.Config("keycloak")
    provider = keycloak.Provider(name, url=spec.existing_url, client_id="admin-cli",
                                 username=config.require("username"), password=config.require_secret("password"))
    KeycloakRealm("realm", KeycloakRealmArgs(model=spec.realm, viewer_origin=spec.viewer_origin),
                  opts=pulumi.ResourceOptions(providers=[provider]))
    return IdentityProvider(name=name, url=pulumi.Output.from_input(spec.existing_url.rstrip("/")))
