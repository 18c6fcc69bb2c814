"""Webhook endpoints and their deliveries, for Admin → Webhooks and the API.

Every service runs in one unit of work for the acting person: row-level security shows
admins every endpoint and an owner their own (migration 0017), the audit trigger records
each change with the sealed secrets masked. Managing webhooks needs `users.manage` (the
admin pages' permission). A secret is returned once, by `create_endpoint` and
`rotate_secret`, and never again: not by a view, an error or a repr.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session
from standardwebhooks import Webhook as Signer

from core.auth.permissions import USERS_MANAGE
from core.db import Actor, unit_of_work
from core.errors import Conflict, NotFound, ValidationError
from core.models.api import WEBHOOK_DELIVERY_STATUSES
from core.models.limits import NAME, TEXT, WORD_COUNT
from core.outbox import EVENT_TYPES, PING
from core.webhooks.dispatcher import Endpoint, body_of, process_dispatcher
from core.webhooks.secrets import new_secret, seal, unseal
from core.webhooks.urls import check_url

ROTATION_OVERLAP = timedelta(hours=24)
MAX_LIMIT = 500


@dataclass(frozen=True)
class EndpointView:
    """An endpoint as people see it: never its secret."""

    endpoint_id: uuid.UUID
    name: str
    url: str
    description: str | None
    events: tuple[str, ...]
    is_active: bool
    owner_id: uuid.UUID | None
    failing_since: datetime | None
    disabled_at: datetime | None
    disabled_reason: str | None
    previous_secret_expires_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @property
    def status(self) -> str:
        if self.is_active:
            return "failing" if self.failing_since is not None else "active"
        return "disabled" if self.disabled_at is not None else "inactive"


@dataclass(frozen=True)
class DeliveryView:
    delivery_id: uuid.UUID
    created_at: datetime
    endpoint_id: uuid.UUID
    endpoint_name: str
    message_id: str
    event_type: str
    status: str
    attempt_count: int
    response_code: int | None
    error_message: str | None
    next_retry_at: datetime | None
    completed_at: datetime | None
    duration_ms: int | None


@dataclass(frozen=True)
class DeliveryDetail(DeliveryView):
    """A delivery with what was sent (body and headers but the signature) and every
    attempt's answer (code, capped body, duration, error)."""

    url: str = ""
    request_body: str = ""
    request_headers: dict[str, str] = field(default_factory=dict)
    attempts: tuple[dict[str, Any], ...] = ()
    response_body: str | None = None


_ENDPOINT_COLUMNS = (
    "w.id, w.name, w.url, w.description, w.events, w.is_active, w.user_id, w.failing_since,"
    " w.disabled_at, w.disabled_reason,"
    " CASE WHEN w.previous_secret_expires_at > now() THEN w.previous_secret_expires_at END,"
    " w.created_at, w.updated_at"
)
_DELIVERY_COLUMNS = (
    "d.id, d.created_at, d.webhook_id, w.name, d.message_id, d.event_type, d.status,"
    " d.attempt_count, d.response_code, d.error_message, d.next_retry_at, d.completed_at,"
    " d.duration_ms"
)


def _endpoint(row: Any) -> EndpointView:
    values = list(row)
    values[4] = tuple(values[4] or ())
    return EndpointView(*values)


def _name(name: str | None) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError("Name is required", field="name")
    if len(name) > NAME:
        raise ValidationError(f"Name must be at most {NAME} characters", field="name")
    return name


def _description(description: str | None) -> str | None:
    description = (description or "").strip() or None
    if description is not None and len(description) > TEXT:
        raise ValidationError(f"Description must be at most {TEXT} characters", field="description")
    return description


def _events(events: Any) -> list[str]:
    if isinstance(events, str) or not isinstance(events, list | tuple | set | frozenset):
        raise ValidationError("Events must be a list of event types", field="events")
    chosen = sorted({str(e) for e in events})
    if not chosen:
        raise ValidationError("Choose at least one event type", field="events")
    unknown = [e for e in chosen if e not in EVENT_TYPES]
    if unknown:
        raise ValidationError(
            f"Unknown event type {unknown[0]!r}; one of: {', '.join(EVENT_TYPES)}",
            field="events",
        )
    if len(chosen) > WORD_COUNT:
        raise ValidationError(f"At most {WORD_COUNT} event types", field="events")
    return chosen


