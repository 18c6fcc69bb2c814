"""Data-subject requests: intake, identity verification, assignment, status, the work list.

A request names a person by email (and their account when there is one), a type (access,
portability, erasure, rectification, restriction) and when it was received; it is due one
month later. Status moves pending -> processing -> completed, or to rejected with a reason;
completed and rejected are final (a trigger in migration 0006 refuses anything else too).
Every service needs compliance.manage and runs in one unit of work.
"""

from __future__ import annotations

import calendar
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from psycopg.types.json import Jsonb
from sqlalchemy import text
from sqlalchemy.orm import Session

from core.auth.permissions import COMPLIANCE_MANAGE
from core.db import Actor, unit_of_work
from core.db.patterns import escape_like
from core.errors import Conflict, NotFound, ValidationError
from core.jobs import JobView, read_job
from core.models.security import DATA_SUBJECT_REQUEST_STATUSES, DATA_SUBJECT_REQUEST_TYPES

REQUEST_TYPES = DATA_SUBJECT_REQUEST_TYPES
STATUSES = DATA_SUBJECT_REQUEST_STATUSES
VERIFICATION_METHODS = ("email_link", "id_document", "account_login", "phone_call", "other")
DUE_SOON_DAYS = 7
MAX_REASON = 1000
MAX_NOTES = 2000
OPEN_STATUSES = ("pending", "processing")
# Allowed moves; the same table lives in the trigger of migration 0006.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "pending": ("processing", "rejected"),
    "processing": ("completed", "rejected"),
    "completed": (),
    "rejected": (),
}
DUE_FILTERS = ("overdue", "due_soon")
_EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")


def add_month(moment: datetime) -> datetime:
    """`moment` plus one calendar month, the day clamped to the month's end (as PostgreSQL
    adds interval '1 month')."""
    year, month = divmod(moment.month, 12)
    year, month = moment.year + year, month + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def due_state(status: str, due_at: datetime, now: datetime | None = None) -> str:
    """'overdue', 'due_soon' (within 7 days), 'on_time' for open requests; 'closed' else."""
    if status not in OPEN_STATUSES:
        return "closed"
    now = now or datetime.now(UTC)
    if due_at < now:
        return "overdue"
    if due_at <= now + timedelta(days=DUE_SOON_DAYS):
        return "due_soon"
    return "on_time"


@dataclass(frozen=True)
class RequestDraft:
    """What the intake form collects."""

    subject_email: str
    request_type: str
    received_at: datetime | None = None
    user_id: uuid.UUID | None = None
    verification_method: str | None = None
    notes: str | None = None
    channel: str | None = None


@dataclass(frozen=True)
class RequestSummary:
    request_id: uuid.UUID
    subject_email: str
    user_id: uuid.UUID | None
    subject_name: str | None
    request_type: str
    status: str
    submitted_at: datetime
    due_at: datetime
    due: str  # one of due_state's values
    assigned_to: uuid.UUID | None
    assignee_name: str | None
    identity_verified_at: datetime | None


@dataclass(frozen=True)
class RequestDetail:
    summary: RequestSummary
    identity_verification_method: str | None
    completed_at: datetime | None
    rejection_reason: str | None
    notes: str | None
    request_details: dict[str, Any] | None
    handled_by_name: str | None
    export_job: JobView | None
    export_file: str | None
    exported_at: datetime | None
    export_fingerprint: str | None
    outcome: dict[str, Any] | None
    marketing_restricted_at: datetime | None

    @property
    def allowed_moves(self) -> tuple[str, ...]:
        return TRANSITIONS[self.summary.status]


@dataclass(frozen=True)
class Assignee:
    user_id: uuid.UUID
    full_name: str
    email: str


_SUMMARY = """
SELECT r.id, r.subject_email, r.user_id, u.full_name, r.request_type, r.status,
       r.submitted_at, r.due_at, r.assigned_to, a.full_name, r.identity_verified_at
  FROM data_subject_requests r
  LEFT JOIN users u ON u.id = r.user_id
  LEFT JOIN users a ON a.id = r.assigned_to
"""


def _summary(row: Any, now: datetime) -> RequestSummary:
    return RequestSummary(
        request_id=row[0],
        subject_email=row[1],
        user_id=row[2],
        subject_name=row[3],
        request_type=row[4],
        status=row[5],
        submitted_at=row[6],
        due_at=row[7],
        due=due_state(row[5], row[7], now),
        assigned_to=row[8],
        assignee_name=row[9],
        identity_verified_at=row[10],
    )


