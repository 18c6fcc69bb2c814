"""The showcase search: the SECURITY DEFINER function against the same query under RLS.

    python -m bench.showcase_search [--designers 20000] [--repeat 300]

Uses DATABASE_URL's server (or the embedded server in ./.data/bench-postgres). Creates a
scratch database `bench_showcase_<tag>`, migrates it, seeds active designers (a tenth
pending) with three collections each (two published), and drops it at the end. Then,
interleaved and as the app role with a signed-in person, it runs the seeds' ranked search
for a rare word two ways: `showcase_search(q, 10)` (migration 0009), whose body the GIN
indexes serve, and the same UNION written inline, where row-level security evaluates the
designers' and collections' policies before the non-LEAKPROOF `@@` on every row. Only the
query is timed; both must return the same rows. Prints both plans' index use, medians and
the ratio.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid

from sqlalchemy import Connection, Engine, text

from bench.scratch import scratch_database, session_for
from core.auth.permissions import role_id

DESIGNER_DOC = (
    "to_tsvector('english', coalesce(name, '') || ' ' || coalesce(brand_name, '')"
    " || ' ' || coalesce(specialty, '') || ' ' || coalesce(bio, ''))"
)
COLLECTION_DOC = (
    "to_tsvector('english', coalesce(c.name, '') || ' ' || coalesce(description, '')"
    " || ' ' || coalesce(inspiration, '') || ' ' || coalesce(show_notes, ''))"
)
QUERY = "websearch_to_tsquery('english', :q)"
INLINE = f"""
(SELECT 'designer' AS kind, d.id, d.name, ts_rank({DESIGNER_DOC}, {QUERY}) AS rank
   FROM designers d WHERE d.status = 'active' AND {DESIGNER_DOC} @@ {QUERY}
  ORDER BY 4 DESC, 3 LIMIT 10)
UNION ALL
(SELECT 'collection', c.id, c.name, ts_rank({COLLECTION_DOC}, {QUERY})
   FROM collections c JOIN designers d ON d.id = c.designer_id
  WHERE c.status = 'published' AND d.status = 'active' AND {COLLECTION_DOC} @@ {QUERY}
  ORDER BY 4 DESC, 3 LIMIT 10)
ORDER BY 4 DESC, 1, 3
"""
FUNCTION = "SELECT kind, id, name, rank FROM showcase_search(:q, 10)"


def seed(owner: Engine, designers: int) -> uuid.UUID:
    """Designers and collections with a word `w<n>` shared by about one in 997; returns a
    signed-in reader (a sponsor: no designer profile, no admin)."""
    with owner.begin() as conn:
        reader = conn.execute(
            text(
                "INSERT INTO users (email, full_name, user_type, status) VALUES"
                " ('reader@bench.example', 'Reader', 'sponsor', 'active') RETURNING id"
            )
        ).scalar_one()
        conn.execute(
            text("INSERT INTO user_roles (user_id, role_id) VALUES (:u, :r)"),
            {"u": reader, "r": role_id("sponsor")},
        )
        conn.execute(
            text(
                "INSERT INTO designers (name, slug, brand_name, specialty, bio, status)"
                " SELECT 'Designer ' || g, 'designer-' || g, 'House ' || g, 'tailoring',"
                " 'Studio founded in Milan, known for w' || (g % 997) || ' silhouettes.',"
                " CASE WHEN g % 10 = 0 THEN 'pending' ELSE 'active' END"
                " FROM generate_series(1, :n) g"
            ),
            {"n": designers},
        )
        conn.execute(
            text(
                "INSERT INTO collections (designer_id, name, slug, description, status)"
                " SELECT d.id, 'Line ' || k || ' of ' || d.name, d.slug || '-' || k,"
                " 'Evening wear around w' || ((hashtext(d.slug) + k) & 1023) || '.',"
                " CASE WHEN k = 3 THEN 'draft' ELSE 'published' END"
                " FROM designers d, generate_series(1, 3) k"
            )
        )
        conn.execute(text("ANALYZE"))
    return reader


def _as(conn: Connection, me: tuple[uuid.UUID, str]) -> None:
    # The owner is taken at its word (app.user_id); the app role needs the session.
    conn.execute(
        text("SELECT set_config('app.user_id', :u, true), set_config('app.session', :t, true)"),
        {"u": str(me[0]), "t": me[1]},
    )


def _timed(conn: Connection, me: tuple[uuid.UUID, str], sql: str, q: str) -> tuple[float, list]:
    with conn.begin():
        _as(conn, me)
        started = time.perf_counter()
        rows = conn.execute(text(sql), {"q": q}).all()
        elapsed = time.perf_counter() - started
    return elapsed, [(r[0], r[1]) for r in rows]


def _plan(conn: Connection, me: tuple[uuid.UUID, str], sql: str, q: str) -> str:
    with conn.begin():
        _as(conn, me)
        return "\n".join(conn.execute(text(f"EXPLAIN {sql}"), {"q": q}).scalars())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.showcase_search", description=__doc__)
    parser.add_argument("--designers", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=300)
    args = parser.parse_args(argv)

    with scratch_database("bench_showcase") as (owner, app):
        reader_id = seed(owner, args.designers)
        reader = (reader_id, session_for(owner, reader_id))
        words = [f"w{n}" for n in range(0, 997, 37)]
        with owner.connect() as conn:
            body = conn.execute(
                text("SELECT prosrc FROM pg_proc WHERE proname = 'showcase_search'")
            ).scalar_one()
        function_body = body.replace("p_query", ":q").replace("p_per_kind", "10")
        times: dict[str, list[float]] = {"function": [], "inline under RLS": []}
        with app.connect() as conn:
            inline_plan = _plan(conn, reader, INLINE, words[0])
        with owner.connect() as conn:
            # The function's body as its owner runs it (RLS does not apply to the owner).
            function_plan = _plan(conn, reader, function_body, words[0])
        with app.connect() as conn:
            for i in range(args.repeat + 20):
                q = words[i % len(words)]
                runs = [("function", FUNCTION), ("inline under RLS", INLINE)]
                if i % 2:
                    runs.reverse()
                results = {}
                for name, sql in runs:
                    elapsed, rows = _timed(conn, reader, sql, q)
                    results[name] = rows
                    if i >= 20:
                        times[name].append(elapsed)
                if results["function"] != results["inline under RLS"]:
                    print(f"results differ for {q}: {results}", file=sys.stderr)
                    return 1
        medians = {name: statistics.median(t) * 1000 for name, t in times.items()}
        uses = {
            "function": "idx_designers_fts" in function_plan
            and "idx_collections_fts" in function_plan,
            "inline under RLS": "idx_designers_fts" in inline_plan
            or "idx_collections_fts" in inline_plan,
        }
        print(
            f"{args.designers} designers, {3 * args.designers} collections,"
            f" {args.repeat} searches each, interleaved"
        )
        for name, median in medians.items():
            print(f"{name:<18} median {median:8.3f} ms   full-text index used: {uses[name]}")
        print(f"ratio inline / function  {medians['inline under RLS'] / medians['function']:.1f}")
        return 0


if __name__ == "__main__":
    sys.exit(main())
