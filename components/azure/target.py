"""AzureTarget: the recipes' operations on Azure (components.target.Target).

    static_site       StaticSite: private blob container + Front Door (managed identity, rule set)
    static_files      StaticFiles: private blob container + a Front Door endpoint of their own (CORS), or
                      blobs in a site's container
    dicomweb_proxy    DicomwebProxy: an OriginVm behind its own endpoint, or a route on a site's
    identity_provider KeycloakHost (an OriginVm behind its own endpoint), or KeycloakRealm on yours
    publish           a blob beside the handle's files

The target owns what its operations share: one resource group, one Front Door profile whose endpoints serve
the viewer, files, the DICOMweb proxy and Keycloak, and whose managed identity reads the blobs, and the VMs'
subnet: the stack's `azure.subnet_id`, or a Network of its own, created with the first VM. Front Door reaches
the VMs over Private Link, which needs Premium (settings make it the default where a stack has a VM).
One WAF policy (EdgeFirewall) guards every endpoint: the stack's allowed networks and its rate limit.
Components get the profile's name, id and identity, the WAF policy's id, and the subnet, as plain inputs.
"""

from __future__ import annotations

import pulumi
import pulumi_azure_native.cdn as cdn
import pulumi_azure_native.resources as resources
import pulumi_azure_native.storage as storage

from components.azure.blob_sync import PublishedBlobs, blob_endpoint
from components.azure.dicomweb_proxy import DicomwebProxy, DicomwebProxyArgs
from components.azure.edge_firewall import EdgeFirewall, EdgeFirewallArgs
from components.azure.front_door import LOCATION as FRONT_DOOR_LOCATION
from components.azure.keycloak_host import KeycloakHost, KeycloakHostArgs
from components.azure.network import DATABASE_SPACE, Network, NetworkArgs
from components.azure.static_files import StaticFiles, StaticFilesArgs
from components.azure.static_site import StaticSite, StaticSiteArgs, stored_blob
from components.keycloak_realm import existing_keycloak_realm
from components.render.realm import render_realm_import
from components.render.viewer_build import content_type, object_key
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
from settings import AccessSettings, AzureSettings


