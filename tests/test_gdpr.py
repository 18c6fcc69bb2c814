"""GDPR data-subject requests on the real database, as the app role under row-level
security: intake and deadlines, status moves, discovery, the export bundle, erasure with
its verification scan (and the canary test), rectification and restriction."""

from __future__ import annotations

import io
import json
import random
import re
import uuid
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from psycopg.types.json import Jsonb
from sqlalchemy import Engine, text

from core.auth import Identity
from core.errors import Conflict, PermissionDenied, ValidationError
from core.gdpr import erasure, export, rectification, requests
from core.gdpr.discovery import CATEGORIES, discover, identifying_terms, subject_of_request
from core.jobs import Worker
from core.jobs.registry import load_handlers
from tests.apptest import make_person
from tests.conftest import SecureDatabase

# An export job reports progress on a connection of its own while its discovery holds one.
APP_POOL_SIZE = 3


@dataclass
class Planted:
    """A person with data in every category; `markers` are strings found nowhere else."""

    user_id: uuid.UUID
    email: str
    name: str
    phone: str
    order_id: uuid.UUID
    order_number: str
    order_total: float
    markers: list[str]


def plant_subject(owner: Engine) -> Planted:
    """As the owner: a person with an account, password, session, failed sign-ins, profile,
    role, work at an event, an order with an item, a
    payment and promo usage, engagement, a segment, designer and model profiles, a sponsor
    and a venue contact, a webhook with a delivery, an API key, a domain event, a job that
    mentions them and an audit entry by hand (the triggers add more)."""
    m = uuid.uuid4().hex[:10]
    email = f"canary.{m}@example.com"
    name = f"Ilse Qx{m}"
    phone = f"+31 6 {random.randint(10_000_000, 99_999_999)}"
    bio = f"Loves tailoring; ask for Qx{m}-bio"
    street = f"Keizersgracht {m} street"
    note = f"Call {name} before the show ({m}-note)"
    markers = [email, name, phone, f"Qx{m}-bio", f"Keizersgracht {m}", f"{m}-note", f"Qx{m}"]
    with owner.begin() as c:
        q = lambda sql, **p: c.execute(text(sql), p)  # noqa: E731
        user_id = q(
            "INSERT INTO users (email, full_name, phone_number, user_type, status)"
            " VALUES (:e, :n, :p, 'attendee', 'active') RETURNING id",
            e=email,
            n=name,
            p=phone,
        ).scalar_one()
        q(
            "INSERT INTO user_profiles (user_id, first_name, last_name, bio, address)"
            " VALUES (:u, 'Ilse', :l, :b, :a)",
            u=user_id,
            l=f"Qx{m}",
            b=bio,
            a=Jsonb({"street": street, "city": "Amsterdam"}),
        )
        q(
            "INSERT INTO user_roles (user_id, role_id) SELECT :u, id FROM roles"
            " WHERE name = 'staff'",
            u=user_id,
        )
        event_id, type_id = q(
            "SELECT e.id, t.id FROM events e JOIN ticket_types t ON t.event_id = e.id LIMIT 1"
        ).one()
        # Sign-in data (migration 0012): a password, a session, failed sign-ins with the
        # typed e-mail, and work at an event's door (event_staff, 0013).
        q(
            "INSERT INTO user_credentials (user_id, password_hash, password_changed_at)"
            " VALUES (:u, :h, now())",
            u=user_id,
            h=f"$argon2id$v=19$m=65536,t=3,p=4$canary{m}",
        )
        q(
            "INSERT INTO auth_sessions (token_hash, user_id, method, idle_minutes, expires_at)"
            " VALUES (:h, :u, 'password', 30, now() + interval '30 minutes')",
            h=uuid.uuid4().hex + uuid.uuid4().hex,
            u=user_id,
        )
        q(
            "INSERT INTO sign_in_throttles (ip_address, kind, email, failures, first_failed_at,"
            " last_failed_at, blocked_until) VALUES ('203.0.113.9', 'account', :e, 2, now(),"
            " now(), now())",
            e=email,
        )
        q(
            "INSERT INTO event_staff (event_id, user_id) VALUES (:ev, :u)",
            ev=event_id,
            u=user_id,
        )
        number = f"GD-{m}"
        order_id = q(
            "INSERT INTO orders (order_number, user_id, event_id, status, total_amount,"
            " subtotal, tax_amount, discount_amount, currency, billing_email, billing_name,"
            " billing_phone, billing_address, notes, ip_address, user_agent, metadata)"
            " VALUES (:no, :u, :ev, 'completed', 121.00, 100.00, 21.00, 0, 'EUR', :e, :n, :p,"
            " :a, :note, '203.0.113.9', 'Canary/1.0', :meta) RETURNING id",
            no=number,
            u=user_id,
            ev=event_id,
            e=email,
            n=name,
            p=phone,
            a=Jsonb({"street": street, "city": "Amsterdam"}),
            note=note,
            meta=Jsonb({"buyer_email": email}),
        ).scalar_one()
        q(
            "INSERT INTO order_items (order_id, ticket_type_id, quantity, unit_price, subtotal,"
            " discount_amount, final_price, tax_amount, metadata)"
            " VALUES (:o, :t, 1, 100.00, 100.00, 0, 100.00, 21.00, :meta)",
            o=order_id,
            t=type_id,
            meta=Jsonb({"attendee": name}),
        )
        q(
            "INSERT INTO order_payments (order_id, provider, method, amount, currency, reference)"
            " VALUES (:o, 'test', 'card', 121.00, 'EUR', :r)",
            o=order_id,
            r=f"pay-{m}",
        )
        q(
            "INSERT INTO promotional_code_usage (code_id, user_id, order_id, discount_amount,"
            " order_total) SELECT id, :u, :o, 0, 121.00 FROM promotional_codes LIMIT 1",
            u=user_id,
            o=order_id,
        )
        q(
            "INSERT INTO user_engagement (user_id, engagement_type, engagement_source,"
            " engagement_data, ip_address) VALUES (:u, 'view', 'web', :d, '203.0.113.9')",
            u=user_id,
            d=Jsonb({"contact": email}),
        )
        q(
            "INSERT INTO segment_members (segment_id, user_id)"
            " SELECT id, :u FROM marketing_segments LIMIT 1",
            u=user_id,
        )
        q(
            "INSERT INTO designers (user_id, name, contact_email, contact_phone, bio)"
            " VALUES (:u, :n, :e, :p, :b)",
            u=user_id,
            n=name,
            e=email,
            p=phone,
            b=bio,
        )
        q(
            "INSERT INTO models (user_id, name, bio) VALUES (:u, :n, :b)",
            u=user_id,
            n=name,
            b=bio,
        )
        q(
            "INSERT INTO sponsors (name, contact_name, contact_email, contact_phone, status)"
            " VALUES (:s, :n, :e, :p, 'active')",
            s=f"Sponsor {uuid.uuid4().hex[:6]}",
            n=name,
            e=email,
            p=phone,
        )
        q(
            "UPDATE venues SET contact_name = :n, contact_email = :e, contact_phone = :p"
            " WHERE id = (SELECT id FROM venues WHERE contact_email IS NULL"
            " OR contact_email NOT LIKE 'canary.%' ORDER BY id LIMIT 1)",
            n=name,
            e=email,
            p=phone,
        )
        webhook_id = q(
            "INSERT INTO webhooks (user_id, name, url, events)"
            " VALUES (:u, 'orders', 'https://hooks.example.com/in', ARRAY['order.created'])"
            " RETURNING id",
            u=user_id,
        ).scalar_one()
        q(
            "INSERT INTO webhook_delivery_logs (webhook_id, event_type, payload, status)"
            " VALUES (:w, 'order.created', :p, 'success')",
            w=webhook_id,
            p=Jsonb({"buyer": {"email": email, "name": name, "phone": phone}}),
        )
        # Someone else's webhook carrying the person in its payload.
        other_hook = q(
            "INSERT INTO webhooks (user_id, name, url, events) SELECT id, 'crm',"
            " 'https://crm.example.com', ARRAY['order.created'] FROM users"
            " WHERE user_type = 'organizer' LIMIT 1 RETURNING id"
        ).scalar_one()
        q(
            "INSERT INTO webhook_delivery_logs (webhook_id, event_type, payload, status,"
            " response_body) VALUES (:w, 'order.created', :p, 'failed', :r)",
            w=other_hook,
            p=Jsonb({"text": f'Order for "{name}" <{email}>'}),
            r=f"rejected {email}",
        )
        q(
            "INSERT INTO api_keys (name, key_prefix, key_hash, user_id)"
            " VALUES ('mine', 'fk_', :h, :u)",
            h=uuid.uuid4().hex,
            u=user_id,
        )
        q(
            "INSERT INTO domain_events (aggregate_id, aggregate_type, event_type, event_data,"
            " idempotency_key, source_system) VALUES (:o, 'order', 'order.placed', :d, :k,"
            " 'test')",
            o=str(order_id),
            d=Jsonb({"billing": {"email": email, "phone": phone}}),
            k=uuid.uuid4().hex,
        )
        q(
            "INSERT INTO background_jobs (job_type, payload, status, error)"
            " VALUES ('mail.send', :p, 'failed', :e)",
            p=Jsonb({"order_id": str(order_id)}),
            e=f"mailbox full for {email}",
        )
        q(
            "INSERT INTO audit_logs (action, table_name, record_id, old_data, new_data)"
            " VALUES ('users.note', 'users', :u, :o, :n)",
            u=str(user_id),
            o=Jsonb({"note": note}),
            n=Jsonb({"contact": f"{name} / {phone}"}),
        )
    return Planted(user_id, email, name, phone, order_id, number, 121.0, markers)


