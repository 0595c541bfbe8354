"""The cloud-neutral interface a recipe calls: five operations, realised by each target, and `finish`, which
`Target.run` calls after the recipe, whatever happens (a recipe never calls it).

    recipe ──> Target ──┬── AwsTarget    components/aws/target.py     pulumi up   (ohif:cloud: aws)
                        ├── AzureTarget  components/azure/target.py   pulumi up   (ohif:cloud: azure)
                        └── Sandbox      sandbox/target.py            python -m sandbox up (ohif:cloud: local)

A recipe passes plain values or Pulumi Inputs and gets back handles whose URLs are Outputs on every
target, so `.apply` and `Output.concat` work the same in the cloud and on this machine. Cloud-only
knobs (instance sizes, certificates, tiers) come from the stack's `ohif:aws` / `ohif:azure` settings
to the target's constructor, never through a recipe; so does who may reach the stack (`ohif:access`), which
each target enforces at the edge of everything it serves.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar

import pulumi

from components.render.dicomweb_proxy.interface import DICOMWEB_PATH
from components.render.dicomweb_proxy.token_check import TokenCheck
from components.render.realm import RealmModel
from components.render.viewer_build import (
    CACHE,
    ENCODINGS,
    SiteFile,
    cache_control,
    compressed,
    content_type,
    fetch_build,
    precompressed,
    prepare_site,
)
from settings import ScaleSettings, ShareSettings, StackSettings
from settings.services import ArchiveService


@dataclass(frozen=True)
class SiteSpec:
    """The OHIF build, served over HTTPS with the viewer's headers and SPA routing."""

    base_path: str = "/"
    """The path the viewer is served under, such as `/` or `/ohif/`."""
    include_source_maps: bool = False
    """Publish the build's `.map` files."""
    domain: str | None = None
    """A custom domain; None uses the CDN's own HTTPS name."""
    frame_ancestors: tuple[str, ...] = ()
    """Origins that may show the viewer in an iframe besides its own (CSP frame-ancestors)."""


@dataclass(frozen=True)
class FilesSpec:
    """Files served as they are: no SPA routing, each with its SiteFile's Content-Type and Cache-Control."""

    files: Sequence[SiteFile] = ()
    path: str = "/"
    """The URL path they are served under, on their own origin or on the site they are mounted on."""
    allowed_origins: Sequence[pulumi.Input[str]] = ()
    """Origins CORS lets read them, on their own origin: preflights get a 2xx and may ask for `Accept`. (A list of
    Inputs: a CDN whose rules name one origin each knows their number before their values.)"""


@dataclass(frozen=True)
class Site:
    name: str
    origin: pulumi.Output[str]
    """https://<host>: what CORS allow-lists and the realm's redirect URIs name."""
    url: pulumi.Output[str]
    """The viewer's start page: the origin plus the base path."""


@dataclass(frozen=True)
class ProxySpec:
    """The DICOMweb proxy: the archive's DICOMweb reads and nothing else of its API."""

    upstream_url: str
    """The archive's DICOMweb root, as the proxy reaches it."""
    allowed_origins: pulumi.Input[Sequence[str]] = ()
    """Browser origins the proxy serves at its own URL: CORS allows them, and a request naming any other origin gets
    403. A proxy mounted on a site serves that site's origin alone."""
    enable_stow: bool = False
    """Pass STOW-RS uploads to the archive."""
    token_check: pulumi.Input[TokenCheck] | None = None
    """Require a token of this realm on every DICOMweb request."""
    share: ShareSettings | None = None
    """With `token_check`: share links, which the proxy signs with keys the target generates and keeps in its
    secret store."""
    scale: ScaleSettings = field(default_factory=ScaleSettings)
    """How many proxies run behind one balancer: the cloud's autoscaling between the counts; the sandbox runs the
    fewest."""
    archive_service: ArchiveService | None = None
    """A cloud DICOM service at `upstream_url`, which the proxy reads with its VM's own identity: the target grants
    that identity read access to this one service (components/render/archive_service.py). The sandbox stands in for
    the service and the metadata endpoint."""


@dataclass(frozen=True)
class Proxy:
    name: str
    url: pulumi.Output[str]
    """The DICOMweb root browsers call."""


