"""One reader per cloud-neutral section of the stack (its top-level keys, viewer, access, archive, auth, embed,
studies): each returns its part of the model, and adds a line to `Errors` for every value it refuses."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from settings.checks import (
    check_all,
    database_url_problem,
    matches,
    parse_json,
    read_bool,
    read_networks,
    read_object,
    read_origins,
    url_problem,
    whole_number,
)
from settings.errors import Errors
from settings.model import (
    ARCHIVE_RECIPES,
    ARCHIVE_SOURCES,
    AUTH_RECIPES,
    CLOUD_SECTIONS,
    CLOUDS,
    DATABASE_PASSWORD_KEY,
    EMBED_MODES,
    NAMESPACE,
    PROJECT,
    RATE_LIMIT_RANGE,
    RECIPES,
    SCALE_LIMITS,
    SERVICE_CLOUDS,
    SHARE_KEY_ID,
    SHARE_MINUTES,
    TOPOLOGIES,
    UNSCOPED_READERS,
    AccessSettings,
    ArchiveSettings,
    AuthSettings,
    DicomServiceSettings,
    EmbedSettings,
    HealthImagingSettings,
    ScaleSettings,
    ShareSettings,
    StudiesSettings,
    ViewerSettings,
)

_HOSTNAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_BASE_PATH = re.compile(r"^/([A-Za-z0-9._-]+/)*$")
_REALM = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_DATASTORE_ID = re.compile(r"^[0-9a-z]{32}$")
_AWS_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-[0-9]$")
_HEALTH_NAME = re.compile(r"^[a-z0-9]{3,24}$")
_DICOM_SERVICE_ID = re.compile(r"^/subscriptions/[0-9a-fA-F-]{36}/resourceGroups/[-\w._()]{1,90}/providers/"
                               r"Microsoft\.HealthcareApis/workspaces/[a-z0-9]{3,24}/dicomservices/[a-z0-9]{3,24}$")
TOP_LEVEL = ("recipe", "cloud", "production", "highly_available", "viewer", "access", "archive", "auth", "share",
             "embed", "studies", *CLOUD_SECTIONS, DATABASE_PASSWORD_KEY)
"""The stack's own keys (ohif:<key>)."""


def read_top_level(errors: Errors, ours: Mapping[str, Any]) -> tuple[Any, Any, bool, bool]:
    """The recipe, the cloud, and the stack's statements that it is production and highly available."""
    for key in sorted(set(ours) - set(TOP_LEVEL)):
        errors.add(key, ours[key], f"unknown key; allowed: {', '.join(f'{NAMESPACE}:{k}' for k in TOP_LEVEL)}")
    recipe, cloud = ours.get("recipe"), ours.get("cloud")
    if recipe not in RECIPES:
        errors.add("recipe", recipe, f"allowed: {', '.join(RECIPES)}")
    if cloud not in CLOUDS:
        errors.add("cloud", cloud, f"allowed: {', '.join(CLOUDS)}")
    # Production is the default: a stack must say it is not production to relax the rules.
    production = _read_flag(errors, "production", ours.get("production"), default=True)
    highly_available = _read_flag(errors, "highly_available", ours.get("highly_available"), default=False)
    return recipe, cloud, production, highly_available


def _read_flag(errors: Errors, key: str, raw: Any, default: bool) -> bool:
    if raw is None:
        return default
    if isinstance(raw, str) and raw in ("true", "false"):
        return raw == "true"
    return read_bool(errors, key, raw)


def read_viewer(errors: Errors, raw: Any) -> ViewerSettings:
    v = read_object(errors, "viewer", raw, ViewerSettings)
    checks: dict[str, Callable[[Any], str | None]] = {
        "base_path": lambda x: None if isinstance(x, str) and _BASE_PATH.match(x) else
        "allowed: a path that starts and ends with /, such as / or /ohif/",
        "domain": lambda x: None if isinstance(x, str) and _HOSTNAME.match(x) else
        "allowed: a lower-case DNS name such as viewer.example.org",
    }
    check_all(errors, "viewer", v, checks)
    if "include_source_maps" in v:
        v["include_source_maps"] = read_bool(errors, "viewer.include_source_maps", v["include_source_maps"])
    return ViewerSettings(**v)


