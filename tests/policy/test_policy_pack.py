"""The policy pack against every example stack (no violations) and against forks that break one rule each.

A fork is what a user's copy of a recipe might do: change one property on its way to the engine
(a stack transformation) or change the recipe's code (a monkeypatch), and nothing else.
"""

from __future__ import annotations

import atexit
import copy
import functools
import json
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pulumi
import pulumi_aws as aws
import pytest
import yaml
from ohif_policies import POLICIES
from ohif_policies._common import DOCS
from ohif_policies.aws_iam_no_wildcard import S3_KEY_PREFIX
from pydicom.data import get_testdata_file

import components.aws.keycloak_host as aws_keycloak_module
import components.aws.target as aws_target_module
import components.proxy_host as proxy_host_module
import components.render.dicomweb_proxy.token_check as token_check_module
from components.aws.static_site import StaticSite
from components.render.dicomweb_proxy.origin import SharedSecretCheck
from components.render.dicomweb_proxy.token_check import share_keys_conf
from components.render.keycloak_host_init import DatabaseEndpoint
from settings import ShareSettings, load, read_stack_file
from tests.conftest import STACKS
from tests.policy.harness import Violation, evaluate
from tests.pulumi_mocks import Program, Resource, run_program

EXAMPLE_STACKS = sorted(p for p in STACKS.glob("Pulumi.*.yaml") if read_stack_file(p).get("ohif:cloud") != "local")
# pydicom's test files (what tests/recipes/test_*dicom_json.py publish): the repository's studies/ holds only a
# README, and the recipe refuses a folder without DICOM files.
DICOM_TEST_FILES = ("CT_small.dcm", "MR_small.dcm", "SC_rgb_rle_2frame.dcm")
HOST = "https://portal.example-hospital.org"


def _azure_example(recipe: str, **sections) -> dict[str, str]:
    return {"ohif:recipe": recipe, "ohif:cloud": "azure", "ohif:azure": json.dumps({"location": "westeurope"}),
            "ohif:access": json.dumps({"allowed_networks": ["203.0.113.0/24"]}),
            **{f"ohif:{key}": json.dumps(value) for key, value in sections.items()}}


# The examples: every stack file for a cloud, and the newer recipes on Azure, which have no stack file yet
# (built as tests/recipes/test_azure_embedded.py and test_azure_dicom_json.py build them).
EXAMPLES: dict[str, dict[str, str]] = {
    **{p.stem.removeprefix("Pulumi."): read_stack_file(p) for p in EXAMPLE_STACKS},
    "azure-embedded": _azure_example(
        "embedded", embed={"host_origins": [HOST], "modes": ["iframe", "script"], "host_page_path": "/imaging/"},
        archive={"upstream_url": "http://10.0.1.20:8042/dicom-web/", "topology": "cross-origin"}),
    "azure-dicom-json": _azure_example("dicom-json", studies={"folder": "studies", "topology": "same-origin"}),
    # Highly available on Azure: the proxy as a scale set of two to four VMs (as stacks/Pulumi.prod-ha.yaml on AWS).
    "azure-ha": {**_azure_example("standalone", archive={"upstream_url": "http://10.0.1.20:8042/dicom-web/",
                                                          "scale": {"min_instances": 2, "max_instances": 4}}),
                 "ohif:highly_available": "true"},
}


