"""The proxy host as every cloud runs it (components/proxy_host.py): what its cloud-init serves, what it keeps out of
the cloud-init, and where it may connect. No cloud and no server: the Outputs resolve under an empty set of mocks."""

from __future__ import annotations

from types import SimpleNamespace

import pulumi
import pytest
import yaml

from components.egress import Reach
from components.proxy_host import OriginHeader, ProxyHost
from components.render.cloud_init import nginx_conf_of
from components.render.dicomweb_proxy.origin import FrontDoorCheck, SharedSecretCheck
from components.render.secret_files import SecretFetch
from components.target import ProxySpec
from settings import ScaleSettings
from settings.services import DICOM_SERVICE, HEALTHIMAGING

ARCHIVE = "http://10.0.1.20:8042/dicom-web/"
SECRET = "generated-origin-secret-0123456789"
FETCH = SecretFetch(command="fetch-the-secret-files")


class _NoCloud(pulumi.runtime.Mocks):
    def new_resource(self, args):
        return f"{args.name}-id", args.inputs

    def call(self, args):
        return {}


def resolve(make):
    """The value of the Output `make()` builds, and whether it is a secret."""
    pulumi.runtime.set_mocks(_NoCloud(), preview=False)
    found = []

    @pulumi.runtime.test
    def run():
        output = make()
        return pulumi.Output.all(output, output.is_secret()).apply(found.append)

    run()
    return tuple(found[0])


def host(upstream_url: str = ARCHIVE, *, own_url: bool = True, secret: bool = False, **spec) -> ProxyHost:
    header = OriginHeader(SharedSecretCheck, SECRET, secret=True) if secret else \
        OriginHeader(FrontDoorCheck, "front-door-id-0001")
    return ProxyHost("proxy", ProxySpec(upstream_url=upstream_url, **spec), own_url=own_url, origin_header=header,
                     resolver="192.0.2.53", reads=HEALTHIMAGING)


def test_the_egress_plan_is_dns_the_web_the_archive_and_nothing_else():
    plan = host().egress
    assert [e.reach for e in plan] == [Reach.DNS, Reach.WEB, Reach.ARCHIVE, Reach.NOTHING_ELSE]
    archive = plan[2].to
    assert (archive.host, archive.port, archive.cidr) == ("10.0.1.20", 8042, "10.0.1.20/32")


def test_an_archive_by_name_is_reached_by_its_port_not_an_address():
    archive = host("https://pacs.example-hospital.org/dicom-web/").egress[2].to
    assert (archive.host, archive.port, archive.cidr) == ("pacs.example-hospital.org", 443, None)


def test_a_service_of_another_cloud_is_refused():
    with pytest.raises(ValueError, match="proxy"):
        host(archive_service=SimpleNamespace(kind=DICOM_SERVICE))
    assert host(archive_service=SimpleNamespace(kind=HEALTHIMAGING)).spec.archive_service.kind == HEALTHIMAGING


def test_one_vm_unless_more_than_one_may_run():
    assert host().scale is None
    grouped = ScaleSettings(min_instances=2, max_instances=4)
    assert host(scale=grouped).scale == grouped


def test_a_public_origin_header_is_checked_in_the_config_itself():
    proxy = host()
    cloud_init, secret = resolve(proxy.cloud_init)
    assert not secret
    assert "front-door-id-0001" in nginx_conf_of(cloud_init)
    assert resolve(proxy.secret_files) == ({}, False)


def test_a_secret_origin_header_stays_out_of_the_cloud_init():
    proxy = host(secret=True)
    cloud_init, secret = resolve(lambda: proxy.cloud_init(FETCH))
    assert not secret, "the cloud-init is no secret: it does not hold the value"
    assert SECRET not in cloud_init
    config = yaml.safe_load(cloud_init)
    files, secret_files_are_secret = resolve(proxy.secret_files)
    assert secret_files_are_secret
    [(path, check)] = files.items()
    assert SECRET in check
    assert f"include {path};" in nginx_conf_of(cloud_init), "nginx reads the check from the secret file"
    closed = next(f for f in config["write_files"] if f["path"] == path)
    assert "return 403" in closed["content"] and closed["permissions"] == "0600", "closed until the secret arrives"
    assert ["sh", "-c", FETCH.command] in config["runcmd"], "the VM fetches its secret files at boot"


def test_a_secret_origin_header_with_no_way_to_fetch_it_is_refused():
    with pytest.raises(ValueError, match="fetched at boot"):
        host(secret=True).cloud_init()


@pytest.mark.parametrize("own_url", [True, False])
def test_mounted_on_a_site_it_serves_the_sites_origin(own_url):
    conf = nginx_conf_of(resolve(host(own_url=own_url).cloud_init)[0])
    assert ('"$http_origin|$http_host" $ohif_origin_is_host' in conf) is not own_url


def test_the_archive_name_is_resolved_at_the_clouds_resolver():
    conf = nginx_conf_of(resolve(host("https://pacs.example-hospital.org/dicom-web/").cloud_init)[0])
    assert "resolver 192.0.2.53" in conf
