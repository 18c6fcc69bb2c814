"""The webhook dispatcher: domain events → deliveries → signed POSTs, at least once.

A periodic task of the background worker (core/webhooks/jobs.py; `python -m core worker`
and `worker --once` both run it). One round:

1. **Fan out**: pending domain events, oldest first (`FOR UPDATE SKIP LOCKED`), become one
   delivery row per subscribed active endpoint created before the event, in the same
   transaction that marks the events processed; (event, endpoint) is unique, so a round
   that dies half-way leaves nothing doubled.
2. **Claim**: due deliveries, in batches, with `FOR UPDATE SKIP LOCKED` and a lease
   (`locked_by`, `locked_until`); the claim itself counts the attempt, so a delivery
   claimed again after a lease ran out (a worker killed in mid-send) is a new attempt with
   the same webhook-id. Only the earliest open delivery of an aggregate per endpoint is
   claimable: deliveries of one order reach one endpoint in order.
3. **Send**: a small thread pool POSTs each body signed with the standardwebhooks library
   (webhook-id, webhook-timestamp, webhook-signature; during a rotation overlap both the
   new and the previous secret sign), httpx with a timeout.
4. **Record**: one statement per batch, fenced by the lease holder and the attempt number
   (a worker whose lease was taken over records nothing): 2xx is success; anything else
   waits its backoff (exponential, with jitter) or, after the last attempt, fails. An
   endpoint with no success for DISABLE_AFTER is disabled, with the reason.

The dispatcher works on the owner connection: it is no person, and it must read every
endpoint's sealed secret and every event (row-level security would show it none).
"""

from __future__ import annotations

import json
import logging
import os
import random
import socket
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import Connection, Engine, text
from standardwebhooks import Webhook as Signer

from core.db import get_owner_engine
from core.errors import DomainError
from core.webhooks.config import ATTEMPTS_KEPT, BODY_CAP, JITTER, DispatchConfig, allow_private
from core.webhooks.secrets import unseal_with
from core.webhooks.urls import check_url

log = logging.getLogger("core.webhooks")

FAN_OUT_BATCH = 500
CLAIM_BATCH = 200
USER_AGENT = "Fashionistas-Webhooks/1.0"

FAN_OUT = text(
    """
WITH ev AS (
  SELECT id, sequence, aggregate_id, event_type, event_data, occurred_at FROM domain_events
   WHERE processing_status = 'pending' ORDER BY sequence LIMIT :n FOR UPDATE SKIP LOCKED
), ins AS (
  INSERT INTO webhook_delivery_logs (webhook_id, domain_event_id, message_id, event_type,
                                     payload, status, next_retry_at, aggregate_id,
                                     event_sequence, created_at)
  SELECT w.id, ev.id, 'msg_' || replace(gen_random_uuid()::text, '-', ''), ev.event_type,
         jsonb_build_object('type', ev.event_type, 'timestamp', ev.occurred_at,
                            'data', ev.event_data),
         'pending', now(), ev.aggregate_id, ev.sequence, ev.occurred_at
    FROM ev JOIN webhooks w ON w.is_active AND ev.event_type = ANY (w.events)
                           AND w.created_at <= ev.occurred_at
  ON CONFLICT DO NOTHING
  RETURNING 1
), done AS (
  UPDATE domain_events e SET processing_status = 'processed', processed_at = now()
    FROM ev WHERE e.id = ev.id
  RETURNING 1
)
SELECT (SELECT count(*) FROM done), (SELECT count(*) FROM ins)
"""
)

CLAIM = text(
    """
WITH due AS (
  SELECT d.id, d.created_at FROM webhook_delivery_logs d
    JOIN webhooks w ON w.id = d.webhook_id AND w.is_active
   WHERE d.status IN ('pending', 'retry') AND d.next_retry_at <= now()
     AND (d.locked_until IS NULL OR d.locked_until < now())
     AND NOT EXISTS (
       SELECT 1 FROM webhook_delivery_logs e
        WHERE e.webhook_id = d.webhook_id AND e.aggregate_id = d.aggregate_id
          AND e.status IN ('pending', 'retry') AND e.event_sequence < d.event_sequence)
   ORDER BY d.next_retry_at
   LIMIT :n
   FOR UPDATE OF d SKIP LOCKED
)
UPDATE webhook_delivery_logs d
   SET attempt_count = d.attempt_count + 1, locked_by = :worker,
       locked_until = now() + make_interval(secs => :lease)
  FROM due WHERE d.id = due.id AND d.created_at = due.created_at
RETURNING d.id, d.created_at, d.webhook_id, d.message_id, d.payload, d.attempt_count
"""
)

