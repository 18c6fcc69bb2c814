"""Designers: profiles with brand, specialty, bio, social links, awards and press; the
review workflow and flags for admins; a designer's own profile; collaborations."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time

import pandas as pd
import streamlit as st

from core.auth.permissions import SHOWCASE_MANAGE
from core.models.designers import COLLABORATION_STATUSES, DESIGNER_STATUSES
from core.showcase.collaborations import (
    create_collaboration,
    list_collaborations,
    set_collaboration_status,
)
from core.showcase.designers import (
    SOCIAL_NETWORKS,
    DesignerDraft,
    DesignerRow,
    create_designer,
    designer_choices,
    get_designer,
    list_designers,
    set_designer_flags,
    set_designer_status,
    update_designer,
)
from core.showcase.inputs import dated_lines, lines_text
from dashboard import session
from dashboard.forms import number_input
from dashboard.runtime import show_error
from dashboard.text import md
from dashboard.widgets import download_table, kept_tabs, show_flash

ANY = "Any"
FLASH = "designers.flash"

identity = session.signed_in()
st.title("Designers")
st.caption(
    "Designer profiles: brand, specialty, biography, social links, awards and press."
    " Designers edit their own profile; admins review, verify and feature them."
)
show_flash(FLASH)
actor = session.actor()
can_manage = identity.can(SHOWCASE_MANAGE)


def _table(rows: tuple[DesignerRow, ...]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Name": [r.name for r in rows],
            "Brand": [r.brand_name or "" for r in rows],
            "Specialty": [r.specialty or "" for r in rows],
            "Status": [r.status for r in rows],
            "Verified": [r.is_verified for r in rows],
            "Featured": [r.is_featured for r in rows],
            "Collections": [r.collections for r in rows],
            "Published": [r.published for r in rows],
            "Mine": [r.is_mine for r in rows],
        }
    )


def _profile_form(prefix: str, initial: DesignerDraft) -> DesignerDraft:
    """The profile's fields, filled with `initial`; awards and press one per line."""
    top = st.columns(3)
    name = top[0].text_input("Name", value=initial.name, key=f"{prefix}_name")
    brand = top[1].text_input("Brand", value=initial.brand_name or "", key=f"{prefix}_brand")
    specialty = top[2].text_input(
        "Specialty", value=initial.specialty or "", key=f"{prefix}_specialty"
    )
    bio = st.text_area("Biography", value=initial.bio or "", key=f"{prefix}_bio")
    contact = st.columns(4)
    website = contact[0].text_input(
        "Website", value=initial.website_url or "", key=f"{prefix}_website"
    )
    email = contact[1].text_input(
        "Contact email", value=initial.contact_email or "", key=f"{prefix}_email"
    )
    phone = contact[2].text_input(
        "Contact phone", value=initial.contact_phone or "", key=f"{prefix}_phone"
    )
    city = contact[3].text_input("City", value=initial.city or "", key=f"{prefix}_city")
    more = st.columns(3)
    years = number_input(
        more[0], "Years active", value=initial.years_active, step=1, key=f"{prefix}_years"
    )
    portrait = more[1].text_input(
        "Portrait image URL", value=initial.profile_image_url or "", key=f"{prefix}_portrait"
    )
    cover = more[2].text_input(
        "Cover image URL", value=initial.cover_image_url or "", key=f"{prefix}_cover"
    )
    st.markdown("**Social links**")
    social_columns = st.columns(4)
    social = {
        network: social_columns[i % 4].text_input(
            network.title(), value=initial.social.get(network, ""), key=f"{prefix}_{network}"
        )
        for i, network in enumerate(SOCIAL_NETWORKS)
    }
    lists = st.columns(2)
    awards = lists[0].text_area(
        "Awards (one per line: name, year)",
        value=lines_text(list(initial.awards), "name"),
        key=f"{prefix}_awards",
    )
    press = lists[1].text_area(
        "Press mentions (one per line: outlet, year)",
        value=lines_text(list(initial.press), "outlet"),
        key=f"{prefix}_press",
    )
    return DesignerDraft(
        name=name,
        brand_name=brand,
        specialty=specialty,
        bio=bio,
        website_url=website,
        contact_email=email,
        contact_phone=phone,
        profile_image_url=portrait,
        cover_image_url=cover,
        years_active=None if years is None else int(years),
        city=city,
        social=social,
        awards=tuple(dated_lines(awards, "awards", "name")),
        press=tuple(dated_lines(press, "press_mentions", "outlet")),
    )


