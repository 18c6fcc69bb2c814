"""The sign-in throttle as admins see it: which addresses are slowed down, and lifting it.

Rows live in `sign_in_throttles`, which only migration 0012's definer functions reach; these
services call them as the acting admin (the database checks users.manage of the verified
session). IP addresses are personal data: a row is forgotten 24 hours (per account) or one
hour (per address) after its last failure (docs/SECURITY.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text

from core.auth.identity import require
from core.auth.permissions import USERS_MANAGE
from core.db import Actor, unit_of_work


@dataclass(frozen=True)
class Throttle:
    """Failed sign-ins from one address: for one typed email, or (email None) for any."""

    ip_address: str
    email: str | None
    failures: int
    first_failed_at: datetime
    last_failed_at: datetime
    blocked_until: datetime
    # The next attempt from this address (for this email) must wait until blocked_until.
    throttled: bool


def list_throttles(actor: Actor) -> list[Throttle]:
    """Every address the throttle remembers, slowed ones first (at most 1,000).

    Raises PermissionDenied without users.manage.
    """
    require(actor, USERS_MANAGE)
    with unit_of_work(actor, read_only=True) as uow:
        rows = uow.session.execute(
            text(
                "SELECT ip_address, kind, email, failures, first_failed_at, last_failed_at,"
                " blocked_until, blocked_until > now() AS throttled FROM auth_throttles()"
            )
        ).all()
    return [
        Throttle(
            ip_address=r.ip_address,
            email=r.email if r.kind == "account" else None,
            failures=r.failures,
            first_failed_at=r.first_failed_at,
            last_failed_at=r.last_failed_at,
            blocked_until=r.blocked_until,
            throttled=r.throttled,
        )
        for r in rows
    ]


def lift_throttle(actor: Actor, ip_address: str, email: str | None = None) -> int:
    """Forget the failures of `ip_address` (for `email` only, or all of them); audited as
    auth.throttle_lifted. Returns how many throttle rows went.

    Raises PermissionDenied without users.manage.
    """
    require(actor, USERS_MANAGE)
    with unit_of_work(actor) as uow:
        lifted = uow.session.execute(
            text("SELECT auth_lift_throttle(:ip, :e)"), {"ip": ip_address, "e": email}
        ).scalar_one()
        uow.commit()
    return int(lifted)