@pytest.fixture(scope="module")
def admin(secure_database: SecureDatabase) -> Identity:
    return make_person(secure_database.owner, ["admin"])


@pytest.fixture(autouse=True)
def exports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "exports"
    monkeypatch.setenv("FASHIONISTAS_EXPORT_DIR", str(folder))
    return folder


def _request(admin: Identity, person: Planted, kind: str = "erasure") -> uuid.UUID:
    request_id = requests.create_request(
        admin.actor(),
        requests.RequestDraft(
            subject_email=person.email, request_type=kind, verification_method="id_document"
        ),
    )
    requests.start_processing(admin.actor(), request_id)
    return request_id


def _export(admin: Identity, request_id: uuid.UUID) -> None:
    export.request_export(admin.actor(), request_id)
    load_handlers()
    assert Worker(job_types=[export.EXPORT_JOB]).run_until_idle() >= 1
    detail = requests.get_request(admin.actor(), request_id)
    assert detail.export_job is not None and detail.export_job.status == "completed", (
        detail.export_job
    )


def _owner_scan(owner: Engine, terms: list[str]) -> list[tuple[str, str, int]]:
    """(table, column, rows) holding any term; a partition is named by its parent."""
    with owner.connect() as c:
        rows = c.execute(text("SELECT * FROM gdpr_scan(:t)"), {"t": terms}).all()
    return [(re.sub(r"_(p\d{6}|default)$", "", t), col, n) for t, col, n in rows]


