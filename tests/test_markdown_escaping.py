"""Finding 10: people's names render as text, never as Markdown.

Every name, title and note people type (events, venues, sections, ticket types, buyers,
designers, collections, pieces, models, runway shows, sponsors, tiers, benefits,
campaigns, e-mails, posts, segments, codes, users, data requests) is made to start with a
link and an image, as the owner (so no service's own checks stand in the way); then every
page is opened as an admin, and every piece of text Streamlit renders as Markdown
(markdown, captions, headers, alerts, toasts, metrics, widget labels, help, radio and
segmented-control options, tab and expander labels) is rendered with a CommonMark/GFM
parser: none may hold a link to or an image from evil.example.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from markdown_it import MarkdownIt
from sqlalchemy import Engine, text
from streamlit.testing.v1 import AppTest

from core.auth import Identity
from core.services.events import EventInput, create_event
from dashboard import registry
from dashboard.text import md
from tests.apptest import make_person, messages, open_page, shown

HOSTILE = "[click](http://evil.example) ![x](http://evil.example/x.png)"
EVIL = "evil.example"

# (table, column): what people type and the pages show.
TYPED = {
    "events": ("title", "short_description", "description"),
    "event_schedules": ("title", "location"),
    "event_categories": ("name",),
    "venues": ("name", "address", "city"),
    "venue_sections": ("name",),
    "venue_seats": ("notes",),
    "event_seats": ("blocked_reason",),
    "ticket_types": ("name", "description"),
    "orders": ("billing_name", "notes"),
    "order_refunds": ("reason",),
    "designers": ("name", "brand_name", "specialty", "bio"),
    "designer_collaborations": ("name", "description"),
    "collections": ("name", "description", "inspiration", "show_notes"),
    "fashion_items": ("name", "description"),
    "fashion_item_images": ("alt_text",),
    "models": ("name", "bio", "agency"),
    "runway_shows": ("notes",),
    "runway_segments": ("name", "theme", "music", "lighting_notes"),
    "runway_appearances": ("notes",),
    "sponsors": ("name", "description", "industry"),
    "sponsorship_tiers": ("name", "description"),
    "sponsor_benefits": ("name", "description"),
    "sponsorships": ("custom_tier_name", "notes"),
    "sponsorship_assets": ("name", "notes", "review_note"),
    "marketing_campaigns": ("name", "description"),
    "email_campaigns": ("subject", "sender_name"),
    "social_media_posts": ("content",),
    "marketing_segments": ("name", "description"),
    "promotional_codes": ("description",),
    "discount_codes": ("description",),
    "users": ("full_name",),
    "data_subject_requests": ("notes", "rejection_reason"),
}

_PARSER = MarkdownIt("gfm-like", {"linkify": True}).enable(["linkify"])
# Proto fields Streamlit renders as Markdown (options only for the widgets below).
MARKDOWN_FIELDS = {"body", "label", "help", "delta", "caption"}
MARKDOWN_OPTIONS = {"radio", "button_group"}


# Streamlit (remark-gfm) links web addresses found in the text itself, after escapes are
# read; this is what it would link. (E-mail addresses become mailto: links showing the
# address; md leaves them, so they can be copied and searched.)
AUTOLINK = re.compile(
    r"(?i)(?:https?://|www\.)[^\s]*" + re.escape(EVIL) + r"|[-.\w+]@" + re.escape(EVIL)
)


def injected(markdown: str) -> list[dict]:
    """The links and images to evil.example that `markdown` renders."""
    found = []
    for token in _PARSER.parse(markdown):
        for child in token.children or []:
            target = str(child.attrs.get("href") or child.attrs.get("src") or "")
            if child.type in ("link_open", "image") and EVIL in target:
                found.append({"type": child.type, **child.attrs})
            if child.type == "text" and AUTOLINK.search(child.content):
                found.append({"type": "autolink", "text": child.content})
        if token.type == "html_block" and EVIL in token.content:
            found.append({"type": "html", "content": token.content})
    return found


def _strings(message, kind: str) -> Iterator[str]:
    """The Markdown-rendered strings of a proto message and the messages inside it."""
    for field, value in message.ListFields():
        if field.type == field.TYPE_MESSAGE:
            values = value if field.is_repeated else [value]
            for inner in values:
                if field.name == "options" and kind in MARKDOWN_OPTIONS:
                    yield from (v for f, v in inner.ListFields() if isinstance(v, str))
                yield from _strings(inner, kind)
        elif field.type == field.TYPE_STRING:
            values = list(value) if field.is_repeated else [value]
            if field.name in MARKDOWN_FIELDS or (
                field.name == "options" and kind in MARKDOWN_OPTIONS
            ):
                yield from values


def rendered_markdown(at: AppTest) -> list[tuple[str, str]]:
    """(element type, text) for every Markdown-rendered string on the page."""
    found: list[tuple[str, str]] = []

    def walk(node) -> None:
        proto = getattr(node, "proto", None)
        kind = str(getattr(node, "type", ""))
        if proto is not None and kind not in ("code", "text", "json", "exception"):
            found.extend((kind, s) for s in _strings(proto, kind))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return found


def leaks(at: AppTest) -> list[tuple[str, str]]:
    return [(kind, s) for kind, s in rendered_markdown(at) if injected(s)]


@pytest.fixture(scope="module")
def hostile(owner: Engine) -> Engine:
    """Every typed name of the module's database starts with a link and an image."""
    with owner.begin() as conn:
        for table, columns in TYPED.items():
            sets = ", ".join(
                f"{c} = CASE WHEN {c} IS NULL THEN NULL ELSE :h || ' ' || {c} END" for c in columns
            )
            conn.execute(text(f"UPDATE {table} SET {sets}"), {"h": HOSTILE})
    return owner