def _clean_text(value: str | None, field: str, limit: int) -> str | None:
    value = (value or "").strip()
    if len(value) > limit:
        raise ValidationError(f"{field} must be at most {limit} characters", field=field)
    return value or None


def create_request(actor: Actor, draft: RequestDraft) -> uuid.UUID:
    """Record a new request; returns its id.

    The person is found by account (`user_id`) or by email (case-insensitive); an email
    without an account is fine. Due one month after `received_at` (default now). A
    verification method records the identity check as done now.
    Raises ValidationError for a bad email, type, method or date, NotFound for an unknown
    account.
    """
    email = (draft.subject_email or "").strip()
    if draft.request_type not in REQUEST_TYPES:
        raise ValidationError(
            f"request type must be one of {', '.join(REQUEST_TYPES)}", field="request_type"
        )
    if draft.verification_method and draft.verification_method not in VERIFICATION_METHODS:
        raise ValidationError(
            f"verification method must be one of {', '.join(VERIFICATION_METHODS)}",
            field="verification_method",
        )
    now = datetime.now(UTC)
    received = draft.received_at or now
    if received.tzinfo is None:
        raise ValidationError("received at needs a time zone", field="received_at")
    if received > now + timedelta(minutes=5):
        raise ValidationError("received at cannot be in the future", field="received_at")
    notes = _clean_text(draft.notes, "notes", MAX_NOTES)
    with unit_of_work(actor) as uow:
        uow.require(COMPLIANCE_MANAGE)
        s = uow.session
        user_id = draft.user_id
        if user_id is not None:
            found = s.execute(
                text("SELECT email FROM users WHERE id = :u"), {"u": user_id}
            ).scalar()
            if found is None:
                raise NotFound("No account with that id.", field="user_id")
            email = email or found
        elif email:
            user_id = s.execute(
                text("SELECT id FROM users WHERE lower(email) = lower(:e)"), {"e": email}
            ).scalar()
        if not _EMAIL.match(email):
            raise ValidationError(
                "subject email must look like name@example.com", field="subject_email"
            )
        details = {"channel": draft.channel} if draft.channel else {}
        request_id = s.execute(
            text(
                "INSERT INTO data_subject_requests (user_id, subject_email, request_type,"
                " status, request_details, submitted_at, due_at, identity_verified_at,"
                " identity_verification_method, notes)"
                " VALUES (:u, :e, :t, 'pending', :d, :s, :due, :v, :m, :n) RETURNING id"
            ),
            {
                "u": user_id,
                "e": email,
                "t": draft.request_type,
                "d": Jsonb(details),
                "s": received,
                "due": add_month(received),
                "v": now if draft.verification_method else None,
                "m": draft.verification_method,
                "n": notes,
            },
        ).scalar_one()
        uow.commit()
    return request_id


def list_requests(
    actor: Actor,
    *,
    status: str | None = None,
    request_type: str | None = None,
    assignee: uuid.UUID | None = None,
    due: str | None = None,
    search: str | None = None,
    limit: int = 500,
) -> list[RequestSummary]:
    """Requests, open ones by due date first, then the rest newest first.

    `due` is 'overdue' or 'due_soon' (open requests only); `search` matches the subject's
    email or name. Raises PermissionDenied without compliance.manage.
    """
    where, params = ["true"], {"limit": limit}
    if status:
        where.append("r.status = :status")
        params["status"] = status
    if request_type:
        where.append("r.request_type = :type")
        params["type"] = request_type
    if assignee:
        where.append("r.assigned_to = :assignee")
        params["assignee"] = assignee
    if due == "overdue":
        where.append("r.status IN ('pending', 'processing') AND r.due_at < now()")
    elif due == "due_soon":
        where.append(
            "r.status IN ('pending', 'processing') AND r.due_at >= now()"
            f" AND r.due_at <= now() + interval '{DUE_SOON_DAYS} days'"
        )
    elif due:
        raise ValidationError(f"due must be one of {', '.join(DUE_FILTERS)}", field="due")
    if search and search.strip():
        where.append("(r.subject_email ILIKE :q OR u.full_name ILIKE :q)")
        params["q"] = f"%{escape_like(search.strip())}%"
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(COMPLIANCE_MANAGE)
        now = datetime.now(UTC)
        rows = uow.session.execute(
            text(
                f"{_SUMMARY} WHERE {' AND '.join(where)}"
                " ORDER BY (r.status IN ('pending', 'processing')) DESC,"
                " CASE WHEN r.status IN ('pending', 'processing') THEN r.due_at END,"
                " r.submitted_at DESC LIMIT :limit"
            ),
            params,
        ).all()
    return [_summary(r, now) for r in rows]


