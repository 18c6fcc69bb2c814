"""Who works which demo event: each event's door and box-office staff (event_staff).

Every event gets STAFF_PER_EVENT of the staff users, taken in turn, assigned by its
organizer a day after the event was created. Ids come from a random stream of their own,
so adding this table left every other table's rows as they were.
"""

from __future__ import annotations

from collections.abc import Iterator
from random import Random

from core.demo.clock import DAY, ts_text
from core.demo.ids import new_id
from core.demo.world import World
from core.demo.writer import TableLoad

STAFF_PER_EVENT = 2
# Mixed into the seed for this table's own stream ("staff").
_STREAM = 0x5747_4146_46


def staff_count(n_events: int, n_staff: int) -> int:
    """Assignments for n events when n_staff people have the staff role."""
    return n_events * min(STAFF_PER_EVENT, n_staff)


def tables(world: World) -> Iterator[TableLoad]:
    staff = world.users_by_type.get("staff", [])
    per_event = min(STAFF_PER_EVENT, len(staff))
    rng = Random(world.seed ^ _STREAM)

    def rows():
        turn = 0
        for event in world.events:
            for _ in range(per_event):
                person = staff[turn % len(staff)]
                turn += 1
                yield (
                    new_id(rng),
                    event.id,
                    person.id,
                    event.organizer_id,
                    ts_text(event.created + DAY),
                )

    yield TableLoad(
        "event_staff",
        ("id", "event_id", "user_id", "assigned_by", "created_at"),
        rows(),
        staff_count(len(world.events), len(staff)),
    )
