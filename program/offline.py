"""The Pulumi program run offline: no CLI, no cloud, no credentials. Every resource echoes its inputs, and what a
cloud would compute (ARNs, host names, generated names and passwords) gets a fixed placeholder, so a run is
repeatable. The tests run the recipes this way, and `python3 -m program render` writes what a stack would deploy."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi

from program.provider_types import ProviderInputError, check

SECRET_SIG = "4dabf18193072939515e22adb298388d"  # how Pulumi marks a secret value on the wire
SYNCED = "pulumi-python:dynamic:Resource"  # a dynamic resource, such as a synced file set (components/sync)


@dataclass
class Resource:
    type: str
    name: str
    inputs: dict[str, Any]
    """Plain values, secrets unwrapped."""
    secret_inputs: set[str]
    """Top-level input names whose value is, or holds, a secret."""
    outputs: dict[str, Any] = field(default_factory=dict)
    """The state the mock cloud returned (inputs, computed values and `id`), plain."""
    additional_secret_outputs: list[str] = field(default_factory=list)
    """The resource option, in the engine's (camelCase) names."""
    provider: str = ""
    """The explicit provider's reference (`<urn>::<id>`), or "" for the default provider."""
    protect: bool = False
    """The resource option: `pulumi destroy` refuses to delete it."""
    depends_on: list[str] = field(default_factory=list)
    """The resource option's explicit dependencies, by name."""
    wire_inputs: dict[str, Any] = field(default_factory=dict)
    """The inputs as the engine got them, secrets still marked (SECRET_SIG)."""


def _unwrap(value: Any) -> tuple[Any, bool]:
    """The plain value, and whether a secret was found anywhere inside it."""
    if isinstance(value, dict):
        if SECRET_SIG in value:
            return _unwrap(value["value"])[0], True
        pairs = {k: _unwrap(v) for k, v in value.items()}
        return {k: v for k, (v, _) in pairs.items()}, any(s for _, s in pairs.values())
    if isinstance(value, list):
        pairs = [_unwrap(v) for v in value]
        return [v for v, _ in pairs], any(s for _, s in pairs)
    return value, False


