"""The HTTP API through real HTTP: `python -m core api` as its own process on the module's
secure database (the app role, row-level security on), reached with httpx.

Each resource group's happy path; every route refusing a missing, wrong, expired or
revoked key (401) and a key without its scope (403 naming the scope); another
organizer's events refused; one order per repeated Idempotency-Key, even when the
repeats race; problem documents for bad input.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from api.app import create_app, route_table
from core.api_keys import SCOPES, create_key, revoke_key
from core.auth import Identity
from core.models import EventSeat
from tests.api_server import api_process
from tests.apptest import make_person
from tests.factories import make_discount_code, make_event, make_seated_section, make_ticket_type

PROBLEM = "application/problem+json"
ALL_SCOPES = tuple(SCOPES)


@dataclass(frozen=True)
class World:
    url: str
    admin: Identity
    organizer: Identity
    other: Identity
    event_id: uuid.UUID
    ticket_type_id: uuid.UUID
    seat_ids: tuple[uuid.UUID, ...]
    venue_id: uuid.UUID
    draft_id: uuid.UUID
    other_event_id: uuid.UUID
    code: str
    keys: dict[str, str]


def _key(by: Identity, owner: Identity, scopes: tuple[str, ...], **kw: object) -> str:
    created = create_key(
        by.actor(),
        owner_email=owner.email,
        name=f"test {uuid.uuid4().hex[:6]}",
        scopes=scopes,
        **kw,  # type: ignore[arg-type]
    )
    return created.secret


def _arrange(owner: Engine, organizer: Identity, other: Identity) -> dict[str, object]:
    now = datetime.now(UTC)
    with Session(owner) as s, s.begin():
        venue, section, seats = make_seated_section(s, 6)
        event = make_event(
            s,
            organizer_id=organizer.user_id,
            status="published",
            published_at=now,
            venue_id=venue.id,
            title=f"API Show {uuid.uuid4().hex[:6]}",
        )
        ticket_type = make_ticket_type(
            s, event, base_price=Decimal("40.00"), total_capacity=500, remaining_capacity=500
        )
        make_ticket_type(
            s,
            event,
            base_price=Decimal("90.00"),
            total_capacity=6,
            remaining_capacity=6,
            seating_section_id=section.id,
        )
        s.add_all(EventSeat(event_id=event.id, seat_id=seat.id) for seat in seats)
        s.flush()
        draft = make_event(s, organizer_id=organizer.user_id, status="draft", title="API Draft")
        other_event = make_event(
            s, organizer_id=other.user_id, status="published", published_at=now
        )
        make_ticket_type(s, other_event)
        code = make_discount_code(s, applies_to_all_events=True, discount_value=Decimal("10"))
        return {
            "event_id": event.id,
            "ticket_type_id": ticket_type.id,
            "seat_ids": tuple(seat.id for seat in seats),
            "venue_id": venue.id,
            "draft_id": draft.id,
            "other_event_id": other_event.id,
            "code": code.code,
        }


@pytest.fixture(scope="module")
def world(owner: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    admin = make_person(owner, ["admin"])
    organizer = make_person(owner, ["organizer"])
    other = make_person(owner, ["organizer"])
    rows = _arrange(owner, organizer, other)
    keys = {
        "organizer": _key(admin, organizer, ALL_SCOPES),
        "admin": _key(admin, admin, ALL_SCOPES),
        "other": _key(admin, other, ALL_SCOPES),
    }
    log = tmp_path_factory.mktemp("api") / "api.log"
    with api_process(owner, Path(log)) as url:
        yield World(url, admin, organizer, other, keys=keys, **rows)  # type: ignore[arg-type]


def call(
    world: World, method: str, path: str, key: str | None = "organizer", **kw: object
) -> httpx.Response:
    headers = dict(kw.pop("headers", {}) or {})  # type: ignore[call-overload]
    if key is not None:
        headers["Authorization"] = f"Bearer {world.keys.get(key, key)}"
    return httpx.request(method, world.url + path, headers=headers, timeout=30, **kw)  # type: ignore[arg-type]


def is_problem(response: httpx.Response, status: int, code: str | None = None) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM), response.headers
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"] and body["type"]
    if code is not None:
        assert body["code"] == code, body
    return body  # type: ignore[no-any-return]


# -- every route: who may call ------------------------------------------------------------


def _routes() -> list[tuple[str, str, str]]:
    """(method, path with ids filled in, scope) of every /v1 route, from the app itself."""
    found = []
    for entry in route_table(create_app(register_routes=False)):
        (requires,) = entry.requires
        filled = re.sub(r"\{[^}]+\}", str(uuid.uuid4()), entry.path)
        found.append((entry.method, filled, requires.scope))
    assert len(found) >= 20, found
    return found


ROUTES = _routes()


def test_every_route_needs_a_key(world: World, owner: Engine) -> None:
    expiring = create_key(
        world.admin.actor(), owner_email=world.organizer.email, name="to expire", scopes=ALL_SCOPES
    )
    revoked = create_key(
        world.admin.actor(), owner_email=world.organizer.email, name="to revoke", scopes=ALL_SCOPES
    )
    revoke_key(world.admin.actor(), revoked.key_id)
    with owner.begin() as conn:
        # Expired a minute ago (a key cannot be created already expired).
        conn.execute(
            text("UPDATE api_keys SET expires_at = now() - interval '1 minute' WHERE id = :k"),
            {"k": expiring.key_id},
        )
    good = world.keys["organizer"]
    bad = {
        "missing": None,
        "wrong": "fk_live_abcdefgh_" + "x" * 43,
        "mangled": good[:-2] + ("aa" if not good.endswith("aa") else "bb"),
        "expired": expiring.secret,
        "revoked": revoked.secret,
    }
    for method, path, _ in ROUTES:
        for what, key in bad.items():
            response = call(world, method, path, key=key, json={})
            body = is_problem(response, 401, "unauthenticated")
            assert response.headers["www-authenticate"].lower().startswith("bearer"), (path, what)
            assert key is None or key not in response.text, "a key in an error message"
            assert body["detail"]
    # X-Api-Key works as well as the bearer header.
    listed = httpx.get(f"{world.url}/v1/venues", headers={"X-Api-Key": good}, timeout=30)
    assert listed.status_code == 200


def test_every_route_needs_its_scope(world: World) -> None:
    without = {
        scope: _key(world.admin, world.admin, tuple(s for s in ALL_SCOPES if s != scope))
        for scope in {scope for _, _, scope in ROUTES}
    }
    for method, path, scope in ROUTES:
        response = call(world, method, path, key=without[scope], json={})
        body = is_problem(response, 403)
        assert scope in str(body["detail"]), (method, path, body)
        # The limit headers come with every authenticated answer, refusals too.
        assert "ratelimit-limit" in response.headers


# -- resource groups ----------------------------------------------------------------------


def test_events_list_filters_and_pages(world: World) -> None:
    first = call(world, "GET", "/v1/events", params={"limit": 1})
    assert first.status_code == 200, first.text
    page = first.json()
    assert len(page["data"]) == 1 and page["total"] >= 2 and page["next_cursor"]
    second = call(world, "GET", "/v1/events", params={"limit": 1, "cursor": page["next_cursor"]})
    assert second.status_code == 200
    assert second.json()["data"][0]["event_id"] != page["data"][0]["event_id"]
    assert {"ratelimit-limit", "ratelimit-remaining", "ratelimit-reset"} <= set(first.headers)

    drafts = call(world, "GET", "/v1/events", params=[("status", "draft"), ("limit", "200")]).json()
    assert str(world.draft_id) in {e["event_id"] for e in drafts["data"]}
    assert all(e["status"] == "draft" for e in drafts["data"])
    searched = call(world, "GET", "/v1/events", params={"search": "API Show", "limit": 200}).json()
    assert str(world.event_id) in {e["event_id"] for e in searched["data"]}
    soon = date.today() + timedelta(days=29)
    ranged = call(
        world, "GET", "/v1/events", params={"from": str(soon), "to": str(soon + timedelta(days=2))}
    )
    assert ranged.status_code == 200

    one = call(world, "GET", f"/v1/events/{world.event_id}")
    assert one.status_code == 200 and one.json()["status"] == "published"
    is_problem(call(world, "GET", "/v1/events", params={"cursor": "not-a-cursor"}), 422, "invalid")


def test_venues(world: World) -> None:
    listed = call(world, "GET", "/v1/venues")
    assert listed.status_code == 200 and listed.json()["data"]
    one = call(world, "GET", f"/v1/venues/{world.venue_id}")
    assert one.status_code == 200 and len(one.json()["sections"]) == 1
    is_problem(call(world, "GET", f"/v1/venues/{uuid.uuid4()}"), 404, "not_found")


def test_availability_and_seats(world: World) -> None:
    types = call(world, "GET", f"/v1/events/{world.event_id}/ticket-types")
    assert types.status_code == 200, types.text
    by_id = {t["ticket_type_id"]: t for t in types.json()["data"]}
    assert by_id[str(world.ticket_type_id)]["free"] > 0
    seats = call(world, "GET", f"/v1/events/{world.event_id}/seats")
    assert seats.status_code == 200, seats.text
    assert {s["seat_id"] for s in seats.json()["data"]} == {str(s) for s in world.seat_ids}


def _hold(world: World, quantity: int = 2, **body: object) -> dict[str, object]:
    response = call(
        world,
        "POST",
        "/v1/holds",
        json={
            "event_id": str(world.event_id),
            "quantities": {str(world.ticket_type_id): quantity},
            **body,
        },
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


BUYER = {"name": "Ada Buyer", "email": "ada.buyer@example.com"}


def _order(world: World, hold_id: str, key: str, total: str, **body: object) -> httpx.Response:
    return call(
        world,
        "POST",
        "/v1/orders",
        headers={"Idempotency-Key": key},
        json={
            "hold_id": hold_id,
            "buyer": BUYER,
            "payment_method": "card_terminal",
            "expected_total": total,
            **body,
        },
    )


def test_hold_quote_order_refund_cancel(world: World) -> None:
    before = call(world, "GET", f"/v1/events/{world.event_id}/ticket-types").json()
    free = {t["ticket_type_id"]: t["free"] for t in before["data"]}[str(world.ticket_type_id)]
    hold = _hold(world)
    after = call(world, "GET", f"/v1/events/{world.event_id}/ticket-types").json()
    assert {t["ticket_type_id"]: t["free"] for t in after["data"]}[
        str(world.ticket_type_id)
    ] == free - 2

    quote = call(
        world,
        "POST",
        "/v1/orders/quote",
        json={"hold_id": hold["hold_id"], "buyer": BUYER, "code": world.code},
    )
    assert quote.status_code == 200, quote.text
    q = quote.json()
    assert Decimal(q["discount"]) > 0 and q["code"] == world.code

    key = f"order-{uuid.uuid4().hex}"
    placed = _order(world, str(hold["hold_id"]), key, q["total"], code=world.code)
    assert placed.status_code == 201, placed.text
    again = _order(world, str(hold["hold_id"]), key, q["total"], code=world.code)
    assert again.status_code == 200 and again.json()["order_id"] == placed.json()["order_id"]
    assert again.json()["replayed"] is True
    order_id = placed.json()["order_id"]

    got = call(world, "GET", f"/v1/orders/{order_id}")
    assert got.status_code == 200 and got.json()["status"] == "completed"
    listed = call(world, "GET", "/v1/orders", params={"event_id": str(world.event_id)})
    assert order_id in {o["order_id"] for o in listed.json()["data"]}

    item = got.json()["items"][0]
    refunded = call(
        world,
        "POST",
        f"/v1/orders/{order_id}/refunds",
        json={"reason": "changed plans", "items": [{"item_id": item["item_id"], "quantity": 1}]},
    )
    assert refunded.status_code == 201, refunded.text
    assert refunded.json()["released_tickets"] == 1
    cancelled = call(world, "POST", f"/v1/orders/{order_id}/cancel", json={"reason": "show moved"})
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    is_problem(
        call(world, "POST", f"/v1/orders/{order_id}/cancel", json={"reason": "twice"}),
        409,
        "invalid_order_state",
    )

    released = _hold(world, 1)
    gone = call(world, "DELETE", f"/v1/holds/{released['hold_id']}")
    assert gone.status_code == 200 and gone.json()["released_tickets"] == 1
    is_problem(call(world, "DELETE", "/v1/holds/not-a-hold"), 404)


def test_seats_are_held_and_sold(world: World) -> None:
    seat = str(world.seat_ids[0])
    hold = _hold(world, 0, quantities={}, seat_ids=[seat])
    quote = call(
        world, "POST", "/v1/orders/quote", json={"hold_id": hold["hold_id"], "buyer": BUYER}
    ).json()
    placed = _order(world, str(hold["hold_id"]), uuid.uuid4().hex, quote["total"])
    assert placed.status_code == 201, placed.text
    seats = {
        s["seat_id"]: s
        for s in call(world, "GET", f"/v1/events/{world.event_id}/seats").json()["data"]
    }
    assert seats[seat]["status"] == "sold"
    taken = call(
        world, "POST", "/v1/holds", json={"event_id": str(world.event_id), "seat_ids": [seat]}
    )
    is_problem(taken, 409, "seat_taken")


def test_one_order_per_idempotency_key_when_repeats_race(world: World, owner: Engine) -> None:
    hold = _hold(world, 1)
    quote = call(
        world, "POST", "/v1/orders/quote", json={"hold_id": hold["hold_id"], "buyer": BUYER}
    ).json()
    key = f"race-{uuid.uuid4().hex}"
    with ThreadPoolExecutor(6) as pool:
        answers = list(
            pool.map(lambda _: _order(world, str(hold["hold_id"]), key, quote["total"]), range(6))
        )
    assert sorted(a.status_code for a in answers) == [200] * 5 + [201], [a.text for a in answers]
    assert len({a.json()["order_id"] for a in answers}) == 1
    with owner.connect() as conn:
        n = conn.execute(
            text("SELECT count(*) FROM orders WHERE idempotency_key LIKE :k"), {"k": f"%:{key}"}
        ).scalar_one()
    assert n == 1
    # The same key with another request is refused, changing nothing.
    other = _hold(world, 2)
    is_problem(
        _order(world, str(other["hold_id"]), key, quote["total"]), 409, "idempotency_conflict"
    )
    is_problem(_order(world, str(other["hold_id"]), "", quote["total"]), 422)


def test_attendees_as_json_and_csv(world: World) -> None:
    hold = _hold(world, 1)
    quote = call(
        world, "POST", "/v1/orders/quote", json={"hold_id": hold["hold_id"], "buyer": BUYER}
    ).json()
    assert _order(world, str(hold["hold_id"]), uuid.uuid4().hex, quote["total"]).status_code == 201
    listed = call(world, "GET", f"/v1/events/{world.event_id}/attendees")
    assert listed.status_code == 200, listed.text
    assert BUYER["email"] in {a["buyer_email"] for a in listed.json()["data"]}
    for csv in (
        call(
            world, "GET", f"/v1/events/{world.event_id}/attendees", headers={"Accept": "text/csv"}
        ),
        call(world, "GET", f"/v1/events/{world.event_id}/attendees", params={"format": "csv"}),
    ):
        assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
        assert (
            csv.text.splitlines()[0].replace('"', "").startswith("Buyer,Email")
            and BUYER["email"] in csv.text
        )


def test_discount_code_check(world: World) -> None:
    body = {
        "event_id": str(world.event_id),
        "code": world.code,
        "quantities": {str(world.ticket_type_id): 2},
    }
    checked = call(world, "POST", "/v1/discount-codes/check", json=body)
    assert checked.status_code == 200, checked.text
    assert Decimal(checked.json()["discount"]) == Decimal("8.00")
    is_problem(
        call(world, "POST", "/v1/discount-codes/check", json={**body, "code": "NOPE-NONE"}),
        422,
        "code_invalid",
    )


def test_analytics_are_the_pages_numbers(world: World) -> None:
    from core.analytics.campaigns import CampaignFilter, get_campaign_dashboard
    from core.analytics.sponsors import SponsorFilter, get_sponsor_dashboard
    from core.analytics.window import DateWindow

    window = DateWindow(date.today() - timedelta(days=365), date.today())
    params = {"start": str(window.start), "end": str(window.end)}
    roi = call(world, "GET", "/v1/analytics/sponsor-roi", key="admin", params=params)
    assert roi.status_code == 200, roi.text
    board = get_sponsor_dashboard(world.admin.actor(), SponsorFilter(window))
    assert Decimal(roi.json()["totals"]["revenue"]) == board.totals.revenue
    assert len(roi.json()["sponsors"]) == len(board.sponsors)
    campaigns = call(world, "GET", "/v1/analytics/campaigns", key="admin", params=params)
    assert campaigns.status_code == 200, campaigns.text
    cboard = get_campaign_dashboard(world.admin.actor(), CampaignFilter(window))
    assert campaigns.json()["totals"]["impressions"] == cboard.totals.impressions
    assert Decimal(campaigns.json()["totals"]["cost"]) == cboard.totals.cost
    backwards = call(
        world,
        "GET",
        "/v1/analytics/campaigns",
        key="admin",
        params={"start": "2026-02-01", "end": "2026-01-01"},
    )
    is_problem(backwards, 422, "invalid")
    # An organizer lacks analytics.view: the scope is there, the permission is not.
    is_problem(call(world, "GET", "/v1/analytics/campaigns", params=params), 403, "forbidden")


def test_api_keys_by_the_api(world: World) -> None:
    created = call(
        world,
        "POST",
        "/v1/api-keys",
        key="admin",
        json={
            "owner_email": world.organizer.email,
            "name": "box office partner",
            "scopes": ["events:read"],
        },
    )
    assert created.status_code == 201, created.text
    secret = created.json()["secret"]
    key_id = created.json()["key_id"]
    assert call(world, "GET", "/v1/events", key=secret).status_code == 200
    listed = call(world, "GET", "/v1/api-keys", key="admin")
    assert listed.status_code == 200 and key_id in {k["key_id"] for k in listed.json()["data"]}
    assert secret not in listed.text
    rotated = call(world, "POST", f"/v1/api-keys/{key_id}/rotate", key="admin")
    assert rotated.status_code == 201, rotated.text
    new_secret, new_id = rotated.json()["secret"], rotated.json()["key_id"]
    # Old and new both work for the grace period.
    assert call(world, "GET", "/v1/events", key=new_secret).status_code == 200
    assert call(world, "GET", "/v1/events", key=secret).status_code == 200
    revoked = call(world, "POST", f"/v1/api-keys/{new_id}/revoke", key="admin")
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked", revoked.text
    is_problem(call(world, "GET", "/v1/events", key=new_secret), 401, "unauthenticated")
    # An organizer's key with keys:admin still acts as the organizer: their own keys only,
    # and no keys made for others.
    own = call(world, "GET", "/v1/api-keys")
    assert own.status_code == 200
    assert {k["owner_email"] for k in own.json()["data"]} == {world.organizer.email}
    made = call(
        world,
        "POST",
        "/v1/api-keys",
        json={"owner_email": world.other.email, "name": "sneaky", "scopes": ["events:read"]},
    )
    is_problem(made, 403)


# -- row-level security -------------------------------------------------------------------


def test_another_organizers_events_are_refused(world: World) -> None:
    draft = f"/v1/events/{world.draft_id}"
    assert call(world, "GET", draft).status_code == 200
    is_problem(call(world, "GET", draft, key="other"), 404)
    mine = world.event_id
    for method, path, body in (
        ("GET", f"/v1/events/{mine}/attendees", None),
        ("GET", f"/v1/events/{mine}/ticket-types", None),
        (
            "POST",
            "/v1/holds",
            {"event_id": str(mine), "quantities": {str(world.ticket_type_id): 1}},
        ),
    ):
        response = call(world, method, path, key="other", json=body)
        assert response.status_code in (403, 404), (path, response.text)
        assert response.headers["content-type"].startswith(PROBLEM)
    listed = call(world, "GET", "/v1/orders", key="other", params={"event_id": str(mine)})
    assert listed.status_code in (200, 403) and not (
        listed.status_code == 200 and listed.json()["data"]
    )


# -- bad input ----------------------------------------------------------------------------


def test_bad_input_is_a_problem_naming_the_field(world: World) -> None:
    hold = {"event_id": str(world.event_id), "quantities": {str(world.ticket_type_id): 1}}
    unknown = is_problem(
        call(world, "POST", "/v1/holds", json={**hold, "price": 0}), 422, "invalid"
    )
    assert unknown["field"] == "price" and "extra_forbidden" in str(unknown["detail"])
    absurd = is_problem(
        call(
            world,
            "POST",
            "/v1/holds",
            json={**hold, "quantities": {str(world.ticket_type_id): 10**30}},
        ),
        422,
    )
    assert str(absurd["field"]).startswith("quantities")
    is_problem(call(world, "POST", "/v1/holds", json={**hold, "quantities": {"x": 1}}), 422)
    is_problem(call(world, "GET", "/v1/events", params={"limit": 10**9}), 422)
    is_problem(call(world, "GET", "/v1/events/not-a-uuid"), 422)
    bad_json = call(
        world,
        "POST",
        "/v1/holds",
        content=b'{"event_id": ',
        headers={"Content-Type": "application/json"},
    )
    assert is_problem(bad_json, 422)["field"] == "body"
    bad_utf8 = call(
        world,
        "POST",
        "/v1/holds",
        content=b'{"event_id": "\xff\xfe"}',
        headers={"Content-Type": "application/json"},
    )
    is_problem(bad_utf8, 422)
    nul = call(world, "GET", "/v1/events", params={"search": "a\x00b"})
    assert nul.status_code in (200, 422), nul.text
    huge = call(
        world,
        "POST",
        "/v1/holds",
        content=b"[" + b"1," * 40_000 + b"1]",
        headers={"Content-Type": "application/json"},
    )
    is_problem(huge, 413, "too_large")
    is_problem(call(world, "GET", "/v1/nothing-here"), 404, "not_found")


def test_the_endpoint_registry_is_the_route_table(world: World, owner: Engine) -> None:
    expected = {
        (e.method, e.path, tuple(r.scope for r in e.requires))
        for e in route_table(create_app(register_routes=False))
    }
    with owner.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT method, path, required_permissions FROM rest_api_endpoints"
                " WHERE NOT is_deprecated"
            )
        ).all()
    assert len(expected) >= 20
    assert {(m, p, tuple(s)) for m, p, s in rows} == expected
