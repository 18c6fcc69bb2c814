"""Discount codes: validation that names the field, create / edit / deactivate, usage from
the orders, list filters, and the page in AppTest, on a database of this module's own as
the app role (row-level security applies as in the browser).
"""

from __future__ import annotations

import io
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pandas as pd
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from core.auth import Identity, PermissionDenied
from core.checkout.errors import CodeNotValid
from core.checkout.holds import HoldRequest, hold_tickets
from core.checkout.orders import Buyer, OrderRequest, place_order, quote_order, refund_order
from core.errors import ConcurrentUpdate, Conflict, ValidationError
from core.models import User
from core.services.discounts import (
    DiscountCodeDraft,
    create_discount_code,
    get_discount_code,
    list_discount_codes,
    set_discount_code_active,
    update_discount_code,
)
from tests.apptest import make_person, messages, open_page, shown
from tests.factories import make_event, make_ticket_type

D = Decimal
PAGE = "discount_codes.py"


def make_show(owner: Engine, organizer: Identity) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    """A published event (no tax) with General at 50.00 and VIP at 200.00; returns
    (event id, general id, vip id)."""
    with Session(owner) as s, s.begin():
        event = make_event(
            s,
            s.get(User, organizer.user_id),
            status="published",
            published_at=datetime.now(UTC),
            tax_rate=D("0"),
        )
        general = make_ticket_type(s, event, name="General", base_price=D("50.00"))
        vip = make_ticket_type(s, event, name="VIP", base_price=D("200.00"), tier="vip")
        return event.id, general.id, vip.id


def code_text() -> str:
    return f"T-{uuid.uuid4().hex[:10].upper()}"


def draft(**changes: object) -> DiscountCodeDraft:
    now = datetime.now(UTC)
    values: dict[str, object] = {
        "code": code_text(),
        "discount_type": "percentage",
        "value": D("20"),
        "valid_from": now - timedelta(hours=1),
        "valid_until": now + timedelta(days=30),
    }
    values.update(changes)
    return DiscountCodeDraft(**values)  # type: ignore[arg-type]


def buy(
    organizer: Identity, event_id: uuid.UUID, quantities: dict, code: str | None, email: str
) -> uuid.UUID:
    actor = organizer.actor()
    session_id = uuid.uuid4().hex
    buyer = Buyer(name="Dora Discount", email=email)
    hold_tickets(actor, HoldRequest(event_id, session_id, quantities))
    quote = quote_order(actor, event_id, session_id, code, buyer)
    request = OrderRequest(event_id, session_id, buyer, "cash", quote.total, session_id, code)
    return place_order(actor, request).order_id


# -- validation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"code": "a!"}, "code", "3 to 32 characters"),
        ({"value": D("0")}, "value", "more than 0 and at most 100"),
        ({"value": D("150")}, "value", "more than 0 and at most 100"),
        ({"discount_type": "fixed_amount", "value": D("-5")}, "value", "more than 0"),
        ({"value": D("10.005")}, "value", "at most two decimals"),
        ({"discount_type": "free_item"}, "discount_type", "percentage or fixed_amount"),
        ({"maximum_discount": D("0")}, "maximum_discount", "more than 0"),
        ({"minimum_order_amount": D("-1")}, "minimum_order_amount", "cannot be negative"),
        ({"usage_limit": 0}, "usage_limit", "at least 1"),
        (
            {"valid_until": datetime(2020, 1, 1, tzinfo=UTC)},
            "valid_until",
            "Valid until must be after valid from",
        ),
        ({"valid_from": datetime(2026, 1, 1)}, "valid_from", "time zone"),
        ({"event_ids": (uuid.uuid4(),)}, "event_ids", "does not exist"),
        ({"ticket_type_ids": (uuid.uuid4(),)}, "ticket_type_ids", "does not exist"),
        ({"description": "x" * 501}, "description", "at most 500"),
    ],
)
def test_bad_drafts_are_refused_naming_the_field_and_rule(
    organizer: Identity, changes: dict, field: str, words: str
) -> None:
    with pytest.raises(ValidationError, match=words) as refused:
        create_discount_code(organizer.actor(), draft(**changes))
    assert refused.value.field == field


def test_a_ticket_type_outside_the_chosen_events_is_refused(
    owner: Engine, organizer: Identity
) -> None:
    event_a, _, _ = make_show(owner, organizer)
    _, other_general, _ = make_show(owner, organizer)
    with pytest.raises(ValidationError, match="not of a chosen event") as refused:
        create_discount_code(
            organizer.actor(), draft(event_ids=(event_a,), ticket_type_ids=(other_general,))
        )
    assert refused.value.field == "ticket_type_ids"


