"""Every showcase page in real Streamlit (AppTest) through the app shell, signed in, on a
database of the module's own (the app role, so row-level security applies)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from core.auth import Identity
from core.showcase import collections, items, runway
from core.showcase.public import public_collection, published_collections
from tests.apptest import make_person, messages, open_page
from tests.factories import make_event


@pytest.fixture(scope="module")
def designer(owner: Engine) -> tuple[Identity, uuid.UUID]:
    """A designer with an active profile, one draft and one published collection."""
    person = make_person(owner, ["designer"], user_type="designer")
    with Session(owner) as s, s.begin():
        designer_id = s.execute(
            text(
                "INSERT INTO designers (user_id, name, brand_name, status)"
                " VALUES (:u, 'Page Test Atelier', 'Pagetest', 'active') RETURNING id"
            ),
            {"u": person.user_id},
        ).scalar_one()
    actor = person.actor()
    for name, publish in (("Quiet Draft", False), ("Loud Launch", True)):
        collection_id = collections.create_collection(
            actor,
            collections.CollectionDraft(
                designer_id, name, season="fall", year=2026, description=f"{name} by Pagetest"
            ),
        )
        items.add_item(actor, collection_id, items.ItemDraft(f"{name} coat", "outerwear"))
        if publish:
            collections.set_collection_status(actor, collection_id, "published")
    return person, designer_id


@pytest.fixture(scope="module")
def admin(owner: Engine) -> Identity:
    return make_person(owner, ["admin"], user_type="admin")


@pytest.fixture(scope="module")
def sponsor(owner: Engine) -> Identity:
    return make_person(owner, ["sponsor"], user_type="sponsor")


PAGES = {
    "showcase.py": "Showcase",
    "designers.py": "Designers",
    "collections.py": "Collections",
    "runway_shows.py": "Runway shows",
    "fashion_models.py": "Models",
    "designer_analytics.py": "Designer analytics",
}


@pytest.mark.parametrize("page", PAGES)
def test_every_page_opens_for_an_admin(admin: Identity, page: str) -> None:
    at = open_page(page, admin)
    assert not at.exception, at.exception
    assert at.title[0].value == PAGES[page]
    assert at.dataframe or at.get("plotly_chart") or at.image, "the page shows data"


def test_the_showcase_searches_and_shows_a_gallery(sponsor: Identity, designer) -> None:
    at = open_page("showcase.py", sponsor)
    assert not at.exception
    assert at.image, "the chosen collection's gallery"
    at.text_input(key="showcase_search").input("pagetest").run()
    assert not at.exception
    texts = "\n".join(m.value for m in at.markdown)
    assert "Page Test Atelier" in texts and "Loud Launch" in texts
    assert "Quiet Draft" not in texts
    hits = at.selectbox(key="showcase_hit")
    hits.select_index(hits.options.index("Loud Launch")).run()
    assert not at.exception
    assert [h.value for h in at.header] == ["Loud Launch"]


def test_a_designer_sees_only_their_own_drafts(designer, owner: Engine) -> None:
    person, _ = designer
    at = open_page("collections.py", person)
    assert not at.exception
    table = at.dataframe[0].value
    assert set(table["Collection"]) == {"Quiet Draft", "Loud Launch"}
    other = make_person(owner, ["designer"], user_type="designer")
    at = open_page("collections.py", other)
    assert not at.exception
    at.checkbox(key="col_mine").uncheck().run()
    names = set(at.dataframe[0].value["Collection"])
    assert "Loud Launch" in names and "Quiet Draft" not in names


def test_a_designer_adds_a_piece_and_publishes(designer) -> None:
    person, _ = designer
    at = open_page("collections.py", person)
    pick = at.selectbox(key="col_pick")
    pick.select_index(next(i for i, k in enumerate(pick.options) if "Quiet Draft" in k)).run()
    assert not at.exception
    at.text_input(key="item_new0_name").input("Second look").run()
    next(b for b in at.button if b.label == "Add piece").click().run()
    assert not at.exception
    assert "Second look added." in messages(at)
    next(b for b in at.button if b.label == "Publish").click().run()
    assert not at.exception
    assert "Quiet Draft is now published." in messages(at)


def test_a_bad_palette_is_named(designer) -> None:
    person, _ = designer
    at = open_page("collections.py", person)
    tab = at.text_input(key="newcol_palette")
    tab.input("Ivory white").run()
    assert "colour palette" in messages(at)


def test_the_running_order_page_offers_a_printout(admin: Identity) -> None:
    at = open_page("runway_shows.py", admin)
    assert not at.exception
    assert at.dataframe, "the shows and their looks"
    assert any("Running order" in s.value for s in at.subheader)


def test_designer_analytics_are_the_designers_own(designer, sponsor: Identity) -> None:
    person, _ = designer
    launch = next(c for c in published_collections(sponsor.actor()) if c.name == "Loud Launch")
    public_collection(sponsor.actor(), launch.collection_id)  # counts a view
    at = open_page("designer_analytics.py", person)
    assert not at.exception
    assert at.selectbox(key="dan_designer").options == ["Page Test Atelier · Pagetest"]
    assert int(at.metric[0].value) >= 1, "profile views"
    assert len(at.get("plotly_chart")) == 3, "views, engagement, views by collection"


def test_models_for_everyone_editing_for_admins(sponsor: Identity, admin: Identity) -> None:
    at = open_page("fashion_models.py", sponsor)
    assert not at.exception and at.dataframe
    assert not [b for b in at.button if b.label == "Add model"]
    at = open_page("fashion_models.py", admin)
    at.text_input(key="mod_new0_name").input("Page Test Model").run()
    next(b for b in at.button if b.label == "Add model").click().run()
    assert not at.exception
    assert "Page Test Model added." in messages(at)


def test_designers_page_review_for_admins(admin: Identity, designer) -> None:
    at = open_page("designers.py", admin)
    assert not at.exception
    assert "Page Test Atelier" in set(at.dataframe[0].value["Name"])
    assert [b for b in at.button if b.label == "Save flags"]


def _show_of_loud_launch(person: Identity, owner: Engine, *, in_days: int) -> uuid.UUID:
    """A new show of the designer's published collection at a new published event."""
    launch = next(
        c
        for c in collections.list_collections(person.actor(), mine_only=True)
        if c.name == "Loud Launch"
    )
    with Session(owner) as s, s.begin():
        venue_id = s.execute(text("SELECT id FROM venues LIMIT 1")).scalar_one()
        event_id = make_event(
            s, venue_id=venue_id, status="published", published_at=datetime.now(UTC)
        ).id
    return runway.create_show(
        person.actor(),
        runway.ShowDraft(
            launch.collection_id, event_id, datetime.now(UTC) + timedelta(days=in_days)
        ),
    )