RECORD = text(
    """
WITH r AS (
  SELECT * FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(
    id uuid, created_at timestamptz, attempt integer, ok boolean, final boolean,
    code integer, body text, error text, duration integer, delay double precision,
    entry jsonb)
)
UPDATE webhook_delivery_logs d
   SET status = CASE WHEN r.ok THEN 'success' WHEN r.final THEN 'failed' ELSE 'retry' END,
       response_code = r.code, response_body = r.body, error_message = r.error,
       duration_ms = r.duration,
       next_retry_at = CASE WHEN r.ok OR r.final THEN NULL
                            ELSE now() + make_interval(secs => r.delay) END,
       completed_at = CASE WHEN r.ok OR r.final THEN now() END,
       locked_by = NULL, locked_until = NULL,
       attempts = (SELECT coalesce(jsonb_agg(a ORDER BY n), '[]'::jsonb) FROM (
                     SELECT a, n FROM jsonb_array_elements(d.attempts || r.entry)
                       WITH ORDINALITY AS t(a, n)
                      ORDER BY n DESC LIMIT :kept) k)
  FROM r
 WHERE d.id = r.id AND d.created_at = r.created_at AND d.locked_by = :worker
   AND d.attempt_count = r.attempt
RETURNING d.webhook_id, r.ok
"""
)

# Endpoints of this batch: a success clears failing_since, a failure starts it, and
# failing for longer than the limit disables the endpoint (the page shows the reason).
ENDPOINT_HEALTH = text(
    """
WITH h AS (
  SELECT h.webhook_id, h.ok,
         coalesce(NOT h.ok AND w.failing_since < now() - make_interval(secs => :limit), false)
           AS expired
    FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS h(webhook_id uuid, ok boolean)
    JOIN webhooks w ON w.id = h.webhook_id
)
UPDATE webhooks w
   SET failing_since = CASE WHEN h.ok THEN NULL ELSE coalesce(w.failing_since, now()) END,
       is_active = w.is_active AND NOT h.expired,
       disabled_at = CASE WHEN h.expired THEN now() ELSE w.disabled_at END,
       disabled_reason = CASE WHEN h.expired
                              THEN 'Disabled by the dispatcher: every delivery failed since '
                                   || to_char(w.failing_since AT TIME ZONE 'UTC',
                                              'YYYY-MM-DD HH24:MI "UTC"')
                                   || '. Fix the receiver, then enable the endpoint and'
                                   || ' replay the failed deliveries.'
                              ELSE w.disabled_reason END
  FROM h
 WHERE w.id = h.webhook_id AND (NOT h.ok OR w.failing_since IS NOT NULL)
"""
)

ENDPOINTS = text(
    """
SELECT w.id, w.url, w.headers, w.secret_sealed, k.key_reference,
       CASE WHEN w.previous_secret_expires_at > now() THEN w.previous_secret_sealed END
         AS previous_sealed, pk.key_reference AS previous_reference
  FROM webhooks w
  LEFT JOIN encryption_keys k ON k.id = w.secret_key_id
  LEFT JOIN encryption_keys pk ON pk.id = w.previous_secret_key_id
 WHERE w.id = ANY (CAST(:ids AS uuid[]))
"""
)


@dataclass
class Endpoint:
    """What sending needs of an endpoint; `signers` hold the secrets (never printed)."""

    id: uuid.UUID
    url: str
    headers: dict[str, str]
    signers: list[Signer] = field(repr=False)
    refusal: str | None = None


@dataclass(frozen=True)
class Claimed:
    id: uuid.UUID
    created_at: datetime
    webhook_id: uuid.UUID
    message_id: str
    payload: dict[str, Any]
    attempt: int


@dataclass(frozen=True)
class Outcome:
    ok: bool
    code: int | None
    body: str | None
    error: str | None
    duration_ms: int
    timestamp: int