def test_a_code_is_unique_among_discount_and_promotional_codes(
    owner: Engine, organizer: Identity
) -> None:
    made = create_discount_code(organizer.actor(), draft())
    with pytest.raises(Conflict, match=f"Code {made.code} is already taken") as again:
        create_discount_code(organizer.actor(), draft(code=made.code.lower()))
    assert again.value.field == "code"
    promo = f"PROMO{uuid.uuid4().hex[:8].upper()}"
    with owner.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO promotional_codes (code, discount_type, discount_value,"
                " start_date, end_date) VALUES (:c, 'percentage', 5, now(), now() + '1 day')"
            ),
            {"c": promo},
        )
    with pytest.raises(Conflict, match="another promotional code") as clash:
        create_discount_code(organizer.actor(), draft(code=promo))
    assert clash.value.field == "code"


# -- create, edit, deactivate ------------------------------------------------------------


def test_create_stores_every_rule_and_the_mappings(owner: Engine, organizer: Identity) -> None:
    event_id, general, vip = make_show(owner, organizer)
    made = create_discount_code(
        organizer.actor(),
        draft(
            code="  spring-sale-x" + uuid.uuid4().hex[:4],
            value=D("15"),
            maximum_discount=D("40"),
            minimum_order_amount=D("60"),
            usage_limit=5,
            one_per_customer=True,
            first_purchase_only=True,
            event_ids=(event_id,),
            ticket_type_ids=(vip,),
            description=" Spring ",
        ),
    )
    assert made.code.startswith("SPRING-SALE-X") and made.state == "active"
    assert made.rule == "15% (at most 40.00)"
    assert made.event_ids == (event_id,) and made.ticket_type_ids == (vip,)
    assert made.applies_to.endswith("; only VIP")
    with owner.connect() as conn:
        row = conn.execute(
            text(
                "SELECT discount_value, maximum_discount_amount, minimum_order_amount,"
                " usage_limit, is_one_time_use, is_first_purchase_only, applies_to_all_events,"
                " description, created_by,"
                " (SELECT count(*) FROM discount_code_events WHERE discount_code_id = dc.id),"
                " (SELECT count(*) FROM discount_code_ticket_types"
                "   WHERE discount_code_id = dc.id)"
                " FROM discount_codes dc WHERE id = :c"
            ),
            {"c": made.code_id},
        ).one()
        audit = conn.execute(
            text("SELECT action FROM audit_logs WHERE table_name = 'discount_codes'"
                 " AND record_id = :c ORDER BY seq"),
            {"c": str(made.code_id)},
        ).scalars().all()  # fmt: skip
    assert tuple(row) == (
        D("15.00"), D("40.00"), D("60.00"), 5, True, True, False, "Spring",
        organizer.user_id, 1, 1,
    )  # fmt: skip
    # The trigger's row, then the service's with the code's events and ticket types.
    assert audit == ["discount_codes.insert", "discount_codes.created"]

    # The checkout applies what was stored: 15 % of the VIP ticket only.
    session_id = uuid.uuid4().hex
    hold_tickets(organizer.actor(), HoldRequest(event_id, session_id, {general: 1, vip: 1}))
    quote = quote_order(
        organizer.actor(), event_id, session_id, made.code.lower(),
        Buyer("New Buyer", f"new-{uuid.uuid4().hex[:6]}@example.com"),
    )  # fmt: skip
    assert quote.discount == D("30.00")


def test_edit_checks_the_version_and_the_uses_so_far(owner: Engine, organizer: Identity) -> None:
    event_id, general, _ = make_show(owner, organizer)
    actor = organizer.actor()
    made = create_discount_code(actor, draft(usage_limit=3))
    for n in range(2):
        buy(organizer, event_id, {general: 1}, made.code, f"edit-{n}-{uuid.uuid4().hex[:6]}@x.com")

    with pytest.raises(ValidationError, match="below the 2 times") as below:
        update_discount_code(actor, made.code_id, replace(made.draft(), usage_limit=1))
    assert below.value.field == "usage_limit"

    saved = update_discount_code(
        actor,
        made.code_id,
        replace(made.draft(), discount_type="fixed_amount", value=D("7.50")),
        opened=made.draft(),
    )
    assert (saved.rule, saved.times_used, saved.usage_limit) == ("7.50 off", 2, 3)
    with pytest.raises(ConcurrentUpdate):
        update_discount_code(actor, made.code_id, made.draft(), opened=made.draft())


