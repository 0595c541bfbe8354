"""settings/checks.py: the checks every section shares (whole numbers, URLs, origins, CIDRs, database URLs, the
keys of a section's object), seen through the sections that use them."""

from __future__ import annotations

import pytest

from settings import load
from tests.settings.examples import archive, azure, embedded, prod, stack, stops_before_any_resource, uac

CASES = {
    "a CPU target out of range": (
        prod(archive=archive(scale={"cpu_target_percent": 95})),
        "ohif:archive.scale.cpu_target_percent = 95: allowed: a whole number from 10 to 90"),
    "unknown nested key": (prod(viewer={"base_path": "/", "cdn": "fast"}),
                           'ohif:viewer.cdn = "fast": unknown key; allowed: base_path, domain, include_source_maps'),
    "malformed upstream URL": (prod(archive=archive(upstream_url="10.0.1.20:8042/dicom-web")),
                               'ohif:archive.upstream_url = "10.0.1.20:8042/dicom-web": '
                               "allowed: an absolute http:// or https:// URL"),
    "http DICOMweb URL in production": (prod(archive={"dicomweb_url": "http://pacs.example.org/dicom-web"}),
                                        'ohif:archive.dicomweb_url = "http://pacs.example.org/dicom-web": '
                                        "allowed: https:// only in a production stack"),
    "malformed origin": (prod(archive=archive(topology="cross-origin",
                                              allowed_origins=["https://portal.example.org/"])),
                         'ohif:archive.allowed_origins[0] = "https://portal.example.org/": allowed: an origin such '
                         "as https://viewer.example.org (scheme and host, no path or slash)"),
    "http origin in production": (prod(archive=archive(topology="cross-origin",
                                                       allowed_origins=["http://portal.example.org"])),
                                  'ohif:archive.allowed_origins[0] = "http://portal.example.org": '
                                  "allowed: https:// origins only in a production stack"),
    "wildcard CORS in production": (prod(archive=archive(topology="cross-origin", allowed_origins=["*"])),
                                    'ohif:archive.allowed_origins[0] = "*": allowed: explicit origins; '
                                    "a wildcard is refused in a production stack"),
    "bad Keycloak URL": (uac(realm="ohif", keycloak_url="sso.example-hospital.org"),
                         'ohif:auth.keycloak_url = "sso.example-hospital.org": allowed: an absolute http:// or '
                         "https:// URL"),
    "http Keycloak in production": (uac(realm="ohif", keycloak_url="http://sso.example-hospital.org"),
                                    'ohif:auth.keycloak_url = "http://sso.example-hospital.org": allowed: https:// '
                                    "only in a production stack"),
    "AWS certificate on Azure, where Front Door manages it": (
        azure(viewer={"base_path": "/", "domain": "viewer.example.org",
                      "certificate_arn": "arn:aws:acm:us-east-1:123456789012:certificate/"
                                         "00000000-0000-4000-8000-000000000000"}),
        'ohif:viewer.certificate_arn = "arn:aws:acm:us-east-1:123456789012:certificate/'
        '00000000-0000-4000-8000-000000000000": moved to ohif:aws.certificate_arn'),
    "moved key: price class under viewer": (
        prod(viewer={"base_path": "/", "price_class": "PriceClass_All"}),
        'ohif:viewer.price_class = "PriceClass_All": moved to ohif:aws.price_class'),
    "moved key: proxy instance type under archive": (prod(archive=archive(instance_type="t3.large")),
                                                     'ohif:archive.instance_type = "t3.large": moved to '
                                                     "ohif:aws.proxy_instance_type"),
    # What a first read found.
    "token lifetime given as a boolean": (
        uac(realm="ohif", access_token_minutes=True),
        "ohif:auth.access_token_minutes = true: allowed: a whole number from 1 to 60"),
    "a partial wildcard host origin": (embedded(host_origins=["https://*.example-hospital.org"]),
                                       'ohif:embed.host_origins[0] = "https://*.example-hospital.org": allowed: '
                                       "exact origins such as https://portal.example.org (no partial wildcard)"),
    "a malformed CIDR": (prod(access={"allowed_networks": ["203.0.113.0/33"]}),
                         'ohif:access.allowed_networks[0] = "203.0.113.0/33": allowed: an IPv4 or IPv6 network in CIDR '
                         "form, such as 203.0.113.0/24 or 2001:db8::/48"),
    "a CIDR with host bits": (prod(access={"allowed_networks": ["203.0.113.7/24"]}),
                              'ohif:access.allowed_networks[0] = "203.0.113.7/24": allowed: an IPv4 or IPv6 network in '
                              "CIDR form, such as 203.0.113.0/24 or 2001:db8::/48; its host bits are set: did you "
                              "mean 203.0.113.0/24?"),
    "every IPv4 address as a network": (prod(access={"allowed_networks": ["203.0.113.0/24", "0.0.0.0/0"]}),
                                        'ohif:access.allowed_networks[1] = "0.0.0.0/0": admits every address: to serve '
                                        "anyone, say so with access.public: true (de-identified data only)"),
    "every IPv6 address as a network": (azure(access={"allowed_networks": ["::/0"]}),
                                        'ohif:access.allowed_networks[0] = "::/0": admits every address: to serve '
                                        "anyone, say so with access.public: true"),
    "a rate limit below what one study needs": (prod(access={"allowed_networks": ["203.0.113.0/24"], "rate_limit": 50}),
                                                "ohif:access.rate_limit = 50: allowed: a whole number from 100 to "
                                                "2000000000 (DICOMweb requests per client address per five minutes)"),
    # Keycloak's database (issue 19): backups a production stack can restore from, and what each cloud's tier offers.
    "a week of backups is the least in production": (
        stack("prod-uac", aws={"keycloak_database": {"backup_retention_days": 3}}),
        "ohif:aws.keycloak_database.backup_retention_days = 3: allowed: a whole number of days from 7 to 35 in a "
        "production stack"),
    "an existing database's password in its URL": (
        uac(realm="ohif", keycloak_database_url="postgresql://keycloak:pw@db.example.org/keycloak"),
        'ohif:auth.keycloak_database_url = "postgresql://keycloak:pw@db.example.org/keycloak": allowed: '
        "postgresql://<user>@<host>[:port]/<database>, without the password (it goes in the secret "
        "ohif:keycloak_database_password)"),
    "an unknown access key": (prod(access={"allowed_networks": ["203.0.113.0/24"], "allowed_ips": ["203.0.113.7"]}),
                              'ohif:access.allowed_ips = ["203.0.113.7"]: unknown key; allowed: allowed_networks, '
                              "public, rate_limit"),
}


@pytest.mark.parametrize("case", CASES)
def test_bad_config_stops_before_any_resource(case):
    stops_before_any_resource(*CASES[case])


def test_wildcard_is_allowed_outside_production():
    settings = load(prod(production="false", archive=archive(topology="cross-origin", allowed_origins=["*"])))
    assert settings.archive.allowed_origins == ("*",)

