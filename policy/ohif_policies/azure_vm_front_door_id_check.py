"""azure-vm-front-door-id-check: a VM's nginx answers only requests that came through our Front Door profile.

Over Private Link only our profile's private endpoint reaches the VM; behind a public origin the NSG could
admit no more than the AzureFrontDoor.Backend service tag, whose addresses every Front Door tenant shares.
Either way the X-Azure-FDID header, which Front Door sets to the profile's id, is the check nginx makes
(learn.microsoft.com/azure/frontdoor/origin-security): defence in depth, kept whatever the network. Every `server`
block of every nginx configuration a VM's custom data installs must therefore start by refusing other values:
`if ($http_x_azure_fdid != "<front_door_id>") { return 403; }`, with or without a body after the 403
(components/render/dicomweb_proxy/origin.py and
components/render/keycloak_host_init.py render it from the profile's front_door_id). Two servers are exempt: the
load balancer's health check (port 8090, `/healthz` alone), which the NSG opens to the probe's service tag only and
which serves no client's data; and the share store's (`/store/` alone, listening on 127.0.0.1 only), which the
proxy's own njs calls on the VM, never Front Door.
"""

from __future__ import annotations

import re

from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, Severity

from ._azure import custom_data, vm_props
from ._cloud_init import nginx_confs
from ._common import DOCS

SERVER = re.compile(r"(?m)^\s*server\s*\{")
HEALTH_SERVER = re.compile(r"^\s*listen 8090;.*location = /healthz \{", re.S)
STORE_SERVER = re.compile(r'^\s*listen 127\.0\.0\.1:[0-9]+;(?:(?!\blisten\b).)*location ~ "\^/store/', re.S)
FDID_CHECK = re.compile(r'if \(\$http_x_azure_fdid != "[^"$\s]+"\) \{ '
                        r'return 403(?: \'[^\'\n]*\'| "[^"\n]*"| [^;\s]+)?; \}')


def validate(args, report_violation):
    vm = vm_props(args)
    if vm is None:
        return
    for path, conf in nginx_confs(custom_data(vm[1])):
        servers = [s for s in SERVER.split(conf)[1:] if not (HEALTH_SERVER.search(s) or STORE_SERVER.search(s))]
        if any(not FDID_CHECK.search(server) for server in servers):
            report_violation(f"{vm[0]} {args.name} runs nginx ({path}) without checking X-Azure-FDID, so any "
                             f"tenant's Front Door reaches it. Pass the profile's front_door_id as origin_check, "
                             f"so nginx answers 403 to any other. See {DOCS}")


POLICY = ResourceValidationPolicy(
    name="azure-vm-front-door-id-check",
    description="Every nginx server in a VM's custom data refuses requests whose X-Azure-FDID is not the profile's.",
    enforcement_level=EnforcementLevel.MANDATORY, severity=Severity.CRITICAL, validate=validate)