def test_a_deactivated_code_is_refused_at_checkout(owner: Engine, organizer: Identity) -> None:
    event_id, general, _ = make_show(owner, organizer)
    actor = organizer.actor()
    made = create_discount_code(actor, draft())
    off = set_discount_code_active(actor, made.code_id, False)
    assert (off.is_active, off.state) == (False, "inactive")
    session_id = uuid.uuid4().hex
    hold_tickets(actor, HoldRequest(event_id, session_id, {general: 1}))
    with pytest.raises(CodeNotValid, match="not active"):
        quote_order(actor, event_id, session_id, made.code, Buyer("A", "a@example.com"))
    assert set_discount_code_active(actor, made.code_id, True).state == "active"


# -- usage and the list -------------------------------------------------------------------


def test_usage_figures_come_from_the_orders(owner: Engine, organizer: Identity) -> None:
    event_id, general, vip = make_show(owner, organizer)
    actor = organizer.actor()
    made = create_discount_code(actor, draft(value=D("10"), event_ids=(event_id,)))
    kept = buy(organizer, event_id, {general: 2, vip: 1}, made.code, "kept@example.com")
    gone = buy(organizer, event_id, {general: 1}, made.code, "gone@example.com")
    buy(organizer, event_id, {general: 1}, None, "nocode@example.com")
    refund_order(actor, gone, "changed plans")
    vip_item = scalar(
        owner, "SELECT id FROM order_items WHERE order_id = :o AND unit_price = 200", o=kept
    )
    refund_order(actor, kept, "no VIP after all", [vip_item])

    detail = get_discount_code(actor, made.code_id)
    usage = detail.code.usage
    # Kept: 2 × 50 + 200 = 300, 10 % off = 30 (10 on General, 20 on VIP); VIP refunded.
    assert (detail.code.times_used, usage.orders) == (1, 1)
    assert (usage.discount_given, usage.revenue) == (D("10.00"), D("90.00"))
    assert [o.order_id for o in detail.recent_orders] == [gone, kept]
    assert [o.status for o in detail.recent_orders] == ["refunded", "completed"]


def test_the_list_filters_searches_and_pages(owner: Engine, organizer: Identity) -> None:
    event_id, _, _ = make_show(owner, organizer)
    actor = organizer.actor()
    tag = uuid.uuid4().hex[:6].upper()
    now = datetime.now(UTC)
    scoped = create_discount_code(actor, draft(code=f"LST-{tag}-A", event_ids=(event_id,)))
    fixed = create_discount_code(
        actor, draft(code=f"LST-{tag}-B", discount_type="fixed_amount", value=D("5"))
    )
    later = create_discount_code(
        actor,
        draft(
            code=f"LST-{tag}-C",
            valid_from=now + timedelta(days=2),
            valid_until=now + timedelta(days=9),
        ),
    )
    off = create_discount_code(actor, draft(code=f"LST-{tag}-D", is_active=False))

    def codes(**kw: object) -> list[str]:
        return [c.code for c in list_discount_codes(actor, search=f"lst-{tag}", **kw).rows]

    assert codes() == [scoped.code, fixed.code, later.code, off.code]
    assert codes(state="scheduled") == [later.code]
    assert codes(state="inactive") == [off.code]
    assert codes(discount_type="fixed_amount") == [fixed.code]
    assert codes(event_id=event_id) == [scoped.code, fixed.code, later.code, off.code]
    other_event, _, _ = make_show(owner, organizer)
    assert scoped.code not in codes(event_id=other_event)
    page = list_discount_codes(actor, search=f"lst-{tag}", limit=3)
    assert (len(page.rows), page.total, page.has_more) == (3, 4, True)
    rest = list_discount_codes(actor, search=f"lst-{tag}", limit=3, offset=3)
    assert [c.code for c in rest.rows] == [off.code] and not rest.has_more
    with pytest.raises(ValidationError) as bad:
        list_discount_codes(actor, state="sleeping")
    assert bad.value.field == "state"


def test_discount_codes_need_events_manage(owner: Engine) -> None:
    staff = make_person(owner, ["staff"])
    with pytest.raises(PermissionDenied):
        list_discount_codes(staff.actor())
    with pytest.raises(PermissionDenied):
        create_discount_code(staff.actor(), draft())
    at = open_codes(staff)
    assert not at.exception
    assert [t.value for t in at.title] == ["No access"]


