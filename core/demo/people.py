"""Users of every type, their profiles, and the roles and permissions they hold."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from psycopg.types.json import Jsonb

from core.auth import permissions as catalogue
from core.demo.clock import DAY, HOUR, day_text, ts_or_none, ts_text
from core.demo.ids import UniqueNames, new_id
from core.demo.payments import demo_card
from core.demo.vocab import CITIES, INTERESTS
from core.demo.world import World
from core.demo.writer import TableLoad

# The app's catalogue (seeded by migration 0003, same ids) plus two roles for people who
# never sign in to the dashboard; those hold no permission.
ROLES = {
    **catalogue.ROLES,
    "model": "Sees castings, runway appearances and schedules.",
    "attendee": "Buys tickets and manages their own orders.",
}

PERMISSIONS = tuple(catalogue.PERMISSIONS)

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
    """'resource.action' for every permission."""
    return list(PERMISSIONS)


def role_permission_pairs() -> list[tuple[str, str]]:
    """(role, permission name) for every grant of the catalogue."""
    return catalogue.grants()


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
        world.role_ids[role] = str(catalogue.role_id(role))


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
    # The migration seeded the catalogue's rows already (same ids): keep those.
    return TableLoad(
        "roles", ("id", "name", "description", "created_at", "updated_at"), rows, merge=True
    )


def _permissions(world: World) -> Iterator[TableLoad]:
    created = ts_text(world.clock.t0 - 1_200 * DAY)
    yield TableLoad(
        "permissions",
        ("id", "name", "description", "resource", "action", "created_at", "updated_at"),
        [
            (
                str(catalogue.permission_id(name)),
                name,
                description,
                *name.split("."),
                created,
                created,
            )
            for name, (description, _) in catalogue.PERMISSIONS.items()
        ],
        merge=True,
    )
    yield TableLoad(
        "role_permissions",
        ("id", "role_id", "permission_id", "created_at"),
        [
            (
                str(catalogue.role_permission_id(role, name)),
                world.role_ids[role],
                str(catalogue.permission_id(name)),
                created,
            )
            for role, name in role_permission_pairs()
        ],
        merge=True,
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
                # No password (user_credentials stays empty): no invented passwords.
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
                ts_text(u.created),
                ts_text(last_login if last_login is not None else u.created),
            )

    return TableLoad(
        "users",
        (
            "id", "email", "full_name", "phone_number", "user_type", "status",
            "last_login", "profile_image_url", "email_verified", "phone_verified",
            "two_factor_enabled", "created_at", "updated_at",
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
                *_card_on_file(world, u),
            )

    return TableLoad(
        "user_profiles",
        (
            "id", "user_id", "first_name", "last_name", "address", "date_of_birth", "bio",
            "social_links", "company", "position", "location", "website", "interests",
            "preferences", "created_at", "updated_at", "encrypted_payment_info",
            "payment_info_key_id",
        ),
        rows(),
        len(chosen),
    )  # fmt: skip


def _card_on_file(world: World, u: UserRec) -> tuple[str | None, str | None]:
    """About one attendee profile in three keeps a card, from the user id's own bits."""
    bits = int(u.id.replace("-", "")[-16:], 16)
    if u.user_type != "attendee" or bits % 3:
        return None, None
    return demo_card(world, bits >> 2)