def load_request(session: Session, request_id: uuid.UUID, *, lock: bool = False) -> RequestDetail:
    """A request with everything the detail view shows, in the caller's transaction.

    Raises NotFound.
    """
    row = session.execute(
        text(f"{_SUMMARY} WHERE r.id = :id" + (" FOR UPDATE OF r" if lock else "")),
        {"id": request_id},
    ).first()
    if row is None:
        raise NotFound("No such data-subject request.")
    extra = session.execute(
        text(
            "SELECT r.identity_verification_method, r.completed_at, r.rejection_reason,"
            " r.notes, r.request_details, h.full_name, r.export_job_id, r.export_file,"
            " r.exported_at, r.export_fingerprint, r.outcome, u.marketing_restricted_at"
            " FROM data_subject_requests r LEFT JOIN users h ON h.id = r.handled_by"
            " LEFT JOIN users u ON u.id = r.user_id WHERE r.id = :id"
        ),
        {"id": request_id},
    ).one()
    job = read_job(session, extra[6]) if extra[6] else None
    return RequestDetail(
        summary=_summary(row, datetime.now(UTC)),
        identity_verification_method=extra[0],
        completed_at=extra[1],
        rejection_reason=extra[2],
        notes=extra[3],
        request_details=extra[4],
        handled_by_name=extra[5],
        export_job=job,
        export_file=extra[7],
        exported_at=extra[8],
        export_fingerprint=extra[9],
        outcome=extra[10],
        marketing_restricted_at=extra[11],
    )


def get_request(actor: Actor, request_id: uuid.UUID) -> RequestDetail:
    """One request with its export job and outcome. Raises NotFound, PermissionDenied."""
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(COMPLIANCE_MANAGE)
        return load_request(uow.session, request_id)


def list_assignees(actor: Actor) -> list[Assignee]:
    """Active people who hold compliance.manage, by name."""
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(COMPLIANCE_MANAGE)
        rows = uow.session.execute(
            text(
                "SELECT DISTINCT u.id, u.full_name, u.email FROM users u"
                " JOIN user_roles ur ON ur.user_id = u.id"
                " JOIN role_permissions rp ON rp.role_id = ur.role_id"
                " JOIN permissions p ON p.id = rp.permission_id"
                " WHERE p.name = :p AND u.status = 'active' ORDER BY u.full_name"
            ),
            {"p": COMPLIANCE_MANAGE},
        ).all()
    return [Assignee(*r) for r in rows]


def verify_identity(actor: Actor, request_id: uuid.UUID, method: str) -> None:
    """Record that the requester's identity was checked now, and how.

    Raises ValidationError for an unknown method, Conflict on a closed request.
    """
    if method not in VERIFICATION_METHODS:
        raise ValidationError(
            f"verification method must be one of {', '.join(VERIFICATION_METHODS)}",
            field="verification_method",
        )
    with unit_of_work(actor) as uow:
        uow.require(COMPLIANCE_MANAGE)
        request = load_request(uow.session, request_id, lock=True)
        _require_open(request)
        uow.session.execute(
            text(
                "UPDATE data_subject_requests SET identity_verified_at = now(),"
                " identity_verification_method = :m WHERE id = :id"
            ),
            {"m": method, "id": request_id},
        )
        uow.commit()


