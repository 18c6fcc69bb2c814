"""Sponsors: sponsorships per event (with benefits delivered), asset approval, sponsors,
tiers and the benefits each tier grants."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pandas as pd
import streamlit as st

from core.marketing.events import list_event_choices
from core.models.sponsors import SPONSOR_STATUSES, SPONSORSHIP_PAYMENT_STATUSES
from core.sponsors.assets import add_asset, list_assets, review_asset
from core.sponsors.catalog import (
    BENEFIT_CATEGORIES,
    SponsorDraft,
    create_benefit,
    create_sponsor,
    create_tier,
    list_benefits,
    list_sponsors,
    list_tiers,
    set_tier_benefit,
    update_sponsor,
)
from core.sponsors.sponsorships import (
    SponsorshipDraft,
    create_sponsorship,
    list_deliveries,
    list_sponsorships,
    record_deliveries,
    update_sponsorship,
)
from dashboard import session
from dashboard.forms import number_input
from dashboard.runtime import show_error
from dashboard.widgets import download_table, kept_tabs, show_flash

ANY = "Any"
FLASH = "sponsors.flash"
NEW = "sponsors.new_form"
PAYMENT = {s: s.title() for s in SPONSORSHIP_PAYMENT_STATUSES}

session.signed_in()
st.title("Sponsors")
st.caption("Sponsorships per event, their assets and benefits; sponsors, tiers and benefits.")
show_flash(FLASH)

actor = session.actor()
try:
    events = list_event_choices(actor)
    sponsors = list_sponsors(actor)
    tiers = list_tiers(actor)
except Exception as exc:
    show_error(exc)
    st.stop()
event_names = {str(e.event_id): f"{e.title} · {e.start_date:%Y-%m-%d}" for e in events}
sponsor_names = {str(s.sponsor_id): s.name for s in sponsors}
tier_names = {str(t.tier_id): t.name for t in tiers}


def _done(message: str) -> None:
    st.session_state[FLASH] = message
    st.session_state[NEW] = st.session_state.get(NEW, 0) + 1
    st.rerun()


def _sponsorship_form(prefix: str, initial: SponsorshipDraft | None) -> SponsorshipDraft | None:
    """The fields of a sponsorship; None until sponsors and events exist."""
    if not sponsor_names or not event_names:
        st.info("Add a sponsor (Sponsors tab) and an event first.")
        return None
    today = datetime.now(UTC).date()
    top = st.columns(3)
    sponsor = top[0].selectbox(
        "Sponsor",
        tuple(sponsor_names),
        index=tuple(sponsor_names).index(str(initial.sponsor_id)) if initial else 0,
        format_func=sponsor_names.get,
        key=f"{prefix}_sponsor",
    )
    event = top[1].selectbox(
        "Event",
        tuple(event_names),
        index=tuple(event_names).index(str(initial.event_id))
        if initial and str(initial.event_id) in event_names
        else 0,
        format_func=event_names.get,
        key=f"{prefix}_event",
    )
    tier_keys = ("", *tier_names)
    tier = top[2].selectbox(
        "Tier",
        tier_keys,
        index=tier_keys.index(str(initial.tier_id)) if initial and initial.tier_id else 0,
        format_func=lambda k: tier_names.get(k, "Custom tier"),
        key=f"{prefix}_tier",
    )
    custom = ""
    if not tier:
        custom = st.text_input(
            "Custom tier name",
            value=(initial.custom_tier_name or "") if initial else "",
            key=f"{prefix}_custom",
        )
    middle = st.columns(4)
    start = middle[0].date_input(
        "Starts", value=initial.start_date if initial else today, key=f"{prefix}_start"
    )
    end = middle[1].date_input(
        "Ends",
        value=initial.end_date if initial else today + timedelta(days=90),
        key=f"{prefix}_end",
    )
    amount = number_input(
        middle[2],
        "Amount",
        value=float(initial.amount) if initial and initial.amount is not None else 0.0,
        step=500.0,
        format="%.2f",
        key=f"{prefix}_amount",
    )
    payment = middle[3].selectbox(
        "Payment status",
        SPONSORSHIP_PAYMENT_STATUSES,
        index=SPONSORSHIP_PAYMENT_STATUSES.index(initial.payment_status) if initial else 0,
        format_func=PAYMENT.get,
        key=f"{prefix}_payment",
    )
    bottom = st.columns([3, 1, 1])
    contract = bottom[0].text_input(
        "Contract link",
        value=(initial.contract_url or "") if initial else "",
        key=f"{prefix}_contract",
        placeholder="https://…",
    )
    order = number_input(
        bottom[1],
        "Display order",
        value=initial.display_order if initial else None,
        step=1,
        key=f"{prefix}_order",
    )
    featured = bottom[2].checkbox(
        "Featured", value=initial.is_featured if initial else False, key=f"{prefix}_featured"
    )
    return SponsorshipDraft(
        sponsor_id=uuid.UUID(sponsor),
        event_id=uuid.UUID(event),
        tier_id=uuid.UUID(tier) if tier else None,
        start_date=start,
        end_date=end,
        amount=Decimal(str(round(amount, 2))),
        payment_status=payment,
        contract_url=contract,
        is_featured=featured,
        display_order=None if order is None else int(order),
        custom_tier_name=custom,
        notes=initial.notes if initial else None,
    )


generation = st.session_state.get(NEW, 0)
deals_tab, assets_tab, sponsors_tab, tiers_tab = kept_tabs(
    ["Sponsorships", "Assets", "Sponsors", "Tiers & benefits"], key="tab"
)

with deals_tab:
    filters = st.columns(3)
    event_key = filters[0].selectbox(
        "Event", (ANY, *event_names), format_func=lambda k: event_names.get(k, k), key="sp_event"
    )
    sponsor_key = filters[1].selectbox(
        "Sponsor",
        (ANY, *sponsor_names),
        format_func=lambda k: sponsor_names.get(k, k),
        key="sp_sponsor",
    )
    payment_key = filters[2].selectbox(
        "Payment", (ANY, *PAYMENT), format_func=lambda k: PAYMENT.get(k, k), key="sp_payment"
    )
    try:
        deals = list_sponsorships(
            actor,
            event_id=None if event_key == ANY else uuid.UUID(event_key),
            sponsor_id=None if sponsor_key == ANY else uuid.UUID(sponsor_key),
            payment_status=None if payment_key == ANY else payment_key,
        )
    except Exception as exc:
        show_error(exc)
        st.stop()
    if deals:
        table = pd.DataFrame(
            {
                "Event": [d.event for d in deals],
                "Sponsor": [d.sponsor for d in deals],
                "Tier": [d.tier or "" for d in deals],
                "Amount": [None if d.amount is None else float(d.amount) for d in deals],
                "Payment": [d.payment_status for d in deals],
                "Starts": [d.start_date for d in deals],
                "Ends": [d.end_date for d in deals],
                "Featured": [d.is_featured for d in deals],
                "Order": pd.array([d.display_order for d in deals], dtype="Int64"),
                "Assets pending": [d.assets_pending for d in deals],
                "Contract": [d.contract_url or "" for d in deals],
            }
        )
        st.dataframe(
            table,
            hide_index=True,
            column_config={"Contract": st.column_config.LinkColumn()},
        )
        download_table(table, "sponsorships", key="sp_export")
    else:
        st.info("No sponsorship matches. Set the filters back to Any or add one below.")

    with st.expander("Add a sponsorship", icon=":material/add:"):
        new = _sponsorship_form(f"sp_new{generation}", None)
        if new is not None and st.button("Add sponsorship", type="primary", key="sp_create"):
            try:
                made = create_sponsorship(actor, new)
            except Exception as exc:
                show_error(exc)
            else:
                _done(f"{made.sponsor} now sponsors {made.event}.")

    if deals:
        shown = {str(d.sponsorship_id): d for d in deals}
        picked = st.selectbox(
            "Open a sponsorship",
            tuple(shown),
            format_func=lambda k: f"{shown[k].sponsor} · {shown[k].event}",
            key="sp_pick",
        )
        deal = shown[picked]
        with st.expander("Edit terms", icon=":material/edit:"):
            edited = _sponsorship_form(f"sp_edit_{picked}_{generation}", deal.draft())
            if edited is not None and st.button("Save terms", type="primary", key="sp_save"):
                try:
                    saved = update_sponsorship(actor, deal.sponsorship_id, edited)
                except Exception as exc:
                    show_error(exc)
                else:
                    _done(f"Saved {saved.sponsor} · {saved.event}.")
        st.markdown("**Benefits: promised by the tier, delivered so far**")
        try:
            deliveries = list_deliveries(actor, deal.sponsorship_id)
        except Exception as exc:
            show_error(exc)
            deliveries = ()
        if not deliveries:
            st.caption("This sponsorship's tier grants no benefit (or it has a custom tier).")
        else:
            before = pd.DataFrame(
                {
                    "Benefit": [d.benefit for d in deliveries],
                    "Promised": [d.promised for d in deliveries],
                    "Delivered": [d.delivered for d in deliveries],
                }
            )
            after = st.data_editor(
                before,
                hide_index=True,
                disabled=["Benefit", "Promised"],
                column_config={"Delivered": st.column_config.NumberColumn(min_value=0, step=1)},
                key=f"sp_deliveries_{picked}_{generation}",
            )
            if st.button("Save deliveries", key="sp_deliveries_save"):
                changes = {
                    d.benefit_id: int(after["Delivered"].iloc[i] or 0)
                    for i, d in enumerate(deliveries)
                    if int(after["Delivered"].iloc[i] or 0) != d.delivered
                }
                try:
                    record_deliveries(actor, deal.sponsorship_id, changes)
                except Exception as exc:
                    show_error(exc)
                else:
                    _done(f"Recorded {len(changes)} delivery change(s).")

with assets_tab:
    status = st.segmented_control(
        "Status", ("pending", "approved", "rejected"), default="pending", key="as_status"
    )
    try:
        assets = list_assets(actor, status=status)
    except Exception as exc:
        show_error(exc)
        st.stop()
    if not assets:
        st.info(f"No {status or ''} assets. Sponsors' new files arrive here as pending.")
    else:
        table = pd.DataFrame(
            {
                "Asset": [a.name for a in assets],
                "Sponsor": [a.sponsor for a in assets],
                "Event": [a.event for a in assets],
                "Type": [a.file_type for a in assets],
                "Dimensions": [a.dimensions or "" for a in assets],
                "Status": [a.status for a in assets],
                "Review note": [a.review_note or "" for a in assets],
                "Reviewed at": pd.to_datetime([a.reviewed_at for a in assets], utc=True),
                "File": [a.file_url for a in assets],
            }
        )
        st.dataframe(table, hide_index=True, column_config={"File": st.column_config.LinkColumn()})
        download_table(table, "sponsorship-assets", key="as_export")
        pending = {str(a.asset_id): a for a in assets if a.status == "pending"}
        if pending:
            st.markdown("**Review**")
            chosen = st.selectbox(
                "Asset to review",
                tuple(pending),
                format_func=lambda k: f"{pending[k].name} · {pending[k].sponsor}",
                key="as_pick",
            )
            note = st.text_area(
                "Review note (required to reject: the sponsor sees it)", key=f"as_note_{chosen}"
            )
            decide = st.columns([1, 1, 4])
            decision = None
            if decide[0].button("Approve", type="primary", key="as_approve"):
                decision = "approved"
            if decide[1].button("Reject", key="as_reject"):
                decision = "rejected"
            if decision is not None:
                try:
                    reviewed = review_asset(actor, uuid.UUID(chosen), decision, note)
                except Exception as exc:
                    show_error(exc)
                else:
                    _done(f"{reviewed.name} of {reviewed.sponsor}: {reviewed.status}.")
    with st.expander("Add an asset", icon=":material/upload_file:"):
        try:
            all_deals = list_sponsorships(actor)
        except Exception as exc:
            show_error(exc)
            all_deals = ()
        if not all_deals:
            st.info("Add a sponsorship first.")
        else:
            deal_names = {str(d.sponsorship_id): f"{d.sponsor} · {d.event}" for d in all_deals}
            cols = st.columns(2)
            deal_key = cols[0].selectbox(
                "Sponsorship", tuple(deal_names), format_func=deal_names.get, key="as_deal"
            )
            name = cols[1].text_input("Asset name", key=f"as_name{generation}")
            cols = st.columns([3, 1, 1])
            url = cols[0].text_input("File link", key=f"as_url{generation}")
            kind = cols[1].text_input("File type", key=f"as_type{generation}")
            dims = cols[2].text_input("Dimensions", key=f"as_dims{generation}")
            if st.button("Add asset", key="as_add"):
                try:
                    made = add_asset(actor, uuid.UUID(deal_key), name, url, kind, dimensions=dims)
                except Exception as exc:
                    show_error(exc)
                else:
                    _done(f"{made.name} added; it waits for review.")

with sponsors_tab:
    cols = st.columns([3, 1])
    search = cols[0].text_input("Search", key="spn_search", placeholder="Name, industry, contact")
    state = cols[1].selectbox("Status", (ANY, *SPONSOR_STATUSES), key="spn_status")
    try:
        found = list_sponsors(actor, search=search, status=None if state == ANY else state)
    except Exception as exc:
        show_error(exc)
        st.stop()
    if found:
        table = pd.DataFrame(
            {
                "Sponsor": [s.name for s in found],
                "Status": [s.status for s in found],
                "Industry": [s.industry or "" for s in found],
                "Contact": [s.contact_name or "" for s in found],
                "Email": [s.contact_email or "" for s in found],
                "Sponsorships": [s.sponsorships for s in found],
            }
        )
        st.dataframe(table, hide_index=True)
        download_table(table, "sponsors", key="spn_export")
    else:
        st.info("No sponsor matches. Clear the search or add one below.")

    def _sponsor_form(prefix: str, initial: SponsorDraft) -> SponsorDraft:
        cols = st.columns(3)
        name = cols[0].text_input("Name", value=initial.name, key=f"{prefix}_name")
        status = cols[1].selectbox(
            "Status",
            SPONSOR_STATUSES,
            index=SPONSOR_STATUSES.index(initial.status),
            key=f"{prefix}_status",
        )
        industry = cols[2].text_input(
            "Industry", value=initial.industry or "", key=f"{prefix}_industry"
        )
        cols = st.columns(3)
        contact = cols[0].text_input(
            "Contact name", value=initial.contact_name or "", key=f"{prefix}_contact"
        )
        email = cols[1].text_input(
            "Contact email", value=initial.contact_email or "", key=f"{prefix}_email"
        )
        website = cols[2].text_input(
            "Website", value=initial.website_url or "", key=f"{prefix}_web"
        )
        about = st.text_area("Description", value=initial.description or "", key=f"{prefix}_about")
        return SponsorDraft(name, status, industry, contact, email, website, about)

    with st.expander("Add a sponsor", icon=":material/add:"):
        draft = _sponsor_form(f"spn_new{generation}", SponsorDraft(""))
        if st.button("Add sponsor", type="primary", key="spn_create"):
            try:
                made_sponsor = create_sponsor(actor, draft)
            except Exception as exc:
                show_error(exc)
            else:
                _done(f"Sponsor {made_sponsor.name} added.")
    if found:
        by_id = {str(s.sponsor_id): s for s in found}
        chosen = st.selectbox(
            "Edit a sponsor", tuple(by_id), format_func=lambda k: by_id[k].name, key="spn_pick"
        )
        with st.expander("Edit", icon=":material/edit:"):
            edited_sponsor = _sponsor_form(f"spn_edit_{chosen}_{generation}", by_id[chosen].draft())
            if st.button("Save sponsor", type="primary", key="spn_save"):
                try:
                    saved_sponsor = update_sponsor(actor, uuid.UUID(chosen), edited_sponsor)
                except Exception as exc:
                    show_error(exc)
                else:
                    _done(f"Sponsor {saved_sponsor.name} saved.")

with tiers_tab:
    try:
        benefits = list_benefits(actor)
    except Exception as exc:
        show_error(exc)
        st.stop()
    grants = pd.DataFrame(
        [
            {"Tier": t.name, "Order": t.display_order, "Benefit": b.benefit, "Quantity": b.quantity}
            for t in tiers
            for b in t.benefits
        ],
        columns=["Tier", "Order", "Benefit", "Quantity"],
    )
    if grants.empty:
        st.info("No tier grants a benefit yet: add tiers and benefits, then link them below.")
    else:
        st.dataframe(
            grants.pivot_table(
                index="Benefit", columns="Tier", values="Quantity", fill_value=0
            ).reindex(columns=[t.name for t in tiers if t.benefits]),
        )
        download_table(grants, "tier-benefits", key="tb_export")
    cols = st.columns(3)
    with cols[0]:
        st.markdown("**A tier grants a benefit**")
        if tier_names and benefits:
            benefit_names = {str(b.benefit_id): f"{b.name} ({b.category})" for b in benefits}
            tier_key = st.selectbox(
                "Tier", tuple(tier_names), format_func=tier_names.get, key="tb_tier"
            )
            benefit_key = st.selectbox(
                "Benefit", tuple(benefit_names), format_func=benefit_names.get, key="tb_benefit"
            )
            quantity = number_input(st, "Quantity (0 removes it)", key="tb_quantity", value=1)
            if st.button("Save", key="tb_save"):
                try:
                    set_tier_benefit(
                        actor, uuid.UUID(tier_key), uuid.UUID(benefit_key), int(quantity)
                    )
                except Exception as exc:
                    show_error(exc)
                else:
                    grant = f"{quantity} × {benefit_names[benefit_key]}"
                    _done(f"{tier_names[tier_key]} grants {grant}.")
    with cols[1]:
        st.markdown("**New tier**")
        tier_name = st.text_input("Tier name", key=f"tier_name{generation}")
        price = st.text_input("Price range", key=f"tier_price{generation}")
        order = number_input(
            st, "Display order", key=f"tier_order{generation}", value=len(tiers) + 1
        )
        if st.button("Add tier", key="tier_add"):
            try:
                create_tier(actor, tier_name, display_order=int(order), price_range=price)
            except Exception as exc:
                show_error(exc)
            else:
                _done(f"Tier {tier_name.strip()} added.")
    with cols[2]:
        st.markdown("**New benefit**")
        benefit_name = st.text_input("Benefit name", key=f"ben_name{generation}")
        category = st.selectbox("Category", BENEFIT_CATEGORIES, key="ben_category")
        digital = st.checkbox("Digital", key="ben_digital")
        if st.button("Add benefit", key="ben_add"):
            try:
                create_benefit(actor, benefit_name, category, is_digital=digital)
            except Exception as exc:
                show_error(exc)
            else:
                _done(f"Benefit {benefit_name.strip()} added.")
