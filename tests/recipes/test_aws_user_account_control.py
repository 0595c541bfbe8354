"""The user-account-control recipe's resource graph under Pulumi mocks: a provisioned Keycloak, or a
realm managed on an existing one, and the token check wired into the DICOMweb proxy."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import PurePosixPath

import pytest
import yaml

from components.aws.origin_vm import unpacked_user_data
from components.render.archive_service import INSTANCE_METADATA_URL
from components.render.cloud_init import (
    VM_ACCESS_MODULE,
    VM_NJS_DIR,
    VM_SHARE_STORE_FILES,
    VM_TOKEN_CHECK_FILES,
    nginx_conf_of,
    njs_modules,
)
from components.render.dicomweb_proxy.interface import READ_CLASSES
from components.render.dicomweb_proxy.token_check import SHARE_KEYS_CLOSED, share_keys_conf
from components.render.dicomweb_proxy.upstream import SYSTEM_CA_FILE
from components.render.realm import SHARE_CLIENT_ID, RealmModel, render_realm_import
from settings import ShareSettings, read_stack_file
from tests.conftest import STACKS
from tests.pulumi_mocks import Program, run_program
from tests.recipes.test_aws_standalone import AMAZON_DNS, egress, no_public_address, vpc_origins_only

VIEWER_ORIGIN = "https://viewer-cdn.cloudfront.net"
KEYCLOAK = "https://keycloak-cdn.cloudfront.net"
EXISTING = "https://sso.example-hospital.org"


def uac_config(**auth_changes) -> dict[str, str]:
    config = read_stack_file(STACKS / "Pulumi.prod-uac.yaml")
    config["ohif:auth"] = json.dumps({**json.loads(config["ohif:auth"]), **auth_changes})
    return config


@pytest.fixture(scope="module")
def provisioned() -> Program:
    return run_program(uac_config())


@pytest.fixture(scope="module")
def existing() -> Program:
    config = {**uac_config(keycloak_url=EXISTING), "keycloak:username": "admin", "keycloak:password": "hunter2-test"}
    return run_program(config, secret_keys=["keycloak:password"])


def vm(program: Program, name: str):
    return program.one("aws:ec2/instance:Instance", f"{name}-vm")


def cloud_init(program: Program, name: str) -> dict:
    return yaml.safe_load(unpacked_user_data(vm(program, name).inputs["userDataBase64"]))


def test_keycloak_vm_is_hardened(provisioned):
    keycloak = vm(provisioned, "keycloak")
    assert keycloak.inputs["metadataOptions"]["httpTokens"] == "required"
    assert keycloak.inputs["rootBlockDevice"]["encrypted"] is True
    assert "keyName" not in keycloak.inputs
    # Only CloudFront reaches the VM: through its balancer, which admits CloudFront's prefix list alone.
    balancer = provisioned.one("aws:ec2/securityGroup:SecurityGroup", "keycloak-lb-sg").inputs
    assert [(r["fromPort"], r["toPort"], r["prefixListIds"]) for r in balancer["ingress"]] == \
        [(80, 80, ["pl-3b927c52"])]
    assert all(not r.get("cidrBlocks") for r in balancer["ingress"]), "only CloudFront reaches the balancer"
    assert [(r["protocol"], r["fromPort"], r["cidrBlocks"]) for r in balancer["egress"]] == \
        [("tcp", 80, ["10.251.0.0/24"])]
    group = provisioned.one("aws:ec2/securityGroup:SecurityGroup", "keycloak-sg").inputs
    assert [(r["fromPort"], r["toPort"], r["securityGroups"]) for r in group["ingress"]] == \
        [(80, 80, ["keycloak-lb-sg-id"])]
    assert all(not r.get("cidrBlocks") and not r.get("prefixListIds") for r in group["ingress"]), \
        "only the balancer reaches the VM"
    cdn = provisioned.one("aws:cloudfront/distribution:Distribution", "keycloak-cdn").inputs
    assert cdn["defaultCacheBehavior"]["viewerProtocolPolicy"] == "https-only", "browsers reach Keycloak on 443 only"
    passwords = {r.name for r in provisioned.of_type("random:index/randomPassword:RandomPassword")}
    assert {"keycloak-admin-password", "keycloak-db-password"} <= passwords


def test_both_vms_are_private_vpc_origins_in_the_recipes_network(provisioned, existing):
    for program in (provisioned, existing):
        no_public_address(program)
        vpc_origins_only(program)
    assert {vm.name: vm.inputs["subnetId"] for vm in provisioned.of_type("aws:ec2/instance:Instance")} == \
        {"keycloak-vm": "network-private-id", "proxy-vm": "network-private-id"}
    assert len(provisioned.of_type("ohif:aws:Network")) == 1, "one network for both VMs"
    cdn = provisioned.one("aws:cloudfront/distribution:Distribution", "keycloak-cdn").inputs
    assert cdn["origins"][0]["vpcOriginConfig"]["vpcOriginId"] == "keycloak-origin-id"
    # Keycloak's VPC origin names its balancer, which exists before the VM: its URL does not wait for the VM.
    origin = provisioned.one("aws:cloudfront/vpcOrigin:VpcOrigin", "keycloak-origin").inputs
    balancer = provisioned.one("aws:lb/loadBalancer:LoadBalancer", "keycloak-lb")
    assert origin["vpcOriginEndpointConfig"]["arn"] == balancer.outputs["arn"]
    assert balancer.inputs["subnets"] == ["network-private-id"]
    assert balancer.inputs["securityGroups"] == ["keycloak-lb-sg-id"]
    targets = provisioned.one("aws:lb/targetGroup:TargetGroup", "keycloak-targets").inputs
    assert (targets["protocol"], targets["port"], targets["preserveClientIp"]) == ("TCP", 80, "false")
    proxy_origin = provisioned.one("aws:cloudfront/vpcOrigin:VpcOrigin", "proxy-origin").inputs
    assert proxy_origin["vpcOriginEndpointConfig"]["arn"] == \
        provisioned.one("aws:ec2/instance:Instance", "proxy-vm").outputs["arn"], "the proxy is a VPC origin itself"


@pytest.mark.parametrize("topology", ["same-origin"])
def test_a_same_origin_proxy_with_a_provisioned_keycloak_has_no_dependency_cycle(topology):
    """The viewer's distribution carries the proxy, whose token check names Keycloak's URL, and Keycloak's realm
    names the viewer's: with Keycloak behind its balancer the program completes (a cycle would never resolve)."""
    config = uac_config()
    config["ohif:archive"] = json.dumps({**json.loads(config["ohif:archive"]), "topology": topology})
    program = run_program(config)
    origins = program.one("aws:cloudfront/distribution:Distribution", "viewer-cdn").inputs["origins"]
    assert [o["originId"] for o in origins] == ["viewer-bucket", "dicomweb-proxy"]
    assert program.outputs["dicomweb_url"] == f"{VIEWER_ORIGIN}/dicom-web"


