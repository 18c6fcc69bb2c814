"""Designer and collection showcase (issue 8): row-level security below collections, the
review guard on designer profiles, running-order consistency, and the search function.

- Helpers `app_my_collection_ids()` and `app_my_collaboration_ids()` (STABLE SECURITY
  DEFINER, fixed search_path, like 0003's `app_my_designer_ids()`).
- Row-level security on fashion_items, fashion_item_images, runway_shows, runway_segments,
  runway_appearances (read: whatever the collection's own policy lets the reader see;
  write: the collection's designer or an admin), models (read: signed in; write: admin,
  a model's own account may update its row), designer_collaborations and their
  participants (read: signed in; write: a participating designer or an admin) and
  designer_analytics (read: the designer, admins and holders of analytics.view; write:
  admins; views are counted through `showcase_record_view`).
- `designers_review_guard`: only an admin sets a profile's status, verified or featured
  flag; a person creating their own profile starts pending, unverified, not featured.
- `runway_appearances_item_in_collection`: the piece an appearance shows belongs to the
  show's collection. No two appearances share a slot: UNIQUE (runway_show_id,
  segment_order) and UNIQUE (runway_segment_id, appearance_order) from 0001.
- `showcase_search(query, per_kind)`: the seeds' ranked search over designers and
  collections as a SECURITY DEFINER function, so the GIN indexes serve it (under row-level
  security `@@` is not LEAKPROOF and the policy would run first on every row); it applies
  the public rules itself: active designers, published collections of active designers,
  to a signed-in person only.
- `showcase_record_view(designer, collection)`: counts one profile (and collection) view
  on today's designer_analytics row; anyone signed in may count a view, nobody may write
  the rest of the table without being an admin.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

import os
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UID = "(SELECT app_current_user_id())"
ADMIN = "(SELECT app_has_role('admin'))"
SIGNED_IN = f"{UID} IS NOT NULL"
MY_DESIGNERS = "CAST((SELECT app_my_designer_ids()) AS uuid[])"
MY_COLLECTIONS = "CAST((SELECT app_my_collection_ids()) AS uuid[])"
MY_COLLABORATIONS = "CAST((SELECT app_my_collaboration_ids()) AS uuid[])"

RLS_TABLES = (
    "fashion_items",
    "fashion_item_images",
    "runway_shows",
    "runway_segments",
    "runway_appearances",
    "models",
    "designer_collaborations",
    "designer_collaboration_participants",
    "designer_analytics",
)

# Reading goes through the parent's own policy (a sub-select on an RLS table applies that
# table's policies for the same person), so an item is visible exactly when its collection
# is: published, or the reader's own, or to an admin.
# The explicit signed-in test costs one InitPlan and says at a glance that nobody anonymous
# reads anything (the parent's policy would refuse them anyway).
_ITEM_VISIBLE = f"{SIGNED_IN} AND EXISTS (SELECT 1 FROM collections c WHERE c.id = collection_id)"
_IMAGE_VISIBLE = (
    f"{SIGNED_IN} AND EXISTS (SELECT 1 FROM fashion_items fi WHERE fi.id = fashion_item_id)"
)
_SHOW_VISIBLE = _ITEM_VISIBLE
_SEGMENT_VISIBLE = (
    f"{SIGNED_IN} AND EXISTS (SELECT 1 FROM runway_shows r WHERE r.id = runway_show_id)"
)
_APPEARANCE_VISIBLE = (
    f"{SIGNED_IN} AND EXISTS (SELECT 1 FROM runway_segments s WHERE s.id = runway_segment_id)"
)

_ITEM_MINE = f"collection_id = ANY ({MY_COLLECTIONS}) OR {ADMIN}"
_IMAGE_MINE = (
    "EXISTS (SELECT 1 FROM fashion_items fi WHERE fi.id = fashion_item_id"
    f" AND fi.collection_id = ANY ({MY_COLLECTIONS})) OR {ADMIN}"
)
_SHOW_MINE = _ITEM_MINE
_SEGMENT_MINE = (
    "EXISTS (SELECT 1 FROM runway_shows r WHERE r.id = runway_show_id"
    f" AND r.collection_id = ANY ({MY_COLLECTIONS})) OR {ADMIN}"
)
_APPEARANCE_MINE = (
    "EXISTS (SELECT 1 FROM runway_segments s JOIN runway_shows r ON r.id = s.runway_show_id"
    f" WHERE s.id = runway_segment_id AND r.collection_id = ANY ({MY_COLLECTIONS})) OR {ADMIN}"
)


def _owned(
    table: str, visible: str, mine: str
) -> list[tuple[str, str, str, str | None, str | None]]:
    return [
        (table, f"{table}_select", "SELECT", visible, None),
        (table, f"{table}_insert", "INSERT", None, mine),
        (table, f"{table}_update", "UPDATE", mine, mine),
        (table, f"{table}_delete", "DELETE", mine, None),
    ]


# (table, policy, command, USING, WITH CHECK)
POLICIES: tuple[tuple[str, str, str, str | None, str | None], ...] = (
    *_owned("fashion_items", _ITEM_VISIBLE, _ITEM_MINE),
    *_owned("fashion_item_images", _IMAGE_VISIBLE, _IMAGE_MINE),
    *_owned("runway_shows", _SHOW_VISIBLE, _SHOW_MINE),
    *_owned("runway_segments", _SEGMENT_VISIBLE, _SEGMENT_MINE),
    *_owned("runway_appearances", _APPEARANCE_VISIBLE, _APPEARANCE_MINE),
    ("models", "models_select", "SELECT", SIGNED_IN, None),
    ("models", "models_insert", "INSERT", None, ADMIN),
    (
        "models",
        "models_update",
        "UPDATE",
        f"user_id = {UID} OR {ADMIN}",
        f"user_id = {UID} OR {ADMIN}",
    ),
    ("models", "models_delete", "DELETE", ADMIN, None),
    ("designer_collaborations", "designer_collaborations_select", "SELECT", SIGNED_IN, None),
    (
        "designer_collaborations",
        "designer_collaborations_insert",
        "INSERT",
        None,
        f"{SIGNED_IN} AND (SELECT app_has_permission('showcase.manage'))",
    ),
    (
        "designer_collaborations",
        "designer_collaborations_update",
        "UPDATE",
        f"id = ANY ({MY_COLLABORATIONS}) OR {ADMIN}",
        f"id = ANY ({MY_COLLABORATIONS}) OR {ADMIN}",
    ),
    (
        "designer_collaborations",
        "designer_collaborations_delete",
        "DELETE",
        f"id = ANY ({MY_COLLABORATIONS}) OR {ADMIN}",
        None,
    ),
    (
        "designer_collaboration_participants",
        "designer_collaboration_participants_select",
        "SELECT",
        SIGNED_IN,
        None,
    ),
    # A designer joins with their own profile, or adds others to a collaboration they are
    # already part of (a brand-new collaboration has no participant until its creator joins).
    (
        "designer_collaboration_participants",
        "designer_collaboration_participants_insert",
        "INSERT",
        None,
        f"designer_id = ANY ({MY_DESIGNERS}) OR collaboration_id = ANY ({MY_COLLABORATIONS})"
        f" OR {ADMIN}",
    ),
    (
        "designer_collaboration_participants",
        "designer_collaboration_participants_update",
        "UPDATE",
        f"collaboration_id = ANY ({MY_COLLABORATIONS}) OR {ADMIN}",
        f"collaboration_id = ANY ({MY_COLLABORATIONS}) OR {ADMIN}",
    ),
    (
        "designer_collaboration_participants",
        "designer_collaboration_participants_delete",
        "DELETE",
        f"collaboration_id = ANY ({MY_COLLABORATIONS}) OR {ADMIN}",
        None,
    ),
    (
        "designer_analytics",
        "designer_analytics_select",
        "SELECT",
        f"designer_id = ANY ({MY_DESIGNERS}) OR {ADMIN}"
        " OR (SELECT app_has_permission('analytics.view'))",
        None,
    ),
    ("designer_analytics", "designer_analytics_insert", "INSERT", None, ADMIN),
    ("designer_analytics", "designer_analytics_update", "UPDATE", ADMIN, ADMIN),
    ("designer_analytics", "designer_analytics_delete", "DELETE", ADMIN, None),
)

FUNCTIONS = r"""
-- The collections of the acting user's designer profiles (policies below collections).
CREATE FUNCTION app_my_collection_ids() RETURNS uuid[]
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
BEGIN
  RETURN (SELECT coalesce(array_agg(c.id), '{{}}') FROM collections c
           JOIN designers d ON d.id = c.designer_id
          WHERE d.user_id = app_current_user_id());
