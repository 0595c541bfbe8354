"""The DICOMweb proxy at scale on AWS, under Pulumi's mocks: an Auto Scaling group behind an internal Network Load
Balancer that checks each VM's health port, target tracking on CPU, rolling instance refresh, no public address; and
the one-VM stack, still the cheapest, unchanged."""

from __future__ import annotations

import base64
import json

import pytest
import yaml

from components.aws.origin_vm import unpacked_user_data
from components.render.cloud_init import NGINX_CONF_PATH, VM_HEALTH_PORT
from components.render.dicomweb_proxy.interface import HEALTH_PATH
from settings import read_stack_file
from tests.conftest import STACKS
from tests.pulumi_mocks import Program, run_program
from tests.recipes.test_aws_standalone import ORIGIN_SECRET

GROUP = "aws:autoscaling/group:Group"
TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"


@pytest.fixture(scope="module")
def scaled() -> Program:
    return run_program(read_stack_file(STACKS / "Pulumi.prod-ha.yaml"), stack="prod-ha")


def test_the_proxy_is_an_auto_scaling_group_between_the_stacks_counts(scaled):
    assert not scaled.of_type("aws:ec2/instance:Instance"), "no single proxy VM"
    group = scaled.one(GROUP, "proxy-group").inputs
    assert (group["minSize"], group["maxSize"]) == (2, 4)
    assert group["vpcZoneIdentifiers"] == ["network-private-id"], "the private subnet"
    template = scaled.one(TEMPLATE, "proxy-template")
    assert group["launchTemplate"] == {"id": template.outputs["id"], "version": "1"}
    assert group["targetGroupArns"] == [scaled.one("aws:lb/targetGroup:TargetGroup", "proxy-targets").outputs["arn"]]
    assert (group["healthCheckType"], group["healthCheckGracePeriod"]) == ("ELB", 600), "a failed check replaces it"
    policy = scaled.one("aws:autoscaling/policy:Policy", "proxy-cpu").inputs
    assert policy["autoscalingGroupName"] == scaled.one(GROUP).outputs["name"]
    assert policy["policyType"] == "TargetTrackingScaling"
    tracking = policy["targetTrackingConfiguration"]
    assert tracking["targetValue"] == 60
    assert tracking["predefinedMetricSpecification"]["predefinedMetricType"] == "ASGAverageCPUUtilization"


def test_a_new_template_rolls_out_without_an_outage(scaled):
    refresh = scaled.one(GROUP).inputs["instanceRefresh"]
    assert refresh["strategy"] == "Rolling"
    preferences = refresh["preferences"]
    assert (preferences["minHealthyPercentage"], preferences["maxHealthyPercentage"]) == (100, 200)


def test_the_balancer_checks_each_vms_health_port(scaled):
    targets = scaled.one("aws:lb/targetGroup:TargetGroup", "proxy-targets").inputs
    check = targets["healthCheck"]
    assert (check["protocol"], check["port"], check["path"], check["matcher"]) == \
        ("HTTP", str(VM_HEALTH_PORT), HEALTH_PATH, "200")
    balancer = scaled.one("aws:lb/loadBalancer:LoadBalancer", "proxy-lb")
    assert balancer.inputs["internal"] is True and balancer.inputs["loadBalancerType"] == "network"
    origin = scaled.one("aws:cloudfront/vpcOrigin:VpcOrigin", "proxy-origin").inputs
    assert origin["vpcOriginEndpointConfig"]["arn"] == balancer.outputs["arn"], "CloudFront reaches the balancer"
    groups = {g.name: g.inputs for g in scaled.of_type("aws:ec2/securityGroup:SecurityGroup")}
    assert [(r["fromPort"], r["securityGroups"]) for r in groups["proxy-sg"]["ingress"]] == \
        [(80, ["proxy-lb-sg-id"]), (VM_HEALTH_PORT, ["proxy-lb-sg-id"])], "the balancer alone reaches the VMs"
    assert [r["fromPort"] for r in groups["proxy-lb-sg"]["egress"]] == [80, VM_HEALTH_PORT]
    assert [r["prefixListIds"] for r in groups["proxy-lb-sg"]["ingress"]] == [["pl-3b927c52"]], "CloudFront only"


def test_each_vm_is_the_single_vms_hardened_self(scaled):
    template = scaled.one(TEMPLATE, "proxy-template").inputs
    assert template["metadataOptions"] == {"httpEndpoint": "enabled", "httpTokens": "required",
                                           "httpPutResponseHopLimit": 1}
    [volume] = template["blockDeviceMappings"]
    assert volume["ebs"]["encrypted"] == "true" and volume["ebs"]["volumeType"] == "gp3"
    assert "networkInterfaces" not in template, "no public address: the subnet's default, which has none"
    profile = scaled.one("aws:iam/instanceProfile:InstanceProfile")
    assert template["iamInstanceProfile"] == {"name": profile.outputs["name"]}
    cloud_init = unpacked_user_data(template["userData"])
    assert ORIGIN_SECRET not in cloud_init
    conf = next(f["content"] for f in yaml.safe_load(cloud_init)["write_files"] if f["path"] == NGINX_CONF_PATH)
    assert f"listen {VM_HEALTH_PORT};" in conf and f"location = {HEALTH_PATH}" in conf