def test_keycloak_reaches_dns_packages_and_its_database_but_not_the_archive(provisioned):
    web = [("tcp", 80, 80, ("0.0.0.0/0",)), ("tcp", 443, 443, ("0.0.0.0/0",))]
    dns = [(p, 53, 53, (AMAZON_DNS, "10.251.0.2/32")) for p in ("udp", "tcp")]
    assert egress(provisioned, "keycloak-sg") == dns + web + [("tcp", 5432, 5432, ())]
    to_database = provisioned.one("aws:ec2/securityGroup:SecurityGroup", "keycloak-sg").inputs["egress"][-1]
    assert to_database["securityGroups"] == ["keycloak-db-sg-id"], "the database's group, no address range"
    assert egress(provisioned, "proxy-sg") == dns + web + [("tcp", 8042, 8042, ("10.0.1.20/32",))]


def test_the_stacks_subnets_take_the_proxy_first_and_keycloak_last():
    config = uac_config()
    config["ohif:aws"] = json.dumps({**json.loads(config["ohif:aws"]), "vpc_id": "vpc-0a1b2c3d4e5f67890",
                                     "subnet_ids": ["subnet-0a1b2c3d4e5f67891", "subnet-0a1b2c3d4e5f67892"],
                                     "database_subnet_ids": ["subnet-0a1b2c3d4e5f67893", "subnet-0a1b2c3d4e5f67894"]})
    program = run_program(config)
    assert {vm.name: vm.inputs["subnetId"] for vm in program.of_type("aws:ec2/instance:Instance")} == \
        {"proxy-vm": "subnet-0a1b2c3d4e5f67891", "keycloak-vm": "subnet-0a1b2c3d4e5f67892"}
    assert program.one("aws:rds/subnetGroup:SubnetGroup").inputs["subnetIds"] == \
        ["subnet-0a1b2c3d4e5f67893", "subnet-0a1b2c3d4e5f67894"]
    assert {g.inputs["vpcId"] for g in program.of_type("aws:ec2/securityGroup:SecurityGroup")} == \
        {"vpc-0a1b2c3d4e5f67890"}
    assert not program.of_type("ohif:aws:Network")
    no_public_address(program)
    vpc_origins_only(program)


