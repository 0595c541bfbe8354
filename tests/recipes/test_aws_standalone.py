"""The standalone recipe's resource graph under Pulumi mocks, for the prod stack in both topologies: the VMs in the
VPC the stack names, or in one the recipe creates, with no public address and reached through VPC origins."""

from __future__ import annotations

import hashlib
import json
import re

import pytest
import yaml

from components.aws.origin_vm import egress_rules, unpacked_user_data
from components.egress import Egress, Reach, egress_plan, url_destination
from components.render.cloud_init import nginx_conf_of
from components.render.dicomweb_proxy.origin import ORIGIN_CHECK_PATH, SharedSecretCheck
from components.render.viewer_build import fetch_build
from settings import read_stack_file
from tests.conftest import STACKS
from tests.pulumi_mocks import Program, run_program
from tests.recipes.precompressed import assert_variants, source_bytes

VIEWER = "https://viewer.example-hospital.org"
DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
OBJECT = "aws:s3/bucketObjectv2:BucketObjectv2"
INSTANCE = "aws:ec2/instance:Instance"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
VPC_ORIGIN = "aws:cloudfront/vpcOrigin:VpcOrigin"
STACK_VPC = "vpc-0a1b2c3d4e5f67890"  # Pulumi.prod.yaml's aws.vpc_id
STACK_SUBNET = "subnet-0a1b2c3d4e5f67891"
AMAZON_DNS = "169.254.169.253/32"
ORIGIN_SECRET = "s3cr3tOriginVerifyValue0123456789abcdef"  # what the mocks generate for every RandomPassword


def prod_config(aws: dict | None = None, **archive_changes) -> dict[str, str]:
    """The prod stack with `archive_changes`; `aws` replaces keys of its ohif:aws (None drops one)."""
    config = read_stack_file(STACKS / "Pulumi.prod.yaml")
    archive = {**json.loads(config["ohif:archive"]), **archive_changes}
    config["ohif:archive"] = json.dumps(archive)
    section = {**json.loads(config["ohif:aws"]), **(aws or {})}
    config["ohif:aws"] = json.dumps({k: v for k, v in section.items() if v is not None})
    return config


def without_vpc(**archive_changes) -> dict[str, str]:
    return prod_config(aws={"vpc_id": None, "subnet_ids": None}, **archive_changes)


@pytest.fixture(scope="module")
def created() -> Program:
    """The prod stack without aws.vpc_id: the recipe's own network."""
    return run_program(without_vpc())


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
    assert {k for k in objects if not k.startswith((".br/", ".gz/"))} == {"ohif/" + k for k in served}
    assert assert_variants(objects, "/ohif/") > 100
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
        {o.name: (o.inputs["key"], o.inputs["contentType"], o.inputs["cacheControl"], o.inputs.get("contentEncoding"),
                  hashlib.sha256(source_bytes(o.inputs)).hexdigest())
         for o in run_program(prod_config()).of_type(OBJECT)} for _ in range(2))
    assert first == second and any(encoding for _, _, _, encoding, _ in first.values())


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
    assert vm["associatePublicIpAddress"] is False


