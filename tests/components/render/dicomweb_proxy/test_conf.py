"""The proxy's one configuration object: what it refuses before anything is rendered."""

from __future__ import annotations

import pytest

from components.render.archive_service import ArchiveCredentialFiles
from components.render.dicomweb_proxy.archive import ArchiveAccess
from components.render.dicomweb_proxy.conf import ProxyConf
from components.render.dicomweb_proxy.origin import NoOriginCheck
from components.render.edge import render_nginx_edge
from settings.services import ArchiveAuth

FILES = ArchiveCredentialFiles(module_path="/etc/nginx/njs/ohif_archive_credentials.js",
                               credentials_file="/var/lib/ohif-archive/credential.json",
                               metadata_url="http://169.254.169.254")
SIGV4 = ArchiveAuth("sigv4", region="eu-west-1", service="medical-imaging")
BEARER = ArchiveAuth("bearer", resource="https://dicom.healthcareapis.azure.com")


def conf(**changes) -> ProxyConf:
    return ProxyConf(**{"listen": "80", "upstream_url": "https://dicom.example.com/v2/",
                        "allowed_origins": ("https://viewer.example.org",), "cache_dir": "/var/cache/x", **changes})


def test_stow_to_a_sigv4_archive_is_refused():
    with pytest.raises(ValueError, match="STOW-RS to a SigV4 archive"):
        conf(enable_stow=True, archive=ArchiveAccess(SIGV4, FILES))


def test_stow_to_a_bearer_archive_and_reads_from_a_sigv4_one_are_allowed():
    conf(enable_stow=True, archive=ArchiveAccess(BEARER, FILES))
    conf(archive=ArchiveAccess(SIGV4, FILES))


def test_a_configuration_is_a_value():
    """Frozen and hashable, whatever sequence the origins came in."""
    first = conf(allowed_origins=["https://viewer.example.org"], edge=render_nginx_edge((), 100))
    assert first.allowed_origins == ("https://viewer.example.org",)
    assert first == conf(edge=render_nginx_edge((), 100)) and hash(first) == hash(conf(edge=render_nginx_edge((), 100)))
    with pytest.raises(AttributeError):
        first.enable_stow = True


def test_the_defaults_are_reads_only_with_nothing_in_front():
    """No STOW-RS, no login, no health port, no origin check (the sandbox's: no CDN in front), the system's CAs."""
    plain = conf()
    assert (plain.enable_stow, plain.origin_check, plain.login, plain.archive, plain.health_listen) == \
        (False, NoOriginCheck(), None, None, None)
    assert plain.upstream_ca_file == "/etc/ssl/certs/ca-certificates.crt"