def test_keycloak_runs_in_production_mode_on_the_managed_database(provisioned):
    unit = next(f["content"] for f in cloud_init(provisioned, "keycloak")["write_files"]
                if f["path"] == "/etc/systemd/system/keycloak.service")
    assert " start --import-realm" in unit and "start-dev" not in unit
    assert "--db=postgres" in unit and "--proxy-headers=xforwarded" in unit
    address = provisioned.one("aws:rds/instance:Instance").outputs["address"]
    assert f"--db-url=jdbc:postgresql://{address}:5432/keycloak?sslmode=verify-full&" in unit
    assert "postgresql" not in cloud_init(provisioned, "keycloak")["packages"], "no database on the VM"


def test_provisioned_keycloak_imports_the_realm_for_the_viewer(provisioned):
    realm = next(json.loads(f["content"]) for f in cloud_init(provisioned, "keycloak")["write_files"]
                 if f["path"] == "/etc/keycloak/import/ohif.json")
    assert realm == render_realm_import(RealmModel(name="ohif", viewer_origin=VIEWER_ORIGIN, share=ShareSettings()))
    client = realm["clients"][0]
    assert client["redirectUris"] == [f"{VIEWER_ORIGIN}/callback", f"{VIEWER_ORIGIN}/silent-refresh.html"]
    assert client["attributes"]["pkce.code.challenge.method"] == "S256"
    assert realm["sslRequired"] == "external"


def test_viewer_config_logs_in_with_code_flow(provisioned):
    app_config = provisioned.one("aws:s3/bucketObjectv2:BucketObjectv2", "viewer-app-config.js").inputs["content"]
    oidc = json.loads(re.search(r"window.config = (.*?\n\});", app_config, re.S)[1])["oidc"][0]
    assert oidc["authority"] == f"{KEYCLOAK}/realms/ohif"
    assert oidc["client_id"] == "ohif-viewer" and oidc["response_type"] == "code"
    assert oidc["redirect_uri"] == "/callback" and oidc["scope"] == "openid"


def test_proxy_checks_tokens_of_the_realm(provisioned):
    files = {f["path"]: f["content"] for f in cloud_init(provisioned, "proxy")["write_files"]}
    conf = nginx_conf_of(unpacked_user_data(vm(provisioned, "proxy").inputs["userDataBase64"]))
    assert f"js_import ohif_access from {VM_ACCESS_MODULE};" in conf
    assert files[VM_ACCESS_MODULE] == njs_modules(archive=False, share_store=True)["access.js"]
    assert f'set $ohif_jwt_issuer "{KEYCLOAK}/realms/ohif";' in conf
    assert f'set $ohif_jwks_url "{KEYCLOAK}/realms/ohif/protocol/openid-connect/certs";' in conf
    # every read location, and the share endpoints (create and list, revoke)
    assert conf.count("auth_request /_ohif_auth;") == len(READ_CLASSES) + 2


