"""Registers the hourly refresh of the analytics rollups with the worker (imported by
core.jobs.registry), so the dashboards' "last refreshed" stays within the hour without a
cron entry; the pages' Refresh button and `python -m core refresh-analytics` remain."""

from core.analytics.rollups import refresh_rollups
from core.db import Actor
from core.jobs import register_periodic

REFRESHER = Actor.system("job:analytics.refresh")

register_periodic("analytics.refresh", 3600, lambda: refresh_rollups(REFRESHER))