def scalar(owner: Engine, sql: str, **params: object) -> object:
    with owner.connect() as conn:
        return conn.execute(text(sql), params).scalar()


# -- the page -----------------------------------------------------------------------------


def open_codes(identity: Identity) -> AppTest:
    at = open_page(PAGE, identity)
    assert not at.exception
    return at


def test_create_a_code_through_the_page(owner: Engine, organizer: Identity) -> None:
    event_id, _, vip = make_show(owner, organizer)
    at = open_codes(organizer)
    assert not at.exception and at.title[0].value == "Discount codes"
    code = f"PAGE-{uuid.uuid4().hex[:8].upper()}"

    at.text_input(key="new0_code").input(code)
    at.number_input(key="new0_value").set_value(150.0)
    at.button(key="codes_create").click().run()
    assert not at.exception
    assert [shown(e.value) for e in at.error] == [
        "A percentage discount must be more than 0 and at most 100."
    ]

    at.number_input(key="new0_value").set_value(25.0)
    at.number_input(key="new0_maximum").set_value(30.0)
    at.number_input(key="new0_limit").set_value(10)
    at.checkbox(key="new0_once").check()
    at.multiselect(key="new0_events").set_value([str(event_id)]).run()
    at.multiselect(key="new0_types").set_value([str(vip)])
    at.text_input(key="new0_description").input("Press night")
    at.button(key="codes_create").click().run()
    assert not at.exception and not at.error, messages(at)
    assert [shown(s.value) for s in at.success] == [
        f"Code {code} created: 25% (at most 30.00), active."
    ]
    with owner.connect() as conn:
        row = conn.execute(
            text(
                "SELECT discount_type, discount_value, maximum_discount_amount, usage_limit,"
                " is_one_time_use, applies_to_all_events, description,"
                " ARRAY(SELECT ticket_type_id FROM discount_code_ticket_types"
                "       WHERE discount_code_id = dc.id)"
                " FROM discount_codes dc WHERE code = :c"
            ),
            {"c": code},
        ).one()
    assert tuple(row) == ("percentage", D("25.00"), D("30.00"), 10, True, False, "Press night",
                          [vip])  # fmt: skip
    assert at.text_input(key="new1_code").value == "", "the form starts empty again"


def test_the_page_lists_exports_and_deactivates(
    owner: Engine, organizer: Identity, monkeypatch: pytest.MonkeyPatch
) -> None:
    files: dict[str, bytes] = {}
    original = MemoryMediaFileStorage.load_and_get_id

    def keep(self, data, mimetype, kind, filename=None):  # type: ignore[no-untyped-def]
        files[filename] = data
        return original(self, data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", keep)
    made = create_discount_code(organizer.actor(), draft(code=f"EXP-{uuid.uuid4().hex[:8]}"))
    at = open_codes(organizer)
    at.text_input(key="codes_search").input(made.code).run()
    assert list(at.dataframe[0].value["Code"]) == [made.code]
    exported = pd.read_csv(io.BytesIO(files["discount-codes.csv"]))
    assert list(exported["Code"]) == [made.code]
    assert list(exported["State"]) == ["active"]

    value = next(
        n for n in at.number_input if n.key.startswith("edit_") and n.key.endswith("_value")
    )
    value.set_value(35.0)
    at.button(key="codes_save").click().run()
    assert not at.exception and not at.error, messages(at)
    assert f"Code {made.code} saved: 35%, active." in messages(at)
    assert scalar(owner, "SELECT discount_value FROM discount_codes WHERE id = :c",
                  c=made.code_id) == D("35.00")  # fmt: skip

    at.button(key=f"codes_deactivate_{made.code_id}_ask").click().run()
    assert any(f"Deactivate {made.code}?" in shown(w.value) for w in at.warning)
    at.button(key=f"codes_deactivate_{made.code_id}_yes").click().run()
    assert not at.exception and not at.error, messages(at)
    assert f"Code {made.code} deactivated." in messages(at)
    assert (
        scalar(owner, "SELECT is_active FROM discount_codes WHERE id = :c", c=made.code_id) is False
    )
    assert list(at.dataframe[0].value["State"]) == ["inactive"]

    at.text_input(key="codes_search").input(f"no-such-code-{uuid.uuid4().hex}").run()
    assert "No code matches" in messages(at)
