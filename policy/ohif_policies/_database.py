"""What the database rules share: what a database that holds users' accounts must have, said once."""

from __future__ import annotations

MIN_BACKUP_DAYS = 7


def report(report_violation, kind: str, name: str, urn: str, problems: list[str], fix: str) -> None:
    if problems:
        report_violation(f"{kind} {name} holds users' accounts but {'; '.join(problems)}. {fix}", urn)
