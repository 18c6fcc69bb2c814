"""Finding 6, proven through plain SQL on the app role's own connection: the database decides
who acts from a sign-in session it issued, not from what the connection claims, and the
app role can neither read password hashes or reset tokens, nor plant a token, nor open a
session. Also: what the sign-in role itself can do, and jobs acting as their creator."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from core.auth import end_session, load_identity
from core.auth.passwords import hash_password, token_hash
from core.auth.sessions import open_session
from core.db import unit_of_work
from core.jobs import Worker, enqueue, queue, register_handler
from tests.apptest import make_person, set_password
from tests.factories import make_user

if TYPE_CHECKING:
    from tests.conftest import SecureDatabase

APP_POOL_SIZE = 2  # a job handler's unit of work beside the worker's progress report

# What an anonymous connection may count; acting as a claimed admin must see no more.
VISIBLE = {
    "users": "SELECT count(*) FROM users",
    "user_roles": "SELECT count(*) FROM user_roles",
    "user_profiles": "SELECT count(*) FROM user_profiles",
    "events": "SELECT count(*) FROM events",
    "audit_logs": "SELECT count(*) FROM audit_logs",
    "data_subject_requests": "SELECT count(*) FROM data_subject_requests",
    "encryption_keys": "SELECT count(*) FROM encryption_keys",
    "api_keys": "SELECT count(*) FROM api_keys",
    "acting user": "SELECT count(*) FROM (SELECT app_current_user_id() AS u) x WHERE u IS NOT NULL",
    "admin": "SELECT count(*) FROM (SELECT app_has_role('admin') AS a) x WHERE a",
    "users.manage": "SELECT count(*) FROM (SELECT app_has_permission('users.manage') AS a) x"
    " WHERE a",
}
# Every sign-in function and what the app role may do with it (migration 0012).
APP_MAY_EXECUTE = {
    "auth_touch_session(text)",
    "auth_end_session(text, text)",
    "auth_issue_reset_token(uuid, integer)",
    "auth_throttles()",
    "auth_lift_throttle(text, text)",
}
AUTH_MAY_EXECUTE = {
    "auth_touch_session(text)",
    "auth_end_session(text, text)",
    "auth_sign_in_check(text, text)",
    "auth_sign_in_failed(text, text, text)",
    "auth_sign_in_succeeded(uuid, text, text, text, text, integer)",
    "auth_oidc_sign_in(text, text, text, integer)",
    "auth_session_password(text)",
    "auth_change_password(text, text, text, text)",
    "auth_redeem_reset_token(text, text)",
    "auth_open_job_session(uuid, integer)",
    "auth_purge()",
}
SECRET_TABLES = ("user_credentials", "auth_sessions", "sign_in_throttles")


@pytest.fixture(scope="module")
def admin_id(secure_database: SecureDatabase) -> uuid.UUID:
    return make_person(secure_database.owner, ["admin"], password="the admin's password").user_id


def _counts(conn: Connection) -> dict[str, int]:
    return {name: conn.execute(text(sql)).scalar_one() for name, sql in VISIBLE.items()}


def _refused(conn: Connection, sql: str, **params: object) -> str:
    """The database's refusal of `sql` (its SQLSTATE); fails the test when it runs."""
    savepoint = conn.begin_nested()
    try:
        conn.execute(text(sql), params)
    except DBAPIError as exc:
        savepoint.rollback()
        return str(exc.orig.sqlstate)  # type: ignore[union-attr]
    savepoint.rollback()
    raise AssertionError(f"the app role was allowed: {sql}")


def _set(conn: Connection, **settings: str) -> None:
    for name, value in settings.items():
        conn.execute(text("SELECT set_config(:n, :v, true)"), {"n": f"app.{name}", "v": value})