def body_of(payload: dict[str, Any]) -> str:
    """The exact text POSTed (and signed) for a payload: the same on every attempt."""
    return json.dumps(payload, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def sign_headers(signers: list[Signer], message_id: str, body: str, when: datetime) -> dict:
    """The Standard Webhooks headers: one `v1,` signature per active secret."""
    signature = " ".join(s.sign(message_id, when, body) for s in signers)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(when.timestamp())),
        "webhook-signature": signature,
    }


def backoff(attempt: int, config: DispatchConfig, rng: random.Random | None = None) -> float:
    """Seconds to wait after failed attempt `attempt` (1-based), with +-JITTER."""
    base = config.schedule[min(attempt, len(config.schedule)) - 1]
    return max(0.0, base * (1 + (rng or random).uniform(-JITTER, JITTER)))


def _cap(value: str | None, limit: int) -> str | None:
    if value is None:
        return None
    encoded = value.encode("utf-8", "replace")
    if len(encoded) <= limit:
        return value
    return encoded[:limit].decode("utf-8", "ignore") + "…"


class Dispatcher:
    """Fan-out, claim, send and record, in rounds; one per worker process."""

    def __init__(
        self,
        *,
        engine_factory: Any = get_owner_engine,
        worker_id: str | None = None,
        config: DispatchConfig | None = None,
        transport: httpx.BaseTransport | None = None,
        claim_batch: int = CLAIM_BATCH,
    ):
        self.engine_factory = engine_factory
        self.claim_batch = claim_batch
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.config = config or DispatchConfig.from_env()
        self._client = httpx.Client(
            timeout=httpx.Timeout(self.config.timeout_seconds),
            follow_redirects=False,
            headers={"user-agent": USER_AGENT, "content-type": "application/json"},
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=64),
            transport=transport,
        )
        self._pool = ThreadPoolExecutor(self.config.threads, thread_name_prefix="webhooks")
        self._rng = random.Random()

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self._client.close()

    @property
    def engine(self) -> Engine:
        return self.engine_factory()

    # -- 1. fan out --
    def fan_out(self, limit: int = FAN_OUT_BATCH) -> tuple[int, int]:
        """(events processed, deliveries made) for up to `limit` pending events."""
        with self.engine.begin() as conn:
            events, deliveries = conn.execute(FAN_OUT, {"n": limit}).one()
        return int(events), int(deliveries)

    # -- 2. claim --
    def claim(self, limit: int | None = None) -> list[Claimed]:
        """Lease up to `limit` due deliveries to this worker (each claim is an attempt)."""
        limit = limit or self.claim_batch
        with self.engine.begin() as conn:
            rows = conn.execute(
                CLAIM,
                {"n": limit, "worker": self.worker_id, "lease": self.config.lease_seconds},
            ).all()
        return [Claimed(*row) for row in rows]

    # -- 3. send --
    def _endpoints(self, conn: Connection, ids: set[uuid.UUID]) -> dict[uuid.UUID, Endpoint]:
        found: dict[uuid.UUID, Endpoint] = {}
        for row in conn.execute(ENDPOINTS, {"ids": [str(i) for i in ids]}):
            refusal = None
            signers: list[Signer] = []
            try:
                if row.secret_sealed is None or row.key_reference is None:
                    raise DomainError("The endpoint has no signing secret; rotate its secret.")
                signers.append(Signer(unseal_with(row.key_reference, row.secret_sealed)))
                if row.previous_sealed is not None and row.previous_reference is not None:
                    signers.append(Signer(unseal_with(row.previous_reference, row.previous_sealed)))
                if not allow_private():
                    check_url(row.url)
            except DomainError as exc:
                refusal = exc.message
            found[row.id] = Endpoint(row.id, row.url, dict(row.headers or {}), signers, refusal)
        return found

    def send(self, endpoint: Endpoint, message_id: str, payload: dict[str, Any]) -> Outcome:
        """POST one signed message; never raises (a failure is an Outcome)."""
        now = datetime.now(UTC)
        stamp = int(now.timestamp())
        if endpoint.refusal is not None:
            return Outcome(False, None, None, endpoint.refusal, 0, stamp)
        body = body_of(payload)
        headers = {**endpoint.headers, **sign_headers(endpoint.signers, message_id, body, now)}
        started = time.perf_counter()
        try:
            response = self._client.post(endpoint.url, content=body.encode(), headers=headers)
        except httpx.HTTPError as exc:
            duration = int((time.perf_counter() - started) * 1000)
            # The exception's class and text name the failure (timeout, refused); they
            # carry the URL at most, never a header.
            return Outcome(
                False, None, None, _cap(f"{type(exc).__name__}: {exc}", 500), duration, stamp
            )
        duration = int((time.perf_counter() - started) * 1000)
        ok = 200 <= response.status_code < 300
        text_body = _cap(response.text, BODY_CAP)
        error = None if ok else f"the endpoint answered HTTP {response.status_code}"
        return Outcome(ok, response.status_code, text_body, error, duration, stamp)

    # -- 4. record --
    def record(self, results: list[tuple[Claimed, Outcome]]) -> int:
        """Write outcomes (fenced by lease and attempt); returns how many were recorded."""
        if not results:
            return 0
        rows = []
        for claimed, outcome in results:
            final = not outcome.ok and claimed.attempt >= self.config.max_attempts
            rows.append(
                {
                    "id": str(claimed.id),
                    "created_at": claimed.created_at.isoformat(),
                    "attempt": claimed.attempt,
                    "ok": outcome.ok,
                    "final": final,
                    "code": outcome.code,
                    "body": outcome.body,
                    "error": outcome.error,
                    "duration": outcome.duration_ms,
                    "delay": 0.0
                    if outcome.ok or final
                    else backoff(claimed.attempt, self.config, self._rng),
                    "entry": [
                        {
                            "attempt": claimed.attempt,
                            "at": datetime.now(UTC).isoformat(),
                            "webhook_timestamp": outcome.timestamp,
                            "response_code": outcome.code,
                            "response_body": outcome.body,
                            "duration_ms": outcome.duration_ms,
                            "error": outcome.error,
                            "worker": self.worker_id,
                        }
                    ],
                }
            )
        with self.engine.begin() as conn:
            recorded = conn.execute(
                RECORD, {"rows": json.dumps(rows), "worker": self.worker_id, "kept": ATTEMPTS_KEPT}
            ).all()
            health: dict[str, bool] = {}
            for webhook_id, ok in recorded:
                health[str(webhook_id)] = health.get(str(webhook_id), False) or bool(ok)
            if health:
                conn.execute(
                    ENDPOINT_HEALTH,
                    {
                        "rows": json.dumps([{"webhook_id": k, "ok": v} for k, v in health.items()]),
                        "limit": self.config.disable_after_seconds,
                    },
                )
        return len(recorded)

    def deliver(self, batch: list[Claimed]) -> int:
        """Send a claimed batch in parallel and record it; returns how many were recorded."""
        if not batch:
            return 0
        with self.engine.connect() as conn:
            endpoints = self._endpoints(conn, {c.webhook_id for c in batch})
            conn.rollback()
        missing = Endpoint(uuid.UUID(int=0), "", {}, [], "The endpoint no longer exists.")
        outcomes = list(
            self._pool.map(
                lambda c: self.send(endpoints.get(c.webhook_id, missing), c.message_id, c.payload),
                batch,
            )
        )
        return self.record(list(zip(batch, outcomes, strict=True)))

    def run_round(self) -> int:
        """One fan-out and one claimed batch; returns events fanned out + deliveries sent."""
        events = 0
        while True:
            done, _ = self.fan_out()
            events += done
            if done < FAN_OUT_BATCH:
                break
        return events + self.deliver(self.claim())

    def run_for(self, seconds: float, *, idle_seconds: float = 0.5, poll: float = 0.05) -> int:
        """Rounds until `seconds` passed or nothing happened for `idle_seconds`."""
        deadline = time.monotonic() + seconds
        idle_since: float | None = None
        total = 0
        while time.monotonic() < deadline:
            did = self.run_round()
            total += did
            now = time.monotonic()
            if did:
                idle_since = None
                continue
            idle_since = idle_since or now
            if now - idle_since >= idle_seconds:
                break
            time.sleep(poll)
        return total


_lock = threading.Lock()
_dispatchers: dict[int, Dispatcher] = {}


def process_dispatcher() -> Dispatcher:
    """This process's dispatcher (its HTTP client and thread pool are reused)."""
    with _lock:
        current = _dispatchers.get(os.getpid())
        if current is None:
            current = _dispatchers[os.getpid()] = Dispatcher()
        return current


def reset_process_dispatcher() -> None:
    """Forget this process's dispatcher (tests that change configuration or database)."""
    with _lock:
        current = _dispatchers.pop(os.getpid(), None)
    if current is not None:
        current.close()