END $$;

-- The collaborations one of the acting user's designer profiles takes part in. A policy
-- on the participants table cannot read that table itself (PostgreSQL refuses the
-- recursion), so it asks this function.
CREATE FUNCTION app_my_collaboration_ids() RETURNS uuid[]
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
BEGIN
  RETURN (SELECT coalesce(array_agg(DISTINCT p.collaboration_id), '{{}}')
            FROM designer_collaboration_participants p
            JOIN designers d ON d.id = p.designer_id
           WHERE d.user_id = app_current_user_id());
END $$;

-- Review fields belong to admins: a designer edits their own profile (the policy lets
-- them) but cannot approve, verify or feature it. Owner-side loads (no acting person)
-- pass: the app role without a person sees no designer row to begin with.
CREATE FUNCTION designers_review_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF app_current_user_id() IS NULL OR app_has_role('admin') THEN
    RETURN NEW;
  END IF;
  IF TG_OP = 'INSERT' THEN
    IF NEW.status <> 'pending' OR NEW.is_verified OR NEW.is_featured THEN
      RAISE EXCEPTION 'only an admin sets a designer''s status, verified or featured flag'
        USING ERRCODE = '42501';
    END IF;
  ELSIF NEW.status IS DISTINCT FROM OLD.status OR NEW.is_verified IS DISTINCT FROM OLD.is_verified
        OR NEW.is_featured IS DISTINCT FROM OLD.is_featured THEN
    RAISE EXCEPTION 'only an admin sets a designer''s status, verified or featured flag'
      USING ERRCODE = '42501';
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER designers_review_guard BEFORE INSERT OR UPDATE ON designers
FOR EACH ROW EXECUTE FUNCTION designers_review_guard();

