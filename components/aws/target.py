"""AwsTarget: the recipes' operations realised on AWS (CloudFront, S3, EC2), with the stack's `ohif:aws` knobs.

    static_site       StaticSite: private S3 + CloudFront (OAC, SPA function, headers policy)
    static_files      StaticFiles: private S3 + CloudFront of their own (CORS), or objects in a site's bucket
    dicomweb_proxy    DicomwebProxy: an OriginVm behind its own distribution, or mounted on a site's
    identity_provider KeycloakHost (an OriginVm behind its own distribution, its accounts in RDS), or KeycloakRealm
                      on yours
    publish           an S3 object beside the build

The VMs sit in private subnets and CloudFront reaches them through VPC origins: in the VPC the stack names
(`aws.vpc_id`, `aws.subnet_ids`: the one that reaches the archive), or in a Network of the recipe's own,
created with the first VM. One WAF web ACL (EdgeFirewall, in us-east-1 as CloudFront requires) guards every
distribution: the stack's allowed networks and its rate limit.
"""

from __future__ import annotations

from collections.abc import Callable

import pulumi
import pulumi_aws as aws

from components.aws.dicomweb_proxy import DicomwebProxy, DicomwebProxyArgs
from components.aws.edge_firewall import EdgeFirewall, EdgeFirewallArgs
from components.aws.keycloak_host import KeycloakHost, KeycloakHostArgs
from components.aws.network import Network, NetworkArgs
from components.aws.object_sync import PublishedObjects
from components.aws.origin_vm import OriginRoute, Placement
from components.aws.static_files import StaticFiles, StaticFilesArgs
from components.aws.static_site import StaticSite, StaticSiteArgs, stored_object
from components.keycloak_realm import existing_keycloak_realm
from components.render.realm import render_realm_import
from components.render.viewer_build import cache_control, content_type, object_key
from components.sync import items_of
from components.target import (
    CLOUD_SITES,
    FilesSpec,
    IdentityProvider,
    IdentityProviderSpec,
    Proxy,
    ProxySpec,
    Site,
    SiteSpec,
    Target,
    published_variants,
    same_origin_url,
    site_files,
)
from settings import AccessSettings, AwsSettings


