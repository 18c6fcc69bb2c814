"""The API's routers, all mounted under /v1 (api.app). A new group adds its module here."""

from __future__ import annotations

from fastapi import APIRouter

from api.routes import analytics, api_keys, attendees, discounts, events, orders, webhooks

ROUTERS: list[APIRouter] = [
    events.router,
    orders.router,
    attendees.router,
    discounts.router,
    analytics.router,
    api_keys.router,
    webhooks.router,
]