@dataclass(frozen=True)
class IdentityProviderSpec:
    """Keycloak with the viewer's realm."""

    realm: RealmModel
    """The realm, its viewer client and roles, but for the viewer's origin."""
    viewer_origin: pulumi.Input[str]
    """The viewer's origin, known once its CDN exists: the client's redirect URIs name it."""
    existing_url: str | None = None
    """An existing Keycloak, whose realm is then managed as code; None provisions one. The sandbox starts
    its Keycloak here."""
    existing_database_url: str | None = None
    """A provisioned Keycloak's database, postgresql://<user>@<host>[:port]/<database>, the stack's own (its
    password is the stack's secret, which the cloud target gets); None: the cloud's managed PostgreSQL."""

    def realm_at_origin(self) -> pulumi.Output[RealmModel]:
        """The realm, with the viewer's origin."""
        return pulumi.Output.from_input(self.viewer_origin).apply(lambda o: replace(self.realm, viewer_origin=o))


@dataclass(frozen=True)
class IdentityProvider:
    name: str
    url: pulumi.Output[str]
    """Keycloak's public base URL."""


Result = TypeVar("Result")


class Target(ABC):
    def run(self, recipe: Callable[[Target, StackSettings], Result],
            settings: StackSettings) -> tuple[Result, dict[str, pulumi.Output]]:
        """Run `recipe` on this target, then `finish` what its operations began, whatever happens: the one way a
        recipe runs, so no caller can forget `finish` (AWS's routes wait on it, and a program that never called it
        would hang rather than fail). The recipe's result, and the target's own outputs."""
        try:
            result = recipe(self, settings)
        except BaseException:
            self.finish()
            raise
        return result, self.finish()

    @abstractmethod
    def static_site(self, name: str, spec: SiteSpec) -> Site:
        """Host the viewer build."""

    @abstractmethod
    def static_files(self, name: str, spec: FilesSpec, *, on_site: Site | None = None) -> Site:
        """Serve files from private storage: on a CDN origin of their own (CORS for `spec.allowed_origins`),
        or with `on_site` at `spec.path` of that site's origin (same-origin, no CORS). The handle's `url` is
        where they are served; `publish` adds to them."""

    @abstractmethod
    def dicomweb_proxy(self, name: str, spec: ProxySpec, *, on_site: Site | None = None) -> Proxy:
        """Put a proxy in front of the archive: at its own URL (CORS for `spec.allowed_origins`), or with
        `on_site` at `/dicom-web/` of that site's own origin (same-origin, no CORS)."""

    @abstractmethod
    def identity_provider(self, name: str, spec: IdentityProviderSpec) -> IdentityProvider:
        """Keycloak for the realm: provisioned, or an existing one."""

    @abstractmethod
    def publish(self, site: Site, key: str, content: pulumi.Input[str]) -> None:
        """Serve a rendered file (such as `app-config.js`) at the handle's `url` + `key`, with the Cache-Control
        its name gets (components.render.viewer_build.cache_control)."""

    @abstractmethod
    def finish(self) -> dict[str, pulumi.Output]:
        """Complete what the operations began; the target's own outputs (bucket and CDN names). Called by `run`
        alone."""


CLOUD_SITES = CACHE / "site"
"""Where the cloud targets prepare the build they upload: CLOUD_SITES/<stack>/<site>."""


def site_files(spec: SiteSpec, out: Path) -> list[SiteFile]:
    """The pinned build, prepared in `out` for `spec`; app-config.js is left to `publish`."""
    return prepare_site(fetch_build(), out, app_config=None, base_path=spec.base_path,
                        include_source_maps=spec.include_source_maps)


def published_variants(key: str, content: pulumi.Input[str]) -> list[tuple[SiteFile, pulumi.Output[pulumi.Asset]]]:
    """The precompressed variants a published file gets, as any file of its name does (viewer_build.precompressed):
    each variant's SiteFile, for where and how it is stored, and its content as an asset (known once `content` is;
    the SiteFile's own path is not read)."""
    if not precompressed(key):
        return []
    paths = pulumi.Output.from_input(content).apply(lambda text: compressed(text.encode()))
    return [(SiteFile(key, Path(key), content_type(key), cache_control(key), encoding),
             paths.apply(lambda p, encoding=encoding: pulumi.FileAsset(str(p[encoding])))) for encoding in ENCODINGS]


def same_origin_url(site: Site) -> pulumi.Output[str]:
    """Where a proxy mounted on `site` serves DICOMweb."""
    return pulumi.Output.concat(site.origin, DICOMWEB_PATH)