# --- intake, deadlines, transitions -------------------------------------------------


def test_intake_links_the_account_and_sets_the_deadline(
    secure_database: SecureDatabase, admin: Identity
) -> None:
    person = plant_subject(secure_database.owner)
    received = datetime(2026, 1, 31, 9, 0, tzinfo=UTC)
    request_id = requests.create_request(
        admin.actor(),
        requests.RequestDraft(
            subject_email=person.email.upper(), request_type="access", received_at=received
        ),
    )
    detail = requests.get_request(admin.actor(), request_id)
    assert detail.summary.user_id == person.user_id
    assert detail.summary.due_at == datetime(2026, 2, 28, 9, 0, tzinfo=UTC)
    assert detail.summary.due == "overdue"
    assert detail.summary.status == "pending" and detail.summary.identity_verified_at is None
    overdue = requests.list_requests(admin.actor(), due="overdue")
    assert request_id in [r.request_id for r in overdue]


def test_due_states() -> None:
    now = datetime(2026, 6, 1, tzinfo=UTC)
    assert requests.due_state("pending", now - timedelta(hours=1), now) == "overdue"
    assert requests.due_state("processing", now + timedelta(days=7), now) == "due_soon"
    assert requests.due_state("pending", now + timedelta(days=8), now) == "on_time"
    assert requests.due_state("completed", now - timedelta(days=9), now) == "closed"
    assert requests.add_month(datetime(2026, 12, 31, tzinfo=UTC)) == datetime(
        2027, 1, 31, tzinfo=UTC
    )


