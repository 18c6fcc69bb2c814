"""The seat map in a real browser: `streamlit run dashboard/app.py` driven by Chromium.

An organizer signs in, opens the seat map of a seated event, box-selects seats by dragging
the mouse over the plotly chart, sells them at the box office and sees them sold on the
map. The server runs against a scratch database without demo data, set up by a subprocess
(as tests/test_browser.py does); a screenshot of the map is saved to SCREENSHOT.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

from core.config import PROJECT_ROOT
from dashboard.registry import PAGES
from tests.browser import browser, needs_chromium, run_setup, server_env, streamlit_server

__all__ = ["browser"]  # a fixture, used by name

SCREENSHOT = PROJECT_ROOT / "test-artifacts" / "seat-map.png"
PASSWORD = "seat-map-browser-password"
SEAT_MAP_URL = next(spec.url_path for spec in PAGES if spec.file == "seat_map.py")
SECTIONS = (("Front Row", 2, 12), ("Stalls", 8, 20), ("Balcony", 4, 16))

pytestmark = needs_chromium

# Runs in its own process against the scratch database, as its owner: migrate, then an
# organizer with a known password and a published event at a venue whose seats have x/y
# coordinates, one ticket type per section and an event_seats row per seat.
SETUP = """
import json
import sys
import uuid
from contextlib import redirect_stdout
from datetime import UTC, datetime, timedelta
from io import StringIO

from sqlalchemy import text

from core.auth.passwords import hash_password
from core.auth.permissions import role_id
from core.bootstrap import prepare_database
from core.db import get_owner_engine

with redirect_stdout(StringIO()):
    prepare_database()
password, sections = sys.argv[1], json.loads(sys.argv[2])
now = datetime.now(UTC)
with get_owner_engine().begin() as conn:
    run = lambda sql, **p: conn.execute(text(sql), p)
    email = f"organizer-{uuid.uuid4().hex[:8]}@example.com"
    user = run(
        "INSERT INTO users (email, full_name, user_type, status)"
        " VALUES (:e, 'Olive Organizer', 'organizer', 'active') RETURNING id",
        e=email,
    ).scalar()
    run("INSERT INTO user_credentials (user_id, password_hash) VALUES (:u, :h)", u=user,
        h=hash_password(password))
    run("INSERT INTO user_roles (user_id, role_id) VALUES (:u, :r)", u=user,
        r=role_id("organizer"))
    venue = run(
        "INSERT INTO venues (name, address, city, country) VALUES"
        " ('Browser Hall', '1 Runway Road', 'Milan', 'IT') RETURNING id"
    ).scalar()
    event = run(
        "INSERT INTO events (organizer_id, title, start_date, end_date, type, status,"
        " published_at, venue_id, tax_rate) VALUES (:u, 'Browser Runway Show', :s,"
        " :s + interval '3 hours', 'fashion_show', 'published', now(), :v, 0.1)"
        " RETURNING id",
        u=user, s=now + timedelta(days=20), v=venue,
    ).scalar()
    x0 = 0
    for i, (name, rows, per_row) in enumerate(sections):
        section = run(
            "INSERT INTO venue_sections (venue_id, name, capacity, section_type)"
            " VALUES (:v, :n, :c, 'general') RETURNING id",
            v=venue, n=name, c=rows * per_row,
        ).scalar()
        run(
            "INSERT INTO venue_seats (section_id, row_name, seat_number, x, y)"
            " SELECT :s, chr(65 + r), n::text, :x0 + (n - 1) * 24, r * 30"
            " FROM generate_series(0, :rows - 1) r, generate_series(1, :per) n",
            s=section, x0=x0, rows=rows, per=per_row,
        )
        run(
            "INSERT INTO ticket_types (event_id, name, base_price, total_capacity,"
            " remaining_capacity, sale_start_date, sale_end_date, tier, seating_section_id)"
            " VALUES (:e, :n, :p, :c, :c, :a, :b, 'general', :s)",
            e=event, n=f"{name} ticket", p=50 + 25 * i, c=rows * per_row,
            a=now - timedelta(days=1), b=now + timedelta(days=19), s=section,
        )
        x0 += per_row * 24 + 48
    run(
        "INSERT INTO event_seats (event_id, seat_id) SELECT :e, vs.id FROM venue_seats vs"
        " JOIN venue_sections s ON s.id = vs.section_id WHERE s.venue_id = :v",
        e=event, v=venue,
    )
