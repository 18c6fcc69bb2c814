"""The unit of work: actor context, commit or nothing, no leaks across pooled connections."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import Engine, create_engine, text

from core.db import Actor, get_sessionmaker, unit_of_work, use_engine
from core.errors import ValidationError

CONTEXT = text(
    "SELECT current_setting('app.user_id', true), current_setting('app.ip_address', true),"
    " current_setting('app.user_agent', true), app_current_user_id()"
)


def test_actor_is_visible_inside_the_transaction(engine: Engine) -> None:
    actor = Actor(uuid.uuid4(), "203.0.113.9", "pytest-agent")
    with unit_of_work(actor) as uow:
        row = uow.session.execute(CONTEXT).one()
    assert row == (str(actor.user_id), "203.0.113.9", "pytest-agent", actor.user_id)


def test_pooled_connection_carries_nothing_to_the_next_user(engine: Engine) -> None:
    single = create_engine(engine.url, pool_size=1, max_overflow=0)
    use_engine(single)
    try:
        with unit_of_work(Actor(uuid.uuid4(), "198.51.100.1", "first")) as uow:
            first_pid = uow.session.execute(text("SELECT pg_backend_pid()")).scalar()
        with unit_of_work(Actor(None)) as uow:
            second_pid = uow.session.execute(text("SELECT pg_backend_pid()")).scalar()
            row = uow.session.execute(CONTEXT).one()
        # Outside any unit of work the same connection has no actor either.
        with get_sessionmaker()() as session:
            bare = session.execute(CONTEXT).one()
    finally:
        single.dispose()
        use_engine(engine)
    assert first_pid == second_pid
    assert row == ("", "", "", None)
    assert bare[3] is None


def test_leaving_without_commit_changes_nothing(engine: Engine) -> None:
    key = f"uow-test-{uuid.uuid4().hex[:8]}"
    with unit_of_work(Actor.system("pytest")) as uow:
        uow.session.execute(
            text(
                "INSERT INTO system_configurations (category, key, value, value_type)"
                " VALUES ('test', :k, '1'::jsonb, 'number')"
            ),
            {"k": key},
        )
    with unit_of_work(Actor.system("pytest"), read_only=True) as uow:
        found = uow.session.execute(
            text("SELECT count(*) FROM system_configurations WHERE key = :k"), {"k": key}
        ).scalar()
    assert found == 0


def test_commit_keeps_everything_and_an_error_keeps_nothing(engine: Engine) -> None:
    key = f"uow-test-{uuid.uuid4().hex[:8]}"
    insert = text(
        "INSERT INTO system_configurations (category, key, value, value_type)"
        " VALUES ('test', :k, '1'::jsonb, :t)"
    )
    with unit_of_work(Actor.system("pytest")) as uow:
        uow.session.execute(insert, {"k": key, "t": "number"})
        uow.commit()
    with pytest.raises(ValidationError), unit_of_work(Actor.system("pytest")) as uow:
        uow.session.execute(insert, {"k": key + "-2", "t": "number"})
        uow.session.execute(insert, {"k": key + "-3", "t": "not-a-type"})
        uow.commit()
    with unit_of_work(Actor.system("pytest")) as uow:
        keys = set(
            uow.session.execute(
                text("SELECT key FROM system_configurations WHERE key LIKE :p"), {"p": key + "%"}
            ).scalars()
        )
        uow.session.execute(text("DELETE FROM system_configurations WHERE key = :k"), {"k": key})
        uow.commit()
    assert keys == {key}


def test_read_only_unit_refuses_writes(engine: Engine) -> None:
    from core.errors import DomainError

    with (
        pytest.raises(Exception) as caught,
        unit_of_work(Actor.system("pytest"), read_only=True) as uow,
    ):
        uow.session.execute(
            text(
                "INSERT INTO system_configurations (category, key, value, value_type)"
                " VALUES ('test', 'ro', '1'::jsonb, 'number')"
            )
        )
    assert not isinstance(caught.value, DomainError)  # a bug in the caller, not user input
    assert "read-only" in str(caught.value)


def test_lock_timeout_is_the_units_own_and_does_not_outlive_it(engine: Engine) -> None:
    with unit_of_work(Actor.system(), lock_timeout_ms=1234) as uow:
        inside = uow.session.execute(text("SHOW lock_timeout")).scalar()
        writable = uow.session.execute(text("SHOW transaction_read_only")).scalar()
    with unit_of_work(Actor.system()) as uow:
        after = uow.session.execute(text("SHOW lock_timeout")).scalar()
    assert (inside, writable) == ("1234ms", "off")
    assert after == "0"


def test_an_overlong_user_agent_or_address_is_trimmed_to_its_column(engine: Engine) -> None:
    """What a browser or proxy sends describes the request; it is kept to the audit
    columns' limits (core/models/limits.py) instead of failing every audited write."""
    actor = Actor(uuid.uuid4(), "2001:db8::" + "f" * 100, "Mozilla/5.0 " + "x" * 5000)
    assert (len(actor.ip_address or ""), len(actor.user_agent or "")) == (45, 1000)
    with unit_of_work(actor) as uow:
        row = uow.session.execute(CONTEXT).one()
    assert (row[1], row[2]) == (actor.ip_address, actor.user_agent)
