"""DatastoreAccess: what lets the DICOMweb proxy read one AWS HealthImaging datastore, and nothing else.

    proxy VM --instance role, SigV4--> interface VPC endpoint (dicom-medical-imaging) --> the datastore

- The proxy's instance role gets the DICOMweb read actions on that datastore's ARN alone (the Service Authorization
  Reference's list for AWS HealthImaging). STOW-RS is never granted: settings refuse it for HealthImaging, since
  SigV4 signs an upload's hash, which a streaming proxy cannot know.
- An interface VPC endpoint for the DICOMweb API (`com.amazonaws.<region>.dicom-medical-imaging`, private DNS on),
  so the datastore's host name resolves inside the VPC and images never leave AWS's network (HealthImaging developer
  guide, "vpc-interface-endpoints": every HealthImaging action can be called through it). Its security group admits
  HTTPS from the proxy's group alone.

The datastore itself is the user's: pulumi-aws has no HealthImaging resource, and one datastore holds many studies
imported once, for years; the recipe reads it and leaves it be.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from settings.services import ArchiveService

# The DICOMweb reads (QIDO-RS searches, WADO-RS retrieves) a viewer makes; no write, no import, no delete.
READ_ACTIONS = [f"medical-imaging:{action}" for action in (
    "SearchDICOMStudies", "SearchDICOMSeries", "SearchDICOMInstances", "GetDICOMSeriesMetadata", "GetDICOMInstance",
    "GetDICOMInstanceMetadata", "GetDICOMInstanceFrames", "GetDICOMBulkdata")]
ENDPOINT_SERVICE = "com.amazonaws.{region}.dicom-medical-imaging"


def datastore_arn(region: str, account: str, datastore_id: str) -> str:
    return f"arn:aws:medical-imaging:{region}:{account}:datastore/{datastore_id}"


def read_policy(arn: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "ReadOneDatastore", "Effect": "Allow", "Action": READ_ACTIONS, "Resource": arn}]})


@dataclass
class DatastoreAccessArgs:
    service: ArchiveService
    """The datastore (kind healthimaging)."""
    role_name: pulumi.Input[str]
    """The proxy's instance role."""
    vpc_id: pulumi.Input[str]
    subnet_id: pulumi.Input[str]
    """The proxy's subnet, where the endpoint's interface goes."""
    proxy_security_group_id: pulumi.Input[str]
    """The proxy's security group, the only one the endpoint admits."""


class DatastoreAccess(pulumi.ComponentResource):
    def __init__(self, name: str, args: DatastoreAccessArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ohif:aws:DatastoreAccess", name, {}, opts)
        child = pulumi.ResourceOptions(parent=self)
        service = args.service
        account = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self)).account_id
        arn = account.apply(lambda a: datastore_arn(service.region, a, service.datastore_id))
        aws.iam.RolePolicy(f"{name}-read-datastore", role=args.role_name, policy=arn.apply(read_policy), opts=child)
        group = aws.ec2.SecurityGroup(
            f"{name}-endpoint-sg", vpc_id=args.vpc_id,
            description="HealthImaging DICOMweb endpoint: HTTPS from the DICOMweb proxy only",
            ingress=[aws.ec2.SecurityGroupIngressArgs(protocol="tcp", from_port=443, to_port=443,
                                                      security_groups=[args.proxy_security_group_id],
                                                      description="the DICOMweb proxy")],
            opts=child)
        endpoint = aws.ec2.VpcEndpoint(
            f"{name}-endpoint", vpc_id=args.vpc_id, vpc_endpoint_type="Interface",
            service_name=ENDPOINT_SERVICE.format(region=service.region), private_dns_enabled=True,
            subnet_ids=[args.subnet_id], security_group_ids=[group.id],
            tags={"Name": f"{name}-healthimaging-dicomweb"}, opts=child)
        self.datastore_arn = arn
        self.endpoint_id = endpoint.id
        self.register_outputs({"datastore_arn": arn, "endpoint_id": endpoint.id})