-- The piece a model wears comes from the collection the show presents. SECURITY DEFINER:
-- the check must see the rows whatever the writer may read.
CREATE FUNCTION runway_appearances_item_in_collection() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
BEGIN
  IF NEW.fashion_item_id IS NOT NULL AND NOT EXISTS (
      SELECT 1 FROM runway_segments s
        JOIN runway_shows r ON r.id = s.runway_show_id
        JOIN fashion_items fi ON fi.collection_id = r.collection_id
       WHERE s.id = NEW.runway_segment_id AND fi.id = NEW.fashion_item_id) THEN
    RAISE EXCEPTION 'the piece of an appearance must belong to the show''s collection'
      USING ERRCODE = '23514', CONSTRAINT = 'runway_appearances_item_in_collection';
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER runway_appearances_item_in_collection
BEFORE INSERT OR UPDATE OF fashion_item_id, runway_segment_id ON runway_appearances
FOR EACH ROW EXECUTE FUNCTION runway_appearances_item_in_collection();

-- The seeds' search ("Search for Designers and Collections"): ranked with ts_rank over the
-- exact expressions of idx_designers_fts and idx_collections_fts (an expression index
-- serves only a textually identical expression), best `per_kind` of each kind.
-- SECURITY DEFINER so the indexes can be used: under row-level security the policy runs
-- before the non-LEAKPROOF `@@` on every row. It applies the public rules itself.
-- websearch_to_tsquery, not plainto_tsquery: the same for plain words, and it also takes
-- "quoted phrases", `or` and -exclusions.
CREATE FUNCTION showcase_search(p_query text, p_per_kind integer)
RETURNS TABLE (kind text, id uuid, name text, slug text, subtitle text, image_url text,
               rank real)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
  (SELECT 'designer', d.id, d.name, d.slug, d.brand_name, d.profile_image_url,
          ts_rank(to_tsvector('english', coalesce(name, '') || ' ' || coalesce(brand_name, '')
                  || ' ' || coalesce(specialty, '') || ' ' || coalesce(bio, '')),
                  websearch_to_tsquery('english', p_query))
     FROM designers d
    WHERE app_current_user_id() IS NOT NULL AND d.status = 'active'
      AND to_tsvector('english', coalesce(name, '') || ' ' || coalesce(brand_name, '')
          || ' ' || coalesce(specialty, '') || ' ' || coalesce(bio, ''))
          @@ websearch_to_tsquery('english', p_query)
    ORDER BY 7 DESC, 3
    LIMIT p_per_kind)
  UNION ALL
  (SELECT 'collection', c.id, c.name, c.slug, d.name, c.cover_image_url,
          ts_rank(to_tsvector('english', coalesce(c.name, '') || ' ' || coalesce(description, '')
                  || ' ' || coalesce(inspiration, '') || ' ' || coalesce(show_notes, '')),
                  websearch_to_tsquery('english', p_query))
     FROM collections c JOIN designers d ON d.id = c.designer_id
    WHERE app_current_user_id() IS NOT NULL AND c.status = 'published' AND d.status = 'active'
      AND to_tsvector('english', coalesce(c.name, '') || ' ' || coalesce(description, '')
          || ' ' || coalesce(inspiration, '') || ' ' || coalesce(show_notes, ''))
          @@ websearch_to_tsquery('english', p_query)
    ORDER BY 7 DESC, 3
    LIMIT p_per_kind)
  ORDER BY 7 DESC, 1, 3
