"""Keycloak's accounts outlive its VM, on both clouds, under Pulumi's mocks: the managed PostgreSQL and its
properties, `protect`, who may reach it, an existing database instead, no secret in any VM's user or custom data,
and a fork that changes the Keycloak VM's image changes the VM and nothing of the database."""

from __future__ import annotations

import base64
import json

import pulumi
import pulumi_azure_native.compute as compute
import pytest
import yaml

from components.aws.origin_vm import unpacked_user_data
from components.render.keycloak_host_init import CONTAINER_DATABASE_CA, ENV_PATH, RDS_CA_BUNDLE_URL
from settings import read_stack_file
from tests.conftest import STACKS
from tests.pulumi_mocks import Program, run_program
from tests.recipes.test_aws_standalone import ORIGIN_SECRET

RDS = "aws:rds/instance:Instance"
SERVER = "azure-native:dbforpostgresql:Server"
INSTANCE = "aws:ec2/instance:Instance"
VM = "azure-native:compute:VirtualMachine"
EXISTING_DB = "postgresql://keycloak@10.0.3.15:5433/kc"
EXISTING_PASSWORD = "Existing-Db-Pass-4b1d"


def config(stack: str, **sections) -> dict[str, str]:
    raw = read_stack_file(STACKS / f"Pulumi.{stack}.yaml")
    for key, changes in sections.items():
        raw[f"ohif:{key}"] = json.dumps({**json.loads(raw.get(f"ohif:{key}", "{}")), **changes})
    return raw


@pytest.fixture(scope="module")
def aws() -> Program:
    return run_program(config("prod-uac"))


@pytest.fixture(scope="module")
def azure() -> Program:
    return run_program(config("prod-azure-uac"))


def test_rds_is_encrypted_private_backed_up_tls_only_and_protected(aws):
    db = aws.one(RDS)
    i = db.inputs
    assert (i["engine"], i["engineVersion"], i["instanceClass"]) == ("postgres", "16", "db.t4g.micro")
    assert i["storageEncrypted"] is True and i["publiclyAccessible"] is False
    assert i["backupRetentionPeriod"] == 7 and i["deletionProtection"] is True
    assert i["skipFinalSnapshot"] is False and i["finalSnapshotIdentifier"] == "prod-keycloak-db-final"
    assert i["multiAz"] is False
    assert "password" in db.secret_inputs, "the generated password stays a Pulumi secret"
    assert db.protect, "pulumi destroy must not delete users' accounts"
    parameters = aws.one("aws:rds/parameterGroup:ParameterGroup")
    assert i["parameterGroupName"] == parameters.outputs["name"]
    assert [(x["name"], x["value"]) for x in parameters.inputs["parameters"]] == [("rds.force_ssl", "1")]
    # Two subnets of the recipe's network, in two zones, no route out.
    subnets = aws.one("aws:rds/subnetGroup:SubnetGroup").inputs["subnetIds"]
    assert subnets == ["network-database-0-id", "network-database-1-id"]
    zones = {aws.one("aws:ec2/subnet:Subnet", f"network-database-{n}").inputs["availabilityZone"] for n in (0, 1)}
    assert zones == {"eu-west-1a", "eu-west-1b"}
    assert not [a for a in aws.of_type("aws:ec2/routeTableAssociation:RouteTableAssociation")
                if a.inputs["subnetId"] in subnets]


def test_only_the_keycloak_vm_reaches_the_rds_instance(aws):
    group = aws.one("aws:ec2/securityGroup:SecurityGroup", "keycloak-db-sg")
    assert aws.one(RDS).inputs["vpcSecurityGroupIds"] == [group.outputs["id"]]
    assert "ingress" not in group.inputs and "egress" not in group.inputs, "no inline rules: one rule, below"
    rules = aws.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert [(r.inputs["securityGroupId"], r.inputs["referencedSecurityGroupId"], r.inputs["fromPort"],
             r.inputs["toPort"]) for r in rules] == [("keycloak-db-sg-id", "keycloak-sg-id", 5432, 5432)]


@pytest.mark.parametrize("settings,expected", [
    ({"multi_az": True, "backup_retention_days": 14, "instance_class": "db.m6g.large"}, (True, 14, "db.m6g.large"))])
def test_rds_settings_come_from_the_stack(settings, expected):
    i = run_program(config("prod-uac", aws={"keycloak_database": settings})).one(RDS).inputs
    assert (i["multiAz"], i["backupRetentionPeriod"], i["instanceClass"]) == expected


