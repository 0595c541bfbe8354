"""The offline program refuses what a provider would (program/provider_types.py): each deliberately wrong input names
its resource, its property and what is allowed; valid inputs, open enums, secrets and providers' JSON pass."""

from __future__ import annotations

import base64

import pulumi
import pulumi_aws as aws
import pulumi_azure_native.cdn as cdn
import pulumi_azure_native.network as network
import pulumi_azure_native.storage as storage
import pytest

from components.aws.origin_vm import unpacked_user_data
from program.offline import RecordingMocks
from program.provider_types import ProviderInputError, args_class, check
from settings import read_stack_file
from tests.conftest import STACKS
from tests.pulumi_mocks import run_program

TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"


def violations(build) -> list[str]:
    """What the offline program's mocks find in the resources `build` registers."""
    mocks = RecordingMocks([])
    pulumi.runtime.set_mocks(mocks, project="ohif", stack="prod", preview=False)

    @pulumi.runtime.test
    def run():
        pulumi.runtime.get_root_resource()._transformations = None  # a previous run's forks
        resources = build()
        return pulumi.Output.all(*[r.urn for r in resources])

    run()
    return mocks.violations


def target_group(**changes) -> aws.lb.TargetGroup:
    return aws.lb.TargetGroup("tg", **{"port": 80, "protocol": "TCP", "vpc_id": "vpc-0123", "target_type": "instance",
                                       "deregistration_delay": 30, **changes})


def origin_group(probe_protocol: str) -> cdn.AFDOriginGroup:
    return cdn.AFDOriginGroup("origins", profile_name="frontdoor", resource_group_name="ohif-prod",
                              health_probe_settings=cdn.HealthProbeParametersArgs(
                                  probe_protocol=probe_protocol, probe_path="/healthz", probe_interval_in_seconds=30))


def test_valid_inputs_pass():
    assert violations(lambda: [
        target_group(health_check=aws.lb.TargetGroupHealthCheckArgs(interval=15, path="/healthz")),
        aws.ec2.SecurityGroup("sg", description="HTTPS: Debian packages, container images (apt) #1", egress=[
            aws.ec2.SecurityGroupEgressArgs(protocol="tcp", from_port=443, to_port=443, cidr_blocks=["0.0.0.0/0"],
                                            description="the Keycloak VM [10.0.2.0/24] & {its} database!")]),
        origin_group("Https"),
        # An open enum (Union[str, SkuName]) takes any string; a secret is checked as its value.
        cdn.Profile("frontdoor", resource_group_name="ohif-prod", location="Global",
                    sku=cdn.SkuArgs(name="Some_Future_Sku"), origin_response_timeout_seconds=pulumi.Output.secret(60)),
        # A provider's SDK sends its non-string inputs as JSON text.
        aws.Provider("us-east-1", region="us-east-1", skip_credentials_validation=True, max_retries=3),
    ]) == []


def test_a_string_where_an_integer_belongs():
    assert violations(lambda: [target_group(deregistration_delay="30")]) == [
        "aws:lb/targetGroup:TargetGroup 'tg': deregistrationDelay = '30': expected an integer"]


def test_nested_input_types_are_checked():
    found = violations(lambda: [target_group(health_check={"interval": 10.5, "path": 404})])
    assert found == ["aws:lb/targetGroup:TargetGroup 'tg': healthCheck.interval = 10.5: expected an integer",
                     "aws:lb/targetGroup:TargetGroup 'tg': healthCheck.path = 404.0: expected a string"]


def test_an_unknown_property():
    found = violations(lambda: [target_group(health_check={"intervall": 10})])
    assert found == ["aws:lb/targetGroup:TargetGroup 'tg': healthCheck.intervall = 10.0: unknown property: "
                     "TargetGroupHealthCheckArgs has no such input (did you mean interval?)"]


def test_a_missing_required_input():
    found = violations(lambda: [aws.ec2.SecurityGroup("sg", description="web", ingress=[
        {"protocol": "tcp", "from_port": 443, "cidr_blocks": ["0.0.0.0/0"]}])])
    assert found == ["aws:ec2/securityGroup:SecurityGroup 'sg': ingress[0].toPort = (none): "
                     "missing: a required input of SecurityGroupIngressArgs"]


def test_a_closed_enum_takes_only_its_values():
    """ProbeProtocol stands alone in its type (no `Union[str, ...]`): Azure knows no other value."""
    assert violations(lambda: [origin_group("Tcp")]) == [
        "azure-native:cdn:AFDOriginGroup 'origins': healthProbeSettings.probeProtocol = 'Tcp': "
        "expected one of 'NotSet', 'Http', 'Https' (ProbeProtocol)"]


def test_a_discriminated_union_names_its_kinds():
    found = violations(lambda: [cdn.Rule(
        "rule", profile_name="frontdoor", resource_group_name="ohif-prod", rule_set_name="viewerRules", order=1,
        conditions=[{"name": "UrlPaths", "parameters": {}}],
        actions=[cdn.UrlRewriteActionArgs(name="UrlRewrite", parameters=cdn.UrlRewriteActionParametersArgs(
            type_name="DeliveryRuleUrlRewriteActionParameters", source_pattern="/", destination="/index.html"))])])
    assert len(found) == 1
    assert found[0].startswith("azure-native:cdn:Rule 'rule': conditions[0].name = 'UrlPaths': expected one of ")
    assert "'UrlPath'" in found[0]