def _load(session: Session, endpoint_id: uuid.UUID, *, lock: bool = False) -> Any:
    row = session.execute(
        text(
            f"SELECT {_ENDPOINT_COLUMNS} FROM webhooks w WHERE w.id = :i"
            + (" FOR UPDATE" if lock else "")
        ),
        {"i": endpoint_id},
    ).one_or_none()
    if row is None:
        raise NotFound("No such webhook endpoint (or it is not yours to see).")
    return row


def _view(session: Session, endpoint_id: uuid.UUID) -> EndpointView:
    return _endpoint(_load(session, endpoint_id))


def create_endpoint(
    actor: Actor,
    *,
    name: str,
    url: str,
    events: list[str],
    description: str | None = None,
) -> tuple[EndpointView, str]:
    """Create an active endpoint owned by the actor; returns it and its signing secret,
    which is shown this once (the database keeps it sealed).

    Raises ValidationError naming `name`, `url` (not http(s), credentials in it, or a host
    resolving to a private, loopback or link-local address unless
    FASHIONISTAS_WEBHOOKS_ALLOW_PRIVATE=1), `events` or `description`; PermissionDenied
    without users.manage; NotFound / KeyNotConfigured when the webhook key is missing.
    """
    clean_name, clean_url = _name(name), check_url(url)
    chosen, clean_description = _events(events), _description(description)
    secret = new_secret()
    with unit_of_work(actor) as uow:
        uow.require(USERS_MANAGE)
        sealed, key_id = seal(uow.session, secret)
        endpoint_id = uow.session.execute(
            text(
                "INSERT INTO webhooks (user_id, name, description, url, events, is_active,"
                " secret_sealed, secret_key_id)"
                " VALUES (:u, :n, :d, :url, :e, true, :s, :k) RETURNING id"
            ),
            {
                "u": actor.user_id,
                "n": clean_name,
                "d": clean_description,
                "url": clean_url,
                "e": chosen,
                "s": sealed,
                "k": key_id,
            },
        ).scalar_one()
        view = _view(uow.session, endpoint_id)
        uow.commit()
    return view, secret


def list_endpoints(actor: Actor) -> list[EndpointView]:
    """Every endpoint the actor may see, newest first; raises PermissionDenied."""
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(USERS_MANAGE)
        rows = uow.session.execute(
            text(f"SELECT {_ENDPOINT_COLUMNS} FROM webhooks w ORDER BY w.created_at DESC, w.id")
        ).all()
    return [_endpoint(r) for r in rows]


def get_endpoint(actor: Actor, endpoint_id: uuid.UUID) -> EndpointView:
    """One endpoint; raises NotFound, PermissionDenied."""
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(USERS_MANAGE)
        return _view(uow.session, endpoint_id)


_UNSET: Any = object()


def update_endpoint(
    actor: Actor,
    endpoint_id: uuid.UUID,
    *,
    name: str = _UNSET,
    url: str = _UNSET,
    events: list[str] = _UNSET,
    description: str | None = _UNSET,
) -> EndpointView:
    """Change an endpoint's name, URL, event types or description (only those given).

    Raises ValidationError naming the field (as create_endpoint), NotFound,
    PermissionDenied.
    """
    changes: dict[str, Any] = {}
    if name is not _UNSET:
        changes["name"] = _name(name)
    if url is not _UNSET:
        changes["url"] = check_url(url)
    if events is not _UNSET:
        changes["events"] = _events(events)
    if description is not _UNSET:
        changes["description"] = _description(description)
    with unit_of_work(actor) as uow:
        uow.require(USERS_MANAGE)
        _load(uow.session, endpoint_id, lock=True)
        if changes:
            sets = ", ".join(f"{column} = :{column}" for column in changes)
            uow.session.execute(
                text(f"UPDATE webhooks SET {sets} WHERE id = :i"), {**changes, "i": endpoint_id}
            )
        view = _view(uow.session, endpoint_id)
        uow.commit()
    return view