admin = "admin" in identity.roles
try:
    own_profiles = dict(designer_choices(actor, manageable=True)) if can_manage else {}
except Exception as exc:
    show_error(exc)
    st.stop()
# A designer has one profile: once it exists they edit it instead of making another.
offer_new = can_manage and (admin or not own_profiles)
tab_names = ["Designers", "Collaborations"]
if offer_new:
    tab_names.append("New profile")
tabs = kept_tabs(tab_names, key="tab")

with tabs[0]:
    filters = st.columns([3, 2, 1, 1])
    search = filters[0].text_input("Search", key="des_search", placeholder="Name, brand, specialty")
    status = filters[1].selectbox("Status", (ANY, *DESIGNER_STATUSES), key="des_status")
    featured = filters[2].checkbox("Featured only", key="des_featured")
    mine = filters[3].checkbox("Mine only", key="des_mine")
    try:
        rows = list_designers(
            actor,
            search=search,
            status=None if status == ANY else status,
            featured_only=featured,
            mine_only=mine,
        )
    except Exception as exc:
        show_error(exc)
        st.stop()
    if not rows:
        if can_manage and not any((search, featured, mine)) and status == ANY:
            st.info("No designer yet. Create a profile on the New profile tab.")
        else:
            st.info("No designer matches. Clear the search or set the filters back.")
    else:
        table = _table(rows)
        st.dataframe(table, hide_index=True)
        download_table(table, "designers", key="des_export")
        by_id = {str(r.designer_id): r for r in rows}
        picked = st.selectbox(
            "Open a designer",
            tuple(by_id),
            format_func=lambda k: (
                f"{by_id[k].name} · {by_id[k].brand_name or ''} · {by_id[k].status}"
            ),
            key="des_pick",
        )
        designer_id = uuid.UUID(picked)
        try:
            detail = get_designer(actor, designer_id)
        except Exception as exc:
            show_error(exc)
            st.stop()
        row, draft = detail.row, detail.draft
        badges = [row.status]
        if row.is_verified:
            badges.append("verified")
        if row.is_featured:
            badges.append("featured")
        st.subheader(f"{md(row.name)} · {' · '.join(badges)}")
        st.markdown(
            f"**{md(draft.brand_name or '—')}** · {md(draft.specialty or 'no specialty')}"
            f" · {md(draft.city or 'no city')} · {draft.years_active or 0} years active"
        )
        st.markdown(md(draft.bio or "No biography yet."))
        facts = st.columns(3)
        facts[0].metric("Collections", row.collections)
        facts[1].metric("Published", row.published)
        facts[2].metric("Collaborations", len(detail.collaborations))
        if draft.social or draft.website_url:
            links = [f"{k}: {v}" for k, v in draft.social.items()]
            if draft.website_url:
                links.insert(0, draft.website_url)
            st.caption(md(" · ".join(links)))
        lists = st.columns(2)
        lists[0].markdown(
            "**Awards**  \n"
            + (md(lines_text(list(draft.awards), "name")).replace("\n", "  \n") or "none")
        )
        lists[1].markdown(
            "**Press**  \n"
            + (md(lines_text(list(draft.press), "outlet")).replace("\n", "  \n") or "none")
        )
        if detail.collaborations:
            st.markdown("**Collaborations**")
            st.dataframe(
                pd.DataFrame(
                    {
                        "Name": [c.name for c in detail.collaborations],
                        "Status": [c.status for c in detail.collaborations],
                        "Role": [c.role or "" for c in detail.collaborations],
                        "With": [", ".join(c.partners) for c in detail.collaborations],
                    }
                ),
                hide_index=True,
            )

        if detail.can_edit:
            with st.expander("Edit profile"):
                form_key = f"edit_{designer_id.hex[:8]}_{row.updated_at.timestamp():.0f}"
                try:
                    edited = _profile_form(form_key, draft)
                except Exception as exc:
                    show_error(exc)
                    edited = None
                if st.button("Save profile", type="primary", key="des_save") and edited:
                    try:
                        update_designer(actor, designer_id, edited)
                    except Exception as exc:
                        show_error(exc)
                    else:
                        st.session_state[FLASH] = f"Profile of {edited.name} saved."
                        st.rerun()
        if detail.can_review:
            st.markdown("**Review** (admins)")
            moves = st.columns(max(len(detail.next_statuses), 1) + 2)
            for i, target in enumerate(detail.next_statuses):
                if moves[i].button(f"Make {target}", key=f"des_status_{target}"):
                    try:
                        set_designer_status(actor, designer_id, target)
                    except Exception as exc:
                        show_error(exc)
                    else:
                        st.session_state[FLASH] = f"{row.name} is now {target}."
                        st.rerun()
            flags = st.columns(3)
            verified = flags[0].checkbox("Verified", value=row.is_verified, key=f"des_ver_{picked}")
            featured_flag = flags[1].checkbox(
                "Featured", value=row.is_featured, key=f"des_feat_{picked}"
            )
            if flags[2].button("Save flags", key="des_flags"):
                try:
                    set_designer_flags(
                        actor, designer_id, verified=verified, featured=featured_flag
                    )
                except Exception as exc:
                    show_error(exc)
                else:
                    st.session_state[FLASH] = f"Flags of {row.name} saved."
                    st.rerun()

