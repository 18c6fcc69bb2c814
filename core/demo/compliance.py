"""GDPR data-subject requests, the audit log and the encryption-key registry."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from random import Random

from psycopg.types.json import Jsonb

from core.demo.clock import DAY, HOUR, MINUTE, add_month, ts_or_none, ts_text
from core.demo.ids import new_id
from core.demo.money import money
from core.demo.vocab import USER_AGENTS
from core.demo.world import World
from core.demo.writer import TableLoad

REQUEST_TYPES = ("access", "portability", "erasure", "rectification", "restriction")
REJECTIONS = (
    "Identity could not be verified after two reminders.",
    "Orders must be kept for six years for tax purposes; erasure applies after that.",
    "The request repeats one answered last month.",
)
KEYS = (
    ("payment_info", 1, "env:FASHIONISTAS_KEY_V1", False),
    ("payment_info", 2, "env:FASHIONISTAS_KEY_V2", True),
    ("pii_export", 1, "env:FASHIONISTAS_PII_KEY_V1", True),
)
# (action, share of the log) for entries not about orders.
OTHER_ACTIONS = (
    ("users.update", 30),
    ("events.update", 20),
    ("ticket_types.update", 15),
    ("discount_codes.update", 10),
    ("sponsorship_assets.update", 10),
    ("data_subject_requests.update", 8),
    ("system_configurations.update", 7),
)


def plan(world: World) -> None:
    """Key ids first: profiles and orders may name the key their ciphertext needs."""
    world.encryption_key_ids = [new_id(world.rng) for _ in KEYS]


def tables(world: World) -> Iterator[TableLoad]:
    """data_subject_requests, audit_logs (from the order sample); encryption_keys come
    first, from key_table."""
    requests = _requests(world)
    yield requests
    yield _audit(world)
    yield _matches(world, requests)


def key_table(world: World) -> TableLoad:
    """encryption_keys, written before the profiles and orders whose ciphertext names them."""
    t0 = world.clock.t0
    rows = []
    for key_id, (name, version, reference, active) in zip(
        world.encryption_key_ids, KEYS, strict=True
    ):
        created = t0 - (400 if version == 1 else 120) * DAY
        rotated = None if active else ts_text(t0 - 120 * DAY)
        rows.append((key_id, name, version, "fernet", reference, active, rotated, ts_text(created)))
    return TableLoad(
        "encryption_keys",
        (
            "id",
            "key_name",
            "key_version",
            "algorithm",
            "key_reference",
            "is_active",
            "rotated_at",
            "created_at",
        ),
        rows,
    )


def _requests(world: World) -> TableLoad:
    rng, pools, t0 = world.rng, world.pools, world.clock.t0
    admins = world.users_by_type["admin"]
    rows = []
    for i in range(world.scale.data_subject_requests):
        kind = REQUEST_TYPES[i % len(REQUEST_TYPES)]
        if i == 0:  # always one overdue: open and past its month
            status, age = "pending", rng.randint(35, 60)
        elif i == 1:
            status, age = "processing", rng.randint(3, 20)
        elif i == 2:
            status, age = "rejected", rng.randint(20, 90)
        else:
            status = rng.choices(
                ("completed", "pending", "processing", "rejected"), (50, 20, 15, 15)
            )[0]
            age = rng.randint(1, 25) if status == "pending" else rng.randint(2, 120)
        submitted = t0 - age * DAY + rng.randrange(DAY)
        due = add_month(submitted)
        user = rng.choice(world.users) if rng.random() < 0.8 else None
        email = (
            user.email
            if user
            else f"{rng.choice(pools.first_ascii)}.{rng.choice(pools.last_ascii)}@example.org"
        )
        verified = submitted + rng.randint(1, 3) * DAY if status != "pending" else None
        if verified is not None and verified >= t0:
            verified = t0 - HOUR
        closed = None
        if status in ("completed", "rejected"):
            closed = min(submitted + rng.randint(3, 28) * DAY, t0 - HOUR)
        request_id = new_id(rng)
        exported = outcome = fingerprint = None
        if status == "completed" and kind in ("access", "portability", "erasure"):
            exported = closed - HOUR
            # Derived, not drawn: the demo's random sequence stays as it was.
            fingerprint = hashlib.sha256(str(request_id).encode()).hexdigest()
        if status == "completed" and kind == "erasure":
            # An erased person is anonymous everywhere, their requests included.
            user, email = None, f"erased-{request_id}@erased.invalid"
            outcome = Jsonb({"erased": {"users": 1, "orders": int(str(request_id)[0], 16) % 5}})
        elif status == "completed" and kind == "rectification":
            outcome = Jsonb({"rectified_fields": ["phone_number"]})
        rows.append(
            (
                request_id,
                None if user is None else user.id,
                email,
                kind,
                status,
                Jsonb(
                    {
                        "channel": rng.choice(("web form", "e-mail", "letter")),
                        "scope": ["orders", "profile"],
                    }
                ),
                ts_text(submitted),
                ts_text(due),
                ts_or_none(verified),
                rng.choice(("email_link", "id_document")) if verified else None,
                rng.choice(admins).id if status != "pending" else None,
                ts_text(closed) if status == "completed" else None,
                rng.choice(REJECTIONS) if status == "rejected" else None,
                None,
                rng.choice(admins).id if closed else None,
                ts_text(submitted),
                ts_text(closed or verified or submitted),
                ts_or_none(exported),
                fingerprint,
                outcome,
            )
        )
    return TableLoad(
        "data_subject_requests",
        (
            "id", "user_id", "subject_email", "request_type", "status", "request_details",
            "submitted_at", "due_at", "identity_verified_at", "identity_verification_method",
            "assigned_to", "completed_at", "rejection_reason", "notes", "handled_by",
            "created_at", "updated_at", "exported_at", "export_fingerprint", "outcome",
        ),
        rows,
    )  # fmt: skip


MATCHES_PER_ERASURE = 2
MATCH_REASON = "Another customer with the same phone number."


def _matches(world: World, requests: TableLoad) -> TableLoad:
    """Two scan matches per erasure request (migration 0014): a phone number the person
    shares with the buyer of another demo order. Decided 'keep' on completed erasures,
    undecided on open ones. Drawn from a stream of each request's own, so the demo's one
    random stream stays as it was."""
    rows = []
    for request in requests.rows:
        request_id, kind, status, completed, handler = (
            request[0], request[3], request[4], request[11], request[14]
        )  # fmt: skip
        if kind != "erasure":
            continue
        own = Random(str(request_id))
        for _ in range(MATCHES_PER_ERASURE):
            order_id, *_ = own.choice(world.order_sample)
            decided = status == "completed"
            rows.append(
                (new_id(own), request_id, "orders", str(order_id), "billing_phone", "phone",
                 completed or request[6], "keep" if decided else None,
                 MATCH_REASON if decided else None, handler if decided else None,
                 completed if decided else None)
            )  # fmt: skip
    return TableLoad(
        "data_subject_request_matches",
        (
            "id", "request_id", "table_name", "record_key", "column_name", "matched",
            "found_at", "decision", "reason", "decided_by", "decided_at",
        ),
        rows,
    )  # fmt: skip


def erasure_requests(total: int) -> int:
    """How many of `total` demo requests are erasures (every fifth, from the third)."""
    return len(range(REQUEST_TYPES.index("erasure"), total, len(REQUEST_TYPES)))


def _audit(world: World) -> TableLoad:
    """Order inserts and status changes from the order sample, then other tables' changes."""
    rng, pools, clock = world.rng, world.pools, world.clock
    start = clock.first_day * DAY
    span = clock.t0 - start
    n = world.scale.audit_logs
    staff = (
        world.users_by_type["staff"]
        + world.users_by_type["organizer"]
        + world.users_by_type["admin"]
    )
    sample = [s for s in world.order_sample if s[4] >= start]
    rng.shuffle(sample)
    actions = [a for a, _ in OTHER_ACTIONS]
    weights = [w for _, w in OTHER_ACTIONS]
    events = world.events

    def rows():
        made = 0
        for order_id, number, status, total, ts in sample:
            if made >= n // 2:
                break
            new = {"order_number": number, "status": "pending", "total_amount": money(total)}
            yield (new_id(rng), None, "orders.insert", "orders", order_id, None, Jsonb(new),
                   rng.choice(pools.ipv4), USER_AGENTS[0], False, ts_text(ts))  # fmt: skip
            made += 1
            if status != "pending":
                changed = ts_text(min(ts + 5 * MINUTE, clock.t0 - MINUTE))
                yield (new_id(rng), rng.choice(staff).id, "orders.update", "orders", order_id,
                       Jsonb({"status": "pending"}), Jsonb({"status": status}),
                       rng.choice(pools.ipv4), USER_AGENTS[1], False, changed)  # fmt: skip
                made += 1
        for _ in range(n - made):
            action = rng.choices(actions, weights)[0]
            table = action.split(".")[0]
            if table == "users":
                u = rng.choice(world.users)
                record, old, new = u.id, {"status": "pending"}, {"status": u.status}
            elif table == "events":
                e = rng.choice(events)
                record, old, new = e.id, {"status": "draft"}, {"status": e.status}
            else:
                record, old, new = new_id(rng), {"version": 1}, {"version": 2}
            at = ts_text(start + rng.randrange(span))
            yield (new_id(rng), rng.choice(staff).id, action, table, record, Jsonb(old), Jsonb(new),
                   rng.choice(pools.ipv4), USER_AGENTS[1], False, at)  # fmt: skip

    return TableLoad(
        "audit_logs",
        (
            "id", "user_id", "action", "table_name", "record_id", "old_data", "new_data",
            "ip_address", "user_agent", "is_redacted", "created_at",
        ),
        rows(),
        n,
    )  # fmt: skip
