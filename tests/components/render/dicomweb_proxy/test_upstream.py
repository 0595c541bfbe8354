"""How the proxy reaches its archive: by address, by name while running, over TLS."""

from __future__ import annotations

import pytest

from components.render.dicomweb_proxy.upstream import Upstream

CA = "/etc/ssl/certs/ca-certificates.crt"


@pytest.mark.parametrize("url,resolver,server,host_header,root", [
    ("http://10.0.1.20:8042/dicom-web/", "169.254.169.253", "10.0.1.20:8042", "10.0.1.20:8042", "/dicom-web/"),
    ("http://[fd00::20]:8042/dicom-web", None, "[fd00::20]:8042", "[fd00::20]:8042", "/dicom-web/"),
    # Without a resolver, a name is resolved once at start-up, as an address is.
    ("http://localhost/dicom-web/", None, "localhost:80", "localhost", "/dicom-web/"),
])
def test_an_archive_by_address_is_a_fixed_upstream_kept_alive(url, resolver, server, host_header, root):
    upstream = Upstream(url, resolver, CA)
    assert f"upstream ohif_archive {{\n    server {server};\n    keepalive 16;\n}}" in upstream.http_block()
    assert upstream.pass_directive() == f"proxy_pass http://ohif_archive{root}$dicomweb_path$is_args$args;"
    assert upstream.host_header == host_header
    assert "resolver" not in upstream.server_directives()


def test_an_archive_by_name_is_resolved_while_running_and_its_certificate_checked():
    upstream = Upstream("https://healthcare.example.com/v1/projects/p/dicomWeb", "169.254.169.253", CA)
    assert upstream.http_block() == ""
    assert upstream.pass_directive() == \
        "proxy_pass https://$ohif_archive/v1/projects/p/dicomWeb/$dicomweb_path$is_args$args;"
    assert upstream.server_directives() == (
        '    resolver 169.254.169.253 valid=60s;\n    set $ohif_archive "healthcare.example.com:443";\n'
        "    proxy_ssl_server_name on;\n    proxy_ssl_name healthcare.example.com;\n    proxy_ssl_verify on;\n"
        f"    proxy_ssl_trusted_certificate {CA};\n")