def test_existing_keycloak_gets_the_realm_as_resources(existing):
    assert not existing.of_type("ohif:aws:KeycloakHost")
    provider = existing.one("pulumi:providers:keycloak")
    assert provider.inputs["url"] == EXISTING and provider.inputs["password"] == "hunter2-test"
    assert "password" in provider.secret_inputs, "the admin password must stay a Pulumi secret"
    client = existing.one("keycloak:openid/client:Client", "realm-viewer-client").inputs
    assert client["accessType"] == "PUBLIC" and client["pkceCodeChallengeMethod"] == "S256"
    assert client["implicitFlowEnabled"] is False and client["directAccessGrantsEnabled"] is False
    assert not any("*" in uri for uri in client["validRedirectUris"] + client["webOrigins"])
    assert existing.outputs["keycloak_url"] == EXISTING


def _from_import(realm: dict) -> dict:
    client, *share = realm["clients"]
    return {"realm": realm["realm"], "ssl": realm["sslRequired"], "token": realm["accessTokenLifespan"],
            "idle": realm["ssoSessionIdleTimeout"], "max": realm["ssoSessionMaxLifespan"],
            "failures": realm["failureFactor"], "roles": sorted(r["name"] for r in realm["roles"]["realm"]),
            "client": client["clientId"], "public": client["publicClient"], "code": client["standardFlowEnabled"],
            "implicit": client["implicitFlowEnabled"], "password_grant": client["directAccessGrantsEnabled"],
            "pkce": client["attributes"]["pkce.code.challenge.method"], "redirects": sorted(client["redirectUris"]),
            "origins": client["webOrigins"],
            "logout": client["attributes"]["post.logout.redirect.uris"].split("##"),
            "studies": [(m["config"]["user.attribute"], m["config"]["claim.name"], m["config"]["multivalued"],
                         m["config"]["access.token.claim"]) for m in client["protocolMappers"]],
            "profile": [(a["name"], a.get("multivalued", False), a["permissions"]["edit"], sorted(a["validations"]))
                        for a in json.loads(realm["components"]["org.keycloak.userprofile.UserProfileProvider"][0]
                                            ["config"]["kc.user.profile.config"][0])["attributes"]],
            "share_clients": [(c["clientId"], c["publicClient"], c["standardFlowEnabled"],
                               c["attributes"]["oauth2.device.authorization.grant.enabled"] == "true",
                               [(m["config"]["user.attribute"], m["config"]["claim.name"]) for m in c["protocolMappers"]
                                if m["protocolMapper"] == "oidc-usermodel-attribute-mapper"],
                               [m["config"]["included.client.audience"] for m in c["protocolMappers"]
                                if m["protocolMapper"] == "oidc-audience-mapper"]) for c in share]}


def _seconds(duration: str) -> int:
    h, m, s = (int(x) for x in re.fullmatch(r"(\d+)h(\d+)m(\d+)s", duration).groups())
    return h * 3600 + m * 60 + s


MAPPER_TYPE = "keycloak:openid/userAttributeProtocolMapper:UserAttributeProtocolMapper"
AUDIENCE_MAPPER_TYPE = "keycloak:openid/audienceProtocolMapper:AudienceProtocolMapper"