@functools.cache
def dicom_folder() -> Path:
    """A folder of DICOM files for `ohif:studies.folder` (settings take an absolute path), removed at exit."""
    folder = Path(tempfile.mkdtemp(prefix="ohif-policy-studies-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    for name in DICOM_TEST_FILES:
        shutil.copyfile(get_testdata_file(name), folder / name)
    return folder


def _section(config: dict[str, str], key: str) -> dict:
    return json.loads(config.get(f"ohif:{key}") or "{}")


def _other(topology: str) -> str:
    return "cross-origin" if topology == "same-origin" else "same-origin"


NETWORK_KEYS = {"aws": ("vpc_id", "subnet_ids"), "azure": ("subnet_id",)}
"""The keys that name the VMs' network, by cloud section."""


def variants(example: str) -> dict[str, dict[str, dict]]:
    """The example as it is and with the other topology; where the recipe allows it, with an existing DICOMweb
    server instead of the proxy; the embedded recipe with each mode alone. Each variant maps a config section
    to its changes (a None value drops the key)."""
    config = EXAMPLES[example]
    if "ohif:studies" in config:
        topology = _section(config, "studies").get("topology", "same-origin")
        return {"as-is": {}, _other(topology): {"studies": {"topology": _other(topology)}}}
    found = {"as-is": {}}
    other = _other(_section(config, "archive").get("topology", "same-origin"))
    modes = _section(config, "embed").get("modes", [])
    if "script" in modes and other == "same-origin":
        # The packaged script runs in the host's page and reaches the proxy at its own URL only (settings refuse
        # same-origin with it): the other topology goes with the iframe alone.
        found[f"iframe-{other}"] = {"archive": {"topology": other},
                                    "embed": {"modes": ["iframe"], "host_page_path": None}}
    else:
        found[other] = {"archive": {"topology": other}}
    if len(modes) > 1:
        found["iframe-only"] = {"embed": {"modes": ["iframe"], "host_page_path": None}}
        found["script-only"] = {"embed": {"modes": ["script"]}}
    if "ohif:auth" not in config:
        # No VM then, so no network for one: settings refuse the keys that name it.
        found["existing-dicomweb"] = {"archive": {"dicomweb_url": "https://pacs.example-hospital.org/dicom-web"},
                                      **{cloud: dict.fromkeys(keys) for cloud, keys in NETWORK_KEYS.items()
                                         if set(keys) & set(_section(config, cloud))}}
    return found


def stack_config(example: str, changes: dict[str, dict] | None = None, *, topology: str | None = None
                 ) -> dict[str, str]:
    """The example's config with `changes` ({section: {key: value}}; None drops a key) and, if given, the
    topology of its archive (or of its studies, for dicom-json). An archive given a dicomweb_url loses the
    proxy's keys. A studies folder is replaced by DICOM test files."""
    config = dict(EXAMPLES[example])
    changes = {key: dict(value) for key, value in (changes or {}).items()}
    if topology is not None:
        changes.setdefault("studies" if "ohif:studies" in config else "archive", {})["topology"] = topology
    if "ohif:studies" in config:
        changes.setdefault("studies", {})["folder"] = str(dicom_folder())
    for key, section_changes in changes.items():
        section = {} if "dicomweb_url" in section_changes else _section(config, key)
        section.update(section_changes)
        config[f"ohif:{key}"] = json.dumps({k: v for k, v in section.items() if v is not None})
    return config


@pytest.mark.parametrize("example,variant", [(e, v) for e in EXAMPLES for v in variants(e)])
def test_example_stacks_pass_every_rule(example, variant):
    config = stack_config(example, variants(example)[variant])
    settings = load(config)
    violations = evaluate(run_program(config), production=settings.production, public=settings.access.public,
                          highly_available=settings.highly_available)
    assert violations == []


def test_realm_on_an_existing_keycloak_passes_every_rule():
    config = {**stack_config("prod-uac"), **EXISTING_KEYCLOAK}
    program = run_program(config, secret_keys=["keycloak:password"])
    assert program.of_type("keycloak:openid/client:Client"), "the realm must be rendered as resources here"
    assert evaluate(program, production=True) == []


def transform(token: str, change: Callable[[dict], None], name: str | None = None):
    """A stack transformation applying `change` to the props of `token` resources (only `name`, if given)."""
    def transformation(args: pulumi.ResourceTransformationArgs):
        if args.type_ == token and name in (None, args.name):
            props = dict(args.props)
            change(props)
            return pulumi.ResourceTransformationResult(props, args.opts)
        return None
    return transformation


def set_item(key, value):
    return lambda props: props.__setitem__(key, value)


def set_attr(key, attr, value):
    return lambda props: setattr(props[key], attr, value)


DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
HEADERS = "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy"
WEB_ACL = "aws:wafv2/webAcl:WebAcl"


def _legacy_oai(props):
    def swap(origins):
        s3 = origins[0]
        return [aws.cloudfront.DistributionOriginArgs(
            origin_id=s3.origin_id, domain_name=s3.domain_name,
            s3_origin_config=aws.cloudfront.DistributionOriginS3OriginConfigArgs(
                origin_access_identity="origin-access-identity/cloudfront/E2EXAMPLE"))] + origins[1:]
    # The site's origins are an Output: its routes are known only once the recipe has mounted them.
    props["origins"] = pulumi.Output.from_input(props["origins"]).apply(swap)


def _drop_coep(props):
    items = props["custom_headers_config"].items
    props["custom_headers_config"] = aws.cloudfront.ResponseHeadersPolicyCustomHeadersConfigArgs(
        items=[i for i in items if i.header != "Cross-Origin-Embedder-Policy"])


def _wildcard_cors(props):
    cors = aws.cloudfront
    props["cors_config"] = cors.ResponseHeadersPolicyCorsConfigArgs(
        access_control_allow_credentials=False, origin_override=True,
        access_control_allow_headers=cors.ResponseHeadersPolicyCorsConfigAccessControlAllowHeadersArgs(items=["*"]),
        access_control_allow_methods=cors.ResponseHeadersPolicyCorsConfigAccessControlAllowMethodsArgs(items=["GET"]),
        access_control_allow_origins=cors.ResponseHeadersPolicyCorsConfigAccessControlAllowOriginsArgs(items=["*"]))


def _open_ssh(props):
    props["ingress"] = list(props["ingress"]) + [aws.ec2.SecurityGroupIngressArgs(
        protocol="tcp", from_port=22, to_port=22, cidr_blocks=["0.0.0.0/0"])]


def without_secret_outputs(token: str):
    def transformation(args: pulumi.ResourceTransformationArgs):
        if args.type_ == token:
            opts = copy.copy(args.opts)
            opts.additional_secret_outputs = None
            return pulumi.ResourceTransformationResult(args.props, opts)
        return None
    return transformation


def without_waf_rule(rule: str):
    """A fork whose web ACL forgets one of its rules."""
    def change(props):
        props["rules"] = [r for r in props["rules"] if pulumi.get(r, "name") != rule]
    return transform(WEB_ACL, change)


def _no_encryption(monkeypatch):
    monkeypatch.setattr(aws.s3, "BucketServerSideEncryptionConfiguration", lambda *args, **kwargs: None)


def _bucket_cors_wildcard(monkeypatch):
    original = StaticSite.__init__

    def init(self, name, args, opts=None):
        original(self, name, args, opts)
        aws.s3.BucketCorsConfiguration(f"{name}-cors", bucket=self.bucket.id, cors_rules=[
            aws.s3.BucketCorsConfigurationCorsRuleArgs(allowed_methods=["GET"], allowed_origins=["*"])],
            opts=pulumi.ResourceOptions(parent=self))
    monkeypatch.setattr(StaticSite, "__init__", init)


def _proxy_allows_any_origin(monkeypatch):
    render = proxy_host_module.render_proxy_cloud_init
    monkeypatch.setattr(proxy_host_module, "render_proxy_cloud_init",
                        lambda **kwargs: render(**{**kwargs, "allowed_origins": ["*"]}))


def _wildcard_redirect_in_realm_import(monkeypatch):
    render = aws_target_module.render_realm_import

    def widened(model):
        realm = render(model)
        realm["clients"][0]["redirectUris"].append("https://*.example-hospital.org/*")
        return realm
    monkeypatch.setattr(aws_target_module, "render_realm_import", widened)


def _proxy_on_public_http(props):
    """The proxy mounted as it used to be: a custom origin at a public address, over plain HTTP."""
    def swap(origins):
        return [aws.cloudfront.DistributionOriginArgs(
            origin_id=o.origin_id, domain_name="ec2-203-0-113-10.eu-west-1.compute.amazonaws.com",
            custom_origin_config=aws.cloudfront.DistributionOriginCustomOriginConfigArgs(
                http_port=80, https_port=443, origin_protocol_policy="http-only", origin_ssl_protocols=["TLSv1.2"]),
            custom_headers=o.custom_headers) if o.vpc_origin_config else o for o in origins]
    props["origins"] = pulumi.Output.from_input(props["origins"]).apply(swap)


def _share_links_for_a_month(monkeypatch):
    """Share links that last thirty days, by default too (the settings allow it; the pack's ceiling does not)."""
    render = proxy_host_module.render_proxy_cloud_init
    month = ShareSettings(default_minutes=43200, max_minutes=43200)
    monkeypatch.setattr(proxy_host_module, "render_proxy_cloud_init",
                        lambda **kwargs: render(**{**kwargs, "share": month}))


def _share_keys_in_user_data(monkeypatch):
    """The keys written by cloud-init in place of the closed placeholder the secret store's copy replaces."""
    monkeypatch.setattr(token_check_module, "SHARE_KEYS_CLOSED",
                        share_keys_conf({"k1": "a-signing-key-in-user-data"}, signing="k1"))


def _origin_secret_in_user_data(monkeypatch):
    """The proxy's origin secret written by cloud-init, as before Secrets Manager delivered it."""
    render = proxy_host_module.render_proxy_cloud_init
    monkeypatch.setattr(proxy_host_module, "render_proxy_cloud_init",
                        lambda **kwargs: render(**{**kwargs, "origin_check": SharedSecretCheck("s3cr3t-in-user-data"),
                                                   "fetch_secrets": None}))


def _keycloak_database_on_its_vm(monkeypatch):
    """Keycloak's PostgreSQL on its own VM, as the first provisioned Keycloak had it."""
    render = aws_keycloak_module.render_keycloak_cloud_init
    monkeypatch.setattr(aws_keycloak_module, "render_keycloak_cloud_init",
                        lambda **kwargs: render(**{**kwargs, "database": DatabaseEndpoint(host="127.0.0.1")}))


def _datastore_policy_for_any_resource(props):
    """The proxy's role widened to every datastore, as a hand-written policy might have it."""
    def widen(policy: str) -> str:
        document = json.loads(policy)
        document["Statement"][0]["Resource"] = "*"
        return json.dumps(document)
    props["policy"] = pulumi.Output.from_input(props["policy"]).apply(widen)


def cloud_credential_in(module, files: dict[str, str]):
    """A fork whose proxy VM is handed a cloud credential in its cloud-init (`files`: path: content), as older
    samples kept AWS keys in a proxy container."""
    def patch(monkeypatch):
        render = module.render_proxy_cloud_init

        def with_credential(**kwargs) -> str:
            config = yaml.safe_load(render(**kwargs))
            config["write_files"] += [{"path": path, "content": content} for path, content in files.items()]
            return "#cloud-config\n" + yaml.safe_dump(config, sort_keys=False)
        monkeypatch.setattr(module, "render_proxy_cloud_init", with_credential)
    return patch


EXISTING_KEYCLOAK = {"ohif:auth": json.dumps({"realm": "ohif", "unscoped_readers": "archive",
                                              "keycloak_url": "https://sso.example-hospital.org"}),
                     "keycloak:username": "admin", "keycloak:password": "hunter2-test"}


@dataclass
class Fork:
    message: str | None = None
    """The exact message (FORKS); None where a test checks only which rule fired on which resource."""
    transformations: list = field(default_factory=list)
    patch: Callable | None = None
    topology: str | None = None
    """None: as the example says."""
    stack: str = "prod"
    """An example's name (EXAMPLES)."""
    config: dict = field(default_factory=dict)


FORKS = {
    "aws-s3-no-public-access": Fork(
        "BucketPublicAccessBlock viewer-public-access leaves blockPublicPolicy off. Set all four flags true. "
        f"See {DOCS}",
        [transform("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", set_item("block_public_policy", False))]),
    "aws-s3-encryption": Fork(
        "Bucket viewer-bucket has no default encryption. Add a BucketServerSideEncryptionConfiguration with AES256 "
        f"or aws:kms. See {DOCS}", patch=_no_encryption),
    "aws-s3-versioning": Fork(
        "Bucket viewer-bucket is not versioned. Add a BucketVersioning with status Enabled to roll back a bad "
        f"release. See {DOCS}",
        [transform("aws:s3/bucketVersioning:BucketVersioning", set_item(
            "versioning_configuration", aws.s3.BucketVersioningVersioningConfigurationArgs(status="Suspended")))]),
    "aws-s3-cors-no-wildcard": Fork(
        f"BucketCorsConfiguration viewer-cors allows origin * in a production stack. List the viewer origins "
        f"instead. See {DOCS}", patch=_bucket_cors_wildcard),
    "aws-cloudfront-https-only": Fork(
        "Distribution viewer-cdn behaviour default allows plain HTTP (allow-all). Use redirect-to-https or "
        f"https-only. See {DOCS}",
        [transform(DISTRIBUTION, set_attr("default_cache_behavior", "viewer_protocol_policy", "allow-all"))]),
    "aws-cloudfront-minimum-tls": Fork(
        "Distribution viewer-cdn accepts TLSv1. Set viewerCertificate.minimumProtocolVersion to TLSv1.2_2021 or "
        f"newer. See {DOCS}",
        [transform(DISTRIBUTION, set_attr("viewer_certificate", "minimum_protocol_version", "TLSv1"))]),
    "aws-cloudfront-s3-origin-oac": Fork(
        "Distribution viewer-cdn origin viewer-bucket reads S3 without Origin Access Control. Set "
        f"originAccessControlId and drop s3OriginConfig. See {DOCS}",
        [transform(DISTRIBUTION, _legacy_oai, name="viewer-cdn")]),
    "aws-cloudfront-isolation-headers": Fork(
        "Distribution viewer-cdn serves the viewer without COOP same-origin and COEP require-corp. Attach a "
        f"response headers policy that sends both. See {DOCS}",
        [transform(HEADERS, _drop_coep)]),
    "aws-cloudfront-spa-fallback": Fork(
        "Distribution viewer-cdn turns 403 into 200 /index.html. Route deep links with a viewer-request function "
        f"instead (components/render/spa_fallback.js). See {DOCS}",
        [transform(DISTRIBUTION, set_item("custom_error_responses", [aws.cloudfront.DistributionCustomErrorResponseArgs(
            error_code=403, response_code=200, response_page_path="/index.html")]), name="viewer-cdn")]),
    "aws-cloudfront-cors-no-wildcard": Fork(
        f"ResponseHeadersPolicy viewer-headers allows origin * in a production stack. List the viewer origins "
        f"instead. See {DOCS}", [transform(HEADERS, _wildcard_cors)]),
    # A fork that frames the viewer from every subdomain (settings refuse a wildcard host origin, a fork may not).
    "aws-cloudfront-frame-ancestors-no-wildcard": Fork(
        "ResponseHeadersPolicy viewer-headers lets pages it does not name frame the viewer in a production stack "
        "(frame-ancestors https://*.example-hospital.org). List the host applications' exact origins in "
        f"embed.host_origins. See {DOCS}",
        [transform(HEADERS, set_attr("security_headers_config", "content_security_policy",
                                     aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigContentSecurityPolicyArgs(
                                         content_security_policy="frame-ancestors 'self' https://*.example-hospital.org",
                                         override=True)), name="viewer-headers")],
        stack="prod-embedded"),
    "aws-cloudfront-no-public-http-origin": Fork(
        "Distribution viewer-cdn origin dicomweb-proxy reaches ec2-203-0-113-10.eu-west-1.compute.amazonaws.com over "
        "plain HTTP across the internet (http-only). Reach a VM through a CloudFront VPC origin (vpcOriginConfig), or "
        f"set originProtocolPolicy https-only. See {DOCS}",
        [transform(DISTRIBUTION, _proxy_on_public_http, name="viewer-cdn")]),
    "aws-ec2-imdsv2": Fork(
        f"Instance proxy-vm allows IMDSv1. Set metadataOptions.httpTokens to required. See {DOCS}",
        [transform("aws:ec2/instance:Instance", set_item(
            "metadata_options", aws.ec2.InstanceMetadataOptionsArgs(http_tokens="optional")))]),
    "aws-ec2-encrypted-volumes": Fork(
        f"Instance proxy-vm root volume is not encrypted. Set encrypted: true. See {DOCS}",
        [transform("aws:ec2/instance:Instance", set_item(
            "root_block_device", aws.ec2.InstanceRootBlockDeviceArgs(volume_size=10, encrypted=False)))]),
    "aws-ec2-no-open-ingress": Fork(
        f"proxy-sg opens [22] (SSH/RDP). Remove the rule; use SSM Session Manager. See {DOCS}",
        [transform("aws:ec2/securityGroup:SecurityGroup", _open_ssh)]),
    "aws-ec2-proxy-cors-no-wildcard": Fork(
        "Instance proxy-vm runs a DICOMweb proxy whose CORS allows any origin in a production stack. List the "
        f"viewer origins in archive.allowed_origins. See {DOCS}", patch=_proxy_allows_any_origin,
        topology="cross-origin"),
    "aws-cloudfront-origin-header-secret": Fork(
        "Distribution viewer-cdn sends custom origin headers (an origin secret) but does not keep `origins` secret. "
        f"Add additional_secret_outputs=['origins']. See {DOCS}", [without_secret_outputs(DISTRIBUTION)]),
    "aws-ec2-user-data-secret": Fork(
        "Instance proxy-vm writes a secret (/etc/nginx/conf.d/ohif-dicomweb-proxy.conf) from its user data, which any "
        "process on the VM and anyone allowed ec2:DescribeInstanceAttribute can read. Deliver it through Secrets "
        f"Manager (components/aws/vm_secrets.py). See {DOCS}", patch=_origin_secret_in_user_data),
    "aws-rds-protected": Fork(
        "RDS instance keycloak-db-postgres holds users' accounts but deletion protection is off. Keep "
        f"components/aws/database.py's settings. See {DOCS}",
        [transform("aws:rds/instance:Instance", set_item("deletion_protection", False))], stack="prod-uac"),
    "keycloak-database-off-vm": Fork(
        "keycloak-vm keeps Keycloak's accounts on the VM itself (--db-url to 127.0.0.1:5432) in a production stack: "
        "they are lost when the VM is replaced. Use the cloud's managed PostgreSQL (components/aws/database.py, "
        f"components/azure/database.py) or auth.keycloak_database_url. See {DOCS}",
        patch=_keycloak_database_on_its_vm, stack="prod-uac"),
    "proxy-share-lifetime": Fork(
        "Instance proxy-vm lets share links last up to 43200 minutes in a production stack; this pack allows 10080 "
        f"(policy config share_max_minutes). Lower ohif:share.max_minutes. See {DOCS}",
        patch=_share_links_for_a_month, stack="prod-uac"),
    "proxy-share-key-secret": Fork(
        "Instance proxy-vm writes share links' signing keys (/etc/nginx/ohif-secrets/share-keys.conf) from its "
        "cloud-init, which any process on the VM can read. Deliver them from the cloud's secret store "
        f"(components/share_keys.py). See {DOCS}", patch=_share_keys_in_user_data, stack="prod-uac"),
    "aws-ec2-proxy-highly-available": Fork(
        "Auto Scaling group proxy-group may run 1 instance(s) in a highly available stack. Set "
        f"ohif:archive.scale.min_instances to 2 or more. See {DOCS}",
        [transform("aws:autoscaling/group:Group", set_item("min_size", 1))], stack="prod-ha"),
    "keycloak-client-pkce-code-flow": Fork(
        "Keycloak client ohif-viewer (realm-viewer-client): PKCE is not S256. Use the code flow with PKCE S256 only. "
        f"See {DOCS}",
        [transform("keycloak:openid/client:Client", set_item("pkce_code_challenge_method", ""))],
        stack="prod-uac", config=EXISTING_KEYCLOAK),
    "keycloak-client-exact-redirects": Fork(
        "Keycloak client ohif-viewer (keycloak-vm) allows https://*.example-hospital.org/*. List exact URIs "
        f"(components/render/realm.py derives them from the viewer URL). See {DOCS}",
        patch=_wildcard_redirect_in_realm_import, stack="prod-uac"),
    "keycloak-realm-ssl-required": Fork(
        f"Keycloak realm ohif (realm-realm) has sslRequired none. Use external or all. See {DOCS}",
        [transform("keycloak:index/realm:Realm", set_item("ssl_required", "none"))],
        stack="prod-uac", config=EXISTING_KEYCLOAK),
    "aws-cloudfront-waf-allow-list": Fork(
        "Distribution viewer-cdn serves anyone: it has no WAF web ACL that blocks addresses outside an IP set. Say "
        "who may read: ohif:access.allowed_networks, login (recipe user-account-control), or public: true for "
        f"de-identified data (and the policy config public). See {DOCS}", [without_waf_rule("allowed-networks")]),
    "aws-iam-no-wildcard": Fork(
        "IAM policy proxy-read-datastore allows a wildcard (resource *). Name each action and resource, as "
        f"components/aws/healthimaging.py does for one datastore. See {DOCS}",
        [transform("aws:iam/rolePolicy:RolePolicy", _datastore_policy_for_any_resource, name="proxy-read-datastore")],
        stack="prod-healthimaging"),
    "aws-cloudfront-waf-rate-limit": Fork(
        "Distribution viewer-cdn has no WAF rate-based rule that blocks: one client may pull images as fast as the "
        f"proxy sends them. Attach the stack's web ACL (components/aws/edge_firewall.py). See {DOCS}",
        [without_waf_rule("dicomweb-rate-limit")]),
}


def test_every_rule_has_a_failing_fork():
    """The Azure rules' forks are in tests/policy/test_azure_policies.py (AZURE_FORKS), which checks them alike."""
    assert sorted(FORKS) == sorted(p.name for p in POLICIES if not p.name.startswith("azure-"))


def fork_program(fork: Fork, monkeypatch) -> Program:
    if fork.patch:
        fork.patch(monkeypatch)
    config = {**stack_config(fork.stack, topology=fork.topology), **fork.config}
    return run_program(config, transformations=fork.transformations, secret_keys=["keycloak:password"])


def fork_violations(fork: Fork, monkeypatch) -> list[Violation]:
    """The rules run on the fork, with the policy config its stack would pass (production, and public where the stack
    states it)."""
    config = {**stack_config(fork.stack, topology=fork.topology), **fork.config}
    settings = load(config)
    return evaluate(fork_program(fork, monkeypatch), production=True, public=settings.access.public,
                    highly_available=settings.highly_available)


def fired(violations: list[Violation]) -> list[tuple[str, str]]:
    """(rule, resource name) of each violation."""
    return [(v.policy, v.urn.rsplit("::", 1)[-1]) for v in violations]


@pytest.mark.parametrize("rule", FORKS)
def test_fork_breaks_exactly_its_rule(rule, monkeypatch):
    violations = fork_violations(FORKS[rule], monkeypatch)
    assert [(v.policy, v.message) for v in violations] == [(rule, FORKS[rule].message)]


# The file hosts of the newer recipes (components/aws/static_files.py: OHIF v2's packaged script, studies on their
# own origin) are guarded by the rules that guard the viewer's storage and CDN: a fork of each on such a host trips
# the rule on that host's resource, and nothing else.
FILE_HOST_FORKS = {
    "script-bucket-public": ("aws-s3-no-public-access", "script-public-access", Fork(
        transformations=[transform("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
                                   set_item("block_public_policy", False), name="script-public-access")],
        stack="prod-embedded")),
    "studies-bucket-public": ("aws-s3-no-public-access", "studies-public-access", Fork(
        transformations=[transform("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
                                   set_item("restrict_public_buckets", False), name="studies-public-access")],
        stack="prod-dicom-json", topology="cross-origin")),
    "script-cors-wildcard": ("aws-cloudfront-cors-no-wildcard", "script-headers", Fork(
        transformations=[transform(HEADERS, _wildcard_cors, name="script-headers")], stack="prod-embedded")),
    "studies-cors-wildcard": ("aws-cloudfront-cors-no-wildcard", "studies-headers", Fork(
        transformations=[transform(HEADERS, _wildcard_cors, name="studies-headers")], stack="prod-dicom-json",
        topology="cross-origin")),
    "script-cdn-http": ("aws-cloudfront-https-only", "script-cdn", Fork(
        transformations=[transform(DISTRIBUTION, set_attr("default_cache_behavior", "viewer_protocol_policy",
                                                          "allow-all"), name="script-cdn")], stack="prod-embedded")),
    "script-cdn-oai": ("aws-cloudfront-s3-origin-oac", "script-cdn", Fork(
        transformations=[transform(DISTRIBUTION, _legacy_oai, name="script-cdn")], stack="prod-embedded")),
}


# A cloud credential in a VM's cloud-init is a secret there like any other: the user-data rule reports it.
CREDENTIAL_FORKS = {
    "aws-credentials-file": Fork(patch=cloud_credential_in(proxy_host_module, {
        "/root/.aws/credentials": "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n"
                                  "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"}),
        stack="prod-healthimaging"),
    "an-access-key-in-an-environment": Fork(patch=cloud_credential_in(proxy_host_module, {
        "/etc/default/ohif-proxy": "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\n"}), stack="prod-healthimaging"),
}


@pytest.mark.parametrize("case", CREDENTIAL_FORKS)
def test_a_cloud_credential_in_user_data_is_refused(case, monkeypatch):
    assert fired(fork_violations(CREDENTIAL_FORKS[case], monkeypatch)) == [("aws-ec2-user-data-secret", "proxy-vm")]


@pytest.mark.parametrize("case", FILE_HOST_FORKS)
def test_file_hosts_are_guarded_like_the_viewer(case, monkeypatch):
    rule, resource, fork = FILE_HOST_FORKS[case]
    assert fired(fork_violations(fork, monkeypatch)) == [(rule, resource)]


def _without_root_object(props):
    props["default_root_object"] = None


def _without_functions(props):
    props["default_cache_behavior"].function_associations = []


@pytest.mark.parametrize("dropped", [[_without_root_object], [_without_root_object, _without_functions]],
                         ids=["root-object", "root-object-and-spa-function"])
def test_the_viewer_is_known_by_any_sign_of_its_page(dropped, monkeypatch):
    """aws-cloudfront-isolation-headers finds the viewer by its default root object, its SPA function or the
    index.html in its bucket: a fork that drops some of them and COEP still trips it."""
    fork = Fork(transformations=[transform(HEADERS, _drop_coep),
                                 *(transform(DISTRIBUTION, d, name="viewer-cdn") for d in dropped)])
    assert fired(fork_violations(fork, monkeypatch)) == [
        ("aws-cloudfront-isolation-headers", "viewer-cdn")]


def test_a_file_host_is_not_the_viewer():
    """The packaged script's distribution sends CORP and CORS, not COOP/COEP, and serves no page."""
    program = run_program(stack_config("prod-embedded", {"embed": {"modes": ["script"]}}))
    assert sorted(d.name for d in program.of_type(DISTRIBUTION)) == ["proxy-cdn", "script-cdn"]
    headers = program.one(HEADERS, "script-headers").inputs
    assert "Cross-Origin-Embedder-Policy" not in str(headers)
    assert evaluate(program, production=True) == []


def test_cors_rules_allow_a_wildcard_outside_production(monkeypatch):
    _proxy_allows_any_origin(monkeypatch)
    _bucket_cors_wildcard(monkeypatch)
    config = stack_config("prod", topology="cross-origin")
    program = run_program(config, transformations=[transform(HEADERS, _wildcard_cors)])
    assert evaluate(program, production=False) == []
    assert {v.policy for v in evaluate(program, production=True)} == {
        "aws-s3-cors-no-wildcard", "aws-cloudfront-cors-no-wildcard", "aws-ec2-proxy-cors-no-wildcard"}


def test_frame_ancestors_rule_allows_a_wildcard_outside_production(monkeypatch):
    program = fork_program(FORKS["aws-cloudfront-frame-ancestors-no-wildcard"], monkeypatch)
    assert evaluate(program, production=False) == []


def test_pack_assembles_and_serves(tmp_path):
    """policy/__main__.py builds the PolicyPack and starts its analyzer, as `pulumi preview --policy-pack` does."""
    import subprocess
    import sys

    from tests.conftest import REPO

    proc = subprocess.Popen([sys.executable, "__main__.py"], cwd=REPO / "policy", stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        port = proc.stdout.readline().strip()
        assert port.isdigit(), f"no analyzer port; stderr: {proc.stderr.read() if proc.poll() is not None else ''}"
    finally:
        proc.kill()
        proc.wait()


# aws-cloudfront-no-public-http-origin, origin by origin, on one distribution as the engine hands it over.

def _distribution(origin: dict) -> Program:
    props = {"origins": [{"originId": "o", "domainName": "origin.example-hospital.org", **origin}]}
    return Program(resources=[Resource(DISTRIBUTION, "d", props, set(), outputs={**props, "id": "d-id"})])


@pytest.mark.parametrize("origin,fires", [
    ({"customOriginConfig": {"originProtocolPolicy": "http-only"}}, True),
    ({"customOriginConfig": {"originProtocolPolicy": "match-viewer"}}, True),  # HTTP whenever the viewer's is
    ({"customOriginConfig": {"originProtocolPolicy": "https-only"}}, False),
    ({"vpcOriginConfig": {"vpcOriginId": "vo_1"}}, False),  # inside AWS's network
    ({"originAccessControlId": "oac", "domainName": "b.s3.eu-west-1.amazonaws.com"}, False),
])
def test_public_http_origins(origin, fires):
    # A bare distribution has no WAF either: those rules are tested on whole stacks (FORKS).
    found = [v.policy for v in evaluate(_distribution(origin), production=True)
             if not v.policy.startswith("aws-cloudfront-waf-")]
    assert found == (["aws-cloudfront-no-public-http-origin"] if fires else [])


@pytest.mark.parametrize("resource, allowed", [
    ("arn:aws:s3:::proxy-shares-bucket-a1b2c3/shares/*", True),
    ("arn:aws:s3:::proxy-shares-bucket-a1b2c3/revoked/*", True),
    ("arn:aws:s3:::proxy-shares-bucket-a1b2c3/*", False),
    ("arn:aws:s3:::*/shares/*", False),
    ("arn:aws:s3:::proxy-shares-bucket-a1b2c3/sh*/*", False),
    ("arn:aws:s3:::proxy-shares-bucket-a1b2c3/shares/*/*", False),
    ("*", False),
])
def test_the_only_wildcard_allowed_is_one_key_prefix_of_one_bucket(resource, allowed):
    assert bool(S3_KEY_PREFIX.match(resource)) is allowed