print(json.dumps({"email": email, "event_id": str(event)}))
"""


@pytest.fixture(scope="module")
def server(databases, tmp_path_factory) -> Iterator[dict[str, str]]:
    """A running dashboard on a scratch database: its URL, database URL, organizer email
    and event id."""
    database_url = databases.create("fashionistas_browser_seats")
    env = server_env(database_url)
    made = json.loads(run_setup(env, SETUP, PASSWORD, json.dumps(SECTIONS)))
    with streamlit_server(env, tmp_path_factory.mktemp("streamlit") / "server.log") as url:
        yield {"url": url, "database_url": database_url, **made}


# Page coordinates of a rectangle given in the chart's data coordinates (plotly's own
# axis conversions, so the drag lands on the seats whatever the window size).
TO_PIXELS = """
(gd, [x0, y0, x1, y1]) => {
  const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
  const box = gd.getBoundingClientRect();
  const px = (x) => box.left + xa._offset + xa.l2p(x);
  const py = (y) => box.top + ya._offset + ya.l2p(y);
  return [px(x0), py(y0), px(x1), py(y1)];
}
"""


def sold_seats(database_url: str, event_id: str) -> list[tuple[str, str, str]]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return [
                tuple(row)
                for row in conn.execute(
                    text(
                        "SELECT s.name, vs.row_name, vs.seat_number FROM event_seats es"
                        " JOIN venue_seats vs ON vs.id = es.seat_id"
                        " JOIN venue_sections s ON s.id = vs.section_id"
                        " WHERE es.event_id = :e AND es.status = 'sold'"
                        " ORDER BY vs.seat_number::int"
                    ),
                    {"e": event_id},
                )
            ]
    finally:
        engine.dispose()


def test_an_organizer_selects_seats_on_the_map_sells_them_and_sees_them_sold(
    server, browser
) -> None:
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.goto(f"{server['url']}/{SEAT_MAP_URL}", wait_until="domcontentloaded")
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible(timeout=60_000)
        page.get_by_label("Email").fill(server["email"])
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Seat map")).to_be_visible(timeout=60_000)
        expect(page.get_by_text("Available (248)")).to_be_visible(timeout=60_000)

        # Drag a box around the first four seats of the Front Row's row A.
        plot = page.locator(".js-plotly-plot").first
        x0, y0, x1, y1 = plot.evaluate(TO_PIXELS, [-10, -10, 3 * 24 + 10, 10])
        page.mouse.move(x0, y0)
        page.mouse.down()
        page.mouse.move((x0 + x1) / 2, (y0 + y1) / 2, steps=5)
        page.mouse.move(x1, y1, steps=5)
        page.mouse.up()
        expect(page.get_by_text("4 seat(s) chosen")).to_be_visible(timeout=30_000)

        page.get_by_role("button", name="Sell 4 seat(s) at the box office").click()
        expect(page.get_by_role("heading", name="Box office")).to_be_visible(timeout=30_000)
        expect(page.get_by_text("Seats from the seat map (4)")).to_be_visible()
        page.get_by_label("Name", exact=True).fill("Walk-In Buyer")
        page.get_by_label("Email", exact=True).fill("walk.in@example.com")
        page.get_by_role("button", name="Review price").click()
        pay = page.get_by_role("button", name="Take payment · $220.00 · Cash")
        expect(pay).to_be_visible(timeout=30_000)
        pay.click()
        expect(page.get_by_text("is complete: $220.00 · Cash.")).to_be_visible(timeout=30_000)

        page.get_by_text("choose them on the seat map").click()
        expect(page.get_by_role("heading", name="Seat map")).to_be_visible(timeout=30_000)
        expect(page.get_by_text("Sold (4)")).to_be_visible(timeout=30_000)
        expect(page.get_by_text("Available (244)")).to_be_visible()
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT), full_page=True)
    finally:
        page.close()

    assert sold_seats(server["database_url"], server["event_id"]) == [
        ("Front Row", "A", str(n)) for n in range(1, 5)
    ]