def test_intake_refuses_bad_input(secure_database: SecureDatabase, admin: Identity) -> None:
    with pytest.raises(ValidationError, match="subject email"):
        requests.create_request(
            admin.actor(), requests.RequestDraft(subject_email="nobody", request_type="access")
        )
    with pytest.raises(ValidationError, match="request type"):
        requests.create_request(
            admin.actor(), requests.RequestDraft(subject_email="a@b.co", request_type="delete")
        )


def test_only_compliance_admins_work_requests(secure_database: SecureDatabase) -> None:
    organizer = make_person(secure_database.owner, ["organizer"])
    with pytest.raises(PermissionDenied):
        requests.list_requests(organizer.actor())


def test_status_moves_follow_the_rules(secure_database: SecureDatabase, admin: Identity) -> None:
    request_id = requests.create_request(
        admin.actor(),
        requests.RequestDraft(subject_email="walk.in@example.org", request_type="restriction"),
    )
    with pytest.raises(Conflict, match="Verify the requester's identity"):
        requests.start_processing(admin.actor(), request_id)
    requests.verify_identity(admin.actor(), request_id, "email_link")
    requests.assign(admin.actor(), request_id, admin.user_id)
    requests.start_processing(admin.actor(), request_id)
    with pytest.raises(Conflict, match="processing request cannot become processing"):
        requests.start_processing(admin.actor(), request_id)
    with pytest.raises(ValidationError, match="reason"):
        requests.reject(admin.actor(), request_id, "  ")
    requests.reject(admin.actor(), request_id, "No account matches this address.")
    detail = requests.get_request(admin.actor(), request_id)
    assert detail.summary.status == "rejected"
    assert detail.rejection_reason == "No account matches this address."
    assert detail.handled_by_name == admin.full_name
    with pytest.raises(Conflict, match="rejected request cannot become completed"):
        requests.complete(admin.actor(), request_id)
    # The database refuses it too, whoever writes.
    with secure_database.owner.begin() as c, pytest.raises(Exception, match="cannot become"):
        c.execute(
            text("UPDATE data_subject_requests SET status = 'pending' WHERE id = :i"),
            {"i": request_id},
        )


def test_assignment_needs_a_compliance_admin(
    secure_database: SecureDatabase, admin: Identity
) -> None:
    organizer = make_person(secure_database.owner, ["organizer"])
    request_id = requests.create_request(
        admin.actor(),
        requests.RequestDraft(subject_email="x.y@example.org", request_type="access"),
    )
    with pytest.raises(ValidationError, match="assignee"):
        requests.assign(admin.actor(), request_id, organizer.user_id)
    assert admin.user_id in [a.user_id for a in requests.list_assignees(admin.actor())]


# --- discovery and export -------------------------------------------------------------


def test_discovery_finds_the_person_in_every_category(
    secure_database: SecureDatabase, admin: Identity
) -> None:
    person = plant_subject(secure_database.owner)
    request_id = _request(admin, person, "access")
    from core.db import unit_of_work

    with unit_of_work(admin.actor(), read_only=True) as uow:
        found = discover(uow.session, subject_of_request(uow.session, request_id))
    empty = {name for name, rows in found.categories.items() if not rows}
    # The person sends no email campaigns, speaks at no event, has no refund, no API usage,
    # no reviewed matches, and is the contact of no designer but their own.
    assert empty == {
        "email_campaigns",
        "speaker_sessions",
        "refunds",
        "api_usage",
        "request_matches",
        "designer_contacts",
    }, empty
    assert found.categories["account"][0]["email"] == person.email
    assert "password_hash" not in found.categories["account"][0]
    assert len(found.categories["webhook_deliveries"]) == 2
    assert {r["order_number"] for r in found.categories["orders"]} == {person.order_number}
    terms = identifying_terms(found)
    assert person.email in terms.emails and person.name in terms.names
    assert person.phone in terms.phones