def test_the_origin_secret_comes_from_secrets_manager_which_the_vm_alone_reads(prod):
    """User data is readable by anything on the VM and by whoever may describe it: the secret is not there. The VM's
    role may read its own Secrets Manager secret and nothing else, and the VM writes it before nginx starts."""
    vm = prod.one("aws:ec2/instance:Instance")
    assert ORIGIN_SECRET not in unpacked_user_data(vm.inputs["userDataBase64"])
    secret = prod.one("aws:secretsmanager/secret:Secret", "proxy-secrets")
    version = prod.one("aws:secretsmanager/secretVersion:SecretVersion", "proxy-secrets-version")
    assert version.inputs["secretId"] == secret.outputs["id"] and "secretString" in version.secret_inputs
    assert json.loads(version.inputs["secretString"]) == {
        ORIGIN_CHECK_PATH: SharedSecretCheck(ORIGIN_SECRET).directives()}
    role = prod.one("aws:iam/role:Role", "proxy-role")
    assert json.loads(role.inputs["assumeRolePolicy"])["Statement"] == [
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "ec2.amazonaws.com"}}]
    policies = [p for p in prod.of_type("aws:iam/rolePolicy:RolePolicy") if p.inputs["role"] == role.outputs["id"]]
    assert [json.loads(p.inputs["policy"])["Statement"] for p in policies] == [[
        {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": secret.outputs["arn"]}]]
    assert not prod.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment"), "no managed policy on top"
    profile = prod.one("aws:iam/instanceProfile:InstanceProfile", "proxy-profile")
    assert profile.inputs["role"] == role.outputs["name"]
    assert vm.inputs["iamInstanceProfile"] == profile.outputs["name"]
    config = yaml.safe_load(unpacked_user_data(vm.inputs["userDataBase64"]))
    fetch = next(i for i, c in enumerate(config["runcmd"]) if "secretsmanager get-secret-value" in c[-1])
    start = next(i for i, c in enumerate(config["runcmd"]) if "systemctl enable --now nginx" in c[-1])
    assert fetch < start and secret.outputs["arn"] in config["runcmd"][fetch][-1]
    closed = next(f for f in config["write_files"] if f["path"] == ORIGIN_CHECK_PATH)
    assert "return 403" in closed["content"] and closed["permissions"] == "0600", "closed until the secret arrives"


def no_public_address(program: Program) -> None:
    """No VM has a public address: none at launch, no Elastic IP on an instance or interface, and the one Elastic IP
    a created network has is its NAT gateway's."""
    for vm in program.of_type(INSTANCE):
        assert vm.inputs["associatePublicIpAddress"] is False, vm.name
        assert "networkInterfaces" not in vm.inputs, vm.name
    assert not program.of_type("aws:ec2/eipAssociation:EipAssociation")
    nat_allocations = {n.inputs["allocationId"] for n in program.of_type("aws:ec2/natGateway:NatGateway")}
    for eip in program.of_type("aws:ec2/eip:Eip"):
        assert not {"instance", "networkInterface", "associateWithPrivateIp"} & set(eip.inputs), eip.name
        assert eip.outputs["allocationId"] in nat_allocations, f"{eip.name} is not a NAT gateway's"
    for subnet in program.of_type("aws:ec2/subnet:Subnet"):
        assert subnet.inputs.get("mapPublicIpOnLaunch") is False, subnet.name


def vpc_origin_targets(program: Program) -> dict[str, tuple[str, str]]:
    """What a VPC origin may name: each VM's ARN, or its internal Network Load Balancer's (Keycloak's), to (the VM,
    the DNS name the distribution's origin gives)."""
    targets = {vm.outputs["arn"]: (vm.name, vm.outputs["privateDns"]) for vm in program.of_type(INSTANCE)}
    vm_names = {vm.outputs["id"]: vm.name for vm in program.of_type(INSTANCE)}
    groups = {g.outputs["arn"]: g for g in program.of_type("aws:lb/targetGroup:TargetGroup")}
    for balancer in program.of_type("aws:lb/loadBalancer:LoadBalancer"):
        assert balancer.inputs["internal"] is True and balancer.inputs["loadBalancerType"] == "network", balancer.name
        [listener] = [li for li in program.of_type("aws:lb/listener:Listener")
                      if li.inputs["loadBalancerArn"] == balancer.outputs["arn"]]
        group = groups[listener.inputs["defaultActions"][0]["targetGroupArn"]]
        [attachment] = [a for a in program.of_type("aws:lb/targetGroupAttachment:TargetGroupAttachment")
                        if a.inputs["targetGroupArn"] == group.outputs["arn"]]
        targets[balancer.outputs["arn"]] = (vm_names[attachment.inputs["targetId"]], balancer.outputs["dnsName"])
    return targets


def vpc_origins_only(program: Program) -> None:
    """Every VM origin of every distribution is a CloudFront VPC origin to that VM (or to its internal balancer);
    none is a custom (public) origin."""
    targets = vpc_origin_targets(program)
    origins = {o.outputs["id"]: o for o in program.of_type(VPC_ORIGIN)}
    assert len(origins) == len(program.of_type(INSTANCE)) > 0
    assert sorted(targets[o.inputs["vpcOriginEndpointConfig"]["arn"]][0] for o in origins.values()) == \
        sorted(vm.name for vm in program.of_type(INSTANCE)), "one VPC origin per VM"
    for origin in origins.values():
        config = origin.inputs["vpcOriginEndpointConfig"]
        assert (config["httpPort"], config["originProtocolPolicy"]) == (80, "http-only"), "HTTP inside AWS's network"
    for distribution in program.of_type(DISTRIBUTION):
        for o in distribution.inputs["origins"]:
            assert "customOriginConfig" not in o, f"{distribution.name} {o['originId']}: a public origin"
            if "s3" not in o["domainName"]:
                vpc_origin = origins[o["vpcOriginConfig"]["vpcOriginId"]]
                _, domain = targets[vpc_origin.inputs["vpcOriginEndpointConfig"]["arn"]]
                assert o["domainName"] == domain, o


def test_vms_have_no_public_address_and_cloudfront_reaches_them_through_vpc_origins(prod, created):
    for program in (prod, created):
        no_public_address(program)
        vpc_origins_only(program)


def test_the_stacks_vpc_is_used(prod):
    assert prod.one(SECURITY_GROUP, "proxy-sg").inputs["vpcId"] == STACK_VPC
    assert prod.one(INSTANCE, "proxy-vm").inputs["subnetId"] == STACK_SUBNET
    assert not prod.of_type("ohif:aws:Network") and not prod.of_type("aws:ec2/vpc:Vpc")
    assert not prod.of_type("aws:ec2/natGateway:NatGateway"), "the stack's VPC brings its own way out"
    # The resolver DHCP names in that VPC (its range 10.0.0.0/16, looked up): the base plus two.
    dns = prod.one(SECURITY_GROUP, "proxy-sg").inputs["egress"][0]
    assert dns["cidrBlocks"] == [AMAZON_DNS, "10.0.0.2/32"]


def test_without_a_vpc_the_recipe_creates_a_private_one(created):
    created.one("ohif:aws:Network", "network")
    vpc = created.one("aws:ec2/vpc:Vpc").inputs
    assert vpc["cidrBlock"] == "10.251.0.0/24" and vpc["enableDnsHostnames"] is True
    assert created.one("aws:ec2/internetGateway:InternetGateway").inputs["vpcId"] == "network-vpc-id", \
        "VPC origins need an internet gateway attached"
    subnets = {s.name: s.inputs for s in created.of_type("aws:ec2/subnet:Subnet")}
    assert subnets["network-private"]["cidrBlock"] == "10.251.0.0/25"
    assert subnets["network-public"]["cidrBlock"] == "10.251.0.128/28"
    assert subnets["network-private"]["availabilityZone"] == subnets["network-public"]["availabilityZone"]
    routes = {t.name: t.inputs["routes"] for t in created.of_type("aws:ec2/routeTable:RouteTable")}
    assert routes == {"network-private-routes": [{"cidrBlock": "0.0.0.0/0", "natGatewayId": "network-nat-id"}],
                      "network-public-routes": [{"cidrBlock": "0.0.0.0/0", "gatewayId": "network-igw-id"}]}
    associations = {a.inputs["subnetId"]: a.inputs["routeTableId"]
                    for a in created.of_type("aws:ec2/routeTableAssociation:RouteTableAssociation")}
    assert associations == {"network-private-id": "network-private-routes-id",
                            "network-public-id": "network-public-routes-id"}
    assert created.one("aws:ec2/natGateway:NatGateway").inputs["subnetId"] == "network-public-id"
    default = created.one("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup").inputs
    assert default["ingress"] == [] and default["egress"] == [], "the VPC's default group admits nothing"
    assert created.one(INSTANCE, "proxy-vm").inputs["subnetId"] == "network-private-id"
    assert created.one(SECURITY_GROUP, "proxy-sg").inputs["vpcId"] == "network-vpc-id"


def egress(program: Program, group: str) -> list[tuple]:
    return [(r["protocol"], r["fromPort"], r["toPort"], tuple(r.get("cidrBlocks", []) + r.get("ipv6CidrBlocks", [])))
            for r in program.one(SECURITY_GROUP, group).inputs["egress"]]


def test_the_proxy_reaches_dns_packages_and_the_archive_only(prod, created):
    for program, resolver in ((prod, "10.0.0.2/32"), (created, "10.251.0.2/32")):
        assert egress(program, "proxy-sg") == [
            ("udp", 53, 53, (AMAZON_DNS, resolver)), ("tcp", 53, 53, (AMAZON_DNS, resolver)),
            ("tcp", 80, 80, ("0.0.0.0/0",)), ("tcp", 443, 443, ("0.0.0.0/0",)),
            ("tcp", 8042, 8042, ("10.0.1.20/32",))], "the archive at its address and port, nothing else"


@pytest.mark.parametrize("url,archive_rule", [
    ("http://10.0.1.20:8042/dicom-web/", ("tcp", 8042, 8042, ("10.0.1.20/32",))),
    ("https://10.0.1.20/dicom-web/", ("tcp", 443, 443, ("10.0.1.20/32",))),
    ("http://[fd00::20]:8042/dicom-web/", ("tcp", 8042, 8042, ("fd00::20/128",))),
    ("https://pacs.example-hospital.org:8443/dicom-web/", ("tcp", 8443, 8443, ("0.0.0.0/0",))),
    ("https://pacs.example-hospital.org/dicom-web/", None),  # its port is the HTTPS rule's
])
def test_archive_egress_by_address_or_name(url, archive_rule):
    rules = [(r.protocol, r.from_port, r.to_port, tuple((r.cidr_blocks or []) + (r.ipv6_cidr_blocks or [])))
             for r in egress_rules(egress_plan(Egress(Reach.ARCHIVE, url_destination(url))), [AMAZON_DNS])]
    assert rules[4:] == ([archive_rule] if archive_rule else [])


def test_nothing_open_to_the_internet(prod):
    for group in prod.of_type("aws:ec2/securityGroup:SecurityGroup"):
        for rule in group.inputs.get("ingress", []):
            open_cidrs = {"0.0.0.0/0", "::/0"} & set(rule.get("cidrBlocks", []) + rule.get("ipv6CidrBlocks", []))
            assert not open_cidrs, f"{group.name} opens {rule['fromPort']}-{rule['toPort']} to {open_cidrs}"
            assert not rule["fromPort"] <= 22 <= rule["toPort"], f"{group.name} opens SSH"
            assert rule["prefixListIds"] == ["pl-3b927c52"], f"{group.name}: only CloudFront may connect"


def test_cloud_init_renders_the_proxy_with_the_origin_check_from_its_secret_file(prod):
    user_data = unpacked_user_data(prod.one("aws:ec2/instance:Instance").inputs["userDataBase64"])
    conf = nginx_conf_of(user_data)
    assert f"    include {ORIGIN_CHECK_PATH};\n" in conf
    assert "server 10.0.1.20:8042;" in conf
    # The proxy serves the viewer's origin alone, and refuses a request naming any other: at its own URL it lists it
    # (CORS); mounted on the viewer's site it takes the Host the CDN forwards as its own origin.
    listed = re.findall(r'^    "(https?://[^"]+)" \$http_origin;$', conf, re.M)
    assert re.findall(r'^    "(https?://[^"]+)" 1;$', conf, re.M) == listed
    if prod.outputs["dicomweb_url"].startswith(VIEWER):
        assert listed == [] and 'map "$http_origin|$http_host" $ohif_origin_is_host' in conf
    else:
        assert listed == [VIEWER] and 'map "$http_origin|$http_host"' not in conf


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
    cdn = next(d for d in prod.of_type(DISTRIBUTION)
               if any(o["originId"] == "dicomweb-proxy" for o in d.inputs["origins"]))
    origin = next(o for o in cdn.inputs["origins"] if o["originId"] == "dicomweb-proxy")
    assert origin["customHeaders"] == [{"name": "X-Origin-Verify", "value": "s3cr3tOriginVerifyValue0123456789abcdef"}]
    assert "origins" in cdn.secret_inputs, "the origin secret must stay a Pulumi secret in the CDN's config"


def test_existing_dicomweb_url_needs_no_proxy():
    config = without_vpc()  # no VM to place: settings refuse aws.vpc_id here
    config["ohif:archive"] = json.dumps({"dicomweb_url": "https://pacs.example-hospital.org/dicom-web"})
    program = run_program(config)
    assert not program.of_type("aws:ec2/instance:Instance")
    assert not program.of_type("ohif:aws:Network"), "no VM, no network"
    assert program.outputs["dicomweb_url"] == "https://pacs.example-hospital.org/dicom-web"
