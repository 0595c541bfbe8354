"""What the database rules share: what a database that holds users' accounts must have, said once."""

from __future__ import annotations

from ._common import is_production

MIN_BACKUP_DAYS = 7


def shared_problems(args, db, backup_days) -> list[str]:
    """What every cloud's database rule asks alike: Pulumi's protect, and in production a week of backups."""
    problems = [] if db.opts.protect else ["Pulumi does not protect it (protect=True)"]
    if is_production(args) and backup_days < MIN_BACKUP_DAYS:
        problems.append(f"it keeps {backup_days:g} days of backups in a production stack (at least {MIN_BACKUP_DAYS})")
    return problems


def report(report_violation, kind: str, name: str, urn: str, problems: list[str], fix: str) -> None:
    if problems:
        report_violation(f"{kind} {name} holds users' accounts but {'; '.join(problems)}. {fix}", urn)