@pytest.fixture(scope="module")
def admin(hostile: Engine) -> Identity:
    return make_person(hostile, ["admin"], full_name=HOSTILE + " Admin")


def test_the_escape_renders_as_the_text_itself() -> None:
    assert injected(HOSTILE), "the payload is a link and an image"
    assert not injected(md(HOSTILE))
    for tricky in ("$x$ and $y$", ":red[alarm]", "**bold**", "# heading", "1. list", "<b>x</b>"):
        tokens = [t for t in _PARSER.parse(md(tricky)) if t.type == "inline"]
        assert [c.type for c in tokens[0].children] == ["text"], tricky
        assert shown(md(tricky)) == tricky
    assert md(None) == "" and md("a\r\nb") == "a\nb"
    # Addresses in plain text stay text: Streamlit would link them after the escapes.
    for address in ("see http://evil.example/x", "www.evil.example", "HTTPS://evil.example"):
        assert injected(address) and not injected(md(address)), address
        assert shown(md(address)) == address


@pytest.mark.parametrize("spec", registry.PAGES, ids=lambda s: s.url_path)
def test_no_page_renders_a_typed_name_as_markdown(admin: Identity, spec) -> None:
    at = open_page(spec.file, admin)
    assert not at.exception, at.exception
    found = leaks(at)
    assert not found, "rendered as Markdown:\n" + "\n".join(f"{k}: {s!r}" for k, s in found)


def _button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def test_flash_messages_confirmations_and_the_audit_log_show_names_as_text(
    admin: Identity,
) -> None:
    """What pages say after an action quotes the name typed: a flash message, a question
    before a destructive action, the audit log's entries of the person who did it."""
    at = open_page("venues.py", admin)
    at.session_state["venue_tab"] = "Sections and seats"
    at.run()
    next(t for t in at.text_input if str(t.key).startswith("ns_")).input(
        HOSTILE + " Gallery " + uuid.uuid4().hex[:6]
    )
    _button(at, "Add section").click().run()
    assert not at.exception
    assert any("Added the section" in str(s.value) for s in at.success), messages(at)
    assert not leaks(at)

    at = open_page("users.py", admin)
    at.session_state["tab"] = "Change a person"
    at.session_state["users_pick"] = str(admin.user_id)
    at.run()
    _button(at, "Deactivate…").click().run()
    assert any("Deactivate" in str(w.value) for w in at.warning)
    assert not leaks(at)

    at = open_page("collections.py", admin)
    _button(at, "Delete piece…").click().run()
    assert any("Delete" in str(w.value) for w in at.warning)
    assert not leaks(at)

    start = datetime.now(UTC) + timedelta(days=60)
    create_event(
        admin.actor(),
        EventInput(
            title=HOSTILE + " Resort show",
            start_date=start,
            end_date=start + timedelta(hours=2),
            type="fashion_show",
        ),
    )
    at = open_page("audit_log.py", admin)
    assert not at.exception
    titles = [shown(e.label) for e in at.expander]
    assert any(admin.email in t for t in titles), titles
    assert not leaks(at)