with tabs[1]:
    try:
        collaborations = list_collaborations(actor)
    except Exception as exc:
        show_error(exc)
        st.stop()
    if collaborations:
        table = pd.DataFrame(
            {
                "Name": [c.name for c in collaborations],
                "Status": [c.status for c in collaborations],
                "Starts": [c.start_date.date() if c.start_date else None for c in collaborations],
                "Ends": [c.end_date.date() if c.end_date else None for c in collaborations],
                "Designers (role)": [", ".join(c.participants) for c in collaborations],
                "Mine": [c.is_mine for c in collaborations],
            }
        )
        st.dataframe(table, hide_index=True)
        download_table(table, "collaborations", key="collab_export")
        mine_ones = {str(c.collaboration_id): c for c in collaborations if c.is_mine}
        if mine_ones or "admin" in identity.roles:
            changeable = mine_ones or {str(c.collaboration_id): c for c in collaborations}
            cols = st.columns([3, 2, 1])
            which = cols[0].selectbox(
                "Collaboration",
                tuple(changeable),
                format_func=lambda k: changeable[k].name,
                key="collab_pick",
            )
            new_status = cols[1].selectbox(
                "New status", COLLABORATION_STATUSES, key="collab_status"
            )
            if cols[2].button("Set status", key="collab_set"):
                try:
                    set_collaboration_status(actor, uuid.UUID(which), new_status)
                except Exception as exc:
                    show_error(exc)
                else:
                    st.session_state[FLASH] = f"{changeable[which].name} is now {new_status}."
                    st.rerun()
    else:
        st.info("No collaboration yet." + (" Start one below." if can_manage else ""))
    if can_manage:
        leads = own_profiles
        everyone = dict(designer_choices(actor, manageable=False))
        if not leads:
            st.caption("Create your designer profile first to start a collaboration.")
        else:
            with st.expander("Start a collaboration"):
                name = st.text_input("Name", key="collab_name")
                description = st.text_area("Description", key="collab_description")
                parts = st.columns(2)
                lead = parts[0].selectbox(
                    "Lead designer", tuple(leads), format_func=leads.get, key="collab_lead"
                )
                partners = parts[1].multiselect(
                    "Partner designers (co-designers)",
                    [d for d in everyone if d != lead],
                    format_func=everyone.get,
                    key="collab_partners",
                )
                dates = st.columns(3)
                starts = dates[0].date_input("Starts", value=None, key="collab_start")
                ends = dates[1].date_input("Ends", value=None, key="collab_end")
                status_new = dates[2].selectbox(
                    "Status", COLLABORATION_STATUSES, key="collab_new_status"
                )
                if st.button("Start collaboration", type="primary", key="collab_create"):
                    try:
                        create_collaboration(
                            actor,
                            name=name,
                            lead_designer_id=lead,
                            partners=tuple((p, "co-designer") for p in partners),
                            description=description,
                            start_date=datetime.combine(starts, time(), tzinfo=UTC)
                            if starts
                            else None,
                            end_date=datetime.combine(ends, time(), tzinfo=UTC) if ends else None,
                            status=status_new,
                        )
                    except Exception as exc:
                        show_error(exc)
                    else:
                        st.session_state[FLASH] = f"Collaboration {name} started."
                        st.rerun()

if offer_new:
    with tabs[2]:
        st.caption(
            "A new profile starts pending until an admin approves it."
            if not admin
            else "Profiles made here belong to no account; designers make their own."
        )
        try:
            new = _profile_form("new", DesignerDraft(name=""))
        except Exception as exc:
            show_error(exc)
            new = None
        if st.button("Create profile", type="primary", key="des_create") and new:
            try:
                create_designer(actor, new)
            except Exception as exc:
                show_error(exc)
            else:
                st.session_state[FLASH] = f"Profile {new.name} created; it awaits review."
                st.rerun()
