"""The standalone recipe's resource graph under Pulumi mocks, for the prod stack in both topologies."""

from __future__ import annotations

import json
import re

import pytest

from components.render.cloud_init import nginx_conf_of
from components.render.viewer_build import fetch_build
from settings import read_stack_file
from tests.conftest import STACKS
from tests.pulumi_mocks import Program, run_program

VIEWER = "https://viewer.example-hospital.org"
DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
OBJECT = "aws:s3/bucketObjectv2:BucketObjectv2"


def prod_config(**archive_changes) -> dict[str, str]:
    config = read_stack_file(STACKS / "Pulumi.prod.yaml")
    archive = {**json.loads(config["ohif:archive"]), **archive_changes}
    config["ohif:archive"] = json.dumps(archive)
    return config


@pytest.fixture(scope="module", params=["same-origin", "cross-origin"])
def prod(request) -> Program:
    return run_program(prod_config(topology=request.param))


def viewer_distribution(program: Program) -> dict:
    return program.one(DISTRIBUTION, "viewer-cdn").inputs


def test_s3_origin_uses_origin_access_control(prod):
    dist = viewer_distribution(prod)
    s3_origin = next(o for o in dist["origins"] if o["originId"] == "viewer-bucket")
    oac = prod.one("aws:cloudfront/originAccessControl:OriginAccessControl")
    assert s3_origin["originAccessControlId"] == f"{oac.name}-id", s3_origin
    assert "s3OriginConfig" not in s3_origin, "legacy OAI must not be used"
    assert oac.inputs["signingBehavior"] == "always"