class RecordingMocks(pulumi.runtime.Mocks):
    """Echoes inputs and fills in the outputs the cloud would compute, keyed by type token."""

    def __init__(self, resources: list[Resource]) -> None:
        self.resources = resources
        self.secret_outputs: dict[tuple[str, str], list[str]] = {}
        self.protected: set[tuple[str, str]] = set()
        self.depends_on: dict[tuple[str, str], list[str]] = {}
        self.violations: list[str] = []
        """What a provider would refuse (program/provider_types.py): the mocks accept anything."""

    def record_options(self, args: pulumi.ResourceTransformationArgs) -> None:
        names = args.opts.additional_secret_outputs or []
        self.secret_outputs[(args.type_, args.name)] = [re.sub(r"_([a-z])", lambda m: m[1].upper(), n) for n in names]
        if args.opts.protect:
            self.protected.add((args.type_, args.name))
        depends = args.opts.depends_on or []
        self.depends_on[(args.type_, args.name)] = [getattr(r, "pulumi_resource_name", "") for r in
                                                    (depends if isinstance(depends, list) else [depends])]

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        self.violations.extend(check(args.typ, args.name, args.inputs))
        unwrapped = {k: _unwrap(v) for k, v in args.inputs.items()}
        resource = Resource(args.typ, args.name, {k: v for k, (v, _) in unwrapped.items()},
                            {k for k, (_, secret) in unwrapped.items() if secret},
                            additional_secret_outputs=self.secret_outputs.get((args.typ, args.name), []),
                            provider=args.provider or "", protect=(args.typ, args.name) in self.protected,
                            depends_on=self.depends_on.get((args.typ, args.name), []), wire_inputs=dict(args.inputs))
        self.resources.append(resource)
        state = dict(args.inputs)
        computed = {
            "aws:s3/bucket:Bucket": {"bucket": f"{args.name}-a1b2c3", "arn": f"arn:aws:s3:::{args.name}-a1b2c3",
                                     "bucketRegionalDomainName": f"{args.name}-a1b2c3.s3.eu-west-1.amazonaws.com",
                                     "region": "eu-west-1"},
            "aws:cloudfront/distribution:Distribution": {
                "domainName": f"{args.name}.cloudfront.net",
                "arn": f"arn:aws:cloudfront::123456789012:distribution/{args.name.upper()}"},
            "aws:cloudfront/function:Function": {"arn": f"arn:aws:cloudfront::123456789012:function/{args.name}"},
            "aws:ec2/eip:Eip": {"publicDns": f"ec2-203-0-113-10-{args.name}.eu-west-1.compute.amazonaws.com",
                                "allocationId": f"eipalloc-{args.name}"},
            # An instance in a private subnet: an ARN and a private DNS name, no public address.
            "aws:ec2/instance:Instance": {
                "arn": f"arn:aws:ec2:eu-west-1:123456789012:instance/i-{args.name}",
                "privateDns": f"ip-10-0-2-{10 + len(args.name)}.eu-west-1.compute.internal"},
            "aws:cloudfront/vpcOrigin:VpcOrigin": {"arn": f"arn:aws:cloudfront::123456789012:vpcorigin/{args.name}"},
            "aws:lb/loadBalancer:LoadBalancer": {
                "arn": f"arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/net/{args.name}/0123abcd",
                "dnsName": f"internal-{args.name}-0123abcd.elb.eu-west-1.amazonaws.com"},
            "aws:wafv2/ipSet:IpSet": {"arn": f"arn:aws:wafv2:us-east-1:123456789012:global/ipset/{args.name}/0123"},
            "aws:wafv2/webAcl:WebAcl": {"arn": f"arn:aws:wafv2:us-east-1:123456789012:global/webacl/{args.name}/0123"},
            "aws:lb/targetGroup:TargetGroup": {
                "arn": f"arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/{args.name}/0123abcd"},
            "aws:secretsmanager/secret:Secret": {
                "arn": f"arn:aws:secretsmanager:eu-west-1:123456789012:secret:{args.name}-AbCdEf"},
            "aws:iam/role:Role": {"arn": f"arn:aws:iam::123456789012:role/{args.name}", "name": f"{args.name}-0123"},
            "aws:iam/instanceProfile:InstanceProfile": {"name": f"{args.name}-0123"},
            "aws:ec2/launchTemplate:LaunchTemplate": {"latestVersion": 1},
            "aws:autoscaling/group:Group": {"name": f"{args.name}-0123"},
            "aws:rds/parameterGroup:ParameterGroup": {"name": f"{args.name}-0123"},
            "aws:rds/subnetGroup:SubnetGroup": {"name": f"{args.name}-0123"},
            "azure-native:dbforpostgresql:Server": {
                "name": f"{args.name}1a2b3c4d",
                "fullyQualifiedDomainName": f"{args.name}1a2b3c4d.postgres.database.azure.com"},
            "azure-native:privatedns:PrivateZone": {"name": args.inputs.get("privateZoneName")},
            "aws:rds/instance:Instance": {"address": f"{args.name}.c0ffee.eu-west-1.rds.amazonaws.com",
                                          "arn": f"arn:aws:rds:eu-west-1:123456789012:db:{args.name}"},
            "random:index/randomPassword:RandomPassword": {"result": "s3cr3tOriginVerifyValue0123456789abcdef"},
            # 32 bytes as RandomBytes gives them: base64, a different value per resource.
            "random:index/randomBytes:RandomBytes": {
                "base64": base64.b64encode(hashlib.sha256(args.name.encode()).digest()).decode()},
            "azure-native:keyvault:Vault": {
                "name": f"{args.name}1a2b3c4d",
                "properties": {**args.inputs.get("properties", {}),
                               "vaultUri": f"https://{args.name}1a2b3c4d.vault.azure.net/"}},
            "azure-native:keyvault:Secret": {"name": args.inputs.get("secretName")},
            # Azure: `name` is an output of every azure-native resource (autonamed as the logical name plus 8 hex).
            "azure-native:resources:ResourceGroup": {
                "name": args.inputs.get("resourceGroupName", f"{args.name}1a2b3c4d")},
            "azure-native:cdn:Profile": {
                "name": f"{args.name}1a2b3c4d", "frontDoorId": "00000000-0000-4000-8000-00000000fd01",
                "identity": {"type": "SystemAssigned", "principalId": "00000000-0000-4000-8000-0000000000a1",
                             "tenantId": "00000000-0000-4000-8000-0000000000f0"}},
            "azure-native:cdn:AFDEndpoint": {"name": f"{args.name}1a2b3c4d",
                                             "hostName": f"{args.name}-abc123.z01.azurefd.net"},
            "azure-native:cdn:AFDOriginGroup": {"name": f"{args.name}1a2b3c4d"},
            "azure-native:cdn:AFDCustomDomain": {
                "name": f"{args.name}1a2b3c4d",
                "validationProperties": {"validationToken": "mock-validation-token", "expirationDate": "2027-01-01"}},
            "azure-native:cdn:RuleSet": {"name": args.inputs.get("ruleSetName", f"{args.name}1a2b3c4d")},
            "azure-native:storage:StorageAccount": {
                "name": f"{args.name}1a2b3c4d",
                "primaryEndpoints": {"blob": f"https://{args.name}1a2b3c4d.blob.core.windows.net/"}},
            "azure-native:storage:BlobContainer": {"name": args.inputs.get("containerName", f"{args.name}1a2b3c4d")},
            "azure-native:network:VirtualNetwork": {"name": f"{args.name}1a2b3c4d"},
            "azure-native:network:PublicIPAddress": {"ipAddress": f"203.0.113.{10 + len(args.name)}"},
            # Private addresses Azure allocates: the load balancer's frontend and the Private Link service's NAT.
            "azure-native:network:LoadBalancer": {"frontendIPConfigurations": [
                {**f, "privateIPAddress": f"10.250.0.{10 + len(args.name)}"}
                for f in args.inputs.get("frontendIPConfigurations", [])]},
            "azure-native:network:PrivateLinkService": {"ipConfigurations": [
                {**c, "privateIPAddress": f"10.250.0.{100 + len(args.name)}"}
                for c in args.inputs.get("ipConfigurations", [])]},
            # Azure answers a list of user-assigned identities with a map of them.
            "azure-native:resources:AzureCliScript": {"identity": {
                "type": "UserAssigned", "userAssignedIdentities": {
                    i: {"principalId": "00000000-0000-4000-8000-0000000000d1"}
                    for i in (args.inputs.get("identity") or {}).get("userAssignedIdentities", [])}}},
            "azure-native:managedidentity:UserAssignedIdentity": {
                "name": f"{args.name}1a2b3c4d", "principalId": "00000000-0000-4000-8000-0000000000d1",
                "clientId": "00000000-0000-4000-8000-0000000000d2"},
            # A system-assigned identity, where one was asked for, gets its principal.
            "azure-native:compute:VirtualMachine": {"name": f"{args.name}1a2b3c4d", **_system_identity(args.inputs)},
            "azure-native:compute:VirtualMachineScaleSet": {"name": f"{args.name}1a2b3c4d",
                                                           **_system_identity(args.inputs)},
            "azure-native:healthcareapis:Workspace": {"name": args.inputs.get("workspaceName")},
            "azure-native:healthcareapis:DicomService": {
                "name": args.inputs.get("dicomServiceName"),
                "serviceUrl": "https://{}-{}.dicom.azurehealthcareapis.com".format(
                    args.inputs.get("workspaceName"), args.inputs.get("dicomServiceName"))},
            "azure-native:network:PrivateEndpoint": {"name": f"{args.name}1a2b3c4d"},
            "tls:index/privateKey:PrivateKey": {"publicKeyOpenssh": "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABmock"},
        }.get(args.typ, {})
        state.update(computed)
        # As in AWS, a bucket's id is its name.
        resource_id = computed.get("bucket", f"{args.name}-id")
        resource.outputs = {**resource.inputs, **computed, "id": resource_id}
        return resource_id, state

    def call(self, args: pulumi.runtime.MockCallArgs):
        return {
            "aws:ec2/getVpc:getVpc": {"id": args.args.get("id", "vpc-0123"), "cidrBlock": "10.0.0.0/16"},
            "aws:index/getAvailabilityZones:getAvailabilityZones": {
                "names": ["eu-west-1a", "eu-west-1b", "eu-west-1c"], "zoneIds": ["euw1-az1", "euw1-az2", "euw1-az3"]},
            "aws:ec2/getManagedPrefixList:getManagedPrefixList": {"id": "pl-3b927c52"},
            "aws:ec2/getAmi:getAmi": {"id": "ami-0debian12"},
            "aws:index/getCallerIdentity:getCallerIdentity": {
                "accountId": "123456789012", "arn": "arn:aws:iam::123456789012:user/deployer", "userId": "AIDEXAMPLE"},
            "azure-native:authorization:getClientConfig": {
                "clientId": "00000000-0000-4000-8000-0000000000c1", "objectId": "00000000-0000-4000-8000-0000000000b1",
                "subscriptionId": "00000000-0000-4000-8000-0000000000e1",
                "tenantId": "00000000-0000-4000-8000-0000000000f0"},
        }.get(args.token, {})