def read_access(errors: Errors, raw: Any, recipe: Any, production: bool) -> AccessSettings:
    """Who may read. Login is the recipe's (user-account-control); networks and public are stated here."""
    a = read_object(errors, "access", raw, AccessSettings)
    login = recipe in AUTH_RECIPES
    if "public" in a:
        a["public"] = read_bool(errors, "access.public", a["public"])
        if a["public"] and login:
            errors.add("access.public", True, f"not with recipe {recipe}: its login decides who reads; to admit "
                       "only some networks as well, use allowed_networks")
    if "allowed_networks" in a:
        a["allowed_networks"] = read_networks(errors, "access.allowed_networks", a["allowed_networks"])
        if a.get("public") is True and a["allowed_networks"]:
            errors.add("access.public", True, "not with allowed_networks: choose one (public: anyone reads; "
                       "allowed_networks: those networks only)")
    if "rate_limit" in a:
        whole_number(errors, "access.rate_limit", a["rate_limit"], *RATE_LIMIT_RANGE,
                     note="(DICOMweb requests per client address per five minutes)")
    stated = login or a.get("public") is True or bool(a.get("allowed_networks"))
    if production and not stated and recipe in RECIPES:
        ways = "allowed_networks: [CIDR, ...] (those networks only), or public: true (de-identified data for anyone)"
        if recipe not in ("dicom-json",):
            ways += f", or recipe {', '.join(AUTH_RECIPES)} (login)"
        errors.add("access", parse_json(raw), f"required in a production stack: say who may read: {ways}")
    return AccessSettings(**a)


def read_archive(errors: Errors, raw: Any, recipe: Any, production: bool, cloud: Any) -> ArchiveSettings:
    if recipe in RECIPES and recipe not in ARCHIVE_RECIPES:
        if raw is not None:
            errors.add("archive", parse_json(raw), f"allowed only with recipe {', '.join(ARCHIVE_RECIPES)}")
        return ArchiveSettings()
    if raw is None:
        errors.add("archive", None, "required: an object with dicomweb_url (existing DICOMweb), upstream_url "
                   "(proxied), healthimaging or dicom_service")
        return ArchiveSettings()
    a = read_object(errors, "archive", raw, ArchiveSettings)
    if sum(key in a for key in ARCHIVE_SOURCES) != 1:
        errors.add("archive", a, "required: exactly one of dicomweb_url (existing DICOMweb), upstream_url (proxied), "
                   "healthimaging (AWS) or dicom_service (Azure)")
    for key, clouds in SERVICE_CLOUDS.items():
        if key in a and cloud in CLOUDS and cloud not in clouds:
            errors.add(f"archive.{key}", a[key], f"allowed only with ohif:cloud {clouds[0]} (or local), not {cloud}")
    if "healthimaging" in a:
        a["healthimaging"] = _read_healthimaging(errors, a["healthimaging"])
        if a.get("enable_stow"):
            errors.add("archive.enable_stow", a["enable_stow"], "not with archive.healthimaging: SigV4 signs an "
                       "upload's hash, which the proxy cannot know before it streams the upload")
    if "dicom_service" in a:
        a["dicom_service"] = _read_dicom_service(errors, a["dicom_service"])
    if "dicomweb_url" in a:
        # The browser calls this URL itself, so production needs https (mixed content, secure context).
        for key in sorted(set(a) - {"dicomweb_url"}):
            errors.add(f"archive.{key}", a[key], "allowed only with upstream_url (it configures the proxy)")
        if problem := url_problem(str(a["dicomweb_url"]), production):
            errors.add("archive.dicomweb_url", a["dicomweb_url"], problem)
    if "upstream_url" in a:
        # Only the proxy calls the upstream, often inside the hospital network, so plain http is allowed.
        if problem := url_problem(str(a["upstream_url"]), production=False):
            errors.add("archive.upstream_url", a["upstream_url"], problem)
    if "topology" in a and a["topology"] not in TOPOLOGIES:
        errors.add("archive.topology", a["topology"], f"allowed: {', '.join(TOPOLOGIES)}")
    if a.get("allowed_origins") and a.get("topology", "same-origin") != "cross-origin":
        errors.add("archive.allowed_origins", a["allowed_origins"], "allowed only with topology cross-origin (a proxy "
                   "behind the viewer's own origin sends no CORS)")
    a["allowed_origins"] = read_origins(errors, "archive.allowed_origins", a.get("allowed_origins", []), production)
    if "enable_stow" in a:
        a["enable_stow"] = read_bool(errors, "archive.enable_stow", a["enable_stow"])
    if "scale" in a:
        a["scale"] = _read_scale(errors, a["scale"])
    return ArchiveSettings(**a)


def _read_healthimaging(errors: Errors, raw: Any) -> HealthImagingSettings:
    h = read_object(errors, "archive.healthimaging", raw, HealthImagingSettings)
    check_all(errors, "archive.healthimaging", h, {
        "datastore_id": matches(_DATASTORE_ID, "a datastore ID: 32 lower-case letters and digits"),
        "region": matches(_AWS_REGION, "an AWS region such as us-east-1")})
    for key in ("datastore_id", "region"):
        if key not in h:
            errors.add(f"archive.healthimaging.{key}", None, "required")
    return HealthImagingSettings(**h)


