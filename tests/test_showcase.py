"""The showcase's core services and the database rules beneath them, on real PostgreSQL as
the app role: a designer's drafts are theirs alone (service and row-level security), a
show's running order never puts two looks in one slot, one primary image per piece, the
ranked search over designers and collections, uploads, the public view and analytics."""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from PIL import Image
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError, IntegrityError, ProgrammingError
from sqlalchemy.orm import Session

from core.auth import Identity
from core.db import Actor
from core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from core.showcase import (
    analytics,
    collections,
    designers,
    images,
    items,
    public,
    runway,
    search,
)
from core.showcase.fashion_models import model_choices
from tests.apptest import make_person
from tests.factories import make_event


@dataclass(frozen=True)
class Designer:
    person: Identity
    designer_id: uuid.UUID

    @property
    def actor(self) -> Actor:
        return self.person.actor()


def make_designer(owner: Engine, name: str | None = None, **values: object) -> Designer:
    """A person with the designer role and an active profile of their own."""
    person = make_person(owner, ["designer"], user_type="designer")
    with Session(owner) as s, s.begin():
        designer_id = s.execute(
            text(
                "INSERT INTO designers (user_id, name, brand_name, bio, status)"
                " VALUES (:u, :n, :b, :bio, 'active') RETURNING id"
            ),
            {
                "u": person.user_id,
                "n": name or f"Designer {uuid.uuid4().hex[:8]}",
                "b": values.get("brand_name"),
                "bio": values.get("bio"),
            },
        ).scalar_one()
    return Designer(person, designer_id)


def new_collection(d: Designer, name: str | None = None, **values: object) -> uuid.UUID:
    return collections.create_collection(
        d.actor,
        collections.CollectionDraft(
            designer_id=d.designer_id,
            name=name or f"Collection {uuid.uuid4().hex[:8]}",
            season="spring",
            year=2026,
            **values,  # type: ignore[arg-type]
        ),
    )


def published(d: Designer, name: str | None = None, **values: object) -> uuid.UUID:
    collection_id = new_collection(d, name, **values)
    items.add_item(d.actor, collection_id, items.ItemDraft(name="Look one", item_type="dress"))
    collections.set_collection_status(d.actor, collection_id, "published")
    return collection_id


@pytest.fixture(scope="module")
def alice(owner: Engine) -> Designer:
    return make_designer(owner)


@pytest.fixture(scope="module")
def bob(owner: Engine) -> Designer:
    return make_designer(owner)


@pytest.fixture(scope="module")
def admin(owner: Engine) -> Identity:
    return make_person(owner, ["admin"], user_type="admin")


@pytest.fixture(scope="module")
def bobs_draft(bob: Designer) -> uuid.UUID:
    collection_id = new_collection(bob, "Bob's secret draft")
    item_id = items.add_item(
        bob.actor, collection_id, items.ItemDraft(name="Secret coat", item_type="outerwear")
    )
    images.add_image_url(bob.actor, item_id, "https://example.com/secret.jpg")
    return collection_id


@pytest.fixture(scope="module")
def bobs_published(bob: Designer) -> uuid.UUID:
    return published(bob, "Bob's public line")


# -- drafts belong to their designer: service level --------------------------------------


def test_a_designer_cannot_see_another_designers_drafts(
    alice: Designer, bob: Designer, bobs_draft: uuid.UUID, bobs_published: uuid.UUID
) -> None:
    seen = {c.collection_id for c in collections.list_collections(alice.actor)}
    assert bobs_published in seen
    assert bobs_draft not in seen
    assert bobs_draft in {c.collection_id for c in collections.list_collections(bob.actor)}
    with pytest.raises(NotFound):
        collections.get_collection(alice.actor, bobs_draft)
    assert items.list_items(alice.actor, bobs_draft) == ()
    assert len(items.list_items(bob.actor, bobs_draft)) == 1
    assert bobs_draft not in {s.collection_id for s in runway.list_shows(alice.actor)}


