"""Users of every type, their profiles, and the roles and permissions they hold."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from psycopg.types.json import Jsonb

from core.demo.clock import DAY, HOUR, day_text, ts_or_none, ts_text
from core.demo.ids import UniqueNames, new_id
from core.demo.vocab import CITIES, INTERESTS
from core.demo.world import World
from core.demo.writer import TableLoad

ROLES = {
    "admin": "Runs the platform: users, settings, compliance and audit.",
    "organizer": "Plans events, venues, ticketing and the box office.",
    "marketing": "Runs campaigns, promo codes, segments and reads analytics.",
    "designer": "Manages a designer profile, collections and runway shows.",
    "sponsor": "Follows sponsorships, assets and sponsor analytics.",
    "staff": "Works the door and the box office on event days.",
    "model": "Sees castings, runway appearances and schedules.",
    "attendee": "Buys tickets and manages their own orders.",
}

PERMISSIONS = (
    ("events", "read"), ("events", "write"), ("events", "publish"), ("events", "delete"),
    ("venues", "read"), ("venues", "write"),
    ("tickets", "read"), ("tickets", "write"),
    ("orders", "read"), ("orders", "write"), ("orders", "refund"),
    ("discounts", "read"), ("discounts", "write"),
    ("showcase", "read"), ("showcase", "write"),
    ("sponsors", "read"), ("sponsors", "write"),
    ("marketing", "read"), ("marketing", "write"),
    ("analytics", "read"),
    ("compliance", "read"), ("compliance", "manage"),
    ("audit", "read"),
    ("users", "read"), ("users", "manage"),
    ("cms", "read"), ("cms", "write"),
    ("system", "manage"),
    ("api", "manage"),
)  # fmt: skip

# Which permissions each role holds; "*" is everything.
ROLE_GRANTS = {
    "admin": ("*",),
    "organizer": (
        "events:read", "events:write", "events:publish", "events:delete", "venues:read",
        "venues:write", "tickets:read", "tickets:write", "orders:read", "orders:write",
        "orders:refund", "discounts:read", "discounts:write", "showcase:read", "sponsors:read",
        "analytics:read", "cms:read",
    ),
    "marketing": (
        "events:read", "marketing:read", "marketing:write", "discounts:read", "sponsors:read",
        "sponsors:write", "analytics:read", "showcase:read", "cms:read", "cms:write",
    ),
    "designer": ("events:read", "showcase:read", "showcase:write", "analytics:read"),
    "sponsor": ("events:read", "sponsors:read", "analytics:read"),
    "staff": (
        "events:read", "venues:read", "tickets:read", "orders:read", "orders:write",
    ),
    "model": ("events:read", "showcase:read"),
    "attendee": ("events:read", "orders:read"),
}  # fmt: skip

STAFF_TYPES = ("admin", "organizer", "marketing", "staff")
PUBLIC_DOMAINS = ("example.com", "example.net", "example.org", "mail.example")
STATUS_WEIGHTS = (("active", 88), ("inactive", 5), ("pending", 5), ("suspended", 2))


@dataclass(slots=True)
class UserRec:
    id: str
    email: str
    full_name: str
    first: int
    last: int
    phone: str | None
    user_type: str
    status: str
    created: int


def permission_names() -> list[str]:
    """'resource:action' for every permission."""
    return [f"{resource}:{action}" for resource, action in PERMISSIONS]


def role_permission_pairs() -> list[tuple[str, str]]:
    """(role, permission name) for every grant in ROLE_GRANTS."""
    names = permission_names()
    return [
        (role, name)
        for role, grants in ROLE_GRANTS.items()
        for name in (names if grants == ("*",) else grants)
    ]


def plan(world: World) -> None:
    """Users of every type, with unique e-mail addresses built from the name pools."""
    rng, pools, t0 = world.rng, world.pools, world.clock.t0
    locals_taken = UniqueNames(separator="")
    statuses = [s for s, _ in STATUS_WEIGHTS]
    weights = [w for _, w in STATUS_WEIGHTS]
    n_first, n_last = len(pools.first_names), len(pools.last_names)
    for user_type, count in world.scale.users.items():
        staff = user_type in STAFF_TYPES
        bucket = world.users_by_type.setdefault(user_type, [])
        for _ in range(count):
            first, last = rng.randrange(n_first), rng.randrange(n_last)
            local = locals_taken.take(f"{pools.first_ascii[first]}.{pools.last_ascii[last]}")
            domain = "fashionistas.example" if staff else rng.choice(PUBLIC_DOMAINS)
            # Staff accounts are older; attendees sign up steadily, more of them recently.
            age_days = rng.randint(200, 1_100) if staff else int(730 * rng.random() ** 1.7) + 1
            user = UserRec(
                id=new_id(rng),
                email=f"{local}@{domain}",
                full_name=f"{pools.first_names[first]} {pools.last_names[last]}",
                first=first,
                last=last,
                phone=rng.choice(pools.phones) if rng.random() < 0.7 else None,
                user_type=user_type,
                status="active" if staff else rng.choices(statuses, weights)[0],
                created=t0 - age_days * DAY + rng.randrange(DAY),
            )
            world.users.append(user)
            bucket.append(user)
    for role in ROLES:
        world.role_ids[role] = new_id(rng)


def tables(world: World) -> Iterator[TableLoad]:
    """roles, permissions, role_permissions, users, user_profiles, user_roles."""
    yield _roles(world)
    yield from _permissions(world)
    yield _users(world)
    yield _profiles(world)
    yield TableLoad(
        "user_roles",
        ("id", "user_id", "role_id", "created_at"),
        (
            (new_id(world.rng), u.id, world.role_ids[u.user_type], ts_text(u.created))
            for u in world.users
        ),
        len(world.users),
    )


def _roles(world: World) -> TableLoad:
    created = ts_text(world.clock.t0 - 1_200 * DAY)
    rows = [
        (world.role_ids[name], name, description, created, created)
        for name, description in ROLES.items()
    ]
    return TableLoad("roles", ("id", "name", "description", "created_at", "updated_at"), rows)


def _permissions(world: World) -> Iterator[TableLoad]:
    rng = world.rng
    created = ts_text(world.clock.t0 - 1_200 * DAY)
    ids = {name: new_id(rng) for name in permission_names()}
    yield TableLoad(
        "permissions",
        ("id", "name", "description", "resource", "action", "created_at", "updated_at"),
        [
            (ids[f"{r}:{a}"], f"{r}:{a}", f"May {a} {r}.", r, a, created, created)
            for r, a in PERMISSIONS
        ],
    )
    yield TableLoad(
        "role_permissions",
        ("id", "role_id", "permission_id", "created_at"),
        [
            (new_id(rng), world.role_ids[role], ids[name], created)
            for role, name in role_permission_pairs()
        ],
    )


def _users(world: World) -> TableLoad:
    rng, t0 = world.rng, world.clock.t0

    def rows():
        for u in world.users:
            active = u.status == "active"
            last_login = t0 - rng.randrange(30 * DAY) if active and rng.random() < 0.85 else None
            if last_login is not None and last_login < u.created:
                last_login = u.created + HOUR
            yield (
                u.id,
                u.email,
                None,  # password_hash: sign-in comes later; no invented passwords
                u.full_name,
                u.phone,
                u.user_type,
                u.status,
                ts_or_none(last_login),
                f"https://cdn.fashionistas.example/avatars/{u.id[:8]}.jpg"
                if rng.random() < 0.4
                else None,
                active or rng.random() < 0.3,
                u.phone is not None and rng.random() < 0.5,
                u.user_type == "admin" or rng.random() < 0.05,
                5 if u.status == "suspended" else 0,
                ts_text(u.created),
                ts_text(last_login if last_login is not None else u.created),
            )

    return TableLoad(
        "users",
        (
            "id", "email", "password_hash", "full_name", "phone_number", "user_type", "status",
            "last_login", "profile_image_url", "email_verified", "phone_verified",
            "two_factor_enabled", "login_attempts", "created_at", "updated_at",
        ),
        rows(),
        len(world.users),
    )  # fmt: skip


def profile_count(n_users: int, share: float) -> int:
    """How many users get a profile."""
    return round(n_users * share)


def _profiles(world: World) -> TableLoad:
    rng, pools, t0 = world.rng, world.pools, world.clock.t0
    users = world.users
    chosen = sorted(
        rng.sample(range(len(users)), profile_count(len(users), world.scale.profile_share))
    )

    def rows():
        for i in chosen:
            u = users[i]
            city = rng.choice(CITIES)
            works = u.user_type not in ("attendee", "model")
            birth_day = world.clock.today - rng.randint(19 * 365, 65 * 365)
            handle = f"@{pools.first_ascii[u.first]}{pools.last_ascii[u.last][:6]}"
            yield (
                new_id(rng),
                u.id,
                pools.first_names[u.first],
                pools.last_names[u.last],
                Jsonb(
                    {
                        "line1": rng.choice(pools.streets),
                        "city": city.name,
                        "postal_code": city.postal_code,
                        "country": city.country,
                    }
                ),
                day_text(birth_day),
                rng.choice(pools.sentences) if rng.random() < 0.6 else None,
                Jsonb({"instagram": handle} if rng.random() < 0.7 else {}),
                rng.choice(pools.companies) if works else None,
                rng.choice(pools.jobs) if works else None,
                f"{city.name}, {city.country}",
                f"https://{pools.last_ascii[u.last]}.example.com" if rng.random() < 0.1 else None,
                rng.sample(INTERESTS, rng.randint(1, 4)),
                Jsonb(
                    {
                        "language": rng.choice(("en", "fr", "it", "es")),
                        "newsletter": rng.random() < 0.6,
                    }
                ),
                ts_text(u.created + HOUR),
                ts_text(max(u.created + HOUR, t0 - rng.randrange(200 * DAY))),
            )

    return TableLoad(
        "user_profiles",
        (
            "id", "user_id", "first_name", "last_name", "address", "date_of_birth", "bio",
            "social_links", "company", "position", "location", "website", "interests",
            "preferences", "created_at", "updated_at",
        ),
        rows(),
        len(chosen),
    )  # fmt: skip