def test_claiming_an_admin_id_on_the_app_role_sees_nothing_more_than_anonymous(
    secure_database: SecureDatabase, admin_id: uuid.UUID
) -> None:
    with secure_database.app.connect() as conn, conn.begin():
        anonymous = _counts(conn)
        _set(conn, user_id=str(admin_id))
        claimed = _counts(conn)
        # Also with a made-up session token beside the claim.
        _set(conn, session=uuid.uuid4().hex * 2)
        forged = _counts(conn)
        # Writes are refused as for anyone: the claimed admin cannot make itself a role.
        state = _refused(
            conn,
            "INSERT INTO user_roles (user_id, role_id) SELECT :u, id FROM roles"
            " WHERE name = 'admin' ON CONFLICT DO NOTHING",
            u=str(uuid.uuid4()),
        )
    assert claimed == anonymous == forged
    assert anonymous["users"] == 0 and anonymous["admin"] == 0
    assert state == "42501"  # row-level security


def test_the_admins_own_session_does_see_as_an_admin(
    secure_database: SecureDatabase, admin_id: uuid.UUID
) -> None:
    token = open_session(admin_id)
    assert token is not None
    with secure_database.app.connect() as conn, conn.begin():
        _set(conn, session=token)
        seen = _counts(conn)
        me = conn.execute(text("SELECT app_current_user_id()")).scalar_one()
    assert me == admin_id and seen["admin"] == 1 and seen["users"] > 1


def test_the_app_role_cannot_read_password_hashes_or_reset_tokens(
    secure_database: SecureDatabase, admin_id: uuid.UUID
) -> None:
    email = _email(secure_database.owner, admin_id)
    with secure_database.app.connect() as conn, conn.begin():
        # The old way: auth_account(email) returned the hash to anyone.
        assert _refused(conn, "SELECT * FROM auth_account(:e)", e=email) == "42883"
        for table in SECRET_TABLES:
            assert _refused(conn, f"SELECT * FROM {table}") == "42501", table
        assert _refused(conn, "SELECT password_hash FROM users") == "42703"
        for call in (
            "SELECT * FROM auth_sign_in_check(:e, '')",
            "SELECT * FROM auth_session_password('x')",
        ):
            assert _refused(conn, call, e=email) == "42501", call
        # The same with an admin's valid session: admins do not read hashes either.
        _set(conn, session=open_session(admin_id) or "")
        for table in SECRET_TABLES:
            assert _refused(conn, f"SELECT * FROM {table}") == "42501", table
        assert _refused(conn, "SELECT * FROM auth_sign_in_check(:e, '')", e=email) == "42501"


def test_the_app_role_cannot_plant_a_reset_token(
    secure_database: SecureDatabase, admin_id: uuid.UUID
) -> None:
    """The attack: auth_set_reset_token(any email, hash of a token I chose), then
    auth_redeem_reset_token(that hash, my password hash): any account taken over."""
    victim = make_person(secure_database.owner, ["organizer"], password="victim's password")
    mine = "a token I chose for myself"
    with secure_database.app.connect() as conn, conn.begin():
        assert (
            _refused(
                conn,
                "SELECT auth_set_reset_token(:e, :h, 60)",
                e=victim.email,
                h=token_hash(mine),
            )
            == "42883"
        )
        assert (
            _refused(
                conn,
                "INSERT INTO user_credentials (user_id, reset_token_hash, reset_token_expires_at)"
                " VALUES (:u, :h, now() + interval '1 hour')",
                u=victim.user_id,
                h=token_hash(mine),
            )
            == "42501"
        )
        assert (
            _refused(
                conn, "SELECT auth_redeem_reset_token(:t, :p)", t=mine, p=hash_password("x" * 12)
            )
            == "42501"
        )
        # Issuing a token needs users.manage of a verified session: a claim is not one.
        assert _refused(conn, "SELECT auth_issue_reset_token(:u, 60)", u=victim.user_id) == "42501"
        _set(conn, user_id=str(admin_id))
        assert _refused(conn, "SELECT auth_issue_reset_token(:u, 60)", u=victim.user_id) == "42501"
    # Nothing was stored for the victim, who still signs in with their own password.
    with secure_database.owner.connect() as conn:
        stored = conn.execute(
            text("SELECT reset_token_hash FROM user_credentials WHERE user_id = :u"),
            {"u": victim.user_id},
        ).scalar_one()
    assert stored is None