def test_a_designer_cannot_edit_another_designers_collections(
    alice: Designer, bob: Designer, bobs_draft: uuid.UUID, bobs_published: uuid.UUID
) -> None:
    draft = collections.get_collection(bob.actor, bobs_published).draft
    assert not collections.get_collection(alice.actor, bobs_published).can_edit
    with pytest.raises(PermissionDenied):
        collections.update_collection(alice.actor, bobs_published, draft)
    with pytest.raises(PermissionDenied):
        collections.set_collection_status(alice.actor, bobs_published, "archived")
    with pytest.raises(PermissionDenied):
        items.add_item(alice.actor, bobs_published, items.ItemDraft(name="x", item_type="top"))
    with pytest.raises(NotFound):
        collections.update_collection(alice.actor, bobs_draft, draft)
    with pytest.raises(PermissionDenied):
        collections.create_collection(
            alice.actor, collections.CollectionDraft(designer_id=bob.designer_id, name="Mine now")
        )
    piece = items.list_items(alice.actor, bobs_published)[0]
    with pytest.raises(PermissionDenied):
        images.add_image_url(alice.actor, piece.item_id, "https://example.com/x.jpg")
    assert collections.get_collection(bob.actor, bobs_published).row.status == "published"


def test_a_designer_edits_only_their_own_profile_and_cannot_review_it(
    owner: Engine, alice: Designer, bob: Designer, admin: Identity
) -> None:
    mine = designers.get_designer(alice.actor, alice.designer_id)
    assert mine.can_edit and not mine.can_review
    designers.update_designer(
        alice.actor, alice.designer_id, mine.draft.__class__(**{**mine.draft.__dict__, "bio": "Hi"})
    )
    assert designers.get_designer(alice.actor, alice.designer_id).draft.bio == "Hi"
    theirs = designers.get_designer(alice.actor, bob.designer_id)
    assert not theirs.can_edit
    with pytest.raises(PermissionDenied):
        designers.update_designer(alice.actor, bob.designer_id, theirs.draft)
    with pytest.raises(PermissionDenied):
        designers.set_designer_flags(alice.actor, alice.designer_id, verified=True, featured=True)
    with pytest.raises(PermissionDenied):
        designers.set_designer_status(alice.actor, alice.designer_id, "inactive")


def test_a_new_profile_waits_for_review(owner: Engine, admin: Identity) -> None:
    person = make_person(owner, ["designer"], user_type="designer")
    draft = designers.DesignerDraft(
        name="Newcomer Studio",
        website_url="https://newcomer.example.com",
        social={"instagram": "@newcomer"},
        awards=tuple(
            designers.inputs.dated_lines("Rising Star, 2024\nBest debut", "awards", "name")
        ),
    )
    designer_id = designers.create_designer(person.actor(), draft)
    with pytest.raises(Conflict):
        designers.create_designer(person.actor(), draft)
    detail = designers.get_designer(person.actor(), designer_id)
    assert detail.row.status == "pending" and detail.user_id == person.user_id
    assert detail.draft.awards == ({"name": "Rising Star", "year": 2024}, {"name": "Best debut"})
    with pytest.raises(ValidationError) as bad:
        designers.set_designer_status(admin.actor(), designer_id, "inactive")
    assert bad.value.field == "status" and "active or rejected" in bad.value.message
    designers.set_designer_status(admin.actor(), designer_id, "active")
    designers.set_designer_flags(admin.actor(), designer_id, verified=True, featured=True)
    row = designers.get_designer(person.actor(), designer_id).row
    assert (row.status, row.is_verified, row.is_featured) == ("active", True, True)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": "  "}, "name"),
        ({"website_url": "newcomer.example.com"}, "website_url"),
        ({"contact_email": "not-an-email"}, "contact_email"),
        ({"years_active": -1}, "years_active"),
        ({"social": {"myspace": "@me"}}, "social_links"),
    ],
)
def test_bad_profiles_are_refused_naming_the_field(
    alice: Designer, change: dict[str, object], field: str
) -> None:
    draft = designers.DesignerDraft(**{"name": "Fine", **change})  # type: ignore[arg-type]
    with pytest.raises(ValidationError) as bad:
        designers.update_designer(alice.actor, alice.designer_id, draft)
    assert bad.value.field == field


