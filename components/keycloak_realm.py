"""KeycloakRealm: the realm model as pulumi-keycloak resources, managing a realm on an existing Keycloak.

The other rendering of the same `RealmModel` is the import JSON a new Keycloak reads at first start
(components/render/realm.py); tests check the two carry the same settings.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pulumi
import pulumi_keycloak as keycloak

from components.render.realm import RealmModel


def _duration(seconds: int) -> str:
    """Keycloak's provider takes Go durations ("5m0s")."""
    return f"{seconds // 3600}h{seconds % 3600 // 60}m{seconds % 60}s"


@dataclass
class KeycloakRealmArgs:
    model: RealmModel
    """The realm, its viewer client and its roles (its viewer_origin is replaced by the one below)."""
    viewer_origin: pulumi.Input[str]
    """The viewer's origin, known once its CDN exists."""
    provider: keycloak.Provider
    """The admin connection to the existing Keycloak (credentials are Pulumi secrets)."""


class KeycloakRealm(pulumi.ComponentResource):
    realm_name: pulumi.Output[str]
    client_id: pulumi.Output[str]

    def __init__(self, name: str, args: KeycloakRealmArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ohif:keycloak:KeycloakRealm", name, {}, opts)
        m = args.model
        located = pulumi.Output.from_input(args.viewer_origin).apply(lambda o: replace(m, viewer_origin=o))
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        realm = keycloak.Realm(
            f"{name}-realm", realm=m.name, enabled=True, ssl_required=m.ssl_required, registration_allowed=False,
            access_token_lifespan=_duration(m.access_token_minutes * 60),
            sso_session_idle_timeout=_duration(m.sso_idle_minutes * 60),
            sso_session_max_lifespan=_duration(m.sso_max_hours * 3600),
            security_defenses=keycloak.RealmSecurityDefensesArgs(
                brute_force_detection=keycloak.RealmSecurityDefensesBruteForceDetectionArgs(
                    max_login_failures=m.brute_force_failures, permanent_lockout=False)),
            opts=child)
        for role in m.roles:
            keycloak.Role(f"{name}-role-{role}", realm_id=realm.id, name=role, opts=child)
        client = keycloak.openid.Client(
            f"{name}-viewer-client", realm_id=realm.id, client_id=m.client_id, name="OHIF Viewer", enabled=True,
            access_type="PUBLIC", standard_flow_enabled=True, implicit_flow_enabled=False,
            direct_access_grants_enabled=False, service_accounts_enabled=False, frontchannel_logout_enabled=True,
            pkce_code_challenge_method=m.pkce_method, valid_redirect_uris=located.apply(lambda x: x.redirect_uris),
            valid_post_logout_redirect_uris=located.apply(lambda x: x.post_logout_redirect_uris),
            web_origins=located.apply(lambda x: [x.viewer_origin]),
            opts=child)
        self.realm_name = realm.realm
        self.client_id = client.client_id
        self.register_outputs({"realm_name": self.realm_name, "client_id": self.client_id})
