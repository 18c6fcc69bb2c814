"""CMS pages with their content blocks and saved versions, and the media library."""

from __future__ import annotations

from collections.abc import Iterator

from psycopg.types.json import Jsonb

from core.demo.clock import DAY, ts_or_none, ts_text
from core.demo.ids import new_id
from core.demo.vocab import CITIES
from core.demo.world import World
from core.demo.writer import TableLoad

# (title, slug, status, layout, blocks)
PAGES = (
    ("Fashionistas", "home", "published", "landing",
     ("hero", "event_list", "designer_list", "sponsor_list", "cta")),
    ("About us", "about", "published", "default", ("hero", "text", "image", "testimonial")),
    ("Events", "events", "published", "listing", ("hero", "event_list")),
    ("Designers", "designers", "published", "listing", ("hero", "designer_list", "gallery")),
    ("Partners and sponsors", "sponsors", "published", "listing", ("text", "sponsor_list", "cta")),
    ("Press", "press", "draft", "default", ("text", "gallery", "video")),
    ("Privacy notice", "privacy", "published", "legal", ("text", "text", "cta")),
    ("Terms of sale", "terms", "archived", "legal", ("text", "text")),
)  # fmt: skip
CITY_BLOCKS = ("hero", "event_list", "feature", "cta")
CDN = "https://cdn.fashionistas.example"
# Sizes in bytes; videos pass the 2 GiB an integer column could not hold.
FILE_BYTES = (20_000, 4_000_000)
VIDEO_BYTES = (50_000_000, 3_500_000_000)
MEDIA = (
    ("image", "image/jpeg", "jpg"),
    ("image", "image/png", "png"),
    ("video", "video/mp4", "mp4"),
    ("document", "application/pdf", "pdf"),
)


def page_count(n_venues: int) -> int:
    """The fixed pages plus a landing page per venue city."""
    return len(PAGES) + min(len(CITIES), n_venues)


def tables(world: World) -> Iterator[TableLoad]:
    """pages, content_blocks, page_versions, media_items."""
    rng, pools, t0 = world.rng, world.pools, world.clock.t0
    authors = world.users_by_type["marketing"] + world.users_by_type["admin"]
    pages = list(PAGES)
    for city in CITIES[: min(len(CITIES), world.scale.venues)]:
        slug = city.name.lower().replace(" ", "-")
        pages.append(
            (
                f"{city.name} Fashion Week",
                f"{slug}-fashion-week",
                "published",
                "landing",
                CITY_BLOCKS,
            )
        )
    page_rows, block_rows, version_rows = [], [], []
    for title, slug, status, layout, blocks in pages:
        page_id = new_id(rng)
        created = t0 - rng.randint(60, 700) * DAY
        versions = rng.randint(1, 3)
        author = rng.choice(authors).id
        published = created + DAY if status != "draft" else None
        description = f"{title} — Fashionistas, the fashion-week events company."
        keywords = ["fashion week", slug.replace("-", " ")]
        snapshot = []
        for order, kind in enumerate(blocks):
            content = (
                rng.choice(pools.paragraphs) if kind in ("text", "testimonial", "feature") else None
            )
            settings = {"limit": 6} if kind.endswith("_list") else {}
            snapshot.append({"type": kind, "order": order})
            pictured = kind in ("hero", "image")
            block_rows.append(
                (new_id(rng), page_id, kind, f"{title}: {kind.replace('_', ' ')}", content,
                 Jsonb({"image": f"{CDN}/pages/{slug}/{order}.jpg"} if pictured else {}),
                 order, Jsonb(settings), Jsonb({"theme": "light"}), Jsonb({}), versions,
                 ts_text(created), ts_text(created + versions * DAY))
            )  # fmt: skip
        for v in range(1, versions + 1):
            version_rows.append(
                (new_id(rng), page_id, v, title, description, keywords, layout,
                 Jsonb({"blocks": snapshot}), author, "Initial version" if v == 1 else "Copy edits",
                 ts_text(created + (v - 1) * DAY))
            )  # fmt: skip
        page_rows.append(
            (page_id, slug, title, description, keywords, status, layout, author,
             ts_or_none(published), versions, slug == "home", False,
             3_600 if status == "published" else 0, f"{CDN}/pages/{slug}/og.jpg",
             Jsonb({"@type": "WebPage", "name": title}),
             ts_text(created), ts_text(created + versions * DAY))
        )  # fmt: skip
    yield TableLoad(
        "pages",
        (
            "id", "slug", "title", "meta_description", "meta_keywords", "status", "layout",
            "author_id", "published_at", "version", "is_homepage", "requires_auth", "cache_ttl",
            "seo_image_url", "structured_data", "created_at", "updated_at",
        ),
        page_rows,
    )  # fmt: skip
    yield TableLoad(
        "content_blocks",
        (
            "id", "page_id", "block_type", "title", "content", "content_json", "order_index",
            "settings", "styles", "visibility_rules", "version", "created_at", "updated_at",
        ),
        block_rows,
    )  # fmt: skip
    yield TableLoad(
        "page_versions",
        (
            "id", "page_id", "version", "title", "meta_description", "meta_keywords", "layout",
            "content_snapshot", "author_id", "change_summary", "created_at",
        ),
        version_rows,
    )  # fmt: skip
    yield _media(world, authors)


def _media(world: World, authors: list) -> TableLoad:
    rng, t0 = world.rng, world.clock.t0
    rows = []
    for n in range(world.scale.media_items):
        kind, mime, ext = MEDIA[n % len(MEDIA)]
        folder = rng.choice(("/events", "/designers", "/sponsors", "/press", "/"))
        name = f"{folder.strip('/') or 'asset'}-{n + 1:04d}.{ext}"
        created = ts_text(t0 - rng.randint(1, 500) * DAY)
        rows.append(
            (new_id(rng), name, kind, mime,
             rng.randint(*(VIDEO_BYTES if kind == "video" else FILE_BYTES)),
             f"{CDN}/media{folder.rstrip('/')}/{name}",
             f"{CDN}/media/thumbs/{name}.jpg" if kind != "document" else None,
             f"Media item {n + 1}" if kind == "image" else None, None,
             1_920 if kind != "document" else None, 1_080 if kind != "document" else None,
             rng.randint(10, 600) if kind == "video" else None, rng.choice(authors).id, folder,
             [folder.strip("/") or "general", kind], created, created)
        )  # fmt: skip
    return TableLoad(
        "media_items",
        (
            "id", "file_name", "file_type", "mime_type", "file_size", "url", "thumbnail_url",
            "alt_text", "caption", "width", "height", "duration", "uploaded_by", "folder_path",
            "tags", "created_at", "updated_at",
        ),
        rows,
    )  # fmt: skip
