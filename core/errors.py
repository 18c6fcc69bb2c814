"""The domain error family, and the translation of database errors into it.

Every error a person can act on is a `DomainError` with a stable `code`, a human
`message` and, where one field is at fault, the `field`. Pages show the message; any
other exception is a bug, logged with its traceback and shown as a reference only.
"""

from __future__ import annotations

import re
from functools import lru_cache

from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.exc import TimeoutError as PoolTimeout


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


class Unavailable(DomainError):
    """The database could not be reached or dropped the connection (a restart, a failover,
    a terminated backend, too many connections). Nothing of the request is known to be
    saved unless its own result says so; the same request may be retried: the checkout's
    idempotency keys make a retried sale safe."""

    code = "unavailable"

    def __init__(
        self, message: str = "The database is temporarily unavailable; please retry.", **kw
    ):
        super().__init__(message, **kw)


class PermissionDenied(DomainError):
    code = "forbidden"


class SignInFailed(DomainError):
    """Email or password is wrong; the same for an unknown email, so accounts stay private."""

    code = "sign_in_failed"

    def __init__(self, message: str = "Email or password is wrong.", **kw):
        super().__init__(message, **kw)


class SignInThrottled(DomainError):
    """Too many wrong passwords from this address (for this email, or for any): wait.

    The same for an unknown email as for a known one, so it tells nobody who has an account.
    """

    code = "sign_in_throttled"

    def __init__(self, retry_after_seconds: int, **kw):
        self.retry_after_seconds = max(1, int(retry_after_seconds))
        super().__init__(
            "Too many failed sign-ins from your address; wait"
            f" {_duration(self.retry_after_seconds)} and try again.",
            **kw,
        )


def _duration(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = -(-seconds // 60)
    return f"{minutes} minutes"


class ResetTokenInvalid(DomainError):
    """A password reset token that is unknown, already used or expired."""

    code = "reset_token_invalid"

    def __init__(
        self,
        message: str = "This reset link is invalid, already used or expired; ask for a new one.",
        **kw,
    ):
        super().__init__(message, **kw)


class Unauthenticated(DomainError):
    """An API key that is missing, unknown, expired, revoked or past its rotation's grace
    period: one message for all, so a caller learns nothing about which keys exist."""

    code = "unauthenticated"

    def __init__(self, message: str = "A valid API key is required.", **kw):
        super().__init__(message, **kw)


class RateLimited(DomainError):
    """The key's requests of this minute are used up; `retry_after` seconds until the next
    window opens (`reset_seconds`, the same), `limit` requests per minute."""

    code = "rate_limited"

    def __init__(self, *, retry_after: int, limit: int, **kw):
        self.retry_after = max(1, int(retry_after))
        self.reset_seconds = self.retry_after
        self.limit = int(limit)
        super().__init__(
            f"Rate limit of {self.limit} requests per minute reached; retry in"
            f" {_duration(self.retry_after)}.",
            **kw,
        )


class SubjectErased(Conflict):
    """Personal data for a person who was erased (their account is anonymised, or the
    record was): the database's subject guard refuses it (migration 0014)."""

    code = "subject_erased"


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


# The SQLSTATE of the GDPR subject guard (migration 0014); DETAIL says 'busy' or 'erased'.
SUBJECT_GUARD = "FW002"
_KEY_DETAIL = re.compile(r"Key \((?P<cols>[^)]*)\)=\((?P<vals>.*)\) (?P<rest>.*)")
_PARTITION_SUFFIX = re.compile(r"_(p\d{6}|default)$")
_REFERENCED_TABLE = re.compile(r'table "(?P<table>[^"]+)"')


# The server or the connection is gone or refuses work for now: connection exceptions
# (08), operator intervention (57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot
# connect now, 57P04 database dropped), insufficient resources (53: disk full, out of
# memory, too many connections), system errors (58) and a transaction whose end is unknown
# (40003). 57014 (query cancelled) is Busy: the statement timeout ran out.
_UNAVAILABLE_CLASSES = ("08", "53", "58")
_UNAVAILABLE_STATES = ("57P01", "57P02", "57P03", "57P04", "40003")

NUL_MESSAGE = "Text cannot contain NUL characters (\\x00)."


def is_unavailable(exc: BaseException) -> bool:
    """Does `exc` say the database is out of reach rather than that the request is wrong?"""
    if isinstance(exc, (PoolTimeout, DisconnectionError)):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    orig = exc.orig
    sqlstate = getattr(orig, "sqlstate", None) or ""
    if sqlstate.startswith(_UNAVAILABLE_CLASSES) or sqlstate in _UNAVAILABLE_STATES:
        return True
    # psycopg reports a connection lost mid-query ("server closed the connection
    # unexpectedly", "consuming input failed") or already closed without a SQLSTATE.
    import psycopg  # late: the domain errors must import without a driver

    return not sqlstate and isinstance(orig, (psycopg.OperationalError, psycopg.InterfaceError))


def from_database_error(exc: BaseException) -> DomainError | None:
    """The domain error a database error stands for, or None when it is a bug."""
    if is_unavailable(exc):
        return Unavailable()
    if not isinstance(exc, DBAPIError):
        return None
    orig = exc.orig
    sqlstate = getattr(orig, "sqlstate", None)
    diag = getattr(orig, "diag", None)
    constraint = getattr(diag, "constraint_name", None)
    # A row in a partition reports the partition (audit_logs_p202611); people know the parent.
    table = _PARTITION_SUFFIX.sub("", getattr(diag, "table_name", None) or "record")
    detail = getattr(diag, "message_detail", None) or ""
    primary = getattr(diag, "message_primary", None) or str(orig)

    if sqlstate == "23514":  # check_violation
        column = getattr(diag, "column_name", None)
        if constraint not in _constraint_messages() and column:
            # A trigger's refusal (a CHECK constraint's never names a column): its own
            # message, on that column.
            return ValidationError(primary, field=column, code="check_violation")
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
    if sqlstate in ("22021", "22P05") or (sqlstate is None and "NUL (0x00)" in str(orig)):
        # PostgreSQL text cannot hold NUL: refused by the server (22021, or 22P05 for
        # \\u0000 in JSON) or by psycopg before sending. core.services.inputs refuses it
        # earlier, naming the field.
        return ValidationError(NUL_MESSAGE, code="nul_character")
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
    if sqlstate == SUBJECT_GUARD:  # gdpr_subject_guard: being erased now, or erased
        hint = getattr(diag, "message_hint", None) or None
        if detail == "busy":
            return Busy(primary, field=hint)
        return SubjectErased(primary, field=hint)
    return None