def test_one_proxy_stays_one_vm_without_a_balancer():
    """The cheapest stack: one VM that CloudFront reaches directly, no balancer to pay for."""
    program = run_program(read_stack_file(STACKS / "Pulumi.prod.yaml"))
    assert [i.name for i in program.of_type("aws:ec2/instance:Instance")] == ["proxy-vm"]
    assert not program.of_type(GROUP) and not program.of_type("aws:lb/loadBalancer:LoadBalancer")


AZURE_HA = {"ohif:recipe": "standalone", "ohif:cloud": "azure", "ohif:highly_available": "true",
            "ohif:azure": json.dumps({"location": "westeurope"}),
            "ohif:access": json.dumps({"allowed_networks": ["203.0.113.0/24"]}),
            "ohif:archive": json.dumps({"upstream_url": "http://10.0.1.20:8042/dicom-web/",
                                        "scale": {"min_instances": 2, "max_instances": 4, "cpu_target_percent": 60}})}
VMSS = "azure-native:compute:VirtualMachineScaleSet"


@pytest.fixture(scope="module")
def azure_scaled() -> Program:
    return run_program(AZURE_HA, stack="azure-ha")


def test_azure_proxy_is_a_flexible_scale_set_with_autoscale(azure_scaled):
    assert not azure_scaled.of_type("azure-native:compute:VirtualMachine"), "no single proxy VM"
    vmss = azure_scaled.one(VMSS, "proxy-vmss").inputs
    assert (vmss["orchestrationMode"], vmss["sku"]["capacity"]) == ("Flexible", 2)
    autoscale = azure_scaled.one("azure-native:monitor:AutoscaleSetting", "proxy-autoscale").inputs
    assert autoscale["targetResourceUri"] == azure_scaled.one(VMSS).outputs["id"] and autoscale["enabled"] is True
    [profile] = autoscale["profiles"]
    assert profile["capacity"] == {"minimum": "2", "maximum": "4", "default": "2"}
    assert [(r["metricTrigger"]["metricName"], r["metricTrigger"]["operator"], r["metricTrigger"]["threshold"],
             r["scaleAction"]["direction"]) for r in profile["rules"]] == [
        ("Percentage CPU", "GreaterThan", 60, "Increase"), ("Percentage CPU", "LessThan", 30, "Decrease")]


def test_azure_scale_set_rolls_out_and_repairs_by_the_health_port(azure_scaled):
    vmss = azure_scaled.one(VMSS).inputs
    rolling = vmss["upgradePolicy"]
    assert rolling["mode"] == "Rolling" and rolling["rollingUpgradePolicy"]["maxSurge"] is True
    assert vmss["automaticRepairsPolicy"] == {"enabled": True, "gracePeriod": "PT10M"}
    [health] = vmss["virtualMachineProfile"]["extensionProfile"]["extensions"]
    assert (health["type"], health["settings"]) == (
        "ApplicationHealthLinux", {"protocol": "http", "port": VM_HEALTH_PORT, "requestPath": HEALTH_PATH})
    [probe] = azure_scaled.one("azure-native:network:LoadBalancer", "proxy-lb").inputs["probes"]
    assert (probe["protocol"], probe["port"], probe["requestPath"]) == ("Http", VM_HEALTH_PORT, HEALTH_PATH)
    rules = {r["name"]: r for r in azure_scaled.one("azure-native:network:NetworkSecurityGroup", "proxy-nsg")
             .inputs["securityRules"]}
    probe_rule = rules["LoadBalancerProbe"]
    assert (probe_rule["sourceAddressPrefix"], probe_rule["destinationPortRange"]) == \
        ("AzureLoadBalancer", str(VM_HEALTH_PORT))


def test_each_azure_vm_is_the_single_vms_hardened_self(azure_scaled):
    profile = azure_scaled.one(VMSS).inputs["virtualMachineProfile"]
    assert profile["securityProfile"] == {"securityType": "TrustedLaunch", "encryptionAtHost": True,
                                          "uefiSettings": {"secureBootEnabled": True, "vTpmEnabled": True}}
    assert profile["osProfile"]["linuxConfiguration"]["disablePasswordAuthentication"] is True
    [nic] = profile["networkProfile"]["networkInterfaceConfigurations"]
    [ip] = nic["ipConfigurations"]
    assert "publicIPAddressConfiguration" not in ip, "no public address"
    assert nic["networkSecurityGroup"] == {"id": "proxy-nsg-id"} and ip["subnet"] == {"id": "network-subnet-id"}
    assert ip["loadBalancerBackendAddressPools"][0]["id"].endswith("/backendAddressPools/vm")
    cloud_init = base64.b64decode(profile["osProfile"]["customData"]).decode()
    conf = next(f["content"] for f in yaml.safe_load(cloud_init)["write_files"] if f["path"] == NGINX_CONF_PATH)
    assert f"listen {VM_HEALTH_PORT};" in conf and 'if ($http_x_azure_fdid != "' in conf


def test_one_azure_proxy_stays_one_vm():
    program = run_program(read_stack_file(STACKS / "Pulumi.prod-azure.yaml"))
    assert [v.name for v in program.of_type("azure-native:compute:VirtualMachine")] == ["proxy-vm"]
    assert not program.of_type(VMSS) and not program.of_type("azure-native:monitor:AutoscaleSetting")