def test_the_app_role_cannot_open_a_session(
    secure_database: SecureDatabase, admin_id: uuid.UUID
) -> None:
    with secure_database.app.connect() as conn, conn.begin():
        for call in (
            "SELECT auth_open_session(:u, 'issued', 30)",
            "SELECT auth_sign_in_succeeded(:u, '', '', '', NULL, 30)",
            "SELECT auth_oidc_sign_in(:e, '', '', 30)",
            "SELECT auth_open_job_session(:u, 30)",
            "INSERT INTO auth_sessions (token_hash, user_id, method, idle_minutes, expires_at)"
            " VALUES (repeat('0', 64), :u, 'issued', 30, now() + interval '1 hour')",
        ):
            email = _email(secure_database.owner, admin_id)
            assert _refused(conn, call, u=admin_id, e=email) == "42501", call
        privileges = set(
            conn.execute(
                text(
                    "SELECT p.oid::regprocedure::text FROM pg_proc p"
                    " WHERE p.pronamespace = current_schema()::regnamespace"
                    " AND p.proname LIKE 'auth\\_%' AND has_function_privilege(p.oid, 'EXECUTE')"
                )
            ).scalars()
        )
    assert privileges == {f.replace(" ", "") for f in APP_MAY_EXECUTE}


def test_the_sign_in_role_only_runs_the_sign_in_functions(
    secure_database: SecureDatabase,
) -> None:
    with secure_database.auth.connect() as conn, conn.begin():
        row = conn.execute(
            text(
                "SELECT rolsuper, rolbypassrls, rolcanlogin FROM pg_roles"
                " WHERE rolname = current_user"
            )
        ).one()
        for table in (*SECRET_TABLES, "users", "orders", "audit_logs"):
            assert _refused(conn, f"SELECT 1 FROM {table} LIMIT 1") == "42501", table
        privileges = set(
            conn.execute(
                text(
                    "SELECT p.oid::regprocedure::text FROM pg_proc p"
                    " WHERE p.pronamespace = current_schema()::regnamespace"
                    " AND p.proname LIKE 'auth\\_%' AND has_function_privilege(p.oid, 'EXECUTE')"
                )
            ).scalars()
        )
    assert tuple(row) == (False, False, True)
    assert privileges == {f.replace(" ", "") for f in AUTH_MAY_EXECUTE}


@pytest.mark.parametrize("how", ["signed out", "expired", "deactivated", "erased"])
def test_an_ended_session_stops_working_at_once(secure_database: SecureDatabase, how: str) -> None:
    person = make_person(secure_database.owner, ["organizer"])
    with secure_database.app.connect() as conn:
        with conn.begin():
            _set(conn, session=person.session_token)
            before = conn.execute(text("SELECT app_current_user_id()")).scalar_one()
        if how == "signed out":
            assert end_session(person.session_token)
        else:
            with secure_database.owner.begin() as owner:
                owner.execute(
                    text(
                        {
                            "expired": "UPDATE auth_sessions SET expires_at = now()"
                            " - interval '1 second' WHERE user_id = :u",
                            "deactivated": "UPDATE users SET status = 'inactive' WHERE id = :u",
                            "erased": "UPDATE users SET is_anonymized = true WHERE id = :u",
                        }[how]
                    ),
                    {"u": person.user_id},
                )
        with conn.begin():
            _set(conn, session=person.session_token)
            after = conn.execute(text("SELECT app_current_user_id()")).scalar_one()
            own_row = conn.execute(
                text("SELECT count(*) FROM users WHERE id = :u"), {"u": person.user_id}
            ).scalar_one()
    assert before == person.user_id
    assert after is None and own_row == 0
    assert load_identity(person.session_token) is None