def assign(actor: Actor, request_id: uuid.UUID, assignee: uuid.UUID | None) -> None:
    """Give the request to someone who holds compliance.manage (None: nobody).

    Raises ValidationError when the assignee may not work requests, Conflict when closed.
    """
    with unit_of_work(actor) as uow:
        uow.require(COMPLIANCE_MANAGE)
        request = load_request(uow.session, request_id, lock=True)
        _require_open(request)
        if assignee is not None:
            allowed = uow.session.execute(
                text(
                    "SELECT EXISTS (SELECT 1 FROM users u JOIN user_roles ur ON ur.user_id = u.id"
                    " JOIN role_permissions rp ON rp.role_id = ur.role_id"
                    " JOIN permissions p ON p.id = rp.permission_id"
                    " WHERE u.id = :u AND p.name = :p AND u.status = 'active')"
                ),
                {"u": assignee, "p": COMPLIANCE_MANAGE},
            ).scalar_one()
            if not allowed:
                raise ValidationError(
                    "the assignee must be an active person who works compliance requests",
                    field="assigned_to",
                )
        uow.session.execute(
            text("UPDATE data_subject_requests SET assigned_to = :a WHERE id = :id"),
            {"a": assignee, "id": request_id},
        )
        uow.commit()


def _require_open(request: RequestDetail) -> None:
    if request.summary.status not in OPEN_STATUSES:
        raise Conflict(f"This request is {request.summary.status}; it can no longer change.")


def check_move(request: RequestDetail, target: str) -> None:
    """Raise Conflict unless `request` may move to `target` now."""
    current = request.summary.status
    if target not in TRANSITIONS.get(current, ()):
        allowed = TRANSITIONS.get(current, ())
        hint = f"; it can become {' or '.join(allowed)}" if allowed else "; it is final"
        raise Conflict(f"A {current} request cannot become {target}{hint}.", field="status")
    if target == "processing" and request.summary.identity_verified_at is None:
        raise Conflict(
            "Verify the requester's identity before processing the request.",
            field="identity_verified_at",
        )


def set_status(
    session: Session,
    actor: Actor,
    request: RequestDetail,
    target: str,
    *,
    reason: str | None = None,
    outcome: dict[str, Any] | None = None,
) -> None:
    """Move `request` to `target` in the caller's transaction (after check_move)."""
    check_move(request, target)
    closing = target in ("completed", "rejected")
    session.execute(
        text(
            "UPDATE data_subject_requests SET status = :s,"
            " rejection_reason = coalesce(:reason, rejection_reason),"
            " completed_at = CASE WHEN :s = 'completed' THEN now() ELSE completed_at END,"
            " handled_by = CASE WHEN :closing THEN CAST(:h AS uuid) ELSE handled_by END,"
            " outcome = coalesce(outcome, '{}'::jsonb) || CAST(:o AS jsonb)"
            " WHERE id = :id"
        ),
        {
            "s": target,
            "reason": reason,
            "closing": closing,
            "h": actor.user_id,
            "o": Jsonb(outcome or {}),
            "id": request.summary.request_id,
        },
    )


def start_processing(actor: Actor, request_id: uuid.UUID) -> None:
    """pending -> processing. Raises Conflict when the identity is not verified yet or the
    request is not pending."""
    with unit_of_work(actor) as uow:
        uow.require(COMPLIANCE_MANAGE)
        request = load_request(uow.session, request_id, lock=True)
        set_status(uow.session, actor, request, "processing")
        uow.commit()


def reject(actor: Actor, request_id: uuid.UUID, reason: str) -> None:
    """Close the request as rejected with `reason` (told to the requester).

    Raises ValidationError without a reason, Conflict when the request is closed.
    """
    cleaned = _clean_text(reason, "rejection reason", MAX_REASON)
    if not cleaned:
        raise ValidationError("a rejection needs a reason", field="rejection_reason")
    with unit_of_work(actor) as uow:
        uow.require(COMPLIANCE_MANAGE)
        request = load_request(uow.session, request_id, lock=True)
        set_status(uow.session, actor, request, "rejected", reason=cleaned)
        uow.commit()


def complete(actor: Actor, request_id: uuid.UUID) -> None:
    """processing -> completed for access, portability, rectification and restriction.

    Access and portability need a finished export first; an erasure completes only by
    running it (`core.gdpr.erasure.erase`). Raises Conflict otherwise.
    """
    with unit_of_work(actor) as uow:
        uow.require(COMPLIANCE_MANAGE)
        request = load_request(uow.session, request_id, lock=True)
        kind = request.summary.request_type
        if kind == "erasure":
            raise Conflict("An erasure request is completed by running the erasure.")
        if kind in ("access", "portability") and request.exported_at is None:
            raise Conflict("Export the person's data before completing this request.")
        set_status(uow.session, actor, request, "completed")
        uow.commit()
