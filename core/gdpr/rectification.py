"""Rectification (corrected personal fields, with a before/after diff) and restriction
(marketing leaves the person out until lifted).

The diff is returned to the page and recorded by the audit trail's triggers; the request
keeps only which fields changed, never the values (an erasure must not find them there).
Restriction sets `users.marketing_restricted_at`: segment membership stays, but segment
sizes and sends leave the person out (marketing code reads the column) until it is lifted.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime

from psycopg.types.json import Jsonb
from sqlalchemy import text

from core.auth.permissions import COMPLIANCE_MANAGE
from core.db import Actor, unit_of_work
from core.errors import Conflict, ValidationError
from core.gdpr.requests import RequestDetail, load_request

# field -> (table, column, label)
RECTIFIABLE: dict[str, tuple[str, str, str]] = {
    "full_name": ("users", "full_name", "Full name"),
    "email": ("users", "email", "Email"),
    "phone_number": ("users", "phone_number", "Phone"),
    "first_name": ("user_profiles", "first_name", "First name"),
    "last_name": ("user_profiles", "last_name", "Last name"),
    "company": ("user_profiles", "company", "Company"),
    "position": ("user_profiles", "position", "Position"),
    "location": ("user_profiles", "location", "Location"),
    "website": ("user_profiles", "website", "Website"),
}
REQUIRED = ("full_name", "email")
MAX_LENGTH = 200
_EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")


@dataclass(frozen=True)
class FieldChange:
    field: str
    label: str
    before: str | None
    after: str | None


def _open_request(request: RequestDetail, kind: str) -> None:
    if request.summary.request_type != kind:
        raise Conflict(f"This is not a {kind} request.")
    if request.summary.status != "processing":
        raise Conflict("Start processing the request (after verifying the identity) first.")
    if request.summary.user_id is None:
        raise Conflict("The request is not linked to an account; there is nothing to change.")


def current_values(actor: Actor, request_id: uuid.UUID) -> dict[str, str | None]:
    """The person's rectifiable fields as they are now. Raises NotFound, PermissionDenied."""
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(COMPLIANCE_MANAGE)
        request = load_request(uow.session, request_id)
        if request.summary.user_id is None:
            return {}
        row = uow.session.execute(
            text(
                "SELECT u.full_name, u.email, u.phone_number, p.first_name, p.last_name,"
                " p.company, p.position, p.location, p.website FROM users u"
                " LEFT JOIN user_profiles p ON p.user_id = u.id WHERE u.id = :u"
            ),
            {"u": request.summary.user_id},
        ).first()
    return dict(zip(RECTIFIABLE, row, strict=True)) if row else {}


def rectify(
    actor: Actor, request_id: uuid.UUID, values: dict[str, str | None]
) -> list[FieldChange]:
    """Apply corrected values to the person's fields; returns the diff (changed fields).

    Fields not given stay. Raises ValidationError for an unknown field, an empty required
    field, a bad email or a value over 200 characters; Conflict when the request is not a
    rectification being processed or the email belongs to someone else.
    """
    unknown = set(values) - set(RECTIFIABLE)
    if unknown:
        raise ValidationError(f"cannot rectify {', '.join(sorted(unknown))}", field="field")
    cleaned: dict[str, str | None] = {}
    for name, value in values.items():
        value = (value or "").strip() or None
        label = RECTIFIABLE[name][2]
        if value is None and name in REQUIRED:
            raise ValidationError(f"{label.lower()} is required", field=name)
        if value is not None and len(value) > MAX_LENGTH:
            raise ValidationError(
                f"{label.lower()} must be at most {MAX_LENGTH} characters", field=name
            )
        if name == "email" and value is not None and not _EMAIL.match(value):
            raise ValidationError("email must look like name@example.com", field="email")
        cleaned[name] = value
    before = current_values(actor, request_id)
    changes = [
        FieldChange(name, RECTIFIABLE[name][2], before.get(name), after)
        for name, after in cleaned.items()
        if before.get(name) != after
    ]
    if not changes:
        raise ValidationError("nothing to change: every value is as it was", field="values")
    with unit_of_work(actor) as uow:
        uow.require(COMPLIANCE_MANAGE)
        s = uow.session
        request = load_request(s, request_id, lock=True)
        _open_request(request, "rectification")
        user_id = request.summary.user_id
        email = cleaned.get("email")
        if email is not None and any(c.field == "email" for c in changes):
            taken = s.execute(
                text("SELECT 1 FROM users WHERE lower(email) = lower(:e) AND id <> :u"),
                {"e": email, "u": user_id},
            ).first()
            if taken:
                raise Conflict("Another account already uses that email.", field="email")
        for table in ("users", "user_profiles"):
            mine = [c for c in changes if RECTIFIABLE[c.field][0] == table]
            if not mine:
                continue
            if table == "user_profiles":
                s.execute(
                    text(
                        "INSERT INTO user_profiles (user_id) VALUES (:u)"
                        " ON CONFLICT (user_id) DO NOTHING"
                    ),
                    {"u": user_id},
                )
            key = "id" if table == "users" else "user_id"
            assignments = ", ".join(f"{RECTIFIABLE[c.field][1]} = :{c.field}" for c in mine)
            s.execute(
                text(f"UPDATE {table} SET {assignments} WHERE {key} = :u"),
                {"u": user_id, **{c.field: c.after for c in mine}},
            )
        s.execute(
            text(
                "UPDATE data_subject_requests SET outcome = coalesce(outcome, '{}'::jsonb)"
                " || jsonb_build_object('rectified_fields', CAST(:f AS jsonb),"
                " 'rectified_at', now()) WHERE id = :id"
            ),
            {"f": Jsonb(sorted(c.field for c in changes)), "id": request_id},
        )
        uow.commit()
    return changes


def set_restriction(actor: Actor, request_id: uuid.UUID, restricted: bool) -> datetime | None:
    """Restrict (True) or lift (False) marketing processing of the request's person;
    returns the restriction time now in force (None when lifted).

    Restricting needs a restriction request being processed; lifting works on any
    restriction request (people lift it later). Raises Conflict otherwise.
    """
    with unit_of_work(actor) as uow:
        uow.require(COMPLIANCE_MANAGE)
        s = uow.session
        request = load_request(s, request_id, lock=True)
        if restricted:
            _open_request(request, "restriction")
        elif request.summary.request_type != "restriction" or request.summary.user_id is None:
            raise Conflict("Only a restriction request linked to an account lifts one.")
        at = s.execute(
            text(
                "UPDATE users SET marketing_restricted_at ="
                " CASE WHEN :r THEN coalesce(marketing_restricted_at, now()) END"
                " WHERE id = :u RETURNING marketing_restricted_at"
            ),
            {"r": restricted, "u": request.summary.user_id},
        ).scalar()
        s.execute(
            text(
                "UPDATE data_subject_requests SET outcome = coalesce(outcome, '{}'::jsonb)"
                " || jsonb_build_object(CASE WHEN :r THEN 'restricted_at' ELSE 'lifted_at' END,"
                " now()) WHERE id = :id"
            ),
            {"r": restricted, "id": request_id},
        )
        uow.commit()
    return at
