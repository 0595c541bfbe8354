"""The policy pack: `pulumi preview --policy-pack policy`. The rules live in ohif_policies/, one per module."""

from ohif_policies import POLICIES
from pulumi_policy import PolicyPack

PolicyPack(name="ohif-deploy", policies=POLICIES)