def rotate_secret(actor: Actor, endpoint_id: uuid.UUID) -> str:
    """Give the endpoint a new signing secret and return it (shown once). The previous
    one keeps signing beside it for ROTATION_OVERLAP (Standard Webhooks sends several
    signatures), so receivers can switch without losing a message; an endpoint that had
    no usable secret (migration 0017 removed plain ones) gets none to overlap.

    Raises NotFound, PermissionDenied.
    """
    secret = new_secret()
    with unit_of_work(actor) as uow:
        uow.require(USERS_MANAGE)
        _load(uow.session, endpoint_id, lock=True)
        sealed, key_id = seal(uow.session, secret)
        uow.session.execute(
            text(
                "UPDATE webhooks SET previous_secret_sealed = secret_sealed,"
                " previous_secret_key_id = secret_key_id,"
                " previous_secret_expires_at = CASE WHEN secret_sealed IS NULL THEN NULL"
                "   ELSE now() + make_interval(secs => :overlap) END,"
                " secret_sealed = :s, secret_key_id = :k WHERE id = :i"
            ),
            {
                "s": sealed,
                "k": key_id,
                "i": endpoint_id,
                "overlap": ROTATION_OVERLAP.total_seconds(),
            },
        )
        uow.commit()
    return secret


def set_active(actor: Actor, endpoint_id: uuid.UUID, active: bool) -> EndpointView:
    """Enable or disable an endpoint. Enabling clears the dispatcher's disabled state and
    failure clock; deliveries left pending resume, failed ones wait for a replay.

    Raises Conflict when enabling an endpoint without a signing secret (rotate first),
    NotFound, PermissionDenied.
    """
    with unit_of_work(actor) as uow:
        uow.require(USERS_MANAGE)
        _load(uow.session, endpoint_id, lock=True)
        if active:
            has_secret = uow.session.execute(
                text("SELECT secret_sealed IS NOT NULL FROM webhooks WHERE id = :i"),
                {"i": endpoint_id},
            ).scalar_one()
            if not has_secret:
                raise Conflict(
                    "This endpoint has no signing secret; rotate its secret before enabling it.",
                    field="active",
                )
            uow.session.execute(
                text(
                    "UPDATE webhooks SET is_active = true, disabled_at = NULL,"
                    " disabled_reason = NULL, failing_since = NULL WHERE id = :i"
                ),
                {"i": endpoint_id},
            )
        else:
            uow.session.execute(
                text(
                    "UPDATE webhooks SET is_active = false, disabled_at = NULL,"
                    " disabled_reason = NULL WHERE id = :i"
                ),
                {"i": endpoint_id},
            )
        view = _view(uow.session, endpoint_id)
        uow.commit()
    return view


def _signers(session: Session, endpoint_id: uuid.UUID) -> list[Signer]:
    row = session.execute(
        text(
            "SELECT secret_sealed, secret_key_id,"
            " CASE WHEN previous_secret_expires_at > now() THEN previous_secret_sealed END,"
            " previous_secret_key_id FROM webhooks WHERE id = :i"
        ),
        {"i": endpoint_id},
    ).one()
    if row[0] is None:
        raise Conflict(
            "This endpoint has no signing secret; rotate its secret first.", field="endpoint_id"
        )
    found = [Signer(unseal(session, row[0], row[1]))]
    if row[2] is not None:
        found.append(Signer(unseal(session, row[2], row[3])))
    return found


