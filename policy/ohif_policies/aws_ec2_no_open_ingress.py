"""aws-ec2-no-open-ingress: nothing is open to the internet but HTTP(S), and SSH/RDP to nobody.

Administer VMs through SSM Session Manager or a bastion you control, never port 22 or 3389.
"""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, Severity

from ._common import DOCS

ANYWHERE = {"0.0.0.0/0", "::/0"}
WEB_PORTS = {80, 443}
ADMIN_PORTS = {22, 3389}


def _rules(args):
    """(from, to, protocol, cidrs) of each ingress rule the resource declares."""
    p = args.props
    if args.resource_type == "aws:ec2/securityGroup:SecurityGroup":
        for r in p.get("ingress") or []:
            yield r.get("fromPort"), r.get("toPort"), r.get("protocol"), \
                set(r.get("cidrBlocks") or []) | set(r.get("ipv6CidrBlocks") or [])
    elif args.resource_type == "aws:ec2/securityGroupRule:SecurityGroupRule" and p.get("type") == "ingress":
        yield p.get("fromPort"), p.get("toPort"), p.get("protocol"), \
            set(p.get("cidrBlocks") or []) | set(p.get("ipv6CidrBlocks") or [])
    elif args.resource_type == "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule":
        yield p.get("fromPort"), p.get("toPort"), p.get("ipProtocol"), {p.get("cidrIpv4"), p.get("cidrIpv6")} - {None}


def validate(args, report_violation):
    for low, high, protocol, cidrs in _rules(args):
        all_ports = str(protocol) == "-1" or low is None
        ports = set(range(0, 65536)) if all_ports else set(range(int(low), int(high) + 1))
        if ports & ADMIN_PORTS:
            report_violation(f"{args.name} opens {sorted(ports & ADMIN_PORTS)} (SSH/RDP). Remove the rule; use SSM "
                             f"Session Manager. See {DOCS}")
        elif cidrs & ANYWHERE and not ports <= WEB_PORTS:
            report_violation(f"{args.name} opens ports {low}-{high} to {', '.join(sorted(cidrs & ANYWHERE))}. Only 80 "
                             f"and 443 may face the internet; prefer CloudFront's prefix list. See {DOCS}")


POLICY = ResourceValidationPolicy(
    name="aws-ec2-no-open-ingress",
    description="No security group rule opens SSH/RDP, or any port but 80/443 to 0.0.0.0/0 or ::/0.",
    enforcement_level=EnforcementLevel.MANDATORY, severity=Severity.CRITICAL, validate=validate)
