"""aws-ec2-user-data-secret: an instance's user data holds no secret.

Any process on the VM can read user data from the instance metadata service, and so can any principal allowed
ec2:DescribeInstanceAttribute; AWS says not to put passwords there (EC2 User Guide, "Run commands when you launch an
EC2 instance with user data input"). Keeping it secret in the Pulumi state does not change that, so it is no way
out. Reported: a file the cloud-init writes that holds a secret (policy/ohif_policies/_cloud_init.py: Keycloak's
environment file, PASSWORD=/SECRET= lines, the proxy's origin secret, a cloud credential: an
access key, a client secret, a bearer token). Secrets reach an AWS VM from Secrets Manager,
through a role that reads its own secret only (components/aws/vm_secrets.py).
"""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, Severity

from ._cloud_init import secret_paths
from ._common import DOCS
from ._ec2 import kind, user_data


def validate(args, report_violation):
    cloud_init = user_data(args)
    if cloud_init is None:
        return
    for path in secret_paths(cloud_init):
        report_violation(f"{kind(args)} {args.name} writes a secret ({path}) from its user data, which any process on "
                         f"the VM and anyone allowed ec2:DescribeInstanceAttribute can read. Deliver it through "
                         f"Secrets Manager (components/aws/vm_secrets.py). See {DOCS}")


POLICY = ResourceValidationPolicy(
    name="aws-ec2-user-data-secret",
    description="Instance user data writes no secret (Keycloak's env file, PASSWORD=/SECRET= "
                "lines, origin secrets, cloud credentials).",
    enforcement_level=EnforcementLevel.MANDATORY, severity=Severity.CRITICAL, validate=validate)
