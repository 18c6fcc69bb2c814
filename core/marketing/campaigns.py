"""Marketing campaigns (budget, channels, goals, target audience, linked event), their
e-mail campaigns and social posts."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from psycopg.types.json import Jsonb
from sqlalchemy import text
from sqlalchemy.orm import Session

from core.auth.permissions import CAMPAIGNS_MANAGE
from core.db import Actor, unit_of_work
from core.db.patterns import escape_like
from core.errors import ValidationError
from core.marketing.drafts import insert_row, one_of, update_row
from core.models.marketing import CAMPAIGN_STATUSES, SOCIAL_PLATFORMS, SOCIAL_POST_STATUSES
from core.services.inputs import blank_to_none

CHANNELS = (
    "email", "instagram", "facebook", "tiktok", "google_ads", "display", "influencer", "sms",
    "pinterest", "youtube", "organic_social", "affiliate",
)  # fmt: skip
MAX_BUDGET = Decimal("9999999999.99")


@dataclass(frozen=True)
class CampaignDraft:
    name: str
    start_date: date
    end_date: date
    status: str = "draft"
    budget: Decimal | None = None
    channels: tuple[str, ...] = ()
    event_id: uuid.UUID | None = None
    description: str | None = None
    # Free-form goals and audience, as the seeds keep them (e.g. {"tickets": 500}).
    goals: dict[str, Any] = field(default_factory=dict)
    target_audience: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CampaignView:
    campaign_id: uuid.UUID
    name: str
    description: str | None
    start_date: date
    end_date: date
    status: str
    budget: Decimal | None
    channels: tuple[str, ...]
    goals: dict[str, Any]
    target_audience: dict[str, Any]
    event_id: uuid.UUID | None
    event: str | None
    emails: int
    posts: int
    codes: int

    def draft(self) -> CampaignDraft:
        return CampaignDraft(
            self.name,
            self.start_date,
            self.end_date,
            self.status,
            self.budget,
            self.channels,
            self.event_id,
            self.description,
            self.goals,
            self.target_audience,
        )


@dataclass(frozen=True)
class EmailView:
    email_campaign_id: uuid.UUID
    campaign_id: uuid.UUID
    subject: str
    sender_name: str
    sender_email: str
    scheduled_at: datetime | None
    sent_at: datetime | None


@dataclass(frozen=True)
class PostView:
    post_id: uuid.UUID
    campaign_id: uuid.UUID
    platform: str
    content: str | None
    status: str
    scheduled_at: datetime | None
    published_at: datetime | None
    post_url: str | None


_LIST = """
    SELECT c.id, c.name, c.description, c.start_date, c.end_date, c.status, c.budget,
           ARRAY(SELECT jsonb_array_elements_text(c.channels)), coalesce(c.goals, '{{}}'),
           coalesce(c.target_audience, '{{}}'), c.event_id, e.title,
           (SELECT count(*) FROM email_campaigns x WHERE x.campaign_id = c.id),
           (SELECT count(*) FROM social_media_posts x WHERE x.campaign_id = c.id),
           (SELECT count(*) FROM promotional_codes x WHERE x.campaign_id = c.id)
      FROM marketing_campaigns c LEFT JOIN events e ON e.id = c.event_id
     WHERE {where}
     ORDER BY c.start_date DESC, c.name, c.id
     LIMIT :limit