def _read_dicom_service(errors: Errors, raw: Any) -> DicomServiceSettings:
    d = read_object(errors, "archive.dicom_service", raw, DicomServiceSettings)
    check_all(errors, "archive.dicom_service", d, {
        "id": matches(_DICOM_SERVICE_ID, "a DICOM service's resource ID, /subscriptions/<id>/resourceGroups/"
                                         "<group>/providers/Microsoft.HealthcareApis/workspaces/<workspace>/"
                                         "dicomservices/<service>"),
        "workspace": matches(_HEALTH_NAME, "3 to 24 lower-case letters and digits"),
        "name": matches(_HEALTH_NAME, "3 to 24 lower-case letters and digits")})
    if ("id" in d) == ("workspace" in d or "name" in d):
        errors.add("archive.dicom_service", d, "required: id (an existing service), or workspace and name (the "
                   "recipe creates them)")
    elif "id" not in d and not ("workspace" in d and "name" in d):
        given, missing = ("workspace", "name") if "workspace" in d else ("name", "workspace")
        errors.add(f"archive.dicom_service.{missing}", None, f"required with archive.dicom_service.{given}")
    return DicomServiceSettings(**d)


def _read_scale(errors: Errors, raw: Any) -> ScaleSettings:
    s = read_object(errors, "archive.scale", raw, ScaleSettings)
    for key, (low, high) in SCALE_LIMITS.items():
        if s.get(key) is not None and not whole_number(errors, f"archive.scale.{key}", s[key], low, high):
            s.pop(key)
    scale = ScaleSettings(**s)
    if scale.min_instances > scale.max_instances:
        errors.add("archive.scale.max_instances", scale.max_instances,
                   f"allowed: at least min_instances ({scale.min_instances})")
    return scale


def read_auth(errors: Errors, raw: Any, recipe: Any, production: bool) -> AuthSettings | None:
    if recipe not in AUTH_RECIPES:
        if raw is not None:
            errors.add("auth", parse_json(raw), f"allowed only with recipe {', '.join(AUTH_RECIPES)}")
        return None
    if raw is None:
        errors.add("auth.realm", None, f"required for recipe {recipe}: the Keycloak realm users log in to")
        return AuthSettings()
    a = read_object(errors, "auth", raw, AuthSettings)
    if "realm" not in a:
        errors.add("auth.realm", None, f"required for recipe {recipe}: the Keycloak realm users log in to")
    elif not (isinstance(a["realm"], str) and _REALM.match(a["realm"])):
        errors.add("auth.realm", a["realm"], "allowed: letters, digits, - and _ (up to 64)")
    if "keycloak_url" in a and (problem := url_problem(str(a["keycloak_url"]), production)):
        errors.add("auth.keycloak_url", a["keycloak_url"], problem)
    if "keycloak_database_url" in a:
        if "keycloak_url" in a:
            errors.add("auth.keycloak_database_url", a["keycloak_database_url"], "allowed only without "
                       "auth.keycloak_url (it is the database of the Keycloak this recipe provisions)")
        elif problem := database_url_problem(a["keycloak_database_url"]):
            errors.add("auth.keycloak_database_url", a["keycloak_database_url"], problem)
    for key in ("client_id", "required_role"):
        if key in a and not (isinstance(a[key], str) and _REALM.match(a[key])):
            errors.add(f"auth.{key}", a[key], "allowed: letters, digits, - and _ (up to 64)")
    if "require_pkce" in a:
        a["require_pkce"] = read_bool(errors, "auth.require_pkce", a["require_pkce"])
        if production and a["require_pkce"] is False:
            errors.add("auth.require_pkce", False, "allowed: true only in a production stack (a public client "
                                                     "without PKCE leaks codes to any app on the device)")
    whole_number(errors, "auth.access_token_minutes", a.get("access_token_minutes", 5), 1, 60)
    if a.get("unscoped_readers", "archive") not in UNSCOPED_READERS:
        errors.add("auth.unscoped_readers", a["unscoped_readers"], f"allowed: {' or '.join(UNSCOPED_READERS)}")
    elif production and "unscoped_readers" not in a:
        errors.add("auth.unscoped_readers", None, "required in a production stack: archive (a reader whose account "
                   "lists no studies reads every study) or refused (such a reader reads none)")
    return AuthSettings(**a)


