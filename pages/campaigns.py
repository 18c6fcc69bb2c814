"""Campaigns: budget, channels, goals, audience and event; their e-mails and social posts;
promotional codes; audience segments with their computed size."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pandas as pd
import streamlit as st

from core.marketing.campaigns import (
    CHANNELS,
    CampaignDraft,
    create_campaign,
    create_email,
    create_post,
    list_campaigns,
    list_emails,
    list_posts,
    update_campaign,
)
from core.marketing.events import list_event_choices
from core.marketing.promo_codes import (
    PromoCodeDraft,
    create_promo_code,
    list_promo_codes,
    set_promo_code_active,
)
from core.marketing.segments import (
    SegmentCriteria,
    add_members,
    create_segment,
    list_segments,
    preview_audience_size,
    recalculate_segment,
)
from core.models.identity import USER_TYPES
from core.models.marketing import CAMPAIGN_STATUSES, PROMOTIONAL_DISCOUNT_TYPES, SOCIAL_PLATFORMS
from dashboard import session
from dashboard.forms import number_input
from dashboard.runtime import show_error
from dashboard.widgets import download_table, kept_tabs, show_flash

ANY = "Any"
FLASH = "campaigns.flash"
NEW = "campaigns.new_form"

session.signed_in()
st.title("Campaigns")
st.caption("Campaigns with their e-mails, social posts and promo codes; audience segments.")
show_flash(FLASH)

actor = session.actor()
try:
    events = list_event_choices(actor)
    campaigns = list_campaigns(actor, limit=5000)
except Exception as exc:
    show_error(exc)
    st.stop()
event_names = {str(e.event_id): f"{e.title} · {e.start_date:%Y-%m-%d}" for e in events}
campaign_names = {str(c.campaign_id): f"{c.name} · {c.status}" for c in campaigns}
generation = st.session_state.get(NEW, 0)


def _done(message: str) -> None:
    st.session_state[FLASH] = message
    st.session_state[NEW] = st.session_state.get(NEW, 0) + 1
    st.rerun()


def _campaign_form(prefix: str, initial: CampaignDraft) -> CampaignDraft:
    top = st.columns([3, 1, 1])
    name = top[0].text_input("Name", value=initial.name, key=f"{prefix}_name")
    status = top[1].selectbox(
        "Status",
        CAMPAIGN_STATUSES,
        index=CAMPAIGN_STATUSES.index(initial.status),
        key=f"{prefix}_status",
    )
    budget = number_input(
        top[2],
        "Budget",
        value=None if initial.budget is None else float(initial.budget),
        step=1000.0,
        format="%.2f",
        key=f"{prefix}_budget",
    )
    middle = st.columns([1, 1, 3])
    start = middle[0].date_input("Starts", value=initial.start_date, key=f"{prefix}_start")
    end = middle[1].date_input("Ends", value=initial.end_date, key=f"{prefix}_end")
    event_keys = ("", *event_names)
    event = middle[2].selectbox(
        "Event",
        event_keys,
        index=event_keys.index(str(initial.event_id))
        if initial.event_id and str(initial.event_id) in event_names
        else 0,
        format_func=lambda k: event_names.get(k, "No event (brand campaign)"),
        key=f"{prefix}_event",
    )
    channels = st.multiselect(
        "Channels",
        CHANNELS,
        default=[c for c in initial.channels if c in CHANNELS],
        key=f"{prefix}_channels",
    )
    goals = st.columns(3)
    tickets = number_input(
        goals[0],
        "Goal: tickets",
        value=initial.goals.get("tickets"),
        step=10,
        key=f"{prefix}_goal_tickets",
    )
    impressions = number_input(
        goals[1],
        "Goal: impressions",
        value=initial.goals.get("impressions"),
        step=1000,
        key=f"{prefix}_goal_impressions",
    )
    roas = number_input(
        goals[2],
        "Goal: ROAS",
        value=initial.goals.get("target_roas"),
        step=0.5,
        key=f"{prefix}_goal_roas",
    )
    audience = st.columns(2)
    age = audience[0].text_input(
        "Audience: age band",
        value=initial.target_audience.get("age", ""),
        key=f"{prefix}_age",
        placeholder="25-34",
    )
    cities = audience[1].text_input(
        "Audience: cities (comma separated)",
        value=", ".join(initial.target_audience.get("cities", [])),
        key=f"{prefix}_cities",
    )
    description = st.text_area(
        "Description", value=initial.description or "", key=f"{prefix}_description"
    )
    goal_values = {
        "tickets": None if tickets is None else int(tickets),
        "impressions": None if impressions is None else int(impressions),
        "target_roas": roas,
    }
    target = dict(initial.target_audience)
    target["age"] = age.strip() or None
    target["cities"] = [c.strip() for c in cities.split(",") if c.strip()]
    return CampaignDraft(
        name=name,
        start_date=start,
        end_date=end,
        status=status,
        budget=None if budget is None else Decimal(str(round(budget, 2))),
        channels=tuple(channels),
        event_id=uuid.UUID(event) if event else None,
        description=description,
        goals={k: v for k, v in {**initial.goals, **goal_values}.items() if v is not None},
        target_audience={k: v for k, v in target.items() if v},
    )


def _campaign_picker(key: str) -> uuid.UUID | None:
    if not campaign_names:
        st.info("No campaign yet: create one on the Campaigns tab.")
        return None
    return uuid.UUID(
        st.selectbox("Campaign", tuple(campaign_names), format_func=campaign_names.get, key=key)
    )


list_tab, content_tab, codes_tab, segments_tab = kept_tabs(
    ["Campaigns", "E-mails & posts", "Promo codes", "Segments"], key="tab"
)

with list_tab:
    cols = st.columns([3, 1, 3])
    search = cols[0].text_input("Search", key="cmp_search", placeholder="Name or description")
    state = cols[1].selectbox("Status", (ANY, *CAMPAIGN_STATUSES), key="cmp_status")
    event_key = cols[2].selectbox(
        "Event", (ANY, *event_names), format_func=lambda k: event_names.get(k, k), key="cmp_event"
    )
    try:
        found = list_campaigns(
            actor,
            search=search,
            status=None if state == ANY else state,
            event_id=None if event_key == ANY else uuid.UUID(event_key),
        )
    except Exception as exc:
        show_error(exc)
        st.stop()
    if found:
        table = pd.DataFrame(
            {
                "Campaign": [c.name for c in found],
                "Status": [c.status for c in found],
                "Starts": [c.start_date for c in found],
                "Ends": [c.end_date for c in found],
                "Budget": [None if c.budget is None else float(c.budget) for c in found],
                "Channels": [", ".join(c.channels) for c in found],
                "Event": [c.event or "" for c in found],
                "E-mails": [c.emails for c in found],
                "Posts": [c.posts for c in found],
                "Promo codes": [c.codes for c in found],
            }
        )
        st.dataframe(table, hide_index=True)
        download_table(table, "campaigns", key="cmp_export")
    else:
        st.info("No campaign matches. Clear the search or set the filters back to Any.")
    today = datetime.now(UTC).date()
    with st.expander("Create a campaign", icon=":material/add:"):
        new = _campaign_form(
            f"cmp_new{generation}", CampaignDraft("", today, today + timedelta(days=30))
        )
        if st.button("Create campaign", type="primary", key="cmp_create"):
            try:
                made = create_campaign(actor, new)
            except Exception as exc:
                show_error(exc)
            else:
                _done(f"Campaign {made.name} created.")
    if found:
        campaign_by_id = {str(c.campaign_id): c for c in found}
        chosen = st.selectbox(
            "Edit a campaign",
            tuple(campaign_by_id),
            format_func=lambda k: campaign_by_id[k].name,
            key="cmp_pick",
        )
        with st.expander("Edit", icon=":material/edit:"):
            edited = _campaign_form(
                f"cmp_edit_{chosen}_{generation}", campaign_by_id[chosen].draft()
            )
            if st.button("Save campaign", type="primary", key="cmp_save"):
                try:
                    saved = update_campaign(actor, uuid.UUID(chosen), edited)
                except Exception as exc:
                    show_error(exc)
                else:
                    _done(f"Campaign {saved.name} saved.")

with content_tab:
    campaign_id = _campaign_picker("content_campaign")
    if campaign_id is not None:
        try:
            emails = list_emails(actor, campaign_id)
            posts = list_posts(actor, campaign_id)
            segments = list_segments(actor)
        except Exception as exc:
            show_error(exc)
            st.stop()
        left, right = st.columns(2)
        with left:
            st.markdown("**E-mails**")
            if emails:
                table = pd.DataFrame(
                    {
                        "Subject": [m.subject for m in emails],
                        "Scheduled": pd.to_datetime([m.scheduled_at for m in emails], utc=True),
                        "Sent": pd.to_datetime([m.sent_at for m in emails], utc=True),
                    }
                )
                st.dataframe(table, hide_index=True)
                download_table(table, "campaign-emails", key="mail_export")
            else:
                st.caption("No e-mail yet.")
            subject = st.text_input("Subject", key=f"mail_subject{generation}")
            sender = st.columns(2)
            sender_name = sender[0].text_input(
                "Sender name", value="Fashionistas", key=f"mail_sender{generation}"
            )
            sender_email = sender[1].text_input(
                "Sender email", value="news@fashionistas.example", key=f"mail_from{generation}"
            )
            when = st.columns(2)
            day = when[0].date_input("Send on", value=None, key=f"mail_day{generation}")
            hour = when[1].time_input("at (UTC)", value=time(9, 0), key=f"mail_time{generation}")
            segment_names = {str(s.segment_id): s.name for s in segments}
            segment = st.selectbox(
                "To segment",
                ("", *segment_names),
                format_func=lambda k: segment_names.get(k, "Choose later"),
                key=f"mail_segment{generation}",
            )
            if st.button("Add e-mail", key="mail_add"):
                try:
                    create_email(
                        actor,
                        campaign_id,
                        subject,
                        sender_name,
                        sender_email,
                        scheduled_at=None
                        if day is None
                        else datetime.combine(day, hour, tzinfo=UTC),
                        segment_id=uuid.UUID(segment) if segment else None,
                    )
                except Exception as exc:
                    show_error(exc)
                else:
                    _done(f"E-mail “{subject.strip()}” added.")
        with right:
            st.markdown("**Social posts**")
            if posts:
                table = pd.DataFrame(
                    {
                        "Platform": [p.platform for p in posts],
                        "Status": [p.status for p in posts],
                        "Scheduled": pd.to_datetime([p.scheduled_at for p in posts], utc=True),
                        "Published": pd.to_datetime([p.published_at for p in posts], utc=True),
                        "Text": [p.content or "" for p in posts],
                    }
                )
                st.dataframe(table, hide_index=True)
                download_table(table, "campaign-posts", key="post_export")
            else:
                st.caption("No post yet.")
            platform = st.selectbox("Platform", SOCIAL_PLATFORMS, key=f"post_platform{generation}")
            content = st.text_area("Post text", key=f"post_text{generation}")
            when = st.columns(2)
            day = when[0].date_input("Publish on", value=None, key=f"post_day{generation}")
            hour = when[1].time_input("at (UTC)", value=time(12, 0), key=f"post_time{generation}")
            if st.button("Add post", key="post_add"):
                try:
                    create_post(
                        actor,
                        campaign_id,
                        platform,
                        content,
                        status="draft" if day is None else "scheduled",
                        scheduled_at=None
                        if day is None
                        else datetime.combine(day, hour, tzinfo=UTC),
                    )
                except Exception as exc:
                    show_error(exc)
                else:
                    _done(f"{platform.title()} post added.")

with codes_tab:
    scope = st.selectbox(
        "Campaign",
        (ANY, *campaign_names),
        format_func=lambda k: campaign_names.get(k, "All campaigns"),
        key="code_scope",
    )
    try:
        codes = list_promo_codes(actor, campaign_id=None if scope == ANY else uuid.UUID(scope))
    except Exception as exc:
        show_error(exc)
        st.stop()
    if codes:
        table = pd.DataFrame(
            {
                "Code": [c.code for c in codes],
                "Campaign": [c.campaign or "" for c in codes],
                "Type": [c.discount_type for c in codes],
                "Value": [float(c.discount_value) for c in codes],
                "From": pd.to_datetime([c.start_date for c in codes], utc=True),
                "Until": pd.to_datetime([c.end_date for c in codes], utc=True),
                "Limit": pd.array([c.usage_limit for c in codes], dtype="Int64"),
                "Used": [c.usage_count for c in codes],
                "Active": [c.is_active for c in codes],
            }
        )
        st.dataframe(table, hide_index=True)
        download_table(table, "promo-codes", key="code_export")
        code_by_id = {str(c.code_id): c for c in codes}
        cols = st.columns([3, 1])
        chosen = cols[0].selectbox(
            "Withdraw or restore a code",
            tuple(code_by_id),
            format_func=lambda k: (
                f"{code_by_id[k].code} · {'active' if code_by_id[k].is_active else 'off'}"
            ),
            key="code_pick",
        )
        code = code_by_id[chosen]
        label = "Withdraw" if code.is_active else "Restore"
        if cols[1].button(label, key="code_toggle"):
            try:
                set_promo_code_active(actor, code.code_id, not code.is_active)
            except Exception as exc:
                show_error(exc)
            else:
                _done(f"{code.code} {'withdrawn' if code.is_active else 'restored'}.")
    else:
        st.info("No promo code yet. Create one below; its effect shows on Campaign analytics.")
    with st.expander("Create a promo code", icon=":material/add:"):
        cols = st.columns(4)
        text_code = cols[0].text_input("Code", key=f"code_text{generation}")
        kind = cols[1].selectbox("Type", PROMOTIONAL_DISCOUNT_TYPES, key=f"code_kind{generation}")
        value = number_input(
            cols[2], "Value (% or amount)", value=10.0, key=f"code_value{generation}"
        )
        limit = number_input(
            cols[3], "Usage limit", value=None, step=1, key=f"code_limit{generation}"
        )
        cols = st.columns(3)
        today = datetime.now(UTC).date()
        start = cols[0].date_input("From", value=today, key=f"code_from{generation}")
        end = cols[1].date_input(
            "Until", value=today + timedelta(days=30), key=f"code_until{generation}"
        )
        owner = cols[2].selectbox(
            "Campaign",
            ("", *campaign_names),
            format_func=lambda k: campaign_names.get(k, "No campaign"),
            key=f"code_campaign{generation}",
        )
        if st.button("Create code", type="primary", key="code_create"):
            try:
                made_code = create_promo_code(
                    actor,
                    PromoCodeDraft(
                        code=text_code,
                        discount_type=kind,
                        discount_value=Decimal(str(round(value, 2))),
                        start_date=datetime.combine(start, time(0), tzinfo=UTC),
                        end_date=datetime.combine(end, time(0), tzinfo=UTC),
                        campaign_id=uuid.UUID(owner) if owner else None,
                        usage_limit=None if limit is None else int(limit),
                    ),
                )
            except Exception as exc:
                show_error(exc)
            else:
                _done(f"Code {made_code.code} created.")

with segments_tab:
    try:
        segments = list_segments(actor)
    except Exception as exc:
        show_error(exc)
        st.stop()
    st.caption(
        "Sizes count only people marketing may reach: active accounts, not anonymized, and"
        " not restricted from marketing (GDPR restriction of processing)."
    )
    if segments:
        table = pd.DataFrame(
            {
                "Segment": [s.name for s in segments],
                "Type": [s.segment_type for s in segments],
                "Size": pd.array([s.estimated_size for s in segments], dtype="Int64"),
                "Listed members": [s.members for s in segments],
                "Filter": [
                    ", ".join(f"{k}: {v}" for k, v in s.criteria.as_json().items())
                    for s in segments
                ],
                "Computed at": pd.to_datetime([s.last_calculated_at for s in segments], utc=True),
            }
        )
        st.dataframe(table, hide_index=True)
        download_table(table, "segments", key="seg_export")
        segment_by_id = {str(s.segment_id): s for s in segments}
        chosen = st.selectbox(
            "Segment",
            tuple(segment_by_id),
            format_func=lambda k: segment_by_id[k].name,
            key="seg_pick",
        )
        segment = segment_by_id[chosen]
        if st.button("Recompute size", key="seg_recompute", icon=":material/calculate:"):
            try:
                fresh = recalculate_segment(actor, segment.segment_id)
            except Exception as exc:
                show_error(exc)
            else:
                _done(f"{fresh.name}: {fresh.estimated_size:,} people.")
        if segment.segment_type != "dynamic":
            emails = st.text_area(
                "Add members by email (one per line)", key=f"seg_emails_{chosen}_{generation}"
            )
            if st.button("Add members", key="seg_add"):
                try:
                    added, fresh = add_members(actor, segment.segment_id, emails.splitlines())
                except Exception as exc:
                    show_error(exc)
                else:
                    _done(f"{added} added to {fresh.name}; size {fresh.estimated_size:,}.")
    else:
        st.info("No segment yet. Create one below.")
    with st.expander("Create a segment", icon=":material/add:"):
        cols = st.columns([3, 1])
        name = cols[0].text_input("Segment name", key=f"seg_name{generation}")
        kind = cols[1].selectbox("Type", ("dynamic", "static"), key=f"seg_kind{generation}")
        criteria = None
        if kind == "dynamic":
            cols = st.columns(3)
            user_type = cols[0].selectbox(
                "User type",
                ("", *USER_TYPES),
                format_func=lambda k: k or "Anyone",
                key=f"seg_type{generation}",
            )
            interests = cols[1].text_input(
                "Interests (any of, comma separated)", key=f"seg_interests{generation}"
            )
            min_orders = number_input(
                cols[2],
                "At least this many completed orders",
                key=f"seg_orders{generation}",
                value=0,
            )
            criteria = SegmentCriteria(
                user_type or None,
                tuple(i.strip() for i in interests.split(",") if i.strip()),
                int(min_orders),
            )
            try:
                st.metric("People matching now", f"{preview_audience_size(actor, criteria):,}")
            except Exception as exc:
                show_error(exc)
        if st.button("Create segment", type="primary", key="seg_create"):
            try:
                made_segment = create_segment(actor, name, kind, criteria=criteria)
            except Exception as exc:
                show_error(exc)
            else:
                _done(f"Segment {made_segment.name} created: {made_segment.estimated_size:,}.")
