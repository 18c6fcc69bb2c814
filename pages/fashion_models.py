"""Models: profiles with agency and measurements, and the looks they walked."""

from __future__ import annotations

import uuid

import pandas as pd
import streamlit as st

from core.models.designers import MODEL_STATUSES
from core.showcase.fashion_models import (
    MEASUREMENTS,
    ModelDraft,
    ModelRow,
    create_model,
    get_model_draft,
    list_models,
    model_agencies,
    model_appearances,
    update_model,
)
from dashboard import session
from dashboard.forms import number_input
from dashboard.runtime import show_error
from dashboard.text import md
from dashboard.widgets import download_table, show_flash

ANY = "Any"
FLASH = "models.flash"
NEW_MODEL = "models.new"
LABELS = {
    "height_cm": "Height (cm)",
    "bust_cm": "Bust (cm)",
    "waist_cm": "Waist (cm)",
    "hips_cm": "Hips (cm)",
    "shoe_eu": "Shoe (EU)",
}

identity = session.signed_in()
st.title("Models")
st.caption("Model profiles with agency and measurements, and the runway looks they walked.")
show_flash(FLASH)
actor = session.actor()
admin = "admin" in identity.roles


def _table(rows: tuple[ModelRow, ...]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Name": [r.name for r in rows],
            "Agency": [r.agency or "" for r in rows],
            "Height": [r.height or "" for r in rows],
            **{
                LABELS[m]: pd.array([r.measurements.get(m) for r in rows], dtype="Int64")
                for m in MEASUREMENTS[1:]
            },
            "Status": [r.status for r in rows],
            "Featured": [r.is_featured for r in rows],
            "Looks": [r.appearances for r in rows],
            "Shows": [r.shows for r in rows],
            "Last show": pd.to_datetime([r.last_show for r in rows], utc=True),
        }
    )


def _model_form(prefix: str, initial: ModelDraft) -> ModelDraft:
    top = st.columns([2, 2, 1, 1])
    name = top[0].text_input("Name", value=initial.name, key=f"{prefix}_name")
    agency = top[1].text_input("Agency", value=initial.agency or "", key=f"{prefix}_agency")
    status = top[2].selectbox(
        "Status", MODEL_STATUSES, index=MODEL_STATUSES.index(initial.status), key=f"{prefix}_st"
    )
    featured = top[3].checkbox("Featured", value=initial.is_featured, key=f"{prefix}_feat")
    sizes = st.columns(len(MEASUREMENTS))
    measurements = {
        m: number_input(
            sizes[i], LABELS[m], value=initial.measurements.get(m), step=1, key=f"{prefix}_{m}"
        )
        for i, m in enumerate(MEASUREMENTS)
    }
    links = st.columns(3)
    portfolio = links[0].text_input(
        "Portfolio URL", value=initial.portfolio_url or "", key=f"{prefix}_portfolio"
    )
    photo = links[1].text_input(
        "Photo URL", value=initial.profile_image_url or "", key=f"{prefix}_photo"
    )
    instagram = links[2].text_input(
        "Instagram", value=initial.instagram or "", key=f"{prefix}_instagram"
    )
    bio = st.text_area("Biography", value=initial.bio or "", key=f"{prefix}_bio")
    return ModelDraft(
        name=name,
        agency=agency,
        bio=bio,
        portfolio_url=portfolio,
        profile_image_url=photo,
        instagram=instagram,
        measurements={m: int(v) for m, v in measurements.items() if v is not None},
        status=status,
        is_featured=featured,
    )


filters = st.columns([3, 2, 2])
search = filters[0].text_input("Search", key="mod_search", placeholder="Name or agency")
status = filters[2].selectbox("Status", (ANY, *MODEL_STATUSES), key="mod_status")
try:
    agencies = model_agencies(actor)
except Exception as exc:
    show_error(exc)
    st.stop()
agency = filters[1].selectbox("Agency", (ANY, *agencies), key="mod_agency")
try:
    rows = list_models(
        actor,
        search=search,
        agency=None if agency == ANY else agency,
        status=None if status == ANY else status,
    )
except Exception as exc:
    show_error(exc)
    st.stop()

if admin:
    with st.expander("Add a model", expanded=not rows and not agencies):
        generation = st.session_state.get(NEW_MODEL, 0)
        new = _model_form(f"mod_new{generation}", ModelDraft(name=""))
        if st.button("Add model", type="primary", key="mod_create"):
            try:
                create_model(actor, new)
            except Exception as exc:
                show_error(exc)
            else:
                st.session_state[NEW_MODEL] = generation + 1
                st.session_state[FLASH] = f"{new.name} added."
                st.rerun()

if not rows:
    st.info(
        "No model matches. Clear the search or the filters."
        if agencies or search or status != ANY
        else "No models yet." + (" Add one above." if admin else "")
    )
    st.stop()
table = _table(rows)
st.dataframe(
    table,
    hide_index=True,
    column_config={"Last show": st.column_config.DatetimeColumn(format="YYYY-MM-DD")},
)
download_table(table, "models", key="mod_export")

by_id = {str(r.model_id): r for r in rows}
picked = st.selectbox(
    "Open a model",
    tuple(by_id),
    format_func=lambda k: f"{by_id[k].name} · {by_id[k].agency or 'no agency'}",
    key="mod_pick",
)
model = by_id[picked]
st.subheader(md(model.name))
try:
    walked = model_appearances(actor, uuid.UUID(picked))
except Exception as exc:
    show_error(exc)
    st.stop()
if walked:
    st.dataframe(
        pd.DataFrame(
            {
                "Show": pd.to_datetime([w.show_date for w in walked], utc=True),
                "Collection": [w.collection_name for w in walked],
                "Segment": [w.segment_name for w in walked],
                "Piece": [w.item_name or "—" for w in walked],
            }
        ),
        hide_index=True,
        column_config={"Show": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")},
    )
else:
    st.caption("No runway looks yet.")
if admin or model.user_id == identity.user_id:
    with st.expander("Edit profile"):
        try:
            initial = get_model_draft(actor, uuid.UUID(picked))
        except Exception as exc:
            show_error(exc)
            st.stop()
        edited = _model_form(f"mod_{picked[:8]}", initial)
        if st.button("Save model", type="primary", key="mod_save"):
            try:
                update_model(actor, uuid.UUID(picked), edited)
            except Exception as exc:
                show_error(exc)
            else:
                st.session_state[FLASH] = f"{edited.name} saved."
                st.rerun()