def test_discovery_in_one_statement_finds_what_the_export_finds(
    secure_database: SecureDatabase, admin: Identity
) -> None:
    """The erasure discovers in one round trip, the export job category by category (with
    progress): the rows, their order and so the fingerprint must be the same."""
    person = plant_subject(secure_database.owner)
    request_id = _request(admin, person, "access")
    from core.db import unit_of_work

    steps: list[str] = []
    with unit_of_work(admin.actor(), read_only=True) as uow:
        subject = subject_of_request(uow.session, request_id)
        batched = discover(uow.session, subject)
        stepped = discover(uow.session, subject, progress=lambda i, n, t: steps.append(t))
    assert len(steps) == len(CATEGORIES)
    assert json.dumps(batched.categories, default=str) == json.dumps(
        stepped.categories, default=str
    )
    assert batched.fingerprint == stepped.fingerprint
    assert batched.categories["orders"] and batched.categories["audit_entries"]


def test_export_bundle_holds_json_and_csv_per_category(
    secure_database: SecureDatabase, admin: Identity, exports: Path
) -> None:
    person = plant_subject(secure_database.owner)
    request_id = _request(admin, person, "portability")
    _export(admin, request_id)
    detail = requests.get_request(admin.actor(), request_id)
    assert detail.exported_at is not None and len(detail.export_fingerprint or "") == 64
    assert detail.export_job is not None and float(detail.export_job.progress) == 100
    name, data = export.export_bundle(admin.actor(), request_id)
    assert name == f"personal-data-{request_id}.zip"
    with zipfile.ZipFile(io.BytesIO(data)) as bundle:
        names = set(bundle.namelist())
        for category in CATEGORIES:
            assert {f"{category.key}.json", f"{category.key}.csv"} <= names
        assert {"README.txt", "manifest.json"} <= names
        manifest = json.loads(bundle.read("manifest.json"))
        assert manifest["fingerprint"] == detail.export_fingerprint
        assert manifest["categories"]["orders"]["records"] == 1
        assert json.loads(bundle.read("account.json"))[0]["email"] == person.email
        assert person.order_number in bundle.read("orders.csv").decode()
    # The job payload and the file name hold ids only.
    assert person.email not in (detail.export_file or "")
    requests.complete(admin.actor(), request_id)
    assert requests.get_request(admin.actor(), request_id).summary.status == "completed"


# --- erasure ---------------------------------------------------------------------------


def test_erasure_is_refused_without_an_export(
    secure_database: SecureDatabase, admin: Identity
) -> None:
    person = plant_subject(secure_database.owner)
    request_id = _request(admin, person)
    with pytest.raises(erasure.ErasureRefused, match="Export the person's data first"):
        erasure.erase(admin.actor(), request_id)


def test_erasure_is_refused_when_the_data_changed_after_the_export(
    secure_database: SecureDatabase, admin: Identity
) -> None:
    person = plant_subject(secure_database.owner)
    request_id = _request(admin, person)
    _export(admin, request_id)
    with secure_database.owner.begin() as c:
        c.execute(
            text("UPDATE user_profiles SET company = 'New employer' WHERE user_id = :u"),
            {"u": person.user_id},
        )
    with pytest.raises(erasure.ErasureRefused, match="changed after the export"):
        erasure.erase(admin.actor(), request_id)
    assert _owner_scan(secure_database.owner, [person.email])  # nothing was erased