"""


def _view(row: Any) -> CampaignView:
    return CampaignView(*row[:7], tuple(row[7]), *row[8:])


def _clean(draft: CampaignDraft) -> dict[str, Any]:
    name = (draft.name or "").strip()
    if not name:
        raise ValidationError("Campaign name is required.", field="name")
    one_of(draft.status, CAMPAIGN_STATUSES, "status")
    if draft.end_date < draft.start_date:
        raise ValidationError("The end date cannot be before the start date.", field="end_date")
    if draft.budget is not None and not Decimal(0) <= draft.budget <= MAX_BUDGET:
        raise ValidationError(f"Budget must be between 0 and {MAX_BUDGET:,}.", field="budget")
    for goal, target in (draft.goals or {}).items():
        number = isinstance(target, int | float | Decimal) and not isinstance(target, bool)
        if number and target < 0:
            raise ValidationError(
                f"The {goal.replace('_', ' ')} goal must be 0 or more.", field="goals"
            )
    unknown = sorted(set(draft.channels) - set(CHANNELS))
    if unknown:
        raise ValidationError(
            f"Unknown channel {', '.join(unknown)}; channels are {', '.join(CHANNELS)}.",
            field="channels",
        )
    return {
        "name": name,
        "description": blank_to_none(draft.description),
        "start_date": draft.start_date,
        "end_date": draft.end_date,
        "status": draft.status,
        "budget": draft.budget,
        "channels": Jsonb(list(dict.fromkeys(draft.channels))),
        "event_id": draft.event_id,
        "goals": Jsonb(draft.goals or {}),
        "target_audience": Jsonb(draft.target_audience or {}),
    }


def _read(session: Session, campaign_id: uuid.UUID) -> CampaignView:
    """The campaign as the list shows it, read back after a write."""
    row = session.execute(text(_LIST.format(where="c.id = :id")), {"id": campaign_id, "limit": 1})
    return _view(row.one())


def list_campaigns(
    actor: Actor,
    *,
    search: str = "",
    status: str | None = None,
    event_id: uuid.UUID | None = None,
    limit: int = 500,
) -> tuple[CampaignView, ...]:
    """Campaigns, latest start first, matching `search` (name or description), `status`
    and `event_id`; at most `limit`. Raises ValidationError for an unknown status,
    PermissionDenied without campaigns.manage."""
    if status is not None:
        one_of(status, CAMPAIGN_STATUSES, "status")
    where, params = ["true"], {"limit": limit}
    if search.strip():
        where.append("(c.name ILIKE :p OR coalesce(c.description, '') ILIKE :p)")
        params["p"] = f"%{escape_like(search.strip())}%"
    if status is not None:
        where.append("c.status = :status")
        params["status"] = status
    if event_id is not None:
        where.append("c.event_id = :event")
        params["event"] = event_id
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(CAMPAIGNS_MANAGE)
        rows = uow.session.execute(text(_LIST.format(where=" AND ".join(where))), params)
        return tuple(_view(row) for row in rows)


def create_campaign(actor: Actor, draft: CampaignDraft) -> CampaignView:
    """Add a campaign. Raises ValidationError naming the field (name, status, dates,
    budget, channels; an unknown event), PermissionDenied without campaigns.manage."""
    values = _clean(draft)
    with unit_of_work(actor) as uow:
        uow.require(CAMPAIGNS_MANAGE)
        campaign_id = insert_row(
            uow.session, "marketing_campaigns", {**values, "created_by": actor.user_id}
        )
        view = _read(uow.session, campaign_id)
        uow.commit()
    return view


def update_campaign(actor: Actor, campaign_id: uuid.UUID, draft: CampaignDraft) -> CampaignView:
    """Replace a campaign's settings. Raises ValidationError (as create_campaign),
    NotFound, PermissionDenied without campaigns.manage."""
    values = _clean(draft)
    with unit_of_work(actor) as uow:
        uow.require(CAMPAIGNS_MANAGE)
        update_row(
            uow.session,
            "marketing_campaigns",
            campaign_id,
            values,
            missing="That campaign does not exist.",
            field="campaign_id",
        )
        view = _read(uow.session, campaign_id)
        uow.commit()
    return view


def list_emails(actor: Actor, campaign_id: uuid.UUID) -> tuple[EmailView, ...]:
    """A campaign's e-mail campaigns by schedule. Raises PermissionDenied without
    campaigns.manage."""
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(CAMPAIGNS_MANAGE)
        rows = uow.session.execute(
            text(
                "SELECT id, campaign_id, subject, sender_name, sender_email, scheduled_at,"
                " sent_at FROM email_campaigns WHERE campaign_id = :c"
                " ORDER BY scheduled_at NULLS LAST, subject"
            ),
            {"c": campaign_id},
        )
        return tuple(EmailView(*row) for row in rows)


def create_email(
    actor: Actor,
    campaign_id: uuid.UUID,
    subject: str,
    sender_name: str,
    sender_email: str,
    *,
    scheduled_at: datetime | None = None,
    content: str | None = None,
    segment_id: uuid.UUID | None = None,
) -> EmailView:
    """Add an e-mail to a campaign, optionally scheduled and addressed to a segment.

    Raises ValidationError (subject, sender name and email required; unknown campaign),
    PermissionDenied without campaigns.manage.
    """
    subject, sender_name = (subject or "").strip(), (sender_name or "").strip()
    sender_email = (sender_email or "").strip()
    if not subject:
        raise ValidationError("Subject is required.", field="subject")
    if not sender_name:
        raise ValidationError("Sender name is required.", field="sender_name")
    if "@" not in sender_email:
        raise ValidationError("Sender email must be an email address.", field="sender_email")
    with unit_of_work(actor) as uow:
        uow.require(CAMPAIGNS_MANAGE)
        row = uow.session.execute(
            text(
                "INSERT INTO email_campaigns (campaign_id, subject, sender_name, sender_email,"
                " scheduled_at, content, recipient_segment) VALUES (:c, :s, :n, :e, :at,"
                " :content, :segment) RETURNING id, campaign_id, subject, sender_name,"
                " sender_email, scheduled_at, sent_at"
            ),
            {
                "c": campaign_id,
                "s": subject,
                "n": sender_name,
                "e": sender_email,
                "at": scheduled_at,
                "content": blank_to_none(content),
                "segment": None if segment_id is None else Jsonb({"segment_id": str(segment_id)}),
            },
        ).one()
        uow.commit()
    return EmailView(*row)


def list_posts(actor: Actor, campaign_id: uuid.UUID) -> tuple[PostView, ...]:
    """A campaign's social posts by schedule. Raises PermissionDenied without
    campaigns.manage."""
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(CAMPAIGNS_MANAGE)
        rows = uow.session.execute(
            text(
                "SELECT id, campaign_id, platform, content, status, scheduled_at, published_at,"
                " post_url FROM social_media_posts WHERE campaign_id = :c"
                " ORDER BY scheduled_at NULLS LAST, platform"
            ),
            {"c": campaign_id},
        )
        return tuple(PostView(*row) for row in rows)


def create_post(
    actor: Actor,
    campaign_id: uuid.UUID,
    platform: str,
    content: str,
    *,
    status: str = "draft",
    scheduled_at: datetime | None = None,
) -> PostView:
    """Add a social post to a campaign. A scheduled post needs a time.

    Raises ValidationError (platform, status, content required, schedule), PermissionDenied
    without campaigns.manage.
    """
    one_of(platform, SOCIAL_PLATFORMS, "platform")
    if status not in SOCIAL_POST_STATUSES or status == "published":
        raise ValidationError("A new post is a draft or scheduled.", field="status")
    if not (content or "").strip():
        raise ValidationError("Post text is required.", field="content")
    if status == "scheduled" and scheduled_at is None:
        raise ValidationError("A scheduled post needs a time.", field="scheduled_at")
    with unit_of_work(actor) as uow:
        uow.require(CAMPAIGNS_MANAGE)
        row = uow.session.execute(
            text(
                "INSERT INTO social_media_posts (campaign_id, platform, content, status,"
                " scheduled_at, created_by) VALUES (:c, :p, :t, :s, :at, :by)"
                " RETURNING id, campaign_id, platform, content, status, scheduled_at,"
                " published_at, post_url"
            ),
            {
                "c": campaign_id,
                "p": platform,
                "t": content.strip(),
                "s": status,
                "at": scheduled_at,
                "by": actor.user_id,
            },
        ).one()
        uow.commit()
    return PostView(*row)