def _system_identity(inputs: dict) -> dict:
    identity = inputs.get("identity")
    if not identity:
        return {}
    return {"identity": {**identity, "principalId": "00000000-0000-4000-8000-0000000000c9",
                         "tenantId": "00000000-0000-4000-8000-0000000000f0"}}


@dataclass
class Program:
    resources: list[Resource] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    secret_outputs: set[str] = field(default_factory=set)

    def of_type(self, token: str) -> list[Resource]:
        return [r for r in self.resources if r.type == token]

    def one(self, token: str, name: str | None = None) -> Resource:
        found = [r for r in self.of_type(token) if name is None or r.name == name]
        assert len(found) == 1, f"expected one {token} {name or ''}, found {[r.name for r in found]}"
        return found[0]


def run_program(config: dict[str, str], stack: str = "prod", program: Program | None = None,
                transformations: Sequence[Callable] = (), secret_keys: Sequence[str] = ()) -> Program:
    """Run `__main__.py`'s logic for `config`; what it registered, and its resolved outputs.

    Pass `program` to keep what was registered when the run raises. `transformations` change
    resources as they are registered (how the policy tests fork a recipe).
    """
    program = program or Program()
    mocks = RecordingMocks(program.resources)
    pulumi.runtime.set_mocks(mocks, project="ohif", stack=stack, preview=False)
    pulumi.runtime.set_all_config(config, list(secret_keys))
    import program as pulumi_program
    import settings

    @pulumi.runtime.test
    def run():
        # The root stack outlives set_mocks, and with it the last run's transformations: start clean.
        pulumi.runtime.get_root_resource()._transformations = None
        for transformation in transformations:
            pulumi.runtime.register_stack_transformation(transformation)
        # Last, so it sees the options as the forks left them; mocks are not handed resource options.
        pulumi.runtime.register_stack_transformation(mocks.record_options)
        outputs = pulumi_program.run(settings.from_pulumi())
        names = list(outputs)

        def record(resolved):
            values, secret_flags = resolved
            program.outputs.update(zip(names, values, strict=True))
            program.secret_outputs.update(n for n, secret in zip(names, secret_flags, strict=True) if secret)

        # is_secret() is an awaitable, which Output.all accepts as an input.
        return pulumi.Output.all(pulumi.Output.all(*outputs.values()),
                                 pulumi.Output.all(*[o.is_secret() for o in outputs.values()])).apply(record)

    run()
    if mocks.violations:  # all of them at once, after the run, so that one fix does not reveal the next
        raise ProviderInputError(mocks.violations)
    return program