def test_canary_erasure_leaves_no_trace_in_any_column_or_file(
    secure_database: SecureDatabase, admin: Identity, exports: Path
) -> None:
    """Markers planted across many tables (audit payloads written by the triggers and a
    webhook payload included) are gone from every text and JSON column of every table and
    from every stored file; order numbers and totals survive."""
    person = plant_subject(secure_database.owner)
    bystander = plant_subject(secure_database.owner)
    request_id = _request(admin, person)
    _export(admin, request_id)
    assert any(exports.iterdir())
    before = _owner_scan(secure_database.owner, person.markers)
    assert {t for t, _, _ in before} >= {"users", "orders", "webhook_delivery_logs"}
    assert "audit_logs" in {t for t, _, _ in before}

    result = erasure.erase(admin.actor(), request_id)

    assert _owner_scan(secure_database.owner, person.markers) == []
    for path in exports.rglob("*"):
        if path.is_file():
            blob = path.read_bytes()
            assert not any(m.encode() in blob for m in person.markers), path
    assert result.files_deleted == 1
    assert result.counts["account"] == 1 and result.counts["orders"] == 1
    assert result.audit_redacted > 0
    with secure_database.owner.connect() as c:
        order = c.execute(
            text(
                "SELECT order_number, total_amount, tax_amount, is_anonymized, billing_name"
                " FROM orders WHERE id = :o"
            ),
            {"o": person.order_id},
        ).one()
        assert order[0] == person.order_number and float(order[1]) == person.order_total
        assert float(order[2]) == 21.0 and order[3] and order[4] == "Erased person"
        redacted = c.execute(
            text("SELECT count(*) FROM audit_logs WHERE is_redacted AND record_id = :u"),
            {"u": str(person.user_id)},
        ).scalar_one()
        assert redacted >= 1
        summary = c.execute(
            text("SELECT status, outcome::text FROM data_subject_requests WHERE id = :i"),
            {"i": request_id},
        ).one()
    assert summary[0] == "completed"
    assert not any(m in summary[1] for m in person.markers)
    # Nobody else lost anything.
    assert {t for t, _, _ in _owner_scan(secure_database.owner, [bystander.email])} >= {
        "users",
        "orders",
    }


def test_erasure_rolls_back_when_the_scan_still_finds_the_person(
    secure_database: SecureDatabase, admin: Identity
) -> None:
    person = plant_subject(secure_database.owner)
    with secure_database.owner.begin() as c:
        c.execute(
            text("UPDATE events SET description = :d WHERE id = (SELECT id FROM events LIMIT 1)"),
            {"d": f"Hosted by {person.name}"},
        )
    request_id = _request(admin, person)
    _export(admin, request_id)
    with pytest.raises(erasure.ErasureRefused, match=r"events\.description"):
        erasure.erase(admin.actor(), request_id)
    # Rolled back: the account still holds the email, the request is still open.
    assert ("users", "email", 1) in _owner_scan(secure_database.owner, [person.email])
    assert requests.get_request(admin.actor(), request_id).summary.status == "processing"


def test_the_full_flow_intake_export_download_erasure_completed(
    secure_database: SecureDatabase, admin: Identity
) -> None:
    person = plant_subject(secure_database.owner)
    request_id = requests.create_request(
        admin.actor(),
        requests.RequestDraft(subject_email=person.email, request_type="erasure", channel="web"),
    )
    requests.verify_identity(admin.actor(), request_id, "id_document")
    requests.assign(admin.actor(), request_id, admin.user_id)
    requests.start_processing(admin.actor(), request_id)
    _export(admin, request_id)
    _, data = export.export_bundle(admin.actor(), request_id)
    assert zipfile.ZipFile(io.BytesIO(data)).testzip() is None
    with pytest.raises(Conflict, match="completed by running the erasure"):
        requests.complete(admin.actor(), request_id)
    erasure.erase(admin.actor(), request_id)
    detail = requests.get_request(admin.actor(), request_id)
    assert detail.summary.status == "completed" and detail.completed_at is not None
    assert detail.summary.subject_email.endswith("@erased.invalid")
    assert detail.outcome and detail.outcome["erased"]["account"] == 1
    with pytest.raises(Exception, match=r"no export|gone"):
        export.export_bundle(admin.actor(), request_id)


# --- rectification and restriction -----------------------------------------------------