def read_share(errors: Errors, raw: Any, auth: AuthSettings | None) -> ShareSettings | None:
    """Share links, on when the section is there (`{}` takes every default)."""
    if raw is None:
        return None
    if auth is None:
        errors.add("share", parse_json(raw), f"allowed only with login (recipe {', '.join(AUTH_RECIPES)}): a link "
                   "is signed and checked by the proxy that checks logins")
        return None
    s = read_object(errors, "share", raw, ShareSettings)
    for key in ("sharer_role", "admin_role"):
        role = s.get(key, getattr(ShareSettings, key))
        if key in s and not (isinstance(role, str) and _REALM.match(role)):
            errors.add(f"share.{key}", role, "allowed: letters, digits, - and _ (up to 64)")
        elif role == auth.required_role:
            errors.add(f"share.{key}", role, f"allowed: a role other than auth.required_role ({auth.required_role}): "
                       f"every reader could {'share every study' if key == 'sharer_role' else 'revoke every link'}")
    low, high = SHARE_MINUTES
    lifetimes_valid = all([whole_number(errors, f"share.{key}", s.get(key, getattr(ShareSettings, key)), low, high,
                                        "minutes") for key in ("default_minutes", "max_minutes")])
    default, longest = (s.get(key, getattr(ShareSettings, key)) for key in ("default_minutes", "max_minutes"))
    if lifetimes_valid and default > longest:
        errors.add("share.default_minutes", default, f"allowed: at most share.max_minutes ({longest})")
    keys = s.get("signing_keys", list(ShareSettings.signing_keys))
    if not (isinstance(keys, list) and keys and len(set(map(str, keys))) == len(keys)
            and all(isinstance(k, str) and re.match(SHARE_KEY_ID, k) for k in keys)):
        errors.add("share.signing_keys", keys, "allowed: a list of distinct key IDs (letters, digits, - and _, up to "
                   "32), the last signing new links")
        keys = list(ShareSettings.signing_keys)
    s["signing_keys"] = tuple(keys)
    return ShareSettings(**s)


def read_embed(errors: Errors, raw: Any, recipe: Any, production: bool) -> EmbedSettings | None:
    e = _read_section(errors, "embed", raw, recipe, ("embedded",), EmbedSettings)
    if e is None:
        return None
    if not e.get("host_origins"):
        errors.add("embed.host_origins", e.get("host_origins"), "required: the origins of the web applications that "
                   "embed the viewer, such as https://portal.example.org")
    e["host_origins"] = read_origins(errors, "embed.host_origins", e.get("host_origins", []), production)
    modes = e.get("modes", list(EmbedSettings.modes))
    if not (isinstance(modes, list) and modes and len(set(map(str, modes))) == len(modes)
            and set(map(str, modes)) <= set(EMBED_MODES)):
        errors.add("embed.modes", modes, f"allowed: a list of {' and '.join(EMBED_MODES)}, each at most once")
        modes = []
    e["modes"] = tuple(modes)
    if "host_page_path" in e:
        if "script" not in e["modes"]:
            errors.add("embed.host_page_path", e["host_page_path"], "allowed only with mode script")
        elif not (isinstance(e["host_page_path"], str) and _BASE_PATH.match(e["host_page_path"])):
            errors.add("embed.host_page_path", e["host_page_path"], "allowed: a path that starts and ends with /")
    return EmbedSettings(**e)


def read_studies(errors: Errors, raw: Any, recipe: Any, cloud: Any, production: bool) -> StudiesSettings | None:
    # A local stack may leave the folder out: the sandbox then publishes its sample studies.
    s = _read_section(errors, "studies", raw, recipe, ("dicom-json",), StudiesSettings, required=cloud != "local")
    if s is None:
        return None
    folder = s.get("folder")
    if folder is None and cloud != "local":
        errors.add("studies.folder", None, "required: the folder of DICOM files to publish, relative to the project")
    elif folder is not None and not (isinstance(folder, str) and (PROJECT / folder).is_dir()):
        errors.add("studies.folder", folder, f"allowed: a folder that exists, relative to {PROJECT}")
    if s.get("topology", "same-origin") not in TOPOLOGIES:
        errors.add("studies.topology", s["topology"], f"allowed: {', '.join(TOPOLOGIES)}")
    if s.get("allowed_origins") and s.get("topology", "same-origin") != "cross-origin":
        errors.add("studies.allowed_origins", s["allowed_origins"], "allowed only with topology cross-origin (files "
                   "behind the viewer's own origin need no CORS)")
    s["allowed_origins"] = read_origins(errors, "studies.allowed_origins", s.get("allowed_origins", []), production)
    return StudiesSettings(**s)


def _read_section(errors: Errors, key: str, raw: Any, recipe: Any, recipes: Sequence[str], model: type,
                  required: bool = True) -> dict[str, Any] | None:
    """A section that only some recipes read: refused for the others, and required (if `required`) for them."""
    if recipe not in recipes:
        if raw is not None:
            errors.add(key, parse_json(raw), f"allowed only with recipe {', '.join(recipes)}")
        return None
    if raw is None and required:
        errors.add(key, None, f"required for recipe {recipe}")
    return read_object(errors, key, raw, model)
