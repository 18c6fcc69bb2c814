"""A collection's gallery in a real browser: `streamlit run dashboard/app.py` on a scratch
database, a designer signs in with a password, opens Collections and sees their pieces'
images (uploaded PNG files, checked and stored in the uploads folder, served by Streamlit);
the screenshot is kept as a test artifact."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from core.config import PROJECT_ROOT
from tests.browser import browser, needs_chromium, run_setup, server_env, streamlit_server

__all__ = ["browser"]  # a fixture, used by name

SCREENSHOT = PROJECT_ROOT / "test-artifacts" / "showcase-gallery.png"
PASSWORD = "browser-showcase-password-7"
pytestmark = needs_chromium

# Runs in its own process: migrate, then a designer with a known password, an active
# profile and a collection of four pieces, each with an uploaded PNG as its primary image,
# made through the showcase services as that designer.
SETUP = """
import io
import json
import sys
import uuid
from contextlib import redirect_stdout
from io import StringIO

from PIL import Image, ImageDraw
from sqlalchemy import text

from core.auth.passwords import hash_password
from core.auth.permissions import role_id
from core.bootstrap import prepare_database
from core.auth import load_identity
from core.auth.sessions import open_session
from core.db import get_owner_engine
from core.showcase import collections, images, items

with redirect_stdout(StringIO()):
    prepare_database()
with get_owner_engine().begin() as conn:
    email = f"designer-{uuid.uuid4().hex[:8]}@example.com"
    user = conn.execute(text(
        "INSERT INTO users (email, full_name, user_type, status)"
        " VALUES (:e, 'Dana Designer', 'designer', 'active') RETURNING id"),
        {"e": email}).scalar()
    conn.execute(text("INSERT INTO user_credentials (user_id, password_hash) VALUES (:u, :h)"),
                 {"u": user, "h": hash_password(sys.argv[1])})
    conn.execute(text("INSERT INTO user_roles (user_id, role_id) VALUES (:u, :r)"),
                 {"u": user, "r": role_id("designer")})
    designer = conn.execute(text(
        "INSERT INTO designers (user_id, name, brand_name, status)"
        " VALUES (:u, 'Dana Designer', 'Maison Dana', 'active') RETURNING id"),
        {"u": user}).scalar()
actor = load_identity(open_session(user)).actor()
collection = collections.create_collection(actor, collections.CollectionDraft(
    designer, "Tidal Glass", season="summer", year=2026,
    color_palette=collections.palette_from_text("Sea #2E8B9A, Sand #E8D8B0, Coral #F08070"),
    materials=("silk organza", "recycled glass beads")))
colours = ["#2E8B9A", "#E8D8B0", "#F08070", "#3A3F58"]
for n, (name, kind) in enumerate([("Wave gown", "dress"), ("Shell top", "top"),
                                  ("Drift trousers", "bottom"), ("Reef coat", "outerwear")]):
    item = items.add_item(actor, collection, items.ItemDraft(name, kind, price_min=400 + 100 * n,
                                                             price_max=900 + 100 * n))
    picture = Image.new("RGB", (300, 400), colours[n])
    ImageDraw.Draw(picture).ellipse((60, 80, 240, 320), outline="white", width=8)
    out = io.BytesIO()
    picture.save(out, format="PNG")
    images.upload_image(actor, item, f"look-{n + 1}.png", out.getvalue(), f"{name}, front")
collections.set_collection_status(actor, collection, "published")
print(json.dumps({"email": email}))
"""


@pytest.fixture(scope="module")
def server(databases, tmp_path_factory) -> Iterator[dict[str, str]]:
    env = server_env(databases.create("fashionistas_browser_showcase"))
    env["FASHIONISTAS_UPLOADS_DIR"] = str(tmp_path_factory.mktemp("uploads"))
    made = json.loads(run_setup(env, SETUP, PASSWORD))
    with streamlit_server(env, tmp_path_factory.mktemp("streamlit") / "server.log") as url:
        yield {"url": url, **made}


def test_a_collection_gallery_in_a_real_browser(server, browser) -> None:
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    try:
        page.goto(f"{server['url']}/collections", wait_until="domcontentloaded")
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible(timeout=60_000)
        page.get_by_label("Email").fill(server["email"])
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Collections")).to_be_visible(timeout=60_000)
        expect(page.get_by_text("Tidal Glass · published")).to_be_visible(timeout=30_000)

        gallery = page.locator(".st-key-collection-gallery")
        expect(gallery.get_by_text("1. Wave gown")).to_be_visible(timeout=30_000)
        pictures = gallery.locator("img")
        expect(pictures).to_have_count(4, timeout=30_000)
        # Every image really loaded (served from the uploads folder), none broken.
        page.wait_for_function(
            "els => els.every(i => i.complete && i.naturalWidth === 300)",
            arg=pictures.element_handles(),
            timeout=30_000,
        )
        for name in ("Wave gown", "Shell top", "Drift trousers", "Reef coat"):
            expect(gallery.get_by_text(name, exact=False).first).to_be_visible()
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        gallery.scroll_into_view_if_needed()
        page.locator(".stMain").screenshot(path=str(SCREENSHOT))
        assert SCREENSHOT.stat().st_size > 10_000
    finally:
        page.close()