def test_rectification_applies_values_and_keeps_a_diff(
    secure_database: SecureDatabase, admin: Identity
) -> None:
    person = plant_subject(secure_database.owner)
    request_id = _request(admin, person, "rectification")
    new_email = f"fixed.{uuid.uuid4().hex[:6]}@example.com"
    changes = rectification.rectify(
        admin.actor(),
        request_id,
        {"full_name": "Ilse Corrected", "email": new_email, "company": "Atelier"},
    )
    diff = {c.field: (c.before, c.after) for c in changes}
    assert diff["full_name"] == (person.name, "Ilse Corrected")
    assert diff["email"] == (person.email, new_email)
    assert diff["company"] == (None, "Atelier")
    now = rectification.current_values(admin.actor(), request_id)
    assert now["full_name"] == "Ilse Corrected" and now["company"] == "Atelier"
    outcome = requests.get_request(admin.actor(), request_id).outcome or {}
    assert outcome["rectified_fields"] == ["company", "email", "full_name"]
    assert person.name not in json.dumps(outcome)
    with pytest.raises(ValidationError, match="nothing to change"):
        rectification.rectify(admin.actor(), request_id, {"company": "Atelier"})
    with pytest.raises(ValidationError, match="email must look like"):
        rectification.rectify(admin.actor(), request_id, {"email": "broken"})


def test_restriction_sets_and_lifts_the_marketing_flag(
    secure_database: SecureDatabase, admin: Identity
) -> None:
    person = plant_subject(secure_database.owner)
    request_id = _request(admin, person, "restriction")
    at = rectification.set_restriction(admin.actor(), request_id, True)
    assert at is not None

    def flag() -> datetime | None:
        with secure_database.owner.connect() as c:
            return c.execute(
                text("SELECT marketing_restricted_at FROM users WHERE id = :u"),
                {"u": person.user_id},
            ).scalar_one()

    assert flag() == at
    assert requests.get_request(admin.actor(), request_id).marketing_restricted_at == at
    requests.complete(admin.actor(), request_id)
    assert rectification.set_restriction(admin.actor(), request_id, False) is None
    assert flag() is None


def test_an_export_queued_for_a_request_rejected_since_fails_with_a_reason(
    secure_database: SecureDatabase, admin: Identity, exports: Path
) -> None:
    person = plant_subject(secure_database.owner)
    request_id = _request(admin, person, "access")
    export.request_export(admin.actor(), request_id)
    requests.reject(admin.actor(), request_id, "Withdrawn by the requester.")
    load_handlers()
    assert Worker(job_types=[export.EXPORT_JOB]).run_until_idle() == 1
    job = requests.get_request(admin.actor(), request_id).export_job
    assert job is not None and job.status == "failed"
    assert job.error == "The request is no longer being processed; nothing was exported."
    assert not any(exports.glob("*.zip"))


def test_an_order_billed_to_someone_else_does_not_drag_them_into_the_erasure(
    secure_database: SecureDatabase, admin: Identity
) -> None:
    person = plant_subject(secure_database.owner)
    friend = plant_subject(secure_database.owner)
    with secure_database.owner.begin() as c:
        gift = c.execute(
            text(
                "INSERT INTO orders (order_number, user_id, event_id, status, total_amount,"
                " subtotal, tax_amount, discount_amount, currency, billing_email, billing_name)"
                " SELECT :no, :u, event_id, 'completed', 10, 10, 0, 0, 'EUR', :e, 'A friend'"
                " FROM orders WHERE id = :o RETURNING id"
            ),
            {"no": f"GIFT-{uuid.uuid4().hex[:8]}", "u": person.user_id, "e": friend.email,
             "o": person.order_id},
        ).scalar_one()  # fmt: skip
    request_id = _request(admin, person)
    _export(admin, request_id)
    erasure.erase(admin.actor(), request_id)
    with secure_database.owner.connect() as c:
        billed = c.execute(
            text("SELECT billing_email FROM orders WHERE id = :o"), {"o": gift}
        ).scalar_one()
        friend_email = c.execute(
            text("SELECT email FROM users WHERE id = :u"), {"u": friend.user_id}
        ).scalar_one()
    assert billed.endswith("@erased.invalid")
    assert friend_email == friend.email
