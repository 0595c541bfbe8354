"""The embedded recipe's resource graph on AWS under Pulumi mocks: the prod-embedded stack, and iframe only."""

from __future__ import annotations

import json
import re

import pytest

from components.aws.origin_vm import unpacked_user_data
from components.render.cloud_init import nginx_conf_of
from components.render.embed import SCRIPT, SCRIPT_LOCK_FILE
from settings import read_stack_file
from tests.conftest import STACKS
from tests.pulumi_mocks import Program, run_program, synced_objects
from tests.recipes.precompressed import assert_variants
from tests.recipes.test_aws_standalone import no_public_address, vpc_origins_only

HOST = "https://portal.example-hospital.org"
POLICY = "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy"
DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
OBJECT = "aws:s3/bucketObjectv2:BucketObjectv2"


def embedded_config(**embed_changes) -> dict[str, str]:
    config = read_stack_file(STACKS / "Pulumi.prod-embedded.yaml")
    config["ohif:embed"] = json.dumps({**json.loads(config["ohif:embed"]), **embed_changes})
    return config


@pytest.fixture(scope="module")
def both() -> Program:
    return run_program(embedded_config())


@pytest.fixture(scope="module")
def iframe_only() -> Program:
    config = embedded_config(modes=["iframe"])
    config["ohif:embed"] = json.dumps({k: v for k, v in json.loads(config["ohif:embed"]).items()
                                       if k != "host_page_path"})
    return run_program(config)


def test_only_the_hosts_may_frame_the_viewer(both):
    policy = both.one(POLICY, "viewer-headers").inputs
    security = policy["securityHeadersConfig"]
    assert security["contentSecurityPolicy"] == {
        "contentSecurityPolicy": f"frame-ancestors 'self' {HOST}", "override": True}
    assert "frameOptions" not in security, "X-Frame-Options SAMEORIGIN would refuse the host"
    custom = {i["header"]: i["value"] for i in policy["customHeadersConfig"]["items"]}
    assert custom["Cross-Origin-Resource-Policy"] == "cross-origin", "an isolated host could not load the frame"
    assert custom["Cross-Origin-Embedder-Policy"] == "require-corp"


def test_both_buckets_are_private(both):
    blocks = both.of_type("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    assert sorted(b.name for b in blocks) == ["script-public-access", "viewer-public-access"]
    assert all(all(b.inputs[k] is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                                                  "restrictPublicBuckets")) for b in blocks)
    policy = json.loads(both.one("aws:s3/bucketPolicy:BucketPolicy", "script-policy").inputs["policy"])
    readers = {s["Condition"]["StringEquals"]["AWS:SourceArn"] for s in policy["Statement"] if s["Effect"] == "Allow"}
    assert readers == {"arn:aws:cloudfront::123456789012:distribution/SCRIPT-CDN"}
    oac = both.one("aws:cloudfront/originAccessControl:OriginAccessControl", "script-oac")
    origin = both.one(DISTRIBUTION, "script-cdn").inputs["origins"][0]
    assert origin["originAccessControlId"] == f"{oac.name}-id"


def test_the_script_is_served_with_cors_for_the_hosts_only(both):
    behavior = both.one(DISTRIBUTION, "script-cdn").inputs["defaultCacheBehavior"]
    assert behavior["viewerProtocolPolicy"] == "redirect-to-https"
    assert "OPTIONS" in behavior["allowedMethods"], "preflights must reach the preflight function"
    cors = both.one(POLICY, "script-headers").inputs["corsConfig"]
    assert cors["accessControlAllowOrigins"]["items"] == [HOST]
    assert cors["accessControlAllowHeaders"]["items"] == ["Accept"]
    assert cors["accessControlAllowCredentials"] is False and cors["originOverride"] is True
    function = both.one("aws:cloudfront/function:Function", "script-cors-preflight").inputs
    assert f'var ALLOWED_ORIGINS = ["{HOST}"];' in function["code"]
    assert behavior["functionAssociations"] == [{
        "eventType": "viewer-request",
        "functionArn": "arn:aws:cloudfront::123456789012:function/script-cors-preflight"}]


def test_the_pinned_script_and_its_v2_config(both):
    script = synced_objects(both, "script")[SCRIPT]
    assert script["bucket"] == "script-bucket-a1b2c3" and script["contentType"].startswith("text/javascript")
    version = json.loads(SCRIPT_LOCK_FILE.read_text())["version"]
    assert f"/ohif-viewer-{version}/" in str(script["source"].path)
    config = both.one(OBJECT, "script-app-config.js").inputs
    assert config["cacheControl"] == "no-cache"
    window_config = json.loads(re.search(r"window\.config = (\{.*\});", config["content"], re.S)[1])
    server = window_config["servers"]["dicomWeb"][0]
    assert server["qidoRoot"] == server["wadoRoot"] == both.outputs["dicomweb_url"]
    assert window_config["routerBasename"] == "/imaging"
    assert "dataSources" not in window_config, "v2 reads servers.dicomWeb"


def test_the_script_has_precompressed_variants(both):
    stored = {**{o.inputs["key"]: o.inputs for o in both.of_type(OBJECT) if o.name.startswith("script-")},
              **synced_objects(both, "script")}
    assert assert_variants(stored, "/") == 1
    assert stored[f".br/{SCRIPT}"]["contentEncoding"] == "br"


def test_the_proxy_allows_the_viewer_and_the_hosts(both):
    conf = nginx_conf_of(unpacked_user_data(both.one("aws:ec2/instance:Instance").inputs["userDataBase64"]))
    origins = re.findall(r'^    "(https?://[^"]+)" \$http_origin;$', conf, re.M)
    assert sorted(origins) == sorted(["https://viewer-cdn.cloudfront.net", HOST])


def test_the_proxy_is_private_behind_a_vpc_origin(both, iframe_only):
    for program in (both, iframe_only):
        no_public_address(program)
        vpc_origins_only(program)
        assert program.one("aws:ec2/instance:Instance").inputs["subnetId"] == "network-private-id"


def test_outputs_are_the_snippets_to_paste(both):
    out = both.outputs
    assert out["viewer_url"] == "https://viewer-cdn.cloudfront.net/"
    assert out["iframe_snippet"].startswith('<iframe src="https://viewer-cdn.cloudfront.net/" ')
    assert 'allow="fullscreen; clipboard-write; cross-origin-isolated"' in out["iframe_snippet"]
    assert out["host_page_headers"].splitlines() == [
        "Cross-Origin-Opener-Policy: same-origin", "Cross-Origin-Embedder-Policy: require-corp"]
    assert out["script_url"] == "https://script-cdn.cloudfront.net/"
    assert '<script src="https://script-cdn.cloudfront.net/index.umd.js" crossorigin></script>' in out["script_snippet"]
    assert "OHIFViewer.installViewer(window.config, 'ohif-viewer')" in out["script_snippet"]
    assert out["dicomweb_url"] == "https://proxy-cdn.cloudfront.net/dicom-web"


def test_iframe_mode_alone_hosts_no_script(iframe_only):
    assert not [d for d in iframe_only.of_type(DISTRIBUTION) if d.name == "script-cdn"]
    assert "script_snippet" not in iframe_only.outputs and "iframe_snippet" in iframe_only.outputs
    conf = nginx_conf_of(unpacked_user_data(iframe_only.one("aws:ec2/instance:Instance").inputs["userDataBase64"]))
    origins = re.findall(r'^    "(https?://[^"]+)" \$http_origin;$', conf, re.M)
    assert origins == ["https://viewer-cdn.cloudfront.net"], \
        "the viewer calls the proxy from its own origin; the host page never does"