def send_test_ping(actor: Actor, endpoint_id: uuid.UUID) -> DeliveryDetail:
    """Send a signed `webhook.ping` to the endpoint now (active or not) and record it as a
    delivery; returns the delivery with the endpoint's answer. A failed ping is not
    retried.

    Raises Conflict (no signing secret), ValidationError naming `url` (the URL is no
    longer allowed), NotFound, PermissionDenied.
    """
    with unit_of_work(actor) as uow:
        uow.require(USERS_MANAGE)
        view = _view(uow.session, endpoint_id)
        signers = _signers(uow.session, endpoint_id)
        check_url(view.url)
        headers = uow.session.execute(
            text("SELECT headers FROM webhooks WHERE id = :i"), {"i": endpoint_id}
        ).scalar_one()
        delivery_id, created_at, message_id = uow.session.execute(
            text(
                "INSERT INTO webhook_delivery_logs (webhook_id, message_id, event_type, payload,"
                " status, attempt_count)"
                " VALUES (:w, 'msg_' || replace(gen_random_uuid()::text, '-', ''), :t,"
                " CAST(:p AS jsonb), 'pending', 1) RETURNING id, created_at, message_id"
            ),
            {
                "w": endpoint_id,
                "t": PING.name,
                "p": json.dumps(
                    {
                        "type": PING.name,
                        "timestamp": datetime.now(UTC).isoformat(),
                        "data": {"webhook_id": str(endpoint_id), "message": "ping"},
                    }
                ),
            },
        ).one()
        payload = uow.session.execute(
            text("SELECT payload FROM webhook_delivery_logs WHERE id = :i AND created_at = :c"),
            {"i": delivery_id, "c": created_at},
        ).scalar_one()
        outcome = process_dispatcher().send(
            Endpoint(endpoint_id, view.url, dict(headers or {}), signers), message_id, payload
        )
        entry = {
            "attempt": 1,
            "at": datetime.now(UTC).isoformat(),
            "webhook_timestamp": outcome.timestamp,
            "response_code": outcome.code,
            "response_body": outcome.body,
            "duration_ms": outcome.duration_ms,
            "error": outcome.error,
            "worker": "test ping",
        }
        uow.session.execute(
            text(
                "UPDATE webhook_delivery_logs SET status = :s, response_code = :c,"
                " response_body = :b, error_message = :e, duration_ms = :d, completed_at = now(),"
                " attempts = CAST(:a AS jsonb) WHERE id = :i AND created_at = :ca"
            ),
            {
                "s": "success" if outcome.ok else "failed",
                "c": outcome.code,
                "b": outcome.body,
                "e": outcome.error,
                "d": outcome.duration_ms,
                "a": json.dumps([entry]),
                "i": delivery_id,
                "ca": created_at,
            },
        )
        detail = _detail(uow.session, delivery_id)
        uow.commit()
    return detail


