"""The rules across sections: what each section accepts alone but the stack cannot combine. `load()` applies every rule
in RULES, in order, to the sections as read; each adds one line to `Errors` per value it refuses."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from settings.checks import is_loopback, parse_json
from settings.errors import Errors
from settings.model import CLOUD_SECTIONS, CLOUDS, DATABASE_PASSWORD_KEY, NAMESPACE, PROVIDER_NAMESPACES, StackSettings

Rule = Callable[[Errors, StackSettings, Mapping[str, Any]], None]
"""A rule reads the stack's sections and its raw config (every namespace's keys, as Pulumi hands them over)."""


def script_mode_calls_the_proxy_at_its_own_url(errors: Errors, s: StackSettings, config: Mapping[str, Any]) -> None:
    archive = s.archive
    if s.embed is not None and "script" in s.embed.modes and archive.uses_proxy and archive.topology == "same-origin":
        errors.add("archive.topology", archive.topology, "allowed: cross-origin with embed mode script (the v2 viewer "
                   "runs in the host's page, so it calls the proxy at its own URL, with CORS)")


def highly_available_runs_two_proxies(errors: Errors, s: StackSettings, config: Mapping[str, Any]) -> None:
    if s.highly_available and s.archive.uses_proxy and s.archive.scale.min_instances < 2:
        errors.add("archive.scale.min_instances", s.archive.scale.min_instances, "allowed: 2 or more in a highly "
                   "available stack (ohif:highly_available), so that losing one proxy loses no reader")


def sandbox_balances_proxies_behind_the_site_only(errors: Errors, s: StackSettings,
                                                  config: Mapping[str, Any]) -> None:
    archive = s.archive
    scaled = archive.uses_proxy and archive.scale.grouped
    if scaled and s.cloud == "local" and archive.topology != "same-origin" and archive.scale.min_instances > 1:
        errors.add("archive.scale.min_instances", archive.scale.min_instances, "allowed: 1 in a local stack with "
                   "topology cross-origin (the sandbox balances several proxies behind the viewer's site only)")


def login_reads_through_the_proxy(errors: Errors, s: StackSettings, config: Mapping[str, Any]) -> None:
    if s.auth is not None and s.archive.dicomweb_url is not None:
        errors.add("archive.dicomweb_url", s.archive.dicomweb_url, f"not with recipe {s.recipe}: tokens are checked "
                   "by the DICOMweb proxy, so give archive.upstream_url instead")


def healthimaging_in_the_stacks_region(errors: Errors, s: StackSettings, config: Mapping[str, Any]) -> None:
    service = s.archive.healthimaging
    if s.cloud == "aws" and service is not None and service.region and service.region != config.get("aws:region"):
        errors.add("archive.healthimaging.region", service.region, f"allowed: the stack's aws:region "
                   f"({config.get('aws:region', 'not set')}): the proxy reaches the datastore through an interface "
                   "endpoint in its own VPC, which serves its own region")


def cloud_keys_only_on_their_cloud(errors: Errors, s: StackSettings, config: Mapping[str, Any]) -> None:
    """A key for another cloud would be ignored: refuse it, our own sections as the providers' keys."""
    if s.cloud not in CLOUDS:
        return
    for section, section_cloud in CLOUD_SECTIONS.items():
        if f"{NAMESPACE}:{section}" in config and s.cloud != section_cloud:
            errors.add(section, parse_json(config[f"{NAMESPACE}:{section}"]),
                       f"allowed only with ohif:cloud {section_cloud}, not {s.cloud}")
    for key in sorted(config):
        namespace, _, name = key.partition(":")
        if namespace in PROVIDER_NAMESPACES and s.cloud != PROVIDER_NAMESPACES[namespace]:
            errors.add(name, config[key], f"allowed only with ohif:cloud {PROVIDER_NAMESPACES[namespace]}, "
                       f"not {s.cloud}", namespace=namespace)


def existing_database_has_its_password(errors: Errors, s: StackSettings, config: Mapping[str, Any]) -> None:
    """The existing database's password: a secret of the stack, exactly when that database is named."""
    existing_db = s.auth is not None and bool(s.auth.keycloak_database_url)
    given = f"{NAMESPACE}:{DATABASE_PASSWORD_KEY}" in config
    if existing_db and s.cloud in CLOUD_SECTIONS and not given:
        errors.add(DATABASE_PASSWORD_KEY, None, "required with auth.keycloak_database_url (pulumi config set --secret "
                   f"{NAMESPACE}:{DATABASE_PASSWORD_KEY} ...)")
    if given and not existing_db:
        errors.add(DATABASE_PASSWORD_KEY, "[secret]", "allowed only with auth.keycloak_database_url")


def local_stack_runs_on_this_machine(errors: Errors, s: StackSettings, config: Mapping[str, Any]) -> None:
    """What the sandbox cannot do on this machine."""
    if s.cloud != "local":
        return
    if s.viewer.domain:
        errors.add("viewer.domain", s.viewer.domain, "not in a local stack: the sandbox serves on 127.0.0.1")
    if s.auth is not None:
        url = urlsplit(s.auth.keycloak_url or "")
        if not (url.scheme == "https" and url.hostname and is_loopback(url.hostname) and url.port):
            errors.add("auth.keycloak_url", s.auth.keycloak_url, "required in a local stack: https://127.0.0.1:<port>, "
                       "where the sandbox starts Keycloak")


def existing_keycloak_has_an_admin_login(errors: Errors, s: StackSettings, config: Mapping[str, Any]) -> None:
    """The provider's admin login for an existing Keycloak, in Pulumi's own keycloak: namespace."""
    if s.auth is not None and s.auth.keycloak_url and s.cloud in CLOUD_SECTIONS:
        for name in ("username", "password"):
            if f"keycloak:{name}" not in config:
                errors.add(name, None, "required with ohif:auth.keycloak_url (pulumi config set "
                           f"{'--secret ' if name == 'password' else ''}keycloak:{name} ...)", namespace="keycloak")


RULES: list[Rule] = [
    script_mode_calls_the_proxy_at_its_own_url,
    highly_available_runs_two_proxies,
    sandbox_balances_proxies_behind_the_site_only,
    login_reads_through_the_proxy,
    healthimaging_in_the_stacks_region,
    cloud_keys_only_on_their_cloud,
    existing_database_has_its_password,
    local_stack_runs_on_this_machine,
    existing_keycloak_has_an_admin_login,
]