class AzureTarget(Target):
    def __init__(self, settings: AzureSettings, access: AccessSettings,
                 database_password: pulumi.Input[str] | None = None) -> None:
        """`database_password`: the stack's secret for an existing Keycloak database
        (settings.DATABASE_PASSWORD_KEY)."""
        self._settings = settings
        self._database_password = database_password
        group = resources.ResourceGroup("resource-group", location=settings.location,
                                        resource_group_name=settings.resource_group or f"ohif-{pulumi.get_stack()}")
        self._resource_group = group.name
        self._profile = cdn.Profile(
            "frontdoor", resource_group_name=self._resource_group, location=FRONT_DOOR_LOCATION,
            sku=cdn.SkuArgs(name=f"{settings.front_door_tier}_AzureFrontDoor"),
            # The identity Front Door signs in to storage with.
            identity=cdn.ManagedServiceIdentityArgs(type="SystemAssigned"))
        self._waf_policy_id = EdgeFirewall("edge-firewall", EdgeFirewallArgs(
            resource_group_name=self._resource_group, tier=settings.front_door_tier, rate_limit=access.rate_limit,
            allowed_networks=access.allowed_networks)).policy_id
        self._sites: dict[str, StaticSite] = {}
        # Where each handle's files go: its storage account, container and path (a site's, or files' own).
        self._stores: dict[str, tuple[pulumi.Output[str], pulumi.Output[str], str]] = {}
        self._outputs: dict[str, pulumi.Output] = {"resource_group": self._resource_group}
        self._network: Network | None = None

    def static_site(self, name: str, spec: SiteSpec) -> Site:
        files = site_files(spec, CLOUD_SITES / pulumi.get_stack() / name)
        site = StaticSite(name, StaticSiteArgs(
            files=files, base_path=spec.base_path, domain=spec.domain, frame_ancestors=spec.frame_ancestors,
            **self._storage_placement()))
        self._sites[name] = site
        self._stores[name] = (site.account_name, site.container_name, spec.base_path)
        self._outputs.update(front_door_endpoint=site.endpoint_host, storage_account=site.account_name)
        if site.domain_validation is not None:
            self._outputs[f"{name}_domain_validation"] = site.domain_validation
        return Site(name=name, origin=site.origin, url=site.url)

    def static_files(self, name: str, spec: FilesSpec, *, on_site: Site | None = None) -> Site:
        if on_site is not None:
            site = self._sites[on_site.name]
            # Resources of their own, not children of the site: the site component has finished.
            # One resource for the whole set, however many files (components/sync); the site's own are left alone.
            PublishedBlobs(name, blob_endpoint(site.account_name), site.container_name, spec.path,
                           items_of(spec.files, spec.path))
            self._stores[name] = (site.account_name, site.container_name, spec.path)
            return Site(name=name, origin=on_site.origin, url=pulumi.Output.concat(on_site.origin, spec.path))
        files = StaticFiles(name, StaticFilesArgs(files=spec.files, allowed_origins=spec.allowed_origins,
                                                  path=spec.path, **self._storage_placement()))
        self._stores[name] = (files.account_name, files.container_name, spec.path)
        self._outputs.update({f"{name}_endpoint": files.endpoint_host, f"{name}_storage_account": files.account_name})
        return Site(name=name, origin=files.origin, url=files.url)

    def dicomweb_proxy(self, name: str, spec: ProxySpec, *, on_site: Site | None = None) -> Proxy:
        args = dict(spec=spec, vm_size=self._settings.proxy_vm_size, front_door_id=self._profile.front_door_id,
                    subnet_id=self._subnet(name), virtual_network_id=self._virtual_network_id(), **self._placement())
        if on_site is None:
            return Proxy(name, DicomwebProxy(name, DicomwebProxyArgs(own_url=True, **args)).url)
        site = self._sites[on_site.name]
        DicomwebProxy(name, DicomwebProxyArgs(site_endpoint_name=site.endpoint_name,
                                              custom_domain_ids=site.custom_domain_ids, **args))
        return Proxy(name, same_origin_url(on_site))

    def identity_provider(self, name: str, spec: IdentityProviderSpec) -> IdentityProvider:
        if spec.existing_url:
            return existing_keycloak_realm(name, spec)
        subnet_id = self._subnet(name)
        if self._settings.subnet_id:
            database = dict(database_subnet_id=self._settings.database_subnet_id,
                            virtual_network_id=self._virtual_network_id())
        else:
            database = dict(database_subnet_id=self._network.database_subnet_id,
                            virtual_network_id=self._virtual_network_id(), database_prefix=DATABASE_SPACE)
        host = KeycloakHost(name, KeycloakHostArgs(
            realm_import=spec.realm_at_origin().apply(render_realm_import),
            vm_size=self._settings.keycloak_vm_size, front_door_id=self._profile.front_door_id,
            subnet_id=subnet_id, database=self._settings.keycloak_database,
            existing_database_url=spec.existing_database_url, existing_database_password=self._database_password,
            **database, **self._placement()))
        return IdentityProvider(name, host.url)

    def publish(self, site: Site, key: str, content: pulumi.Input[str]) -> None:
        # A resource of its own, not a child of the site or files: their components have finished.
        account_name, container_name, path = self._stores[site.name]
        storage.Blob(f"{site.name}-{key}", resource_group_name=self._resource_group, account_name=account_name,
                     container_name=container_name, blob_name=path.lstrip("/") + key, type="Block",
                     content_type=content_type(key), source=pulumi.Output.from_input(content).apply(pulumi.StringAsset))
        for f, source in published_variants(key, content):
            stored_blob(f"{site.name}-{object_key('/', f)}", path, f, source, resource_group_name=self._resource_group,
                        account_name=account_name, container_name=container_name, opts=pulumi.ResourceOptions())

    def finish(self) -> dict[str, pulumi.Output]:
        return dict(self._outputs)

    def _subnet(self, vm: str) -> pulumi.Input[str]:
        """The VMs' subnet: the stack's, or a network of the target's own, created once. Private Link needs Front Door
        Premium; settings refuse Standard for a stack with a VM, and a fork that adds one to such a stack stops here."""
        if self._settings.front_door_tier != "Premium":
            raise ValueError(f"VM {vm!r} needs Front Door Premium, which reaches it over Private Link: set "
                             "ohif:azure.front_door_tier to Premium")
        if self._settings.subnet_id:
            return self._settings.subnet_id
        if self._network is None:
            # The proxy's VM had a network of its own before the VMs shared one: keep it (components/azure/network.py).
            moved_from = f"urn:pulumi:{pulumi.get_stack()}::{pulumi.get_project()}::" \
                         "ohif:azure:DicomwebProxy$ohif:azure:OriginVm::proxy"
            self._network = Network("network", NetworkArgs(resource_group_name=self._resource_group,
                                                           location=self._settings.location, moved_from=moved_from))
        return self._network.subnet_id

    def _virtual_network_id(self) -> pulumi.Input[str]:
        """The VMs' network (after _subnet): the one the stack's subnet is in, or the target's own."""
        if self._settings.subnet_id:
            return self._settings.subnet_id.split("/subnets/")[0]
        return self._network.virtual_network_id

    def _placement(self) -> dict:
        return dict(resource_group_name=self._resource_group, location=self._settings.location,
                    profile_name=self._profile.name, waf_policy_id=self._waf_policy_id)

    def _storage_placement(self) -> dict:
        """Storage also needs the identity Front Door reads it with."""
        return dict(**self._placement(), profile_principal_id=self._profile.identity.apply(lambda i: i.principal_id))