def list_deliveries(
    actor: Actor,
    *,
    endpoint_id: uuid.UUID | None = None,
    status: str | None = None,
    event_type: str | None = None,
    since: datetime | None = None,
    limit: int = 50,
    before: datetime | None = None,
) -> list[DeliveryView]:
    """Deliveries the actor may see, newest first, filtered; `before` (a created_at from
    the last page) pages on. Raises ValidationError naming `status`, `event_type` or
    `limit`; PermissionDenied."""
    if status is not None and status not in WEBHOOK_DELIVERY_STATUSES:
        raise ValidationError(
            f"status must be one of: {', '.join(WEBHOOK_DELIVERY_STATUSES)}", field="status"
        )
    if event_type is not None and event_type not in EVENT_TYPES and event_type != PING.name:
        raise ValidationError("Unknown event type", field="event_type")
    if not 1 <= int(limit) <= MAX_LIMIT:
        raise ValidationError(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
    where, params = ["true"], {"limit": int(limit)}
    for column, value, key in (
        ("d.webhook_id", endpoint_id, "e"),
        ("d.status", status, "s"),
        ("d.event_type", event_type, "t"),
    ):
        if value is not None:
            where.append(f"{column} = :{key}")
            params[key] = value
    if since is not None:
        where.append("d.created_at >= :since")
        params["since"] = since
    if before is not None:
        where.append("d.created_at < :before")
        params["before"] = before
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(USERS_MANAGE)
        rows = uow.session.execute(
            text(
                f"SELECT {_DELIVERY_COLUMNS} FROM webhook_delivery_logs d"
                f" JOIN webhooks w ON w.id = d.webhook_id WHERE {' AND '.join(where)}"
                " ORDER BY d.created_at DESC, d.id LIMIT :limit"
            ),
            params,
        ).all()
    return [DeliveryView(*r) for r in rows]


def _detail(session: Session, delivery_id: uuid.UUID) -> DeliveryDetail:
    row = session.execute(
        text(
            f"SELECT {_DELIVERY_COLUMNS}, w.url, d.payload, d.attempts, d.response_body"
            " FROM webhook_delivery_logs d JOIN webhooks w ON w.id = d.webhook_id"
            " WHERE d.id = :i"
        ),
        {"i": delivery_id},
    ).one_or_none()
    if row is None:
        raise NotFound("No such webhook delivery (or it is not yours to see).")
    base, (url, payload, attempts, response_body) = row[:13], row[13:]
    attempts = tuple(attempts or ())
    last_stamp = attempts[-1].get("webhook_timestamp") if attempts else None
    headers = {"content-type": "application/json", "webhook-id": base[4]}
    if last_stamp is not None:
        headers["webhook-timestamp"] = str(last_stamp)
    headers["webhook-signature"] = "v1,… (one per active secret; not kept)"
    return DeliveryDetail(
        *base,
        url=url,
        request_body=body_of(payload),
        request_headers=headers,
        attempts=attempts,
        response_body=response_body,
    )


def get_delivery(actor: Actor, delivery_id: uuid.UUID) -> DeliveryDetail:
    """One delivery with its request and every attempt's response; raises NotFound,
    PermissionDenied."""
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(USERS_MANAGE)
        return _detail(uow.session, delivery_id)


def replay(
    actor: Actor,
    *,
    delivery_id: uuid.UUID | None = None,
    endpoint_id: uuid.UUID | None = None,
    failed_since: datetime | None = None,
) -> int:
    """Send deliveries again (same webhook-id, next attempt number): one delivery by id
    (whatever its status), or every failed delivery created since `failed_since`,
    optionally of one endpoint. Returns how many were queued; the dispatcher sends them
    (an inactive endpoint's wait until it is enabled).

    Raises ValidationError (field `failed_since`) when neither a delivery nor a time is
    given, NotFound, PermissionDenied.
    """
    if delivery_id is None and failed_since is None:
        raise ValidationError(
            "Choose a delivery, or a time to replay every failed delivery since",
            field="failed_since",
        )
    reset = (
        "UPDATE webhook_delivery_logs d SET status = 'pending', next_retry_at = now(),"
        " completed_at = NULL, locked_by = NULL, locked_until = NULL"
    )
    with unit_of_work(actor) as uow:
        uow.require(USERS_MANAGE)
        if delivery_id is not None:
            _detail(uow.session, delivery_id)
            count = uow.session.execute(
                text(reset + " WHERE d.id = :i AND d.status <> 'pending'"), {"i": delivery_id}
            ).rowcount
        else:
            where = "d.status = 'failed' AND d.created_at >= :since"
            params: dict[str, Any] = {"since": failed_since}
            if endpoint_id is not None:
                _load(uow.session, endpoint_id)
                where += " AND d.webhook_id = :e"
                params["e"] = endpoint_id
            # Only endpoints the actor sees (the update policy says the same).
            where += " AND EXISTS (SELECT 1 FROM webhooks w WHERE w.id = d.webhook_id)"
            count = uow.session.execute(text(f"{reset} WHERE {where}"), params).rowcount
        uow.commit()
    return int(count)


__all__ = [
    "ROTATION_OVERLAP",
    "DeliveryDetail",
    "DeliveryView",
    "EndpointView",
    "create_endpoint",
    "get_delivery",
    "get_endpoint",
    "list_deliveries",
    "list_endpoints",
    "replay",
    "rotate_secret",
    "send_test_ping",
    "set_active",
    "update_endpoint",
]
