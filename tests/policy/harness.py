"""Feeds a program's resources to the policy pack the way the engine does: type token, camelCase props.

Resource rules see each resource's inputs; stack rules see every resource's outputs. Async
validations run on an event loop, and violations are collected instead of failing a deployment.
"""

from __future__ import annotations

import asyncio
import inspect
from dataclasses import dataclass

from ohif_policies import POLICIES
from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
)

from tests.pulumi_mocks import Program, Resource


@dataclass(frozen=True)
class Violation:
    policy: str
    level: EnforcementLevel
    message: str
    urn: str | None


def _urn(resource: Resource) -> str:
    return f"urn:pulumi:prod::ohif::{resource.type}::{resource.name}"


def _opts(resource: Resource) -> PolicyResourceOptions:
    return PolicyResourceOptions(protect=resource.protect, ignore_changes=[], delete_before_replace=None, aliases=[],
                                 custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
                                 additional_secret_outputs=resource.additional_secret_outputs)


def evaluate(program: Program, *, production: bool, public: bool = False,
             highly_available: bool = False) -> list[Violation]:
    violations: list[Violation] = []
    config = {"production": production, "public": public, "highly_available": highly_available}
    stack = [PolicyResource(r.type, r.outputs, _urn(r), r.name, _opts(r), None, None, [], {})
             for r in program.resources]

    for policy in POLICIES:
        def reporter(default_urn: str | None = None, policy=policy):
            return lambda message, urn=None: violations.append(
                Violation(policy.name, policy.enforcement_level, message, urn or default_urn))

        if isinstance(policy, ResourceValidationPolicy):
            calls = [(ResourceValidationArgs(r.type, r.inputs, _urn(r), r.name, _opts(r), None, config),
                      reporter(_urn(r))) for r in program.resources]
        else:
            calls = [(StackValidationArgs(stack, config), reporter())]
        for args, report in calls:
            result = policy.validate(args, report)
            if inspect.isawaitable(result):
                loop = asyncio.new_event_loop()
                try:
                    loop.run_until_complete(result)
                finally:
                    loop.close()
    return violations