def test_flexible_server_is_private_backed_up_tls_only_locked_and_protected(azure):
    server = azure.one(SERVER)
    i = server.inputs
    assert (i["version"], i["sku"], i["createMode"]) == ("16", {"name": "Standard_B1ms", "tier": "Burstable"},
                                                          "Create")
    assert i["backup"] == {"backupRetentionDays": 7, "geoRedundantBackup": "Disabled"}
    assert i["highAvailability"]["mode"] == "Disabled"
    zone = azure.one("azure-native:privatedns:PrivateZone")
    assert i["network"] == {"delegatedSubnetResourceId": "network-database-id",
                            "privateDnsZoneArmResourceId": zone.outputs["id"], "publicNetworkAccess": "Disabled"}
    assert zone.inputs["privateZoneName"].endswith(".private.postgres.database.azure.com")
    link = azure.one("azure-native:privatedns:VirtualNetworkLink").inputs
    assert link["virtualNetwork"] == {"id": "network-vnet-id"} and link["registrationEnabled"] is False
    assert "administratorLoginPassword" in server.secret_inputs
    assert server.protect
    tls = azure.one("azure-native:dbforpostgresql:Configuration").inputs
    assert (tls["serverName"], tls["configurationName"], tls["value"]) == \
        (server.outputs["name"], "require_secure_transport", "on")
    lock = azure.one("azure-native:authorization:ManagementLockByScope", "keycloak-db-lock").inputs
    assert (lock["scope"], lock["level"]) == (server.outputs["id"], "CanNotDelete")
    subnet = azure.one("azure-native:network:Subnet", "network-database").inputs
    assert subnet["delegations"] == [{"name": "postgres", "serviceName": "Microsoft.DBforPostgreSQL/flexibleServers"}]
    assert subnet["addressPrefix"] == "10.250.1.0/28"


def test_flexible_server_settings_come_from_the_stack():
    program = run_program(config("prod-azure-uac", azure={"keycloak_database": {
        "sku": "Standard_D2ds_v5", "multi_az": True, "geo_redundant_backup": True, "backup_retention_days": 35}}))
    i = program.one(SERVER).inputs
    assert i["sku"] == {"name": "Standard_D2ds_v5", "tier": "GeneralPurpose"}
    assert i["highAvailability"]["mode"] == "ZoneRedundant"
    assert i["backup"] == {"backupRetentionDays": 35, "geoRedundantBackup": "Enabled"}


def _cloud_inits(program: Program) -> dict[str, str]:
    inits = {r.name: unpacked_user_data(r.inputs["userDataBase64"]) for r in program.of_type(INSTANCE)}
    inits.update({r.name: base64.b64decode(r.inputs["osProfile"]["customData"]).decode() for r in program.of_type(VM)})
    return inits


@pytest.mark.parametrize("program", ["aws", "azure"])
def test_no_password_or_origin_secret_in_any_user_or_custom_data(program, request):
    inits = _cloud_inits(request.getfixturevalue(program))
    assert len(inits) == 2, inits.keys()
    for name, cloud_init in inits.items():
        # Every generated password and origin secret is this value under the mocks.
        assert ORIGIN_SECRET not in cloud_init, name
        assert ENV_PATH not in [f["path"] for f in yaml.safe_load(cloud_init)["write_files"]], name


