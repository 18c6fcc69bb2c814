"""The domain error family, and the translation of database errors into it.

Every error a person can act on is a `DomainError` with a stable `code`, a human
`message` and, where one field is at fault, the `field`. Pages show the message; any
other exception is a bug, logged with its traceback and shown as a reference only.
"""

from __future__ import annotations

import re
from functools import lru_cache

from sqlalchemy.exc import DBAPIError


class DomainError(Exception):
    """Base of every error a caller is expected to show to a person."""

    code = "error"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return self.message


class ValidationError(DomainError):
    """Input breaks a rule; `field` names the input at fault."""

    code = "invalid"


class NotFound(DomainError):
    code = "not_found"


class Conflict(DomainError):
    """The change clashes with data already there (a duplicate, a row still in use)."""

    code = "conflict"


class ConcurrentUpdate(Conflict):
    """Someone else changed the row since it was read; reload and try again."""

    code = "concurrent_update"


class Busy(DomainError):
    """A lock could not be had in time; the same request may succeed when retried."""

    code = "busy"

    def __init__(
        self, message: str = "The system is busy with the same items; please retry.", **kw
    ):
        super().__init__(message, **kw)


class PermissionDenied(DomainError):
    code = "forbidden"


class SignInFailed(DomainError):
    """Email or password is wrong; the same for an unknown email, so accounts stay private."""

    code = "sign_in_failed"

    def __init__(self, message: str = "Email or password is wrong.", **kw):
        super().__init__(message, **kw)


class AccountLocked(DomainError):
    """Five failed sign-ins in a row: locked for 15 minutes or until an admin unlocks it."""

    code = "account_locked"

    def __init__(
        self,
        message: str = (
            "This account is locked after too many failed sign-ins; try again in 15 minutes"
            " or ask an admin to unlock it."
        ),
        **kw,
    ):
        super().__init__(message, **kw)


class ResetTokenInvalid(DomainError):
    """A password reset token that is unknown, already used or expired."""

    code = "reset_token_invalid"

    def __init__(
        self,
        message: str = "This reset link is invalid, already used or expired; ask for a new one.",
        **kw,
    ):
        super().__init__(message, **kw)


class UnknownIdentity(DomainError):
    """An identity-provider sign-in whose email has no invited, active account."""

    code = "unknown_identity"


def _humanize(name: str) -> str:
    return name.replace("_", " ")


@lru_cache(maxsize=1)
def _constraint_messages() -> dict[str, tuple[str | None, str]]:
    """Constraint name -> (field, message), read from the models' `info`."""
    from core.models import Base  # late: errors must import without the models loaded

    found: dict[str, tuple[str | None, str]] = {}
    for table in Base.metadata.tables.values():
        for constraint in table.constraints:
            info = constraint.info
            if constraint.name and "message" in info:
                found[str(constraint.name)] = (info.get("field"), info["message"])
    return found


_KEY_DETAIL = re.compile(r"Key \((?P<cols>[^)]*)\)=\((?P<vals>.*)\) (?P<rest>.*)")
_PARTITION_SUFFIX = re.compile(r"_(p\d{6}|default)$")
_REFERENCED_TABLE = re.compile(r'table "(?P<table>[^"]+)"')


def from_database_error(exc: DBAPIError) -> DomainError | None:
    """The domain error a database error stands for, or None when it is a bug."""
    orig = exc.orig
    sqlstate = getattr(orig, "sqlstate", None)
    diag = getattr(orig, "diag", None)
    constraint = getattr(diag, "constraint_name", None)
    # A row in a partition reports the partition (audit_logs_p202611); people know the parent.
    table = _PARTITION_SUFFIX.sub("", getattr(diag, "table_name", None) or "record")
    detail = getattr(diag, "message_detail", None) or ""
    primary = getattr(diag, "message_primary", None) or str(orig)

    if sqlstate == "23514":  # check_violation
        field, message = _constraint_messages().get(
            constraint or "", (None, f"{_humanize(table)} breaks the rule {constraint}")
        )
        return ValidationError(message, field=field, code="check_violation")
    if sqlstate == "23502":  # not_null_violation
        column = getattr(diag, "column_name", None)
        return ValidationError(f"{_humanize(column or 'a field')} is required", field=column)
    if sqlstate in ("23505", "23P01"):  # unique / exclusion
        if constraint in _constraint_messages():
            field, message = _constraint_messages()[constraint]
            return Conflict(message, field=field, code="duplicate")
        match = _KEY_DETAIL.match(detail)
        cols = match.group("cols") if match else None
        what = f" with this {_humanize(cols)}" if cols else ""
        return Conflict(
            f"a {_humanize(table).rstrip('s')}{what} already exists", field=cols, code="duplicate"
        )
    if sqlstate == "23503":  # foreign_key_violation
        match = _KEY_DETAIL.match(detail)
        cols = match.group("cols") if match else None
        ref = _REFERENCED_TABLE.search(detail)
        ref_table = _humanize(ref.group("table")) if ref else "record"
        if "still referenced" in detail:
            return Conflict(
                f"this {_humanize(table).rstrip('s')} is still used by {ref_table}", code="in_use"
            )
        return ValidationError(
            f"{_humanize(cols or 'reference')} does not match any {ref_table}",
            field=cols,
            code="unknown_reference",
        )
    if sqlstate in ("22P02", "22003", "22001", "22007", "22008", "22023"):
        return ValidationError(primary, code="bad_value")
    if sqlstate in ("55P03", "40P01", "57014"):  # lock timeout, deadlock, statement timeout
        return Busy()
    if sqlstate == "40001":
        # The ticket-type version trigger raises 40001 for stale writes; a true
        # serialization failure is retried the same way.
        return ConcurrentUpdate("Someone else changed this record; reload it and try again.")
    if sqlstate == "42501":
        return PermissionDenied("You are not allowed to do that.")
    return None
