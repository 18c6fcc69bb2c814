"""Showcase: what the public sees of published collections, with one search box over
designers and collections (ranked, grouped by type)."""

from __future__ import annotations

import uuid

import pandas as pd
import streamlit as st

from core.showcase.images import image_source, placeholder_svg, svg_data_url
from core.showcase.public import public_collection, published_collections
from core.showcase.search import search_showcase
from dashboard import session
from dashboard.gallery import item_gallery, palette
from dashboard.runtime import show_error
from dashboard.text import md, md_link

OPEN = "showcase.open"
COUNTED = "showcase.counted"
LAST_HIT = "showcase.last_hit"

session.signed_in()
st.title("Showcase")
st.caption(
    "Published collections as the public sees them: the designer, the pieces with their"
    " primary images and the runway shows. Drafts never appear here."
)
actor = session.actor()

query = st.text_input(
    "Search designers and collections",
    key="showcase_search",
    placeholder='e.g. sustainable couture, "desert light", minimal -bridal',
)
if query.strip():
    try:
        results = search_showcase(actor, query)
    except Exception as exc:
        show_error(exc)
        st.stop()
    if not results.hits:
        st.info("Nothing matches. Try fewer or other words.")
    else:
        st.caption(f"{len(results.hits)} results, best match first.")
        found_designers, found_collections = st.columns(2)
        with found_designers:
            st.subheader(f"Designers ({len(results.designers)})")
            if not results.designers:
                st.caption("No designer matches.")
            for hit in results.designers:
                st.markdown(f"**{md(hit.name)}** · {md(hit.subtitle)}  \nrank {hit.rank:.3f}")
        with found_collections:
            st.subheader(f"Collections ({len(results.collections)})")
            if not results.collections:
                st.caption("No collection matches.")
            for hit in results.collections:
                st.markdown(
                    f"**{md(hit.name)}** by {md(hit.subtitle or '—')}  \nrank {hit.rank:.3f}"
                )
        if results.collections:
            by_id = {str(h.id): h for h in results.collections}
            picked = st.selectbox(
                "Open a collection from the results",
                ("", *by_id),
                format_func=lambda k: by_id[k].name if k else "—",
                key="showcase_hit",
            )
            # Only a new pick opens it, so the collection chosen below stays chosen.
            if picked and st.session_state.get(LAST_HIT) != picked:
                st.session_state[OPEN] = picked
            st.session_state[LAST_HIT] = picked

try:
    cards = published_collections(actor)
except Exception as exc:
    show_error(exc)
    st.stop()
if not cards:
    st.info("No collection is published yet. Designers publish theirs on the Collections page.")
    st.stop()

by_card = {str(c.collection_id): c for c in cards}
if st.session_state.get(OPEN) not in by_card:
    st.session_state[OPEN] = next(iter(by_card))
st.selectbox(
    "Collection",
    tuple(by_card),
    format_func=lambda k: (
        f"{by_card[k].name} · {by_card[k].designer_name}"
        f" · {(by_card[k].season or '').title()} {by_card[k].year or ''}"
    ),
    key=OPEN,
)

with st.expander(f"All {len(cards)} published collections", expanded=False):
    columns = st.columns(4)
    for index, card in enumerate(cards):
        with columns[index % 4]:
            st.image(
                image_source(card.cover_url, card.name)
                if card.cover_url
                else svg_data_url(placeholder_svg(card.name)),
                width="stretch",
            )
            star = "★ " if card.is_featured else ""
            st.markdown(f"**{star}{md(card.name)}**")
            st.caption(f"{md(card.designer_name)} · {card.pieces} pieces")

collection_id = uuid.UUID(st.session_state[OPEN])
# One counted view per collection opened in this browser session, not one per rerun.
counted: set[str] = st.session_state.setdefault(COUNTED, set())
try:
    shown = public_collection(actor, collection_id, count_view=str(collection_id) not in counted)
except Exception as exc:
    show_error(exc)
    st.stop()
counted.add(str(collection_id))

st.header(md(shown.name))
season = f"{(shown.season or '').title()} {shown.year or ''}".strip()
verified = " ✓ verified" if shown.is_verified else ""
st.markdown(f"**{md(shown.designer_name)}**{verified} · {md(shown.brand_name)} · {md(season)}")
if shown.description:
    st.markdown(md(shown.description))
if shown.inspiration:
    st.caption(f"Inspiration: {md(shown.inspiration)}")
palette(shown.color_palette)
if shown.materials:
    st.caption("Materials: " + md(", ".join(shown.materials)))

st.subheader("Pieces")
item_gallery(shown.items, key="showcase_gallery")

st.subheader("Runway shows")
if shown.shows:
    st.dataframe(
        pd.DataFrame(
            {
                "Date": pd.to_datetime([s.show_date for s in shown.shows], utc=True),
                "Event": [s.event_title for s in shown.shows],
                "Venue": [s.venue_name for s in shown.shows],
                "Status": [s.status for s in shown.shows],
                "Livestream": [s.livestream_url or "" for s in shown.shows],
                "Video": [s.video_url or "" for s in shown.shows],
            }
        ),
        hide_index=True,
        column_config={
            "Date": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
            "Livestream": st.column_config.LinkColumn(),
            "Video": st.column_config.LinkColumn(),
        },
    )
else:
    st.caption("No runway show announced for this collection yet.")

with st.expander(f"About {md(shown.designer_name)}"):
    if shown.specialty:
        st.markdown(f"**Specialty:** {md(shown.specialty)}")
    st.markdown(md(shown.bio or "No biography yet."))
    links = [md_link(k, str(v)) for k, v in shown.social.items()]
    if shown.website_url:
        links.insert(0, md_link("website", shown.website_url))
    if links:
        st.markdown(" · ".join(links))