def test_bucket_is_private_and_encrypted(prod):
    block = prod.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs
    assert all(block[k] is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                                          "restrictPublicBuckets")), block
    assert prod.one("aws:s3/bucketOwnershipControls:BucketOwnershipControls").inputs["rule"] == \
        {"objectOwnership": "BucketOwnerEnforced"}
    assert not prod.of_type("aws:s3/bucketAcl:BucketAcl")
    sse = prod.one("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
    assert sse.inputs["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "AES256"
    policy = json.loads(prod.one("aws:s3/bucketPolicy:BucketPolicy").inputs["policy"])
    allow = [s for s in policy["Statement"] if s["Effect"] == "Allow"]
    # Reading objects, and listing so that a missing file is a 404 rather than S3's 403: by this distribution only.
    assert [(s["Principal"], s["Action"], s["Resource"]) for s in allow] == [
        ({"Service": "cloudfront.amazonaws.com"}, "s3:GetObject", "arn:aws:s3:::viewer-bucket-a1b2c3/*"),
        ({"Service": "cloudfront.amazonaws.com"}, "s3:ListBucket", "arn:aws:s3:::viewer-bucket-a1b2c3")]
    assert all(s["Condition"]["StringEquals"]["AWS:SourceArn"].endswith("/VIEWER-CDN") for s in allow)
    assert any(s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
               for s in policy["Statement"])


def test_headers_policy_and_spa_function_on_the_viewer(prod):
    behavior = viewer_distribution(prod)["defaultCacheBehavior"]
    headers = prod.one("aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy", "viewer-headers").inputs
    custom = {i["header"]: i["value"] for i in headers["customHeadersConfig"]["items"]}
    assert custom["Cross-Origin-Opener-Policy"] == "same-origin"
    assert custom["Cross-Origin-Embedder-Policy"] == "require-corp"
    assert "Cross-Origin-Resource-Policy" in custom
    security = headers["securityHeadersConfig"]
    assert security["strictTransportSecurity"]["accessControlMaxAgeSec"] >= 31536000
    assert security["contentTypeOptions"]["override"] is True
    assert behavior["responseHeadersPolicyId"] == "viewer-headers-id"
    function = prod.one("aws:cloudfront/function:Function")
    assert function.inputs["runtime"] == "cloudfront-js-2.0" and function.inputs["publish"] is True
    assert behavior["functionAssociations"] == [
        {"eventType": "viewer-request", "functionArn": "arn:aws:cloudfront::123456789012:function/viewer-spa-fallback"}]
    assert "customErrorResponses" not in viewer_distribution(prod), "the SPA fallback must not rewrite 403/404"


def test_https_only_with_custom_domain(prod):
    dist = viewer_distribution(prod)
    assert dist["defaultCacheBehavior"]["viewerProtocolPolicy"] == "redirect-to-https"
    assert all(b["viewerProtocolPolicy"] == "https-only" for b in dist.get("orderedCacheBehaviors", []))
    assert dist["aliases"] == ["viewer.example-hospital.org"]
    assert dist["viewerCertificate"]["minimumProtocolVersion"] == "TLSv1.2_2021"
    assert dist["viewerCertificate"]["sslSupportMethod"] == "sni-only"


def test_every_build_file_is_one_object_with_type_and_cache_control(prod):
    objects = {o.inputs["key"]: o.inputs for o in prod.of_type(OBJECT)}
    build = {p.relative_to(fetch_build()).as_posix() for p in fetch_build().rglob("*") if p.is_file()}
    served = {k for k in build if not k.endswith(".map") and k not in ("_headers", "_redirects", "serve.json")}
    assert set(objects) == {"ohif/" + k for k in served}
    for key, obj in objects.items():
        assert obj["contentType"] and obj["contentType"] != "application/octet-stream", key
        assert obj["cacheControl"], key
    assert objects["ohif/0ddf166f7a343eda.wasm"]["contentType"] == "application/wasm"
    assert objects["ohif/0ddf166f7a343eda.wasm"]["cacheControl"].endswith("immutable")
    for entry in ("index.html", "app-config.js", "sw.js"):
        assert objects[f"ohif/{entry}"]["cacheControl"] == "no-cache", entry


def test_objects_depend_only_on_content():
    """Two runs of the same stack register identical object inputs: nothing to update."""
    first, second = (
        {o.name: (o.inputs["key"], o.inputs["contentType"], o.inputs["cacheControl"], o.inputs.get("content"))
         for o in run_program(prod_config()).of_type(OBJECT)} for _ in range(2))
    assert first == second


def test_app_config_points_at_the_archive_and_base_path(prod):
    app_config = prod.one(OBJECT, "viewer-app-config.js").inputs["content"]
    assert '"routerBasename": "/ohif"' in app_config
    assert f'"qidoRoot": "{prod.outputs["dicomweb_url"]}"' in app_config
    index = next(o for o in prod.of_type(OBJECT) if o.inputs["key"] == "ohif/index.html")
    html = open(str(index.inputs["source"].path)).read()
    assert 'window.PUBLIC_URL="/ohif/"' in html and 'src="/ohif/app-config.js"' in html


def test_proxy_vm_is_hardened(prod):
    vm = prod.one("aws:ec2/instance:Instance").inputs
    assert vm["metadataOptions"]["httpTokens"] == "required"
    assert vm["metadataOptions"]["httpPutResponseHopLimit"] == 1
    assert vm["rootBlockDevice"]["encrypted"] is True
    assert "keyName" not in vm, "no SSH key: there is no SSH"
    assert "userData" in prod.one("aws:ec2/instance:Instance").secret_inputs, \
        "user data holds the origin secret and must be a Pulumi secret"
    association = prod.one("aws:ec2/eipAssociation:EipAssociation").inputs
    assert association["instanceId"] == "proxy-vm-id"


def test_nothing_open_to_the_internet(prod):
    for group in prod.of_type("aws:ec2/securityGroup:SecurityGroup"):
        for rule in group.inputs.get("ingress", []):
            open_cidrs = {"0.0.0.0/0", "::/0"} & set(rule.get("cidrBlocks", []) + rule.get("ipv6CidrBlocks", []))
            assert not open_cidrs, f"{group.name} opens {rule['fromPort']}-{rule['toPort']} to {open_cidrs}"
            assert not rule["fromPort"] <= 22 <= rule["toPort"], f"{group.name} opens SSH"
            assert rule["prefixListIds"] == ["pl-3b927c52"], f"{group.name}: only CloudFront may connect"


def test_cloud_init_renders_the_proxy_with_the_origin_secret(prod):
    user_data = prod.one("aws:ec2/instance:Instance").inputs["userData"]
    conf = nginx_conf_of(user_data)
    assert 'if ($http_x_origin_verify != "s3cr3tOriginVerifyValue0123456789abcdef")' in conf
    assert "server 10.0.1.20:8042;" in conf
    origins = re.findall(r'^    "(https?://[^"]+)" \$http_origin;$', conf, re.M)
    if prod.outputs["dicomweb_url"].startswith(VIEWER):
        assert origins == [], "same-origin needs no CORS"
    else:
        assert origins == [VIEWER]


def test_stack_outputs(prod):
    out = prod.outputs
    assert out["viewer_url"] == f"{VIEWER}/ohif/"
    assert out["viewer_distribution_id"] == "viewer-cdn-id"
    assert out["viewer_bucket_name"] == "viewer-bucket-a1b2c3"
    same_origin = any(o.get("originId") == "dicomweb-proxy" for o in viewer_distribution(prod)["origins"])
    if same_origin:
        assert out["dicomweb_url"] == f"{VIEWER}/dicom-web"
        assert viewer_distribution(prod)["orderedCacheBehaviors"][0]["pathPattern"] == "/dicom-web/*"
    else:
        assert out["dicomweb_url"] == "https://proxy-cdn.cloudfront.net/dicom-web"
        proxy_cdn = prod.one(DISTRIBUTION, "proxy-cdn").inputs
        assert proxy_cdn["defaultCacheBehavior"]["viewerProtocolPolicy"] == "https-only"
    cdn = next(d for d in prod.of_type(DISTRIBUTION) if any(o["originId"] == "dicomweb-proxy" for o in d.inputs["origins"]))
    origin = next(o for o in cdn.inputs["origins"] if o["originId"] == "dicomweb-proxy")
    assert origin["customHeaders"] == [{"name": "X-Origin-Verify", "value": "s3cr3tOriginVerifyValue0123456789abcdef"}]
    assert "origins" in cdn.secret_inputs, "the origin secret must stay a Pulumi secret in the CDN's config"


def test_existing_dicomweb_url_needs_no_proxy():
    config = prod_config()
    config["ohif:archive"] = json.dumps({"dicomweb_url": "https://pacs.example-hospital.org/dicom-web"})
    program = run_program(config)
    assert not program.of_type("aws:ec2/instance:Instance")
    assert program.outputs["dicomweb_url"] == "https://pacs.example-hospital.org/dicom-web"