def test_an_apostrophe_in_a_security_group_rule_description():
    found = violations(lambda: [
        aws.ec2.SecurityGroup("keycloak-sg", description="Keycloak VM", egress=[
            aws.ec2.SecurityGroupEgressArgs(protocol="tcp", from_port=5432, to_port=5432, cidr_blocks=["10.0.3.0/24"],
                                            description="Keycloak's database")]),
        aws.vpc.SecurityGroupIngressRule("db-from-keycloak", security_group_id="sg-0123", ip_protocol="tcp",
                                         from_port=5432, to_port=5432, referenced_security_group_id="sg-0456",
                                         description="the Keycloak VM's")])
    allowed = "a-z, A-Z, 0-9, spaces and ._-:/()#,@[]+=&;{}!$* (EC2 API: security group descriptions)"
    assert found == [
        f"aws:ec2/securityGroup:SecurityGroup 'keycloak-sg': egress[0].description = \"Keycloak's database\": "
        f"expected up to 255 characters of {allowed}",
        f"aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule 'db-from-keycloak': description = "
        f"\"the Keycloak VM's\": expected up to 255 characters of {allowed}"]


def test_a_security_group_description_of_256_characters():
    found = violations(lambda: [aws.ec2.SecurityGroup("sg", description="a" * 256)])
    assert [line.split(" = ")[0] for line in found] == ["aws:ec2/securityGroup:SecurityGroup 'sg': description"]


def test_user_data_over_16_kb_is_refused_and_every_aws_stack_packs_within_it():
    """EC2 refuses more than 16 KB of user data: a proxy's cloud-init with its modules is more, packed it is less."""
    found = violations(lambda: [aws.ec2.Instance("vm", instance_type="t3.small", ami="ami-0123",
                                                 user_data="x" * 16385)])
    assert [line.split(" = ")[0] for line in found] == ["aws:ec2/instance:Instance 'vm': userData"]
    for stack in ("prod-uac", "prod-healthimaging"):
        program = run_program(read_stack_file(STACKS / f"Pulumi.{stack}.yaml"), stack=stack)
        [template] = program.of_type("aws:ec2/launchTemplate:LaunchTemplate") or [None]
        packed = (template.inputs["userData"] if template else
                  program.one("aws:ec2/instance:Instance", "proxy-vm").inputs["userDataBase64"])
        assert len(unpacked_user_data(packed)) > 16384 >= len(base64.b64decode(packed)), stack


def test_names_we_write_by_hand_follow_the_clouds_rules():
    """A WAF rule's name with a space, its metric named as a reserved one, an NSG rule's name ending in a period and
    its description over 140 characters, a blob container's name in capitals."""
    def acl():
        visibility = aws.wafv2.WebAclRuleVisibilityConfigArgs(cloudwatch_metrics_enabled=True, metric_name="All",
                                                              sampled_requests_enabled=True)
        return aws.wafv2.WebAcl("acl", scope="CLOUDFRONT", default_action={"allow": {}},
                                visibility_config={"cloudwatch_metrics_enabled": True, "metric_name": "edge-acl",
                                                   "sampled_requests_enabled": True},
                                rules=[aws.wafv2.WebAclRuleArgs(name="realm keys", priority=1, action={"allow": {}},
                                                                statement={"ip_set_reference_statement": {
                                                                    "arn": "arn:aws:wafv2:ipset"}},
                                                                visibility_config=visibility)])

    def nsg():
        return network.NetworkSecurityGroup("nsg", resource_group_name="ohif-prod", security_rules=[
            network.SecurityRuleArgs(name="Archive.", priority=100, direction="Outbound", access="Allow",
                                     protocol="Tcp", description="x" * 141)])

    def container():
        return storage.BlobContainer("site", account_name="viewerstore", resource_group_name="ohif-prod",
                                     container_name="Site")

    found = violations(lambda: [acl(), nsg(), container()])
    assert sorted(line.split(" = ")[0] for line in found) == [
        "aws:wafv2/webAcl:WebAcl 'acl': rules[0].name",
        "aws:wafv2/webAcl:WebAcl 'acl': rules[0].visibilityConfig.metricName",
        "azure-native:network:NetworkSecurityGroup 'nsg': securityRules[0].description",
        "azure-native:network:NetworkSecurityGroup 'nsg': securityRules[0].name",
        "azure-native:storage:BlobContainer 'site': containerName"]


def test_what_no_pinned_sdk_describes_is_not_checked():
    assert args_class("ohif:aws:OriginVm") is None
    assert args_class("pulumi-python:dynamic:Resource") is None
    assert check("pulumi:pulumi:Stack", "ohif-prod", {"anything": 1}) == []


def test_a_run_raises_every_violation_at_once():
    """Through the program itself: a fork of prod-ha (the stack with a load balancer) that sets the target group's
    delay as a string and adds an input the SDK does not have. Both are reported, after the run."""
    def fork(args: pulumi.ResourceTransformationArgs):
        if args.type_ == TARGET_GROUP:
            return pulumi.ResourceTransformationResult(
                {**args.props, "deregistration_delay": "30", "draining": True}, args.opts)
        return None

    with pytest.raises(ProviderInputError) as raised:
        run_program(read_stack_file(STACKS / "Pulumi.prod-ha.yaml"), stack="prod-ha", transformations=[fork])
    lines = raised.value.violations
    assert sorted(line.split(" = ")[0] for line in lines) == [
        f"{TARGET_GROUP} 'proxy-targets': deregistrationDelay", f"{TARGET_GROUP} 'proxy-targets': draining"]
    assert all(line in str(raised.value) for line in lines)
