"""The policy pack: `pulumi preview --policy-pack policy`. The rules live in ohif_policies/, one per module."""

from pulumi_policy import PolicyPack

from ohif_policies import POLICIES

PolicyPack(name="ohif-deploy", policies=POLICIES)
