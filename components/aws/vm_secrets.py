"""VmSecrets: one VM's secret files in AWS Secrets Manager, readable by that VM's role alone.

EC2 user data is not a place for secrets: any process on the VM can read it from the metadata service, and so can
any principal allowed ec2:DescribeInstanceAttribute (AWS EC2 User Guide, "Run commands when you launch an EC2
instance with user data input": "don't store sensitive data, such as passwords"). So the files (path: content,
components/render/secret_files.py) are one Secrets Manager secret, encrypted with the account's Secrets Manager key.
The VM's instance role may call secretsmanager:GetSecretValue on that one secret and nothing else, and the VM
fetches it at boot with the role's credentials from IMDSv2.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.render.secret_files import SecretFetch, from_secrets_manager, secret_document


@dataclass
class VmSecretsArgs:
    files: pulumi.Input[dict[str, str]]
    """The secret files the VM writes at boot (path: content)."""
    purpose: str
    """What the VM is for, in the secret's description and the role's name tag."""


class VmSecrets(pulumi.ComponentResource):
    fetch: pulumi.Output[SecretFetch]
    """What the VM's cloud-init runs to write the files."""
    instance_profile_name: pulumi.Output[str]
    """The instance profile the VM runs with: the role that may read this secret (and what its VM adds)."""
    role_name: pulumi.Output[str]
    """That role, to which a VM may add a grant of its own, such as the proxy's to its archive."""

    def __init__(self, name: str, args: VmSecretsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ohif:aws:VmSecrets", name, {}, opts)
        child = pulumi.ResourceOptions(parent=self)
        secret = aws.secretsmanager.Secret(f"{name}-secrets",
                                           description=f"{args.purpose}: files the VM writes at boot",
                                           tags={"Name": f"{name}-{args.purpose}"}, opts=child)
        aws.secretsmanager.SecretVersion(
            f"{name}-secrets-version", secret_id=secret.id,
            secret_string=pulumi.Output.secret(pulumi.Output.from_input(args.files).apply(secret_document)), opts=child)
        role = aws.iam.Role(f"{name}-role", description=f"{args.purpose}: reads its own secret (and its archive)",
                            assume_role_policy=json.dumps({"Version": "2012-10-17", "Statement": [{
                                "Effect": "Allow", "Action": "sts:AssumeRole",
                                "Principal": {"Service": "ec2.amazonaws.com"}}]}),
                            tags={"Name": f"{name}-{args.purpose}"}, opts=child)
        aws.iam.RolePolicy(f"{name}-read-own-secret", role=role.id, policy=secret.arn.apply(lambda arn: json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": arn}]})), opts=child)
        profile = aws.iam.InstanceProfile(f"{name}-profile", role=role.name, opts=child)
        self.fetch = secret.arn.apply(from_secrets_manager)
        self.instance_profile_name = profile.name
        self.role_name = role.name
        self.register_outputs({"instance_profile_name": self.instance_profile_name, "role_name": self.role_name})