def test_collection_workflow_and_inputs(alice: Designer) -> None:
    collection_id = new_collection(
        alice,
        color_palette=collections.palette_from_text("Ivory #fffff0, #1b1b3a"),
        materials=("silk", " Silk ", "wool"),
    )
    detail = collections.get_collection(alice.actor, collection_id)
    assert detail.row.status == "draft" and detail.next_statuses == ("published", "archived")
    assert detail.draft.color_palette == (
        {"name": "Ivory", "hex": "#FFFFF0"},
        {"name": "#1B1B3A", "hex": "#1B1B3A"},
    )
    assert detail.draft.materials == ("silk", "wool")
    with pytest.raises(ValidationError) as bad:
        collections.set_collection_status(alice.actor, collection_id, "published")
    assert "at least one piece" in bad.value.message
    with pytest.raises(ValidationError) as bad:
        collections.palette_from_text("Ivory white")
    assert bad.value.field == "color_palette"
    with pytest.raises(ValidationError) as bad:
        collections.update_collection(
            alice.actor,
            collection_id,
            collections.CollectionDraft(alice.designer_id, "X", year=20225),
        )
    assert bad.value.field == "year"


def test_pieces_keep_their_order(alice: Designer) -> None:
    collection_id = new_collection(alice)
    ids = [
        items.add_item(alice.actor, collection_id, items.ItemDraft(name=n, item_type="top"))
        for n in ("A", "B", "C")
    ]
    items.move_item(alice.actor, ids[2], -1)
    assert [i.name for i in items.list_items(alice.actor, collection_id)] == ["A", "C", "B"]
    assert [i.display_order for i in items.list_items(alice.actor, collection_id)] == [1, 2, 3]
    with pytest.raises(ValidationError) as bad:
        items.update_item(
            alice.actor, ids[0], items.ItemDraft("A", "top", price_min=50, price_max=10)
        )
    assert bad.value.field == "price_max"
    items.delete_item(alice.actor, ids[1])
    assert [i.name for i in items.list_items(alice.actor, collection_id)] == ["A", "C"]


# -- images: one primary, uploads checked by content ------------------------------------


def test_one_primary_image_per_piece(owner: Engine, alice: Designer) -> None:
    collection_id = new_collection(alice)
    item_id = items.add_item(alice.actor, collection_id, items.ItemDraft("Gown", "dress"))
    first = images.add_image_url(alice.actor, item_id, "https://example.com/1.jpg")
    second = images.add_image_url(alice.actor, item_id, "https://example.com/2.jpg")
    assert items.list_items(alice.actor, collection_id)[0].primary_image.image_id == first
    images.set_primary_image(alice.actor, second)
    piece = items.list_items(alice.actor, collection_id)[0]
    assert piece.primary_image.image_id == second
    assert [i.is_primary for i in piece.images].count(True) == 1
    # The database itself refuses a second primary.
    with pytest.raises(IntegrityError), Session(owner) as s, s.begin():
        s.execute(
            text("UPDATE fashion_item_images SET is_primary = true WHERE id = :i"), {"i": first}
        )
    images.delete_image(alice.actor, second)
    assert items.list_items(alice.actor, collection_id)[0].primary_image.image_id == first
    with pytest.raises(ValidationError) as bad:
        images.add_image_url(alice.actor, item_id, "ftp://example.com/1.jpg")
    assert bad.value.field == "image_url"


def _png(size: tuple[int, int] = (8, 8)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 90)).save(out, format="PNG")
    return out.getvalue()


