"""DicomwebProxy on Azure: the rendered nginx proxy on an OriginVm, reachable only through Front Door.

Same-origin: a `/dicom-web/*` route on the viewer's own endpoint (no CORS). Otherwise an endpoint of
its own, and CORS allows the viewer's origin. HTTPS ends at Front Door, which reaches the VM over Private Link
(components/azure/origin_vm.py). Front Door has no per-route method list, so nginx's locations are what allow GET/HEAD/OPTIONS (and POST with STOW) and answer 405.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import pulumi

from components.azure.front_door import FDID_HEADER, endpoint, vm_route
from components.azure.dicom_service import DicomServiceAccess, DicomServiceAccessArgs
from components.azure.origin_vm import OriginVm, OriginVmArgs
from components.render.cloud_init import VM_HEALTH_PORT, render_proxy_cloud_init
from components.render.proxy_nginx import DICOMWEB_PATH, HEALTH_PATH, TokenCheck
from settings import ScaleSettings
from settings.services import DICOM_SERVICE, ArchiveService

AZURE_DNS = "168.63.129.16"  # Azure's resolver, at this address in every virtual network


@dataclass
class DicomwebProxyArgs:
    upstream_url: pulumi.Input[str]
    """The archive's DICOMweb root, as the VM reaches it."""
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
    endpoint_name: pulumi.Input[str] | None = None
    """The viewer's endpoint, to serve /dicom-web/* beside it (same-origin); None gives the proxy its own."""
    custom_domain_ids: Sequence[pulumi.Input[str]] = ()
    """The viewer endpoint's custom domains, which the /dicom-web/* route serves too."""
    allowed_origins: pulumi.Input[Sequence[str]] = ()
    """Browser origins the proxy serves at its own endpoint (CORS allows them; any other is refused). Beside the
    viewer, it serves the viewer's origin, which reaches it as the Host Front Door forwards."""
    enable_stow: bool = False
    """Pass STOW-RS uploads to the archive."""
    token_check: pulumi.Input[TokenCheck] | None = None
    """Require a token of this realm on every DICOMweb request."""
    scale: ScaleSettings = field(default_factory=ScaleSettings)
    """One VM where at most one runs (the cheapest); else a scale set behind the load balancer."""
    vm_size: str = "Standard_B2s"
    """The VM's size."""

    waf_policy_id: pulumi.Input[str] | None = None
    """The Front Door WAF policy that guards its endpoint: who may reach it, and how fast."""
    archive_service: ArchiveService | None = None
    """Azure's DICOM service at `upstream_url`, which the VM's managed identity may read
    (components/azure/dicom_service.py)."""
    virtual_network_id: pulumi.Input[str] | None = None
    """The subnet's network: a created DICOM service's private DNS zone is linked to it."""

class DicomwebProxy(pulumi.ComponentResource):
    url: pulumi.Output[str] | None
    """The DICOMweb root at the proxy's own endpoint; None when it is served beside the viewer."""

    def __init__(self, name: str, args: DicomwebProxyArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ohif:azure:DicomwebProxy", name, {}, opts)
        child = pulumi.ResourceOptions(parent=self)
        same_origin = args.endpoint_name is not None
        service = args.archive_service
        if service is not None and service.kind != DICOM_SERVICE:
            raise ValueError(f"{name}: an Azure proxy reads Azure's DICOM service, not {service.kind}")

        def cloud_init(a: list) -> str:
            upstream, origins, front_door_id, check = a
            return render_proxy_cloud_init(
                upstream_url=upstream, allowed_origins=origins, enable_stow=args.enable_stow,
                origin_check=(FDID_HEADER, front_door_id), resolver=AZURE_DNS, token_check=check,
                # Front Door forwards the viewer's Host (vm_route sets no origin host header).
                serve_own_host=same_origin, archive_auth=service.auth if service else None)

        vm = OriginVm(name, OriginVmArgs(
            custom_data=pulumi.Output.all(args.upstream_url, args.allowed_origins, args.front_door_id,
                                          args.token_check).apply(cloud_init),
            resource_group_name=args.resource_group_name, location=args.location, subnet_id=args.subnet_id,
            archive_url=args.upstream_url, vm_size=args.vm_size,
            scale=args.scale if args.scale.grouped else None, health_check=(VM_HEALTH_PORT, HEALTH_PATH),
            identity=service is not None),
            opts=child)
        if service is not None:
            DicomServiceAccess(name, DicomServiceAccessArgs(
                service=service, principal_id=vm.principal_id, enable_stow=args.enable_stow,
                resource_group_name=args.resource_group_name, location=args.location, subnet_id=args.subnet_id,
                virtual_network_id=args.virtual_network_id), opts=child)
        own = None if same_origin else endpoint(name, self, resource_group_name=args.resource_group_name,
                                                profile_name=args.profile_name, waf_policy_id=args.waf_policy_id)
        vm_route(name, self, resource_group_name=args.resource_group_name, profile_name=args.profile_name,
                 endpoint_name=args.endpoint_name if same_origin else own.name, location=args.location,
                 origin_host=vm.origin_host, private_link_service_id=vm.private_link_service_id,
                 patterns=[f"{DICOMWEB_PATH}/*"], custom_domain_ids=args.custom_domain_ids)
        self.url = None if own is None else pulumi.Output.concat("https://", own.host_name, DICOMWEB_PATH)
        self.register_outputs({"url": self.url})
