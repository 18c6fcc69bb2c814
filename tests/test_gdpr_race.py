"""Finding 1 (issue 15): writes of a person's data racing their erasure, with real second
connections holding real locks, on a database of this module's own as the app role.

- A checkout for the person blocked on a ticket-type advisory lock while the erasure runs
  and commits: once let go it is refused (the account is anonymised), so nothing of the
  person is left in orders or audit payloads and the request's proof stays true.
- Writes while an erasure of the person holds their subject keys are refused at once
  (checkout, intake, and plain SQL bypassing Python).
- A write of the person's data in flight when the erasure starts is waited for, and the
  erasure sees it (the fingerprint changed: export again); a refund holding the order row
  makes the erasure wait, not deadlock.
- After the erasure the database keeps refusing personal data for the anonymised account
  or put back into anonymised rows; a guest order with the old e-mail is a new record.
- Bulk writes take no lasting lock per row (the lock table cannot fill up).
- An export that ran while its person was erased leaves no file behind.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session

import core.checkout.orders as checkout_orders
from core.auth import Identity
from core.checkout.holds import HoldRequest, hold_tickets
from core.checkout.orders import Buyer, OrderRequest, place_order, quote_order
from core.db import unit_of_work
from core.errors import Busy, SubjectErased
from core.gdpr import erasure, export, requests
from core.jobs import Worker
from core.jobs.registry import load_handlers
from core.models import User
from tests.apptest import make_person
from tests.conftest import SecureDatabase
from tests.factories import make_event, make_ticket_type
from tests.test_gdpr import Planted, plant_subject

# Threads: a checkout, an erasure and an export job's progress beside its work.
APP_POOL_SIZE = 4
ERASING = "being erased right now"


@pytest.fixture(scope="module")
def admin(secure_database: SecureDatabase) -> Identity:
    return make_person(secure_database.owner, ["admin"])


@pytest.fixture(scope="module")
def seller(secure_database: SecureDatabase) -> Identity:
    return make_person(secure_database.owner, ["organizer"])


@pytest.fixture(autouse=True)
def exports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "exports"
    monkeypatch.setenv("FASHIONISTAS_EXPORT_DIR", str(folder))
    return folder


@pytest.fixture(autouse=True)
def patient_checkout(monkeypatch: pytest.MonkeyPatch) -> None:
    # The checkout gives up after 5 s on a lock; an erasure on this shared machine may take
    # longer than that while the test holds the checkout back on purpose.
    monkeypatch.setattr(checkout_orders, "DEFAULT_LOCK_TIMEOUT_MS", 120_000)


@dataclass(frozen=True)
class Sale:
    event_id: uuid.UUID
    ticket_type_id: uuid.UUID


def _sale(owner: Engine, seller: Identity) -> Sale:
    with Session(owner) as s, s.begin():
        event = make_event(
            s, s.get(User, seller.user_id), status="published", published_at=datetime.now(UTC)
        )
        general = make_ticket_type(s, event, base_price=Decimal("40.00"))
        return Sale(event.id, general.id)


def _held_order(seller: Identity, sale: Sale, buyer: Buyer) -> OrderRequest:
    """A hold for one ticket and the order request that would turn it into an order."""
    session_id = uuid.uuid4().hex
    actor = seller.actor()
    hold_tickets(actor, HoldRequest(sale.event_id, session_id, {sale.ticket_type_id: 1}))
    quote = quote_order(actor, sale.event_id, session_id, None, buyer)
    return OrderRequest(
        sale.event_id, session_id, buyer, "cash", quote.total, session_id,
        notes=f"Call {buyer.name} at {buyer.phone}",
    )  # fmt: skip


def _exported_erasure(admin: Identity, person: Planted) -> uuid.UUID:
    request_id = requests.create_request(
        admin.actor(),
        requests.RequestDraft(person.email, "erasure", verification_method="id_document"),
    )
    requests.start_processing(admin.actor(), request_id)
    _export(admin, request_id)
    return request_id


def _export(admin: Identity, request_id: uuid.UUID) -> None:
    export.request_export(admin.actor(), request_id)
    load_handlers()
    assert Worker(job_types=[export.EXPORT_JOB]).run_until_idle() >= 1


def _wait_until(owner: Engine, sql: str, *, timeout: float = 60, **params: object) -> None:
    """Poll `sql` (as the owner, who sees every backend's locks) until it is true."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with owner.connect() as c:
            if c.execute(text(sql), params).scalar():
                return
        time.sleep(0.05)
    raise AssertionError(f"never became true: {sql}")


WAITING_FOR_ADVISORY = (
    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
    " AND classid = CAST(:ns AS oid) AND database = (SELECT oid FROM pg_database"
    " WHERE datname = current_database()))"
)
WAITING_FOR_ROW = (
    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE NOT granted"
    " AND locktype IN ('transactionid', 'tuple'))"
)


@pytest.fixture
def holder(secure_database: SecureDatabase) -> Iterator[Connection]:
    """A second connection, as the owner, in an open transaction the test ends."""
    with secure_database.owner.connect() as conn:
        conn.begin()
        try:
            yield conn
        finally:
            conn.rollback()


def _in_thread(fn: Callable[[], object]) -> Future[object]:
    pool = ThreadPoolExecutor(max_workers=1)
    future = pool.submit(fn)
    pool.shutdown(wait=False)
    return future


def _person_anywhere(owner: Engine, person: Planted) -> list[tuple[str, str, int]]:
    with owner.connect() as c:
        return [
            tuple(r)
            for r in c.execute(
                text("SELECT * FROM gdpr_scan(:t)"), {"t": [person.email, person.phone]}
            ).all()
        ]


# --- the finding ---------------------------------------------------------------------


def test_an_order_waiting_on_a_ticket_type_lock_while_the_person_is_erased_is_refused(
    secure_database: SecureDatabase, admin: Identity, seller: Identity, holder: Connection
) -> None:
    owner = secure_database.owner
    person = plant_subject(owner)
    sale = _sale(owner, seller)
    request_id = _exported_erasure(admin, person)
    order = _held_order(
        seller, sale, Buyer(person.name, person.email, person.phone, person.user_id)
    )
    # Another sale of the same ticket type holds its lock (namespace 3, migration 0004).
    holder.execute(
        text("SELECT pg_advisory_xact_lock(3, checkout_lock_key(uuid_send(:t)))"),
        {"t": sale.ticket_type_id},
    )
    checkout = _in_thread(lambda: place_order(seller.actor(), order))
    _wait_until(owner, WAITING_FOR_ADVISORY, ns=3)

    result = erasure.erase(admin.actor(), request_id)
    assert result.counts["account"] == 1
    holder.commit()  # the other sale is done: the checkout goes on, after the erasure

    with pytest.raises(SubjectErased, match="account was erased"):
        checkout.result(timeout=120)
    with owner.connect() as c:
        linked = c.execute(
            text("SELECT count(*) FROM orders WHERE user_id = :u OR billing_email = :e"),
            {"u": person.user_id, "e": person.email},
        ).scalar_one()
        status = c.execute(
            text("SELECT status FROM data_subject_requests WHERE id = :i"), {"i": request_id}
        ).scalar_one()
    assert linked == 0 and status == "completed"
    # Nowhere, audit payloads included: the refused insert wrote no audit row either.
    assert _person_anywhere(owner, person) == []


def test_writes_while_the_person_is_being_erased_are_refused_at_once(
    secure_database: SecureDatabase, admin: Identity, seller: Identity, holder: Connection
) -> None:
    owner = secure_database.owner
    person = plant_subject(owner)
    sale = _sale(owner, seller)
    guest = _held_order(seller, sale, Buyer(person.name, person.email.upper(), person.phone))
    linked = _held_order(
        seller, sale, Buyer(person.name, "other@example.com", None, person.user_id)
    )
    # An erasure of the person in progress on another connection.
    holder.execute(
        text("SELECT gdpr_lock_subject(:u, CAST(:e AS text[]))"),
        {"u": person.user_id, "e": [person.email]},
    )
    started = time.monotonic()
    with pytest.raises(Busy, match=ERASING):
        place_order(seller.actor(), guest)  # by e-mail, in another case
    with pytest.raises(Busy, match=ERASING):
        place_order(seller.actor(), linked)  # by account
    with pytest.raises(Busy, match=ERASING):
        requests.create_request(admin.actor(), requests.RequestDraft(person.email, "access"))
    # Plain SQL, Python bypassed, as the owner: the database refuses too.
    with owner.connect() as c, pytest.raises(Exception, match=ERASING):
        c.execute(
            text("UPDATE users SET phone_number = '+44 20 7946 0000' WHERE id = :u"),
            {"u": person.user_id},
        )
    assert time.monotonic() - started < 30  # refused, not waited for
    # Someone else sells at the same time without noticing.
    other = _held_order(seller, sale, Buyer("Other Buyer", f"o.{uuid.uuid4().hex[:6]}@x.org"))
    assert place_order(seller.actor(), other).status == "completed"


def test_a_write_in_flight_when_the_erasure_starts_is_waited_for_and_seen(
    secure_database: SecureDatabase, admin: Identity, holder: Connection
) -> None:
    owner = secure_database.owner
    person = plant_subject(owner)
    request_id = _exported_erasure(admin, person)
    # A guest order of the person's, written but not committed yet.
    holder.execute(
        text(
            "INSERT INTO orders (order_number, event_id, status, total_amount, subtotal,"
            " tax_amount, discount_amount, currency, billing_email, billing_name, billing_phone)"
            " SELECT :no, event_id, 'completed', 10, 10, 0, 0, 'EUR', :e, :n, :p"
            " FROM orders WHERE id = :o"
        ),
        {"no": f"FLY-{uuid.uuid4().hex[:8]}", "e": person.email, "n": person.name,
         "p": person.phone, "o": person.order_id},
    )  # fmt: skip
    erasing = _in_thread(lambda: erasure.erase(admin.actor(), request_id))
    # The erasure waits at the barrier (the one-key advisory lock) for the write...
    _wait_until(owner, WAITING_FOR_ADVISORY, ns=0x67647072)
    holder.commit()
    # ...and then sees it: the person's data is not what was exported any more.
    with pytest.raises(erasure.ErasureRefused, match="changed after the export"):
        erasing.result(timeout=120)
    _export(admin, request_id)
    erasure.erase(admin.actor(), request_id)
    assert _person_anywhere(owner, person) == []


def test_a_refund_holding_the_order_row_makes_the_erasure_wait_not_deadlock(
    secure_database: SecureDatabase, admin: Identity, holder: Connection
) -> None:
    owner = secure_database.owner
    person = plant_subject(owner)
    request_id = _exported_erasure(admin, person)
    # A refund in progress: the order row is locked and changed, not committed.
    holder.execute(
        text("UPDATE orders SET status = 'refunded', refunded_at = now() WHERE id = :o"),
        {"o": person.order_id},
    )
    erasing = _in_thread(lambda: erasure.erase(admin.actor(), request_id))
    _wait_until(owner, WAITING_FOR_ROW)
    holder.commit()
    with pytest.raises(erasure.ErasureRefused, match="changed after the export"):
        erasing.result(timeout=120)
    _export(admin, request_id)
    erasure.erase(admin.actor(), request_id)
    with owner.connect() as c:
        status, anonymised = c.execute(
            text("SELECT status, is_anonymized FROM orders WHERE id = :o"), {"o": person.order_id}
        ).one()
    assert (status, anonymised) == ("refunded", True)


# --- after the erasure ------------------------------------------------------------------


def test_after_the_erasure_the_database_refuses_the_persons_data_back(
    secure_database: SecureDatabase, admin: Identity, seller: Identity
) -> None:
    owner = secure_database.owner
    person = plant_subject(owner)
    request_id = _exported_erasure(admin, person)
    erasure.erase(admin.actor(), request_id)
    statements = {
        "an order linked to the anonymised account": (
            "INSERT INTO orders (order_number, user_id, event_id, status, total_amount,"
            " subtotal, tax_amount, discount_amount, currency, billing_email, billing_name)"
            " SELECT 'BACK-' || gen_random_uuid(), :u, event_id, 'completed', 1, 1, 0, 0,"
            " 'EUR', 'x@example.com', 'X' FROM orders WHERE id = :o"
        ),
        "the account's name back": "UPDATE users SET full_name = 'Back Again' WHERE id = :u",
        "the anonymised order's phone back": (
            "UPDATE orders SET billing_phone = '+1 555 0100' WHERE id = :o"
        ),
        "the profile's bio back": "UPDATE user_profiles SET bio = 'hello' WHERE user_id = :u",
        "a role for the account": (
            "INSERT INTO user_roles (user_id, role_id) SELECT :u, id FROM roles LIMIT 1"
        ),
    }
    for what, sql in statements.items():
        with owner.connect() as c, pytest.raises(Exception, match="anonymised") as caught:
            c.execute(text(sql), {"u": person.user_id, "o": person.order_id})
        assert getattr(caught.value.orig, "sqlstate", None) == "FW002", what
    # Through a unit of work it is the domain error, with the field.
    with pytest.raises(SubjectErased) as refused, unit_of_work(admin.actor()) as uow:
        uow.session.execute(
            text("UPDATE user_profiles SET company = 'Atelier' WHERE user_id = :u"),
            {"u": person.user_id},
        )
    assert refused.value.field == "user_id"
    # Bookkeeping on the anonymised order goes on.
    with owner.begin() as c:
        c.execute(
            text("UPDATE orders SET status = 'refunded' WHERE id = :o"), {"o": person.order_id}
        )


def test_a_guest_order_with_the_old_email_after_the_erasure_is_a_new_record(
    secure_database: SecureDatabase, admin: Identity, seller: Identity
) -> None:
    owner = secure_database.owner
    person = plant_subject(owner)
    request_id = _exported_erasure(admin, person)
    erasure.erase(admin.actor(), request_id)
    sale = _sale(owner, seller)
    order = _held_order(seller, sale, Buyer(person.name, person.email, person.phone))
    placed = place_order(seller.actor(), order)
    with owner.connect() as c:
        user_id, email = c.execute(
            text("SELECT user_id, billing_email FROM orders WHERE id = :o"),
            {"o": placed.order_id},
        ).one()
    # Kept, and linked to no one: the erased account stays anonymous.
    assert user_id is None and email == person.email


# --- the guard's cost ------------------------------------------------------------------------


def test_bulk_writes_take_no_lasting_lock_per_row(secure_database: SecureDatabase) -> None:
    """More rows with distinct subjects in one transaction than the whole server's lock
    table holds (max_locks_per_transaction x max_connections): per-row subject locks
    would end in 'out of shared memory'."""
    with secure_database.owner.begin() as c:
        slots = c.execute(
            text(
                "SELECT current_setting('max_locks_per_transaction')::int"
                " * current_setting('max_connections')::int"
            )
        ).scalar_one()
        n = slots + 1000
        c.execute(
            text(
                "INSERT INTO users (email, full_name, user_type, status)"
                " SELECT 'bulk-' || g || '-' || :tag || '@example.com', 'Bulk ' || g,"
                " 'attendee', 'active' FROM generate_series(1, :n) g"
            ),
            {"n": n, "tag": uuid.uuid4().hex[:6]},
        )
        held = c.execute(
            text("SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid()"
                 " AND locktype = 'advisory'")
        ).scalar_one()  # fmt: skip
        c.rollback()
    assert held <= 2  # the barrier's shared side, nothing per row


# --- files -------------------------------------------------------------------------------------


def test_an_export_written_while_its_person_is_erased_leaves_no_file(
    secure_database: SecureDatabase,
    admin: Identity,
    exports: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    person = plant_subject(secure_database.owner)
    erasing = _exported_erasure(admin, person)
    access = requests.create_request(
        admin.actor(), requests.RequestDraft(person.email, "access", verification_method="other")
    )
    requests.start_processing(admin.actor(), access)
    export.request_export(admin.actor(), access)
    write = export.write_bundle
    erased = threading.Event()

    def write_then_erase(path: Path, request_id: uuid.UUID, found: object) -> None:
        write(path, request_id, found)  # type: ignore[arg-type]
        erasure.erase(admin.actor(), erasing)  # between the job's discovery and its record
        erased.set()

    monkeypatch.setattr(export, "write_bundle", write_then_erase)
    load_handlers()
    Worker(job_types=[export.EXPORT_JOB]).run_until_idle()
    assert erased.is_set()
    job = requests.get_request(admin.actor(), access).export_job
    assert job is not None and job.status == "failed" and "erased" in (job.error or "")
    assert not list(exports.glob(f"{access}-*.zip"))