def _from_resources(program: Program) -> dict:
    realm = program.one("keycloak:index/realm:Realm").inputs
    viewer = program.one("keycloak:openid/client:Client", "realm-viewer-client")
    client = viewer.inputs

    def mappers(client_id: str, token: str) -> list:
        return [m.inputs for m in program.of_type(token) if m.inputs["clientId"] == client_id]

    return {"realm": realm["realm"], "ssl": realm["sslRequired"], "token": _seconds(realm["accessTokenLifespan"]),
            "idle": _seconds(realm["ssoSessionIdleTimeout"]), "max": _seconds(realm["ssoSessionMaxLifespan"]),
            "failures": realm["securityDefenses"]["bruteForceDetection"]["maxLoginFailures"],
            "roles": sorted(r.inputs["name"] for r in program.of_type("keycloak:index/role:Role")),
            "client": client["clientId"], "public": client["accessType"] == "PUBLIC",
            "code": client["standardFlowEnabled"], "implicit": client["implicitFlowEnabled"],
            "password_grant": client["directAccessGrantsEnabled"], "pkce": client["pkceCodeChallengeMethod"],
            "redirects": sorted(client["validRedirectUris"]), "origins": client["webOrigins"],
            "logout": client["validPostLogoutRedirectUris"],
            "studies": [(m["userAttribute"], m["claimName"], str(m["multivalued"]).lower(),
                         str(m["addToAccessToken"]).lower()) for m in mappers(viewer.outputs["id"], MAPPER_TYPE)],
            "profile": [(a["name"], a["multiValued"], a["permissions"]["edits"],
                         sorted(v["name"] for v in a["validators"]))
                        for a in program.one("keycloak:index/realmUserProfile:RealmUserProfile").inputs["attributes"]],
            "share_clients": [(c.inputs["clientId"], c.inputs["accessType"] == "PUBLIC",
                               c.inputs["standardFlowEnabled"], c.inputs["oauth2DeviceAuthorizationGrantEnabled"],
                               [(m["userAttribute"], m["claimName"]) for m in mappers(c.outputs["id"], MAPPER_TYPE)],
                               [m["includedClientAudience"] for m in mappers(c.outputs["id"], AUDIENCE_MAPPER_TYPE)])
                              for c in program.of_type("keycloak:openid/client:Client") if c is not viewer]}


def test_both_renderings_carry_the_same_settings(existing):
    """The import JSON (new Keycloak) and the pulumi-keycloak resources (existing one) from one model."""
    expected = _from_import(render_realm_import(
        RealmModel(name="ohif", viewer_origin=VIEWER_ORIGIN, share=ShareSettings())))
    assert _from_resources(existing) == expected
    assert expected["share_clients"] == [(SHARE_CLIENT_ID, True, False, True, [("dicom_studies", "dicom_studies")],
                                          ["ohif-viewer"])]


@pytest.mark.parametrize("unscoped_readers", ["archive", "refused"])
def test_every_proxy_holds_readers_to_their_studies(provisioned, unscoped_readers):
    program = provisioned if unscoped_readers == "archive" else run_program(uac_config(unscoped_readers="refused"))
    files = {f["path"]: f["content"] for f in cloud_init(program, "proxy")["write_files"]}
    conf = nginx_conf_of(unpacked_user_data(vm(program, "proxy").inputs["userDataBase64"]))
    assert files[VM_ACCESS_MODULE] == njs_modules(archive=False, share_store=True)["access.js"]
    assert f"js_import ohif_access from {VM_ACCESS_MODULE};" in conf
    assert f'map $host $ohif_unscoped_readers {{ default "{unscoped_readers}"; }}' in conf
    assert conf.count("if ($ohif_scope_refused)") == conf.count("if ($ohif_query_refused)") == len(READ_CLASSES)


# Share links (issue 29): their signing keys reach the proxy from Secrets Manager, never its user data.

def mock_key(name: str) -> str:
    """The key the mocks generate for a RandomBytes named `name` (program/offline.py), as the proxy reads it."""
    return base64.urlsafe_b64encode(hashlib.sha256(name.encode()).digest()).rstrip(b"=").decode()


