"""An egress plan (components/egress.py) as an AWS security group's rules (components/aws/origin_vm.py)."""

from __future__ import annotations

import re

from components.aws.origin_vm import egress_rules
from components.egress import Egress, Reach, egress_plan, url_destination

RESOLVERS = ["169.254.169.253/32", "10.251.0.2/32"]
# What AWS accepts in a security group rule's description (EC2 API, IpRange/UserIdGroupPair Description).
AWS_DESCRIPTION = re.compile(r"^[0-9A-Za-z_ .:/()#,@\[\]+=&;{}!$*-]{0,255}$")


def rules(*own: Egress, database_group: str | None = None) -> list[tuple]:
    return [(r.protocol, r.from_port, tuple((r.cidr_blocks or []) + (r.ipv6_cidr_blocks or [])),
             tuple(r.security_groups or [])) for r in egress_rules(egress_plan(*own), RESOLVERS, database_group)]


BASE = [("udp", 53, tuple(RESOLVERS), ()), ("tcp", 53, tuple(RESOLVERS), ()),
        ("tcp", 80, ("0.0.0.0/0",), ()), ("tcp", 443, ("0.0.0.0/0",), ())]


def test_nothing_else_needs_no_rule():
    assert rules() == BASE, "a security group refuses what no rule allows"


def test_the_managed_database_is_reached_by_its_group():
    assert rules(Egress(Reach.DATABASE), database_group="sg-db") == BASE + [("tcp", 5432, (), ("sg-db",))]


def test_an_existing_database_is_reached_at_its_address():
    to = url_destination("postgresql://keycloak@10.0.3.15:5433/keycloak")
    assert rules(Egress(Reach.DATABASE, to)) == BASE + [("tcp", 5433, ("10.0.3.15/32",), ())]


def test_every_description_is_one_aws_accepts():
    plan = egress_plan(Egress(Reach.ARCHIVE, url_destination("https://pacs.example-hospital.org:8443/dicom-web/")),
                       Egress(Reach.DATABASE, url_destination("postgresql://keycloak@[fd00::15]/keycloak")),
                       Egress(Reach.DATABASE))
    for rule in egress_rules(plan, RESOLVERS, "sg-db"):
        assert AWS_DESCRIPTION.match(rule.description), rule.description