def test_a_designer_builds_a_running_order(designer, owner: Engine) -> None:
    person, _ = designer
    _show_of_loud_launch(person, owner, in_days=5)
    at = open_page("runway_shows.py", person)
    at.checkbox(key="show_mine").check().run()
    assert not at.exception
    assert "No segments yet." in messages(at)
    at.text_input(key="seg_name0").input("Opening").run()
    at.text_input(key="seg_music0").input("Satie").run()
    next(b for b in at.button if b.label == "Add segment").click().run()
    assert not at.exception
    assert "Segment Opening added." in messages(at)
    next(b for b in at.button if b.label == "Add look").click().run()
    assert not at.exception
    looks = at.dataframe[-1].value
    assert list(looks["Look"]) == [1] and list(looks["Slot"]) == ["1.1"]
    printable = at.get("download_button")
    assert printable, "the printable running order"


def test_the_move_buttons_reorder_segments(designer, owner: Engine) -> None:
    person, _ = designer
    show_id = _show_of_loud_launch(person, owner, in_days=9)
    for name in ("First", "Second"):
        runway.add_segment(person.actor(), show_id, runway.SegmentDraft(name))
    at = open_page("runway_shows.py", person)
    at.checkbox(key="show_mine").check().run()
    at.selectbox(key="show_pick").set_value(str(show_id)).run()
    assert at.button(key="seg_move_1").label == "Move later"
    at.button(key="seg_move_1").click().run()
    assert not at.exception
    order = runway.running_order(person.actor(), show_id)
    assert [s.name for s in order.segments] == ["Second", "First"]


def test_a_new_designer_creates_their_profile_once(owner: Engine) -> None:
    person = make_person(owner, ["designer"], user_type="designer")
    at = open_page("designers.py", person)
    assert [t.label for t in at.tabs] == ["Designers", "Collaborations", "New profile"]
    at.text_input(key="new_name").input("Fresh Face Studio").run()
    at.text_input(key="new_website").input("freshface.example.com").run()
    next(b for b in at.button if b.label == "Create profile").click().run()
    assert "website url must be a web address" in messages(at)
    at.text_input(key="new_website").input("https://freshface.example.com").run()
    at.text_area(key="new_awards").input("Newcomer Prize, 2025").run()
    next(b for b in at.button if b.label == "Create profile").click().run()
    assert not at.exception
    assert "Profile Fresh Face Studio created; it awaits review." in messages(at)
    assert [t.label for t in at.tabs] == ["Designers", "Collaborations"]
    table = at.dataframe[0].value
    mine = table[table["Mine"]]
    assert list(mine["Name"]) == ["Fresh Face Studio"] and list(mine["Status"]) == ["pending"]