def test_erasure_takes_the_credentials_with_it(secure_database: SecureDatabase) -> None:
    person = make_person(secure_database.owner, ["organizer"], password="to be forgotten")
    with secure_database.owner.begin() as conn:
        conn.execute(
            text("UPDATE users SET is_anonymized = true, status = 'inactive' WHERE id = :u"),
            {"u": person.user_id},
        )
        left = conn.execute(
            text("SELECT count(*) FROM user_credentials WHERE user_id = :u"), {"u": person.user_id}
        ).scalar_one()
    assert left == 0


def test_the_owner_may_still_name_the_acting_user(
    secure_database: SecureDatabase, admin_id: uuid.UUID
) -> None:
    with secure_database.owner.connect() as conn, conn.begin():
        _set(conn, user_id=str(admin_id))
        assert conn.execute(text("SELECT app_current_user_id()")).scalar_one() == admin_id


def test_a_job_acts_through_a_session_that_ends_with_it(secure_database: SecureDatabase) -> None:
    person = make_person(secure_database.owner, ["admin"])
    job_type = f"test.{uuid.uuid4().hex[:8]}"
    seen: list[object] = []

    def handler(ctx: queue.JobContext) -> dict:
        with unit_of_work(ctx.actor, read_only=True) as uow:
            seen.append(uow.session.execute(text("SELECT app_current_user_id()")).scalar_one())
        ctx.progress(50, "half way")
        seen.append(ctx.actor.session_token)
        return {"ok": True}

    register_handler(job_type, handler)
    with unit_of_work(person.actor()) as uow:
        enqueue(uow.session, job_type, {}, created_by=person.user_id)
        uow.commit()
    assert Worker(job_types=[job_type]).run_until_idle() == 1
    acted_as, token = seen
    assert acted_as == person.user_id
    with secure_database.owner.connect() as conn:
        session = conn.execute(
            text("SELECT method, revoked_reason, job_id IS NOT NULL FROM auth_sessions"
                 " WHERE token_hash = :h"),
            {"h": token_hash(str(token))},
        ).one()  # fmt: skip
    assert tuple(session) == ("job", "job_finished", True)


def test_a_job_of_a_deactivated_person_is_refused(secure_database: SecureDatabase) -> None:
    person = make_person(secure_database.owner, ["admin"])
    job_type = f"test.{uuid.uuid4().hex[:8]}"
    ran: list[int] = []

    def handler(ctx: queue.JobContext) -> None:
        with unit_of_work(ctx.actor, read_only=True):
            ran.append(1)

    register_handler(job_type, handler)
    with unit_of_work(person.actor()) as uow:
        job_id = enqueue(uow.session, job_type, {}, created_by=person.user_id)
        uow.commit()
    with secure_database.owner.begin() as conn:
        conn.execute(
            text("UPDATE users SET status = 'inactive' WHERE id = :u"), {"u": person.user_id}
        )
    assert Worker(job_types=[job_type]).run_until_idle() == 1
    with secure_database.owner.connect() as conn:
        status, error = conn.execute(
            text("SELECT status, error FROM background_jobs WHERE id = :j"), {"j": job_id}
        ).one()
    assert ran == [] and status == "failed" and "can no longer act" in error


def test_make_person_identities_carry_a_working_session(secure_database: SecureDatabase) -> None:
    with Session(secure_database.owner) as s, s.begin():
        user_id = make_user(s).id
        set_password(s, user_id, None)
    token = open_session(user_id)
    assert token is not None
    identity = load_identity(token)
    assert identity is not None and identity.user_id == user_id
    assert make_person(secure_database.owner, ["staff"]).can("box_office.sell")


def _email(owner: Engine, user_id: uuid.UUID) -> str:
    with owner.connect() as conn:
        return conn.execute(
            text("SELECT email FROM users WHERE id = :u"), {"u": user_id}
        ).scalar_one()