class AwsTarget(Target):
    def __init__(self, settings: AwsSettings, access: AccessSettings,
                 database_password: pulumi.Input[str] | None = None) -> None:
        """`database_password`: the stack's secret for an existing Keycloak database
        (settings.DATABASE_PASSWORD_KEY)."""
        self.settings = settings
        self._database_password = database_password
        us_east_1 = aws.Provider("us-east-1", region="us-east-1")
        self._web_acl_id = EdgeFirewall("edge-firewall", EdgeFirewallArgs(
            rate_limit=access.rate_limit, ipv4_networks=access.ipv4_networks, ipv6_networks=access.ipv6_networks),
            opts=pulumi.ResourceOptions(provider=us_east_1)).web_acl_arn
        self._sites: dict[str, StaticSite] = {}
        self._files: dict[str, StaticFiles] = {}
        # Where each handle's files go: its bucket and path (a site's, or files' own).
        self._stores: dict[str, tuple[aws.s3.Bucket, str]] = {}
        # A CloudFront distribution holds its routes inline, while recipes mount proxies on a site after
        # creating it (the realm names the site's origin, and the proxy checks the realm's tokens). So a
        # site's routes are a deferred Output, resolved in finish() with whatever was mounted.
        self._routes: dict[str, list[OriginRoute]] = {}
        self._resolve_routes: dict[str, Callable[[pulumi.Output], None]] = {}
        self._network: Network | None = None

    def static_site(self, name: str, spec: SiteSpec) -> Site:
        files = site_files(spec, CLOUD_SITES / pulumi.get_stack() / name)
        routes, self._resolve_routes[name] = pulumi.deferred_output()
        self._routes[name] = []
        site = StaticSite(name, StaticSiteArgs(
            files=files, base_path=spec.base_path, domain=spec.domain, certificate_arn=self.settings.certificate_arn,
            price_class=self.settings.price_class, routes=routes, frame_ancestors=spec.frame_ancestors,
            web_acl_id=self._web_acl_id))
        self._sites[name], self._stores[name] = site, (site.bucket, spec.base_path)
        return Site(name=name, origin=site.viewer_origin, url=site.viewer_url)

    def static_files(self, name: str, spec: FilesSpec, *, on_site: Site | None = None) -> Site:
        if on_site is not None:
            bucket = self._sites[on_site.name].bucket
            # One resource for the whole set, however many files (components/sync); the site's own are left alone.
            PublishedObjects(name, bucket.bucket, spec.path, items_of(spec.files, spec.path))
            self._stores[name] = (bucket, spec.path)
            return Site(name=name, origin=on_site.origin, url=pulumi.Output.concat(on_site.origin, spec.path))
        files = StaticFiles(name, StaticFilesArgs(files=spec.files, allowed_origins=spec.allowed_origins,
                                                  path=spec.path, price_class=self.settings.price_class,
                                                  web_acl_id=self._web_acl_id))
        self._files[name], self._stores[name] = files, (files.bucket, spec.path)
        return Site(name=name, origin=files.origin, url=files.url)

    def dicomweb_proxy(self, name: str, spec: ProxySpec, *, on_site: Site | None = None) -> Proxy:
        proxy = DicomwebProxy(name, DicomwebProxyArgs(
            spec=spec, own_url=on_site is None, placement=self._placement(first=True),
            instance_type=self.settings.proxy_instance_type, price_class=self.settings.price_class,
            web_acl_id=self._web_acl_id))
        if on_site is None:
            return Proxy(name=name, url=proxy.url)
        routes = self._routes[on_site.name]
        if any(r.path_pattern == proxy.route.path_pattern for r in routes):
            raise ValueError(f"site {on_site.name!r} already serves {proxy.route.path_pattern}")
        routes.append(proxy.route)
        return Proxy(name=name, url=same_origin_url(on_site))

    def identity_provider(self, name: str, spec: IdentityProviderSpec) -> IdentityProvider:
        if spec.existing_url:
            return existing_keycloak_realm(name, spec)
        placement = self._placement(first=False)
        host = KeycloakHost(name, KeycloakHostArgs(
            realm_import=spec.realm_at_origin().apply(render_realm_import),
            placement=placement, instance_type=self.settings.keycloak_instance_type,
            database_subnet_ids=self._database_subnets(), database=self.settings.keycloak_database,
            existing_database_url=spec.existing_database_url, existing_database_password=self._database_password,
            price_class=self.settings.price_class, web_acl_id=self._web_acl_id))
        return IdentityProvider(name=name, url=host.url)

    def _placement(self, first: bool) -> Placement:
        """Where a VM goes: the DICOMweb proxy in the first subnet the stack names, Keycloak in the last (the same
        one when it names one); or the private subnet of the recipe's own network, created once."""
        settings = self.settings
        if settings.vpc_id:
            vpc = aws.ec2.get_vpc_output(id=settings.vpc_id)
            return Placement(vpc_id=settings.vpc_id, vpc_cidr=vpc.cidr_block,
                             subnet_id=settings.subnet_ids[0 if first else -1])
        if self._network is None:
            self._network = Network("network", NetworkArgs())
        return Placement(vpc_id=self._network.vpc_id, vpc_cidr=self._network.cidr_block,
                         subnet_id=self._network.private_subnet_id)

    def _database_subnets(self) -> list[pulumi.Input[str]]:
        """Where Keycloak's managed database goes: the stack's database subnets, or the recipe's network's (placed
        first, with the Keycloak VM)."""
        return list(self.settings.database_subnet_ids) or (self._network.database_subnet_ids if self._network else [])

    def publish(self, site: Site, key: str, content: pulumi.Input[str]) -> None:
        # A resource of its own, not a child of the site: the site component has finished.
        bucket, path = self._stores[site.name]
        aws.s3.BucketObjectv2(f"{site.name}-{key}", bucket=bucket.id, key=path.lstrip("/") + key, content=content,
                              content_type=content_type(key), cache_control=cache_control(key))
        for f, source in published_variants(key, content):
            stored_object(f"{site.name}-{object_key('/', f)}", bucket, path, f, source, pulumi.ResourceOptions())

    def finish(self) -> dict[str, pulumi.Output]:
        outputs: dict[str, pulumi.Output] = {}
        for name, site in self._sites.items():
            self._resolve_routes[name](pulumi.Output.from_input(self._routes[name]))
            outputs[f"{name}_distribution_id"] = site.distribution_id
            outputs[f"{name}_bucket_name"] = site.bucket_name
        for name, files in self._files.items():
            outputs[f"{name}_distribution_id"] = files.distribution_id
            outputs[f"{name}_bucket_name"] = files.bucket_name
        return outputs
