"""Collections: per designer, season and year, draft → published → archived; inspiration,
colour palette, materials, linked event; pieces with their order and an image gallery
(images from web addresses or uploaded files)."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pandas as pd
import streamlit as st

from core.auth.permissions import SHOWCASE_MANAGE
from core.models.designers import COLLECTION_SEASONS, COLLECTION_STATUSES, FASHION_ITEM_TYPES
from core.showcase.collections import (
    CollectionDraft,
    CollectionRow,
    create_collection,
    event_choices,
    get_collection,
    list_collections,
    palette_from_text,
    palette_text,
    set_collection_status,
    update_collection,
)
from core.showcase.designers import designer_choices
from core.showcase.images import (
    add_image_url,
    delete_image,
    set_primary_image,
    upload_image,
)
from core.showcase.items import (
    CURRENCIES,
    ItemDraft,
    add_item,
    delete_item,
    list_items,
    move_item,
    update_item,
)
from core.showcase.uploads import ALLOWED_EXTENSIONS
from dashboard import session
from dashboard.forms import number_input
from dashboard.gallery import item_gallery, palette
from dashboard.runtime import show_error
from dashboard.text import md
from dashboard.widgets import confirmed, download_table, kept_tabs, move_buttons, show_flash

ANY = "Any"
FLASH = "collections.flash"
NEW_ITEM = "collections.new_item"
UPLOAD = "collections.upload"

identity = session.signed_in()
st.title("Collections")
st.caption(
    "Collections by designer, season and year with their pieces and images. Drafts are"
    " seen only by their designer and admins until published."
)
show_flash(FLASH)
actor = session.actor()
can_manage = identity.can(SHOWCASE_MANAGE)

try:
    designers = dict(designer_choices(actor, manageable=False))
    own_designers = dict(designer_choices(actor, manageable=True)) if can_manage else {}
    events = {e.event_id: f"{e.title} · {e.start_date:%Y-%m-%d}" for e in event_choices(actor)}
except Exception as exc:
    show_error(exc)
    st.stop()


def _table(rows: tuple[CollectionRow, ...]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Collection": [r.name for r in rows],
            "Designer": [r.designer_name for r in rows],
            "Season": [r.season or "" for r in rows],
            "Year": pd.array([r.year for r in rows], dtype="Int64"),
            "Status": [r.status for r in rows],
            "Featured": [r.is_featured for r in rows],
            "Pieces": [r.items for r in rows],
            "Shows": [r.shows for r in rows],
            "Event": [r.event_title or "" for r in rows],
            "Mine": [r.is_mine for r in rows],
        }
    )


def _collection_form(prefix: str, initial: CollectionDraft, *, new: bool) -> CollectionDraft:
    top = st.columns([2, 2, 1, 1])
    if new:
        designer_id = top[0].selectbox(
            "Designer", tuple(own_designers), format_func=own_designers.get, key=f"{prefix}_des"
        )
    else:
        designer_id = initial.designer_id
        top[0].text_input("Designer", value=designers.get(designer_id, "—"), disabled=True,
                          key=f"{prefix}_des_shown")  # fmt: skip
    name = top[1].text_input("Name", value=initial.name, key=f"{prefix}_name")
    seasons = ("", *COLLECTION_SEASONS)
    season = top[2].selectbox(
        "Season", seasons, index=seasons.index(initial.season or ""), key=f"{prefix}_season"
    )
    year = number_input(top[3], "Year", value=initial.year, step=1, key=f"{prefix}_year")
    description = st.text_area(
        "Description", value=initial.description or "", key=f"{prefix}_description"
    )
    inspiration = st.text_area(
        "Inspiration", value=initial.inspiration or "", key=f"{prefix}_inspiration"
    )
    looks = st.columns(2)
    palette_value = looks[0].text_input(
        "Colour palette (name #RRGGBB, comma separated)",
        value=palette_text(initial.color_palette),
        key=f"{prefix}_palette",
    )
    materials = looks[1].text_input(
        "Materials (comma separated)", value=", ".join(initial.materials), key=f"{prefix}_mat"
    )
    links = st.columns(2)
    event_keys = (None, *events)
    event_id = links[0].selectbox(
        "Shown at event",
        event_keys,
        index=event_keys.index(initial.event_id) if initial.event_id in events else 0,
        format_func=lambda k: "no event" if k is None else events[k],
        key=f"{prefix}_event",
    )
    cover = links[1].text_input(
        "Cover image URL", value=initial.cover_image_url or "", key=f"{prefix}_cover"
    )
    show_notes = st.text_area("Show notes", value=initial.show_notes or "", key=f"{prefix}_notes")
    return CollectionDraft(
        designer_id=designer_id,
        name=name,
        season=season or None,
        year=None if year is None else int(year),
        description=description,
        inspiration=inspiration,
        show_notes=show_notes,
        color_palette=palette_from_text(palette_value),
        materials=tuple(m for m in materials.split(",")),
        event_id=event_id,
        cover_image_url=cover,
    )


def _split(value: str) -> tuple[str, ...]:
    return tuple(v for v in value.split(","))


def _item_form(prefix: str, initial: ItemDraft) -> ItemDraft:
    top = st.columns([3, 2, 1])
    name = top[0].text_input("Piece name", value=initial.name, key=f"{prefix}_name")
    item_type = top[1].selectbox(
        "Type", FASHION_ITEM_TYPES, index=FASHION_ITEM_TYPES.index(initial.item_type),
        key=f"{prefix}_type",
    )  # fmt: skip
    featured = top[2].checkbox("Featured", value=initial.is_featured, key=f"{prefix}_feat")
    description = st.text_input(
        "Description", value=initial.description or "", key=f"{prefix}_desc"
    )
    lists = st.columns(3)
    materials = lists[0].text_input(
        "Materials", value=", ".join(initial.materials), key=f"{prefix}_mat"
    )
    colors = lists[1].text_input("Colours", value=", ".join(initial.colors), key=f"{prefix}_col")
    sizes = lists[2].text_input("Sizes", value=", ".join(initial.sizes), key=f"{prefix}_sizes")
    price = st.columns(3)
    low = number_input(
        price[0],
        "Price from",
        value=None if initial.price_min is None else float(initial.price_min),
        step=10.0,
        key=f"{prefix}_min",
    )
    high = number_input(
        price[1],
        "Price to",
        value=None if initial.price_max is None else float(initial.price_max),
        step=10.0,
        key=f"{prefix}_max",
    )
    currency = price[2].selectbox(
        "Currency", CURRENCIES,
        index=CURRENCIES.index(initial.currency) if initial.currency in CURRENCIES else 0,
        key=f"{prefix}_cur",
    )  # fmt: skip
    return ItemDraft(
        name=name,
        item_type=item_type,
        description=description,
        materials=_split(materials),
        colors=_split(colors),
        sizes=_split(sizes),
        price_min=None if low is None else Decimal(str(round(low, 2))),
        price_max=None if high is None else Decimal(str(round(high, 2))),
        currency=currency,
        is_featured=featured,
    )


tab_names = ["Collections"] + (["New collection"] if own_designers else [])
tabs = kept_tabs(tab_names, key="tab")

if own_designers:
    with tabs[1]:
        try:
            new = _collection_form(
                "newcol", CollectionDraft(designer_id=uuid.uuid4(), name=""), new=True
            )
        except Exception as exc:
            show_error(exc)
            new = None
        if st.button("Create collection", type="primary", key="col_create") and new:
            try:
                made = create_collection(actor, new)
            except Exception as exc:
                show_error(exc)
            else:
                st.session_state["col_pick"] = str(made)
                st.session_state[FLASH] = f"Collection {new.name} created as a draft."
                st.rerun()

with tabs[0]:
    filters = st.columns([3, 2, 2, 2, 1])
    search = filters[0].text_input("Search", key="col_search", placeholder="Collection or designer")
    designer_key = filters[1].selectbox(
        "Designer", (ANY, *designers), format_func=lambda k: designers.get(k, k), key="col_designer"
    )
    status = filters[2].selectbox("Status", (ANY, *COLLECTION_STATUSES), key="col_status")
    season = filters[3].selectbox("Season", (ANY, *COLLECTION_SEASONS), key="col_season")
    mine = filters[4].checkbox(
        "Mine only", key="col_mine", value=bool(own_designers) and "admin" not in identity.roles
    )
    try:
        rows = list_collections(
            actor,
            designer_id=None if designer_key == ANY else designer_key,
            status=None if status == ANY else status,
            season=None if season == ANY else season,
            search=search,
            mine_only=mine,
        )
    except Exception as exc:
        show_error(exc)
        st.stop()
    if not rows:
        st.info(
            "No collection matches. Clear the filters"
            + (", or create one on the New collection tab." if own_designers else ".")
        )
        st.stop()
    table = _table(rows)
    st.dataframe(table, hide_index=True)
    download_table(table, "collections", key="col_export")

    by_id = {str(r.collection_id): r for r in rows}
    if st.session_state.get("col_pick") not in by_id:
        st.session_state["col_pick"] = next(iter(by_id))
    picked = st.selectbox(
        "Open a collection",
        tuple(by_id),
        format_func=lambda k: f"{by_id[k].name} · {by_id[k].designer_name} · {by_id[k].status}",
        key="col_pick",
    )
    collection_id = uuid.UUID(picked)
    try:
        detail = get_collection(actor, collection_id)
        items = list_items(actor, collection_id)
    except Exception as exc:
        show_error(exc)
        st.stop()
    row, draft = detail.row, detail.draft
    st.subheader(f"{md(row.name)} · {row.status}")
    st.markdown(
        f"**{md(row.designer_name)}** · {(row.season or '').title()} {row.year or ''}"
        f" · {row.items} pieces · {row.shows} shows"
        + (f" · shown at {md(row.event_title)}" if row.event_title else "")
    )
    if draft.description:
        st.markdown(md(draft.description))
    if draft.inspiration:
        st.caption(f"Inspiration: {md(draft.inspiration)}")
    palette(list(draft.color_palette))
    if draft.materials:
        st.caption("Materials: " + md(", ".join(draft.materials)))

    if detail.can_edit and detail.next_statuses:
        moves = st.columns(len(detail.next_statuses) + 2)
        labels = {"published": "Publish", "archived": "Archive", "draft": "Back to draft"}
        for i, target in enumerate(detail.next_statuses):
            if moves[i].button(labels.get(target, target), key=f"col_move_{target}"):
                try:
                    set_collection_status(actor, collection_id, target)
                except Exception as exc:
                    show_error(exc)
                else:
                    st.session_state[FLASH] = f"{row.name} is now {target}."
                    st.rerun()

    st.markdown("#### Gallery")
    show_all = st.toggle("Every image, not only the primary ones", key="col_all_images")
    item_gallery(items, key="collection-gallery", all_images=show_all)

    if detail.can_edit:
        with st.expander("Edit collection"):
            prefix = f"col_{collection_id.hex[:8]}_{row.updated_at.timestamp():.0f}"
            try:
                edited = _collection_form(prefix, draft, new=False)
            except Exception as exc:
                show_error(exc)
                edited = None
            if st.button("Save collection", type="primary", key="col_save") and edited:
                try:
                    update_collection(actor, collection_id, edited)
                except Exception as exc:
                    show_error(exc)
                else:
                    st.session_state[FLASH] = f"{edited.name} saved."
                    st.rerun()

        with st.expander("Add a piece", expanded=not items):
            generation = st.session_state.get(NEW_ITEM, 0)
            new_item = _item_form(f"item_new{generation}", ItemDraft(name="", item_type="dress"))
            if st.button("Add piece", type="primary", key="item_add"):
                try:
                    add_item(actor, collection_id, new_item)
                except Exception as exc:
                    show_error(exc)
                else:
                    st.session_state[NEW_ITEM] = generation + 1
                    st.session_state[FLASH] = f"{new_item.name} added."
                    st.rerun()

        if items:
            st.markdown("#### Pieces")
            by_item = {str(i.item_id): i for i in items}
            chosen = st.selectbox(
                "Piece", tuple(by_item),
                format_func=lambda k: f"{by_item[k].display_order}. {by_item[k].name}",
                key="item_pick",
            )  # fmt: skip
            item = by_item[chosen]
            order = st.columns(4)
            move_buttons(
                order,
                ("Move earlier", "Move later"),
                lambda step: move_item(actor, item.item_id, step),
                keys=("item_up", "item_down"),
                disabled=(item is items[0], item is items[-1]),
            )
            with order[2]:
                if confirmed(
                    "Delete piece…",
                    f"Delete {item.name} and its {len(item.images)} images? Runway looks that"
                    " showed it keep their slot without a piece.",
                    key=f"item_delete_{chosen}",
                    confirm_label="Yes, delete",
                ):
                    try:
                        delete_item(actor, item.item_id)
                    except Exception as exc:
                        show_error(exc)
                    else:
                        st.session_state[FLASH] = f"{item.name} deleted."
                        st.rerun()
            with st.expander("Edit this piece"):
                edited_item = _item_form(f"item_{chosen[:8]}", item.draft())
                if st.button("Save piece", type="primary", key="item_save"):
                    try:
                        update_item(actor, item.item_id, edited_item)
                    except Exception as exc:
                        show_error(exc)
                    else:
                        st.session_state[FLASH] = f"{edited_item.name} saved."
                        st.rerun()

            st.markdown(f"**Images of {md(item.name)}** ({len(item.images)})")
            for image in item.images:
                line = st.columns([5, 1, 1])
                line[0].caption(
                    ("★ primary · " if image.is_primary else "")
                    + md(f"{image.alt_text or ''} · {image.image_url[:60]}")
                )
                if not image.is_primary and line[1].button(
                    "Make primary", key=f"img_primary_{image.image_id}"
                ):
                    try:
                        set_primary_image(actor, image.image_id)
                    except Exception as exc:
                        show_error(exc)
                    else:
                        st.rerun()
                if line[2].button("Remove", key=f"img_delete_{image.image_id}"):
                    try:
                        delete_image(actor, image.image_id)
                    except Exception as exc:
                        show_error(exc)
                    else:
                        st.rerun()
            add_url, add_file = st.columns(2)
            with add_url:
                url = st.text_input("Image web address", key=f"img_url_{chosen}")
                alt = st.text_input("Description (alt text)", key=f"img_alt_{chosen}")
                if st.button("Add image from address", key="img_add_url"):
                    try:
                        add_image_url(actor, item.item_id, url, alt)
                    except Exception as exc:
                        show_error(exc)
                    else:
                        st.session_state[FLASH] = "Image added."
                        st.rerun()
            with add_file:
                generation = st.session_state.get(UPLOAD, 0)
                uploaded = st.file_uploader(
                    "Upload an image",
                    type=[e.lstrip(".") for e in ALLOWED_EXTENSIONS],
                    key=f"img_file_{chosen}_{generation}",
                    help="JPEG, PNG, WebP or GIF; checked by content and size.",
                )
                if st.button("Upload image", key="img_upload", disabled=uploaded is None):
                    assert uploaded is not None
                    try:
                        upload_image(actor, item.item_id, uploaded.name, uploaded.getvalue(), alt)
                    except Exception as exc:
                        show_error(exc)
                    else:
                        st.session_state[UPLOAD] = generation + 1
                        st.session_state[FLASH] = f"{uploaded.name} uploaded."
                        st.rerun()