$$;

-- One profile view (and one view of `p_collection`, when given) on today's row of
-- designer_analytics. Anyone signed in who can see the designer may count a view; the
-- table itself stays admin-only for writes.
CREATE FUNCTION showcase_record_view(p_designer uuid, p_collection uuid)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
BEGIN
  IF app_current_user_id() IS NULL OR NOT EXISTS (
      SELECT 1 FROM designers WHERE id = p_designer AND status = 'active') THEN
    RETURN;
  END IF;
  INSERT INTO designer_analytics (designer_id, date, profile_views, collection_views)
  VALUES (p_designer, current_date, 1,
          CASE WHEN p_collection IS NULL THEN '{{}}'::jsonb
               ELSE jsonb_build_object(p_collection::text, 1) END)
  ON CONFLICT (designer_id, date) DO UPDATE
     SET profile_views = designer_analytics.profile_views + 1,
         collection_views = CASE WHEN p_collection IS NULL
           THEN designer_analytics.collection_views
           ELSE jsonb_set(designer_analytics.collection_views, ARRAY[p_collection::text],
                  to_jsonb(coalesce((designer_analytics.collection_views
                                      ->> p_collection::text)::integer, 0) + 1)) END;
END $$;
"""

FUNCTION_SIGNATURES = (
    "showcase_record_view(uuid, uuid)",
    "showcase_search(text, integer)",
    "runway_appearances_item_in_collection()",
    "designers_review_guard()",
    "app_my_collaboration_ids()",
    "app_my_collection_ids()",
)
TRIGGERS = (
    ("runway_appearances_item_in_collection", "runway_appearances"),
    ("designers_review_guard", "designers"),
)


def _app_role() -> str:
    # As migration 0003 reads it (core.config would do, but migrations must not change
    # with the application code).
    return os.environ.get("FASHIONISTAS_APP_ROLE") or "fashionistas_app"


def _quote(conn: sa.Connection, name: str) -> str:
    return conn.execute(sa.text("SELECT quote_ident(:n)"), {"n": name}).scalar_one()


def upgrade() -> None:
    conn = op.get_bind()
    schema = _quote(conn, conn.execute(sa.text("SELECT current_schema()")).scalar_one())
    op.execute(sa.text(FUNCTIONS.format(schema=schema)))
    role = _app_role()
    if conn.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).scalar():
        ident = _quote(conn, role)
        for signature in FUNCTION_SIGNATURES:
            op.execute(f"GRANT EXECUTE ON FUNCTION {signature} TO {ident}")
    for table in RLS_TABLES:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    for table, name, command, using, check in POLICIES:
        statement = f"CREATE POLICY {name} ON {table} FOR {command} TO PUBLIC"
        if using is not None:
            statement += f" USING ({using})"
        if check is not None:
            statement += f" WITH CHECK ({check})"
        op.execute(statement)


def downgrade() -> None:
    for table, name, *_ in POLICIES:
        op.execute(f"DROP POLICY {name} ON {table}")
    for table in RLS_TABLES:
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    for trigger, table in TRIGGERS:
        op.execute(f"DROP TRIGGER {trigger} ON {table}")
    for signature in FUNCTION_SIGNATURES:
        op.execute(f"DROP FUNCTION {signature}")