def test_uploads_are_checked_by_content_and_size(
    alice: Designer, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FASHIONISTAS_UPLOADS_DIR", str(tmp_path))
    monkeypatch.setenv("FASHIONISTAS_UPLOAD_MAX_MB", "0.01")
    collection_id = new_collection(alice)
    item_id = items.add_item(alice.actor, collection_id, items.ItemDraft("Bag", "accessory"))
    image_id = images.upload_image(alice.actor, item_id, "bag.png", _png(), "The bag")
    stored = items.list_items(alice.actor, collection_id)[0].images[0]
    assert stored.image_id == image_id and stored.image_url.startswith("upload://")
    path = images.image_source(stored.image_url)
    assert path == tmp_path / stored.image_url.removeprefix("upload://")
    assert path.read_bytes() == _png()

    refusals = {
        "a script named .png": ("evil.png", b"<script>alert(1)</script>" * 4, "content is not"),
        "a PNG named .jpg": ("photo.jpg", _png(), "rename it to .png"),
        "an unknown extension": ("photo.bmp", _png(), "only .jpg"),
        "an empty file": ("empty.png", b"", "empty"),
        "too large": ("big.png", _png() + b"\0" * 20_000, "MB allowed"),
    }
    for case, (name, data, words) in refusals.items():
        with pytest.raises(ValidationError) as bad:
            images.upload_image(alice.actor, item_id, name, data)
        assert bad.value.field == "image_file", case
        assert words in bad.value.message, (case, bad.value.message)
    assert len(items.list_items(alice.actor, collection_id)[0].images) == 1


# -- runway: the running order stays consistent -----------------------------------------


@pytest.fixture(scope="module")
def show(owner: Engine, alice: Designer) -> tuple[uuid.UUID, uuid.UUID, list[uuid.UUID]]:
    collection_id = new_collection(alice)
    pieces = [
        items.add_item(alice.actor, collection_id, items.ItemDraft(f"Look {n}", "dress"))
        for n in range(3)
    ]
    with Session(owner) as s, s.begin():
        venue_id = s.execute(text("SELECT id FROM venues LIMIT 1")).scalar_one()
        event_id = make_event(
            s, venue_id=venue_id, status="published", published_at=datetime.now(UTC)
        ).id
    show_id = runway.create_show(
        alice.actor,
        runway.ShowDraft(collection_id, event_id, datetime.now(UTC) + timedelta(days=9), 30),
    )
    return show_id, collection_id, pieces


def test_the_running_order_never_shares_a_slot(
    owner: Engine,
    alice: Designer,
    bob: Designer,
    show: tuple[uuid.UUID, uuid.UUID, list[uuid.UUID]],
) -> None:
    show_id, _, pieces = show
    opening = runway.add_segment(
        alice.actor, show_id, runway.SegmentDraft("Opening", music="Bach", duration_minutes=10)
    )
    finale = runway.add_segment(alice.actor, show_id, runway.SegmentDraft("Finale"))
    models = [m for m, _ in model_choices(alice.actor)[:4]]
    looks = [
        runway.add_appearance(alice.actor, opening, models[n], pieces[n % 3]) for n in range(3)
    ]
    runway.add_appearance(alice.actor, finale, models[3], None, "bow")
    runway.move_appearance(alice.actor, looks[2], -1)
    runway.move_appearance(alice.actor, looks[2], -1)
    runway.move_segment(alice.actor, finale, -1)
    runway.delete_appearance(alice.actor, looks[0])

    order = runway.running_order(alice.actor, show_id)
    assert [(s.order, s.name) for s in order.segments] == [(1, "Finale"), (2, "Opening")]
    assert [(lk.look, lk.slot) for s in order.segments for lk in s.looks] == [
        (1, 1),
        (2, 1),
        (3, 2),
    ]
    assert [lk.appearance_id for lk in order.segments[1].looks] == [looks[2], looks[1]]
    assert order.segments[1].starts_at == order.show.show_date  # the finale has no length
    with owner.connect() as conn:
        slots = conn.execute(
            text(
                "SELECT s.segment_order, a.appearance_order FROM runway_appearances a"
                " JOIN runway_segments s ON s.id = a.runway_segment_id WHERE s.runway_show_id = :s"
            ),
            {"s": show_id},
        ).all()
    assert len(slots) == len(set(slots)) == 3

    # The database refuses a second look in a taken slot, and a second segment at a taken
    # place in the show, whoever writes.
    with pytest.raises(IntegrityError), Session(owner) as s, s.begin():
        s.execute(
            text(
                "INSERT INTO runway_appearances (runway_segment_id, model_id, appearance_order)"
                " VALUES (:s, :m, 1)"
            ),
            {"s": opening, "m": models[0]},
        )
    with pytest.raises(IntegrityError), Session(owner) as s, s.begin():
        s.execute(
            text(
                "INSERT INTO runway_segments (runway_show_id, name, segment_order)"
                " VALUES (:s, 'Again', 1)"
            ),
            {"s": show_id},
        )
    # Only pieces of the show's own collection walk.
    others = items.list_items(bob.actor, published(bob))
    with pytest.raises(ValidationError) as bad:
        runway.add_appearance(alice.actor, opening, models[0], others[0].item_id)
    assert bad.value.field == "fashion_item_id"
    with pytest.raises(IntegrityError) as refused, Session(owner) as s, s.begin():
        s.execute(
            text(
                "INSERT INTO runway_appearances (runway_segment_id, model_id, fashion_item_id,"
                " appearance_order) VALUES (:s, :m, :i, 9)"
            ),
            {"s": opening, "m": models[0], "i": others[0].item_id},
        )
    assert "show's collection" in str(refused.value)
    # Bob cannot even see a show of Alice's draft collection.
    with pytest.raises(NotFound):
        runway.add_segment(bob.actor, show_id, runway.SegmentDraft("Hijack"))


def test_the_printable_running_order(alice: Designer, show) -> None:
    from core.showcase.printout import running_order_html

    order = runway.running_order(alice.actor, show[0])
    page = running_order_html(order)
    assert page.startswith("<!doctype html>") and "@media print" in page
    for segment in order.segments:
        assert segment.name in page
        for look in segment.looks:
            assert look.model_name in page


# -- search -------------------------------------------------------------------------------


def test_search_returns_ranked_designers_and_collections(
    secure_database, owner: Engine, alice: Designer
) -> None:
    word = "zephyrine" + uuid.uuid4().hex[:6]
    designer = make_designer(
        owner, f"{word.title()} Atelier", brand_name=word, bio=f"{word} {word} tailoring"
    )
    public_id = published(designer, f"{word.title()} Nights", description="Evening wear")
    draft_id = new_collection(designer, f"{word.title()} Unreleased")
    results = search.search_showcase(alice.actor, word)
    kinds = [h.kind for h in results.hits]
    assert set(kinds) == {"designer", "collection"}
    assert [h.rank for h in results.hits] == sorted((h.rank for h in results.hits), reverse=True)
    assert [h.id for h in results.designers] == [designer.designer_id]
    assert [h.id for h in results.collections] == [public_id]
    assert draft_id not in {h.id for h in results.hits}
    # The designer matches the word three times, the collection once: the designer ranks first.
    assert results.hits[0].kind == "designer"
    assert search.search_showcase(alice.actor, "  ").hits == ()
    with pytest.raises(ValidationError):
        search.search_showcase(alice.actor, "x" * 500)
    # Nothing without a signed-in person, even through the function.
    with secure_database.app.connect() as conn:
        assert (
            conn.execute(text("SELECT count(*) FROM showcase_search(:q, 10)"), {"q": word}).scalar()
            == 0
        )


def test_the_search_uses_the_full_text_indexes(owner: Engine) -> None:
    with owner.connect() as conn:
        body = conn.execute(
            text("SELECT prosrc FROM pg_proc WHERE proname = 'showcase_search'")
        ).scalar_one()
        body = body.replace("p_query", "$1").replace("p_per_kind", "$2")
        conn.execute(text(f"PREPARE showcase_body(text, integer) AS {body}"))
        # On the small demo the planner rightly prefers a sequential or status-index scan;
        # take those away (in a transaction rolled back) to prove the function's
        # expressions match the GIN indexes, i.e. the planner can use them when they pay.
        conn.execute(text("SET LOCAL enable_seqscan = off"))
        conn.execute(text("DROP INDEX idx_designers_status, idx_collections_status"))
        plan = "\n".join(
            conn.execute(text("EXPLAIN EXECUTE showcase_body('tailoring', 10)")).scalars()
        )
        conn.rollback()
        conn.execute(text("DEALLOCATE showcase_body"))
    assert "idx_designers_fts" in plan, plan
    assert "idx_collections_fts" in plan, plan


# -- public view and analytics -------------------------------------------------------------


def test_the_public_view_never_shows_drafts_and_counts_views(
    owner: Engine, alice: Designer, bob: Designer, bobs_draft: uuid.UUID, bobs_published: uuid.UUID
) -> None:
    cards = {c.collection_id for c in public.published_collections(bob.actor)}
    assert bobs_published in cards and bobs_draft not in cards
    with pytest.raises(NotFound):
        public.public_collection(bob.actor, bobs_draft)  # not even to its designer
    shown = public.public_collection(alice.actor, bobs_published)
    assert shown.designer_id == bob.designer_id and [i.name for i in shown.items] == ["Look one"]
    public.public_collection(alice.actor, bobs_published)
    figures = analytics.designer_analytics(bob.actor, bob.designer_id, date.today(), date.today())
    assert figures.totals["profile_views"] == 2
    assert figures.by_collection["views"].tolist() == [2]
    with pytest.raises(PermissionDenied):
        analytics.designer_analytics(alice.actor, bob.designer_id, date.today(), date.today())
    assert [d for d, _ in analytics.analytics_designers(alice.actor)] == [alice.designer_id]
    with pytest.raises(ValidationError):
        analytics.designer_analytics(
            bob.actor, bob.designer_id, date.today(), date.today() - timedelta(days=1)
        )


# -- row-level security, straight in the database ----------------------------------------


def _as(conn: Connection, person: Identity) -> None:
    conn.execute(
        text("SELECT set_config('app.user_id', :u, false), set_config('app.session', :t, false)"),
        {"u": str(person.user_id), "t": person.session_token},
    )


def test_row_level_security_keeps_drafts_to_their_designer(
    secure_database,
    alice: Designer,
    bob: Designer,
    bobs_draft: uuid.UUID,
    bobs_published: uuid.UUID,
) -> None:
    with secure_database.app.connect() as conn:
        _as(conn, alice.person)
        draft = {"c": bobs_draft}
        assert (
            conn.execute(text("SELECT count(*) FROM collections WHERE id = :c"), draft).scalar()
            == 0
        )
        for table, where in (
            ("fashion_items", "collection_id = :c"),
            (
                "fashion_item_images",
                "fashion_item_id IN (SELECT id FROM fashion_items WHERE collection_id = :c)",
            ),
        ):
            assert (
                conn.execute(text(f"SELECT count(*) FROM {table} WHERE {where}"), draft).scalar()
                == 0
            )
        # Writes to someone else's rows touch nothing, or are refused outright.
        for statement in (
            "UPDATE collections SET name = 'taken' WHERE id = :c",
            "UPDATE fashion_items SET name = 'taken' WHERE collection_id = :c",
            "DELETE FROM fashion_items WHERE collection_id = :c",
        ):
            assert conn.execute(text(statement), {"c": bobs_published}).rowcount == 0
        assert (
            conn.execute(
                text("UPDATE designers SET bio = 'taken' WHERE id = :d"), {"d": bob.designer_id}
            ).rowcount
            == 0
        )
        with pytest.raises(ProgrammingError, match="row-level security"):
            conn.execute(
                text(
                    "INSERT INTO fashion_items (collection_id, name, item_type)"
                    " VALUES (:c, 'x', 'top')"
                ),
                {"c": bobs_published},
            )
        conn.rollback()
        _as(conn, alice.person)
        with pytest.raises(ProgrammingError, match="row-level security"):
            conn.execute(
                text("INSERT INTO collections (designer_id, name) VALUES (:d, 'x')"),
                {"d": bob.designer_id},
            )
        conn.rollback()
        _as(conn, alice.person)
        # Her own profile she may edit, but not approve or feature.
        assert (
            conn.execute(
                text("UPDATE designers SET bio = 'mine' WHERE id = :d"), {"d": alice.designer_id}
            ).rowcount
            == 1
        )
        with pytest.raises(DBAPIError, match="only an admin"):
            conn.execute(
                text("UPDATE designers SET is_featured = true WHERE id = :d"),
                {"d": alice.designer_id},
            )
        conn.rollback()

        _as(conn, bob.person)
        assert (
            conn.execute(text("SELECT count(*) FROM collections WHERE id = :c"), draft).scalar()
            == 1
        )
        assert (
            conn.execute(
                text("SELECT count(*) FROM fashion_items WHERE collection_id = :c"), draft
            ).scalar()
            == 1
        )
        # Analytics rows are the designer's own; views are counted through the function.
        assert (
            conn.execute(
                text("SELECT count(*) FROM designer_analytics WHERE designer_id = :d"),
                {"d": alice.designer_id},
            ).scalar()
            == 0
        )
        conn.rollback()

        conn.execute(
            text(
                "SELECT set_config('app.user_id', '', false), set_config('app.session', '', false)"
            )
        )
        for table in (
            "collections",
            "fashion_items",
            "runway_shows",
            "models",
            "designer_analytics",
        ):
            assert conn.execute(text(f"SELECT count(*) FROM {table}")).scalar() == 0, table
        conn.rollback()
