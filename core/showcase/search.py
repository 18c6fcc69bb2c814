"""One search box over designers and collections: the seeds' ranked full-text query, run by
the database function showcase_search (migration 0009) so the GIN indexes serve it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import text

from core.auth.permissions import SHOWCASE_VIEW
from core.db import Actor, unit_of_work
from core.errors import ValidationError

MAX_QUERY = 200


@dataclass(frozen=True)
class SearchHit:
    kind: str  # "designer" or "collection"
    id: uuid.UUID
    name: str
    slug: str
    subtitle: str | None  # a designer's brand; a collection's designer
    image_url: str | None
    rank: float


@dataclass(frozen=True)
class SearchResults:
    query: str
    hits: tuple[SearchHit, ...]  # best first, both kinds mixed

    @property
    def designers(self) -> tuple[SearchHit, ...]:
        return tuple(h for h in self.hits if h.kind == "designer")

    @property
    def collections(self) -> tuple[SearchHit, ...]:
        return tuple(h for h in self.hits if h.kind == "collection")


def search_showcase(actor: Actor, query: str, *, per_kind: int = 10) -> SearchResults:
    """Active designers and published collections (of active designers) matching `query`
    (web-search syntax: words, "quoted phrases", or, -exclusions), ranked by ts_rank, at
    most `per_kind` of each.

    Raises PermissionDenied without showcase.view, ValidationError for a query too long.
    """
    cleaned = (query or "").strip()
    if len(cleaned) > MAX_QUERY:
        raise ValidationError(f"search must be at most {MAX_QUERY} characters", field="search")
    if not cleaned:
        return SearchResults("", ())
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(SHOWCASE_VIEW)
        rows = uow.session.execute(
            text("SELECT * FROM showcase_search(:q, :n)"), {"q": cleaned, "n": per_kind}
        )
        return SearchResults(cleaned, tuple(SearchHit(*r) for r in rows))
