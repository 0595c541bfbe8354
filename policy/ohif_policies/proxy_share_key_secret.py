"""proxy-share-key-secret: share links' signing keys reach the proxy from the cloud's secret store, never its
cloud-init.

Whoever holds a signing key makes links to any study, for as long as they like. User data (AWS) and custom data
(Azure) are readable by any process on the VM and by whoever may describe it. So the proxy's cloud-init writes only
the closed placeholder of the keys' file, and the VM fetches the keys at boot, before nginx starts: from Secrets
Manager with its role (components/aws/vm_secrets.py), from Key Vault with its identity (components/azure/
vm_secrets.py). Reported, on an EC2 instance or launch template, an Azure VM or scale set: a file that holds share
keys, or a proxy that checks share links without that fetch.
"""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, Severity

from ._cloud_init import fetches_secrets_before_nginx, share_keys_written, share_lifetimes, vm_cloud_init
from ._common import DOCS


def validate(args, report_violation):
    found = vm_cloud_init(args)
    if found is None:
        return
    what, cloud_init = found
    written = share_keys_written(cloud_init)
    if written:
        report_violation(f"{what} {args.name} writes share links' signing keys ({', '.join(written)}) from its "
                         f"cloud-init, which any process on the VM can read. Deliver them from the cloud's secret "
                         f"store (components/share_keys.py). See {DOCS}")
    elif share_lifetimes(cloud_init) and not fetches_secrets_before_nginx(cloud_init):
        report_violation(f"{what} {args.name} checks share links but fetches no keys from the cloud's secret store "
                         f"before nginx starts. Deliver them as components/share_keys.py does. See {DOCS}")


POLICY = ResourceValidationPolicy(
    name="proxy-share-key-secret",
    description="Share links' signing keys reach the proxy from the cloud's secret store at boot, never from its "
                "user or custom data.",
    enforcement_level=EnforcementLevel.MANDATORY, severity=Severity.CRITICAL, validate=validate)