def test_each_aws_role_reads_its_own_secret_only(aws):
    secrets = {s.name.removesuffix("-secrets"): s.outputs["arn"]
               for s in aws.of_type("aws:secretsmanager/secret:Secret")}
    assert sorted(secrets) == ["keycloak", "proxy"]
    for vm_name, arn in secrets.items():
        role = aws.one("aws:iam/role:Role", f"{vm_name}-role")
        [policy] = [p for p in aws.of_type("aws:iam/rolePolicy:RolePolicy") if p.inputs["role"] == role.outputs["id"]]
        assert json.loads(policy.inputs["policy"])["Statement"] == [
            {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": arn}]
        profile = aws.one("aws:iam/instanceProfile:InstanceProfile", f"{vm_name}-profile")
        assert aws.one(INSTANCE, f"{vm_name}-vm").inputs["iamInstanceProfile"] == profile.outputs["name"]
    # Keycloak's secret: its passwords (the database's among them) and its origin check.
    version = aws.one("aws:secretsmanager/secretVersion:SecretVersion", "keycloak-secrets-version")
    files = json.loads(version.inputs["secretString"])
    assert f"KC_DB_PASSWORD={ORIGIN_SECRET}" in files[ENV_PATH] and "secretString" in version.secret_inputs


@pytest.mark.parametrize("cloud", ["aws", "azure"])
def test_an_existing_database_replaces_the_managed_one(cloud):
    stack, section = ("prod-uac", INSTANCE) if cloud == "aws" else ("prod-azure-uac", VM)
    raw = config(stack, auth={"keycloak_database_url": EXISTING_DB})
    raw["ohif:keycloak_database_password"] = EXISTING_PASSWORD
    program = run_program(raw, secret_keys=["ohif:keycloak_database_password"])
    assert not program.of_type(RDS) and not program.of_type(SERVER)
    cloud_init = _cloud_inits(program)["keycloak-vm"]
    assert EXISTING_PASSWORD not in cloud_init
    unit = next(f["content"] for f in yaml.safe_load(cloud_init)["write_files"]
                if f["path"] == "/etc/systemd/system/keycloak.service")
    assert (f"--db-url=jdbc:postgresql://10.0.3.15:5433/kc?sslmode=verify-full&sslrootcert={CONTAINER_DATABASE_CA} "
            "--db-username=keycloak") in unit
    if cloud == "aws":
        egress = program.one("aws:ec2/securityGroup:SecurityGroup", "keycloak-sg").inputs["egress"][-1]
        assert (egress["fromPort"], egress["cidrBlocks"]) == (5433, ["10.0.3.15/32"])
        version = program.one("aws:secretsmanager/secretVersion:SecretVersion", "keycloak-secrets-version")
        assert f"KC_DB_PASSWORD={EXISTING_PASSWORD}" in json.loads(version.inputs["secretString"])[ENV_PATH]
        assert RDS_CA_BUNDLE_URL in cloud_init, "an RDS instance of the stack's own is trusted too"
    else:
        rule = next(r for r in program.one("azure-native:network:NetworkSecurityGroup", "keycloak-nsg")
                    .inputs["securityRules"] if r["name"] == "Database")
        assert (rule["destinationAddressPrefix"], rule["destinationPortRange"]) == ("10.0.3.15/32", "5433")
        script = base64.b64decode(program.one("azure-native:compute:VirtualMachineExtension", "keycloak-start")
                                  .inputs["protectedSettings"]["script"]).decode()
        document = json.loads(base64.b64decode(script.split("echo ", 1)[1].split(" ", 1)[0]))
        assert f"KC_DB_PASSWORD={EXISTING_PASSWORD}" in document[ENV_PATH]


def _new_image(token: str, change):
    def transformation(args: pulumi.ResourceTransformationArgs):
        if args.type_ == token and args.name == "keycloak-vm":
            change(args.props)
            return pulumi.ResourceTransformationResult(args.props, args.opts)
        return None
    return transformation


def _debian_13_azure(props):
    pulumi.set(props["storage_profile"], "image_reference", compute.ImageReferenceArgs(
        publisher="Debian", offer="debian-13", sku="13-gen2", version="latest"))


@pytest.mark.parametrize("stack,vm_token,database,change", [
    ("prod-uac", INSTANCE, RDS, lambda props: props.__setitem__("ami", "ami-0debian13")),
    ("prod-azure-uac", VM, SERVER, _debian_13_azure),
], ids=["aws", "azure"])
def test_a_new_keycloak_image_replaces_the_vm_but_not_the_database(stack, vm_token, database, change):
    """A fork that moves Keycloak's VM to another image: the VM's image changes (a replacement on both clouds), while
    the database's inputs stay exactly as they were, it depends on nothing of the VM, and it is protected."""
    before = run_program(config(stack))
    after = run_program(config(stack), transformations=[_new_image(vm_token, change)])
    assert before.one(vm_token, "keycloak-vm").inputs != after.one(vm_token, "keycloak-vm").inputs
    db_before, db_after = before.one(database), after.one(database)
    assert db_before.inputs == db_after.inputs
    assert db_after.protect and db_after.depends_on in ([], ["keycloak-db-dns-link"])
    vm = after.one(vm_token, "keycloak-vm").outputs
    assert not [v for v in (vm["id"], vm.get("arn"), vm.get("name")) if v and v in json.dumps(db_after.inputs)]
