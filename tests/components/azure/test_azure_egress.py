"""An egress plan (components/egress.py) as an Azure NSG's rules (components/azure/origin_vm.py)."""

from __future__ import annotations

from components.azure.origin_vm import AZURE_PLATFORM, security_rules
from components.egress import Egress, Reach, egress_plan, url_destination


def outbound(*own: Egress, database_prefix: str | None = None) -> list[tuple]:
    return [(r.priority, r.access, r.destination_address_prefix, r.destination_port_range or r.destination_port_ranges)
            for r in security_rules("10.250.0.9", egress_plan(*own), None, database_prefix)
            if r.direction == "Outbound"]


def test_the_platform_and_the_web_then_nothing_else():
    assert outbound() == [(100, "Allow", f"{AZURE_PLATFORM}/32", "*"), (110, "Allow", "Internet", ["80", "443"]),
                          (4096, "Deny", "*", "*")]


def test_an_archive_by_name_gets_its_port_to_any_address():
    archive = Egress(Reach.ARCHIVE, url_destination("https://pacs.example-hospital.org/dicom-web/"))
    assert outbound(archive)[2] == (120, "Allow", "*", "443"), "the Internet tag would miss a peered network"


def test_the_managed_database_is_reached_at_its_prefix():
    assert outbound(Egress(Reach.DATABASE), database_prefix="10.250.1.0/28")[2] == \
        (130, "Allow", "10.250.1.0/28", "5432")


def test_each_rule_has_a_priority_of_its_own_in_its_direction():
    plan = egress_plan(Egress(Reach.ARCHIVE, url_destination("http://10.0.1.20:8042/dicom-web/")),
                       Egress(Reach.DATABASE, url_destination("postgresql://keycloak@10.0.3.15/keycloak")))
    for direction in ("Inbound", "Outbound"):
        priorities = [r.priority for r in security_rules("10.250.0.9", plan, 8090) if r.direction == direction]
        assert len(set(priorities)) == len(priorities), direction
