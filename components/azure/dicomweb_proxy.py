"""DicomwebProxy on Azure: the rendered nginx proxy on an OriginVm, reachable only through Front Door.

With `own_url` the proxy gets an endpoint of its own, and CORS allows the viewer's origin; otherwise a
`/dicom-web/*` route on the viewer's own endpoint (same-origin, no CORS). HTTPS ends at Front Door, which reaches
the VM over Private Link (components/azure/origin_vm.py). Front Door has no per-route method list, so nginx's
locations are what allow GET/HEAD/OPTIONS (and POST with STOW) and answer 405.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi

from components.azure.dicom_service import DicomServiceAccess, DicomServiceAccessArgs
from components.azure.front_door import endpoint, vm_route
from components.azure.origin_vm import AZURE_PLATFORM, OriginVm, OriginVmArgs
from components.azure.share_store import ShareStore, ShareStoreArgs, ShareStoreWriter, ShareStoreWriterArgs
from components.azure.vm_secrets import VmSecrets, VmSecretsArgs, VmSecretsReader, VmSecretsReaderArgs
from components.proxy_host import OriginHeader, ProxyHost
from components.render.dicomweb_proxy.interface import DICOMWEB_PATH
from components.render.dicomweb_proxy.origin import FrontDoorCheck
from components.share_keys import share_keys
from components.target import ProxySpec
from settings.services import DICOM_SERVICE

PURPOSE = "ohif-dicomweb-proxy"


@dataclass
class DicomwebProxyArgs:
    spec: ProxySpec
    """What the proxy serves and reads (components/target.py); its archive service, if any, is Azure's DICOM
    service."""
    resource_group_name: pulumi.Input[str]
    """The resource group of the VM and the Front Door profile."""
    location: pulumi.Input[str]
    """The region of the VM."""
    subnet_id: pulumi.Input[str]
    """The subnet of the VM (one that reaches the archive); Private Link service network policies off."""
    profile_name: pulumi.Input[str]
    """The Front Door profile in front of the VM."""
    front_door_id: pulumi.Input[str]
    """That profile's id, which nginx requires in X-Azure-FDID."""
    own_url: bool = False
    """Serve at an endpoint of its own (with CORS), rather than beside the viewer."""
    site_endpoint_name: pulumi.Input[str] | None = None
    """Without `own_url`: the viewer's endpoint, which then serves /dicom-web/* beside the viewer (same-origin)."""
    custom_domain_ids: Sequence[pulumi.Input[str]] = ()
    """Without `own_url`: the viewer endpoint's custom domains, which the /dicom-web/* route serves too."""
    vm_size: str = "Standard_B2s"
    """The VM's size."""
    waf_policy_id: pulumi.Input[str] | None = None
    """The Front Door WAF policy that guards its endpoint: who may reach it, and how fast."""
    virtual_network_id: pulumi.Input[str] | None = None
    """The subnet's network: a created DICOM service's private DNS zone is linked to it."""


class DicomwebProxy(pulumi.ComponentResource):
    url: pulumi.Output[str] | None
    """The DICOMweb root at the proxy's own endpoint; None without `own_url`."""

    def __init__(self, name: str, args: DicomwebProxyArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ohif:azure:DicomwebProxy", name, {}, opts)
        child = pulumi.ResourceOptions(parent=self)
        # Front Door forwards the viewer's Host (vm_route sets no origin host header), and its profile id is no secret.
        host = ProxyHost(name, args.spec, own_url=args.own_url, resolver=AZURE_PLATFORM, reads=DICOM_SERVICE,
                         origin_header=OriginHeader(FrontDoorCheck, args.front_door_id))
        service = args.spec.archive_service
        # Share links' keys are secrets: the VM fetches them at boot with its identity (components/azure/vm_secrets.py).
        secrets = VmSecrets(name, VmSecretsArgs(
            files=host.secret_files(share_keys(name, args.spec.share, child)), purpose=PURPOSE,
            resource_group_name=args.resource_group_name, location=args.location),
            opts=child) if args.spec.share else None
        # Share links' records and revocations, in a container only the proxy's identity reaches.
        store = ShareStore(name, ShareStoreArgs(resource_group_name=args.resource_group_name, location=args.location),
                           opts=child) if args.spec.share else None
        vm = OriginVm(name, OriginVmArgs(
            custom_data=host.cloud_init(secrets.fetch if secrets else None, store.at if store else None),
            resource_group_name=args.resource_group_name, location=args.location, subnet_id=args.subnet_id,
            egress=host.egress, vm_size=args.vm_size, scale=host.scale, health_check=host.health_check,
            identity=service is not None or secrets is not None),
            opts=child)
        if secrets:
            VmSecretsReader(name, VmSecretsReaderArgs(secret_id=secrets.secret_id, principal_id=vm.principal_id),
                            opts=child)
        if store:
            ShareStoreWriter(name, ShareStoreWriterArgs(container_id=store.container_id, principal_id=vm.principal_id),
                             opts=child)
        if service is not None:
            DicomServiceAccess(name, DicomServiceAccessArgs(
                service=service, principal_id=vm.principal_id, enable_stow=args.spec.enable_stow,
                resource_group_name=args.resource_group_name, location=args.location, subnet_id=args.subnet_id,
                virtual_network_id=args.virtual_network_id), opts=child)
        own = endpoint(name, self, resource_group_name=args.resource_group_name, profile_name=args.profile_name,
                       waf_policy_id=args.waf_policy_id) if args.own_url else None
        vm_route(name, self, resource_group_name=args.resource_group_name, profile_name=args.profile_name,
                 endpoint_name=own.name if own else args.site_endpoint_name, location=args.location,
                 origin_host=vm.origin_host, private_link_service_id=vm.private_link_service_id,
                 patterns=[f"{DICOMWEB_PATH}/*"], custom_domain_ids=args.custom_domain_ids)
        self.url = pulumi.Output.concat("https://", own.host_name, DICOMWEB_PATH) if own else None
        self.register_outputs({"url": self.url})
