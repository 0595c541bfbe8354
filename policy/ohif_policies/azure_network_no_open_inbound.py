"""azure-network-no-open-inbound: only Front Door reaches the VMs, and SSH/RDP nobody.

Every inbound Allow rule of a network security group, inline (`securityRules`) or a SecurityRule
resource of its own, admits only what Front Door comes from, and none admits 22 or 3389: a private address
(over Private Link, Front Door's requests arrive from the Private Link service's NAT address in the virtual
network: components/azure/origin_vm.py), the `AzureLoadBalancer` tag (the internal load balancer's health
probe), or the `AzureFrontDoor.Backend` tag (Front Door's public addresses, for an origin on the internet).
Never the internet, `*`, a public range or a broad tag. Front Door's addresses are shared by every tenant, so
nginx also checks X-Azure-FDID (azure-vm-front-door-id-check). Administer the VMs with Azure Bastion or Run
Command, not an open port.
"""

from __future__ import annotations

import ipaddress

from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, Severity

from ._azure import FRONT_DOOR_BACKEND, NSG, SECURITY_RULE
from ._common import DOCS

ADMIN_PORTS = {22, 3389}
SERVICE_TAGS = {FRONT_DOOR_BACKEND, "AzureLoadBalancer"}
PRIVATE_RANGES = [ipaddress.ip_network(r) for r in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")]


def _is_private(source: str) -> bool:
    """Whether a source lies within a private range (RFC 1918, unique local): never the internet."""
    try:
        network = ipaddress.ip_network(source, strict=False)
    except ValueError:
        return False
    return any(network.version == r.version and network.subnet_of(r) for r in PRIVATE_RANGES)


def _rules(args):
    """(label, rule props) of each security rule the resource declares."""
    if args.resource_type == NSG:
        for rule in args.props.get("securityRules") or []:
            yield f"{args.name} rule {rule.get('name')}", rule
    elif args.resource_type == SECURITY_RULE:
        yield args.name, args.props


def _ports(rule) -> set[int]:
    ports = set()
    for spec in [rule.get("destinationPortRange")] + list(rule.get("destinationPortRanges") or []):
        if spec is None:
            continue
        spec = str(spec).strip()
        if spec in ("*", "Any"):
            return set(range(0, 65536))
        low, _, high = spec.partition("-")
        try:
            ports |= set(range(int(low), int(high or low) + 1))
        except ValueError:
            return set(range(0, 65536))  # not a port or a range: assume the worst
    return ports


def _sources(rule) -> set[str]:
    sources = {str(s) for s in [rule.get("sourceAddressPrefix")] + list(rule.get("sourceAddressPrefixes") or [])
               if s}
    if rule.get("sourceApplicationSecurityGroups"):
        sources.add("application security groups")
    return sources


def validate(args, report_violation):
    for label, rule in _rules(args):
        if rule.get("direction") != "Inbound" or rule.get("access") != "Allow":
            continue
        admin = _ports(rule) & ADMIN_PORTS
        others = sorted(s for s in _sources(rule) if s not in SERVICE_TAGS and not _is_private(s)) or \
            (["no source"] if not _sources(rule) else [])
        if admin:
            report_violation(f"{label} admits {sorted(admin)} (SSH/RDP). Remove the rule; use Azure Bastion or Run "
                             f"Command. See {DOCS}")
        elif others:
            report_violation(f"{label} admits {', '.join(others)}. Admit only Front Door: its Private Link "
                             f"address in the virtual network (and AzureLoadBalancer for the health probe), or the "
                             f"service tag {FRONT_DOOR_BACKEND}. See {DOCS}")


POLICY = ResourceValidationPolicy(
    name="azure-network-no-open-inbound",
    description="NSG inbound Allow rules admit only Front Door (Private Link's private address, the load balancer's "
                "probe, or AzureFrontDoor.Backend), and never ports 22 or 3389.",
    enforcement_level=EnforcementLevel.MANDATORY, severity=Severity.CRITICAL, validate=validate)