def test_share_keys_come_from_secrets_manager_which_the_proxy_alone_reads(provisioned):
    key = mock_key("proxy-share-key-k1")
    user_data = unpacked_user_data(vm(provisioned, "proxy").inputs["userDataBase64"])
    assert key not in user_data
    assert [r.name for r in provisioned.of_type("random:index/randomBytes:RandomBytes")] == ["proxy-share-key-k1"]
    version = provisioned.one("aws:secretsmanager/secretVersion:SecretVersion", "proxy-secrets-version")
    files = json.loads(version.inputs["secretString"])
    assert "secretString" in version.secret_inputs
    assert files[VM_TOKEN_CHECK_FILES.share_keys_path] == share_keys_conf({"k1": key}, signing="k1")
    # The proxy's role reads its own secret alone; Keycloak's role reads Keycloak's, without the keys.
    secret = provisioned.one("aws:secretsmanager/secret:Secret", "proxy-secrets")
    role = provisioned.one("aws:iam/role:Role", "proxy-role")
    readers = {p.inputs["role"]: json.loads(p.inputs["policy"])["Statement"]
               for p in provisioned.of_type("aws:iam/rolePolicy:RolePolicy")
               if secret.outputs["arn"] in p.inputs["policy"]}
    assert readers == {role.outputs["id"]: [
        {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": secret.outputs["arn"]}]}
    keycloak_files = provisioned.one("aws:secretsmanager/secretVersion:SecretVersion", "keycloak-secrets-version")
    assert key not in keycloak_files.inputs["secretString"]
    config = yaml.safe_load(user_data)
    closed = next(f for f in config["write_files"] if f["path"] == VM_TOKEN_CHECK_FILES.share_keys_path)
    assert (closed["content"], closed["permissions"]) == (SHARE_KEYS_CLOSED, "0600"), "no link works until they arrive"


def test_share_settings_reach_the_proxy(provisioned):
    conf = nginx_conf_of(unpacked_user_data(vm(provisioned, "proxy").inputs["userDataBase64"]))
    share = ShareSettings()
    assert f"include {VM_TOKEN_CHECK_FILES.share_keys_path};" in conf
    assert f'"~^shares:" "{share.sharer_role}";' in conf
    assert f"set $ohif_share_max_minutes {share.max_minutes};" in conf
    assert f"set $ohif_share_default_minutes {share.default_minutes};" in conf
    # A sharer's request is a POST, which the proxy's distribution must pass.
    cdn = provisioned.one("aws:cloudfront/distribution:Distribution", "proxy-cdn").inputs
    assert "POST" in cdn["defaultCacheBehavior"]["allowedMethods"]


def test_share_records_live_in_a_private_bucket_only_the_proxys_role_reaches(provisioned):
    """The store of links and revocations: private, encrypted, TLS only, expiring after the longest link; granted to
    the proxy's role alone, which reads and writes links' records and revocations and deletes nothing."""
    buckets = {b.name: b for b in provisioned.of_type("aws:s3/bucket:Bucket")}
    store = buckets["proxy-shares-bucket"]
    arn = store.outputs["arn"]
    access = provisioned.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "proxy-shares-public-access")
    assert access.inputs["bucket"] == store.outputs["id"]
    assert all(access.inputs[k] is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                                                  "restrictPublicBuckets"))
    [encryption] = [e for e in provisioned.of_type(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
        if e.inputs["bucket"] == store.outputs["id"]]
    assert encryption.inputs["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "AES256"
    [policy] = [json.loads(p.inputs["policy"]) for p in provisioned.of_type("aws:s3/bucketPolicy:BucketPolicy")
                if p.inputs["bucket"] == store.outputs["id"]]
    assert policy["Statement"] == [{
        "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": [arn, f"{arn}/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]
    [expiry] = provisioned.of_type("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
    assert expiry.inputs["bucket"] == store.outputs["id"] and expiry.inputs["rules"][0]["expiration"]["days"] == 31
    # Revocations are users' decisions: versioned, kept a week once overwritten, and not taken by `pulumi destroy`.
    assert store.protect and access.protect
    [versioning] = [v for v in provisioned.of_type("aws:s3/bucketVersioning:BucketVersioning")
                    if v.inputs["bucket"] == store.outputs["id"]]
    assert versioning.inputs["versioningConfiguration"]["status"] == "Enabled"
    assert expiry.inputs["rules"][0]["noncurrentVersionExpiration"]["noncurrentDays"] == 7
    # Every grant that names the bucket: the proxy role's, and nobody else's.
    grants = {p.inputs["role"]: json.loads(p.inputs["policy"])["Statement"]
              for p in provisioned.of_type("aws:iam/rolePolicy:RolePolicy") if arn in p.inputs["policy"]}
    assert grants == {provisioned.one("aws:iam/role:Role", "proxy-role").outputs["name"]: [
        {"Sid": "ListShares", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": arn},
        {"Sid": "ReadWriteShares", "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
         "Resource": [f"{arn}/shares/*", f"{arn}/revoked/*"]}]}
    # The viewer's distribution reads its own bucket alone.
    site_policies = [p.inputs["policy"] for p in provisioned.of_type("aws:s3/bucketPolicy:BucketPolicy")
                     if "cloudfront.amazonaws.com" in p.inputs["policy"]]
    assert site_policies and not [p for p in site_policies if arn in p]


def test_the_proxy_reaches_its_store_with_its_role_over_https(provisioned):
    user_data = unpacked_user_data(vm(provisioned, "proxy").inputs["userDataBase64"])
    conf, config = nginx_conf_of(user_data), yaml.safe_load(user_data)
    bucket = provisioned.one("aws:s3/bucket:Bucket", "proxy-shares-bucket").outputs["bucket"]
    assert f'map $host $ohif_share_store_host {{ default "{bucket}.s3.eu-west-1.amazonaws.com"; }}' in conf
    assert 'map $host $ohif_share_store_auth { default "sigv4"; }' in conf
    assert 'map $host $ohif_share_store_region { default "eu-west-1"; }' in conf
    assert f'map $host $ohif_share_store_metadata {{ default "{INSTANCE_METADATA_URL}"; }}' in conf
    assert f"js_fetch_trusted_certificate {SYSTEM_CA_FILE};" in conf
    modules = {f["path"]: f["content"] for f in config["write_files"] if f["path"].startswith(VM_NJS_DIR)}
    assert modules == {f"{VM_NJS_DIR}/{name}": text
                       for name, text in njs_modules(archive=False, share_store=True).items()}
    credential_dir = str(PurePosixPath(VM_SHARE_STORE_FILES.credentials_file).parent)
    assert ["install", "-d", "-o", "www-data", "-g", "www-data", "-m", "0700", credential_dir] in config["runcmd"]


def test_a_rotated_key_verifies_beside_the_new_one_which_signs():
    config = {**uac_config(), "ohif:share": json.dumps({"signing_keys": ["k1", "k2"]})}
    version = run_program(config).one("aws:secretsmanager/secretVersion:SecretVersion", "proxy-secrets-version")
    keys = json.loads(version.inputs["secretString"])[VM_TOKEN_CHECK_FILES.share_keys_path]
    assert keys == share_keys_conf({"k1": mock_key("proxy-share-key-k1"), "k2": mock_key("proxy-share-key-k2")},
                                   signing="k2")


def test_without_share_links_no_key_and_no_endpoint():
    config = {k: v for k, v in uac_config().items() if k != "ohif:share"}
    program = run_program(config)
    assert not program.of_type("random:index/randomBytes:RandomBytes")
    conf = nginx_conf_of(unpacked_user_data(vm(program, "proxy").inputs["userDataBase64"]))
    assert "/dicom-web/shares" not in conf and "share-keys" not in conf and "share_store" not in conf
    assert "proxy-shares-bucket" not in {b.name for b in program.of_type("aws:s3/bucket:Bucket")}
