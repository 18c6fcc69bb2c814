"""Sign-in, identities, permissions and user administration, as the app role on a
database of this module's own (row-level security applies throughout)."""

from __future__ import annotations

import logging
import uuid
from dataclasses import replace
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

from core import auth
from core.auth import permissions as perms
from core.auth.passwords import hash_password
from core.bootstrap import prepare_database
from core.config import Settings
from core.db import Actor, use_engine
from core.db.engine import app_url
from core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from tests.factories import make_user

if TYPE_CHECKING:
    from tests.conftest import SecureDatabase

PASSWORD = "correct horse battery"


def _user(db: SecureDatabase, roles: tuple[str, ...] = ("organizer",), **kw: object) -> str:
    """A new active user with PASSWORD and `roles`; returns the email."""
    with Session(db.owner) as s, s.begin():
        user = make_user(s, password_hash=hash_password(PASSWORD), **kw)
        for role in roles:
            s.execute(
                text("INSERT INTO user_roles (user_id, role_id) VALUES (:u, :r)"),
                {"u": user.id, "r": perms.role_id(role)},
            )
        return user.email


def _one(engine: Engine, sql: str, **params: object) -> object:
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


@pytest.fixture(scope="module")
def admin(secure_database: SecureDatabase) -> auth.Identity:
    return auth.sign_in_with_password(_user(secure_database, ("admin",)), PASSWORD)


# -- password sign-in -----------------------------------------------------------------------


def test_right_password_signs_in_with_roles_and_permissions(
    secure_database: SecureDatabase,
) -> None:
    email = _user(secure_database, ("organizer",))
    who = auth.sign_in_with_password(email.upper(), PASSWORD, ip_address="10.0.0.1")
    assert who.email == email and who.roles == {"organizer"}
    assert who.can(perms.EVENTS_MANAGE) and not who.can(perms.USERS_MANAGE)
    assert who.permissions == perms.permissions_of({"organizer"})
    assert not who.must_change_password
    assert who.actor("10.0.0.1").user_id == who.user_id
    assert _one(secure_database.owner, "SELECT last_login IS NOT NULL FROM users WHERE id = :u",
                u=who.user_id)  # fmt: skip


def test_wrong_password_and_unknown_email_get_the_same_message(
    secure_database: SecureDatabase,
) -> None:
    email = _user(secure_database)
    with pytest.raises(auth.SignInFailed) as wrong:
        auth.sign_in_with_password(email, "not the password")
    with pytest.raises(auth.SignInFailed) as unknown:
        auth.sign_in_with_password("nobody-here@example.com", PASSWORD)
    assert wrong.value.message == unknown.value.message == "Email or password is wrong."


def test_five_failures_lock_until_an_admin_unlocks(
    secure_database: SecureDatabase, admin: auth.Identity
) -> None:
    email = _user(secure_database)
    for _ in range(4):
        with pytest.raises(auth.SignInFailed):
            auth.sign_in_with_password(email, "wrong password!")
    with pytest.raises(auth.AccountLocked):
        auth.sign_in_with_password(email, "wrong password!")
    with pytest.raises(auth.AccountLocked):  # even the right password now
        auth.sign_in_with_password(email, PASSWORD)
    user_id = _one(secure_database.owner, "SELECT id FROM users WHERE email = :e", e=email)
    [summary] = auth.list_users(admin.actor(), search=email)
    assert summary.locked
    auth.unlock_user(admin.actor(), user_id)
    assert auth.sign_in_with_password(email, PASSWORD).user_id == user_id
    failures = _one(
        secure_database.owner,
        "SELECT count(*) FROM audit_logs WHERE record_id = :u AND action = 'auth.sign_in_failed'",
        u=str(user_id),
    )
    assert failures == 5


def test_a_lock_ends_by_itself_after_15_minutes(secure_database: SecureDatabase) -> None:
    email = _user(secure_database)
    for _ in range(5):
        with pytest.raises((auth.SignInFailed, auth.AccountLocked)):
            auth.sign_in_with_password(email, "wrong password!")
    with secure_database.owner.begin() as conn:
        until = conn.execute(
            text("SELECT locked_until - now() FROM users WHERE email = :e"), {"e": email}
        ).scalar_one()
        assert 14 * 60 < until.total_seconds() <= 15 * 60
        conn.execute(
            text("UPDATE users SET locked_until = now() - interval '1 second' WHERE email = :e"),
            {"e": email},
        )
    assert auth.sign_in_with_password(email, PASSWORD).email == email


def test_reset_token_works_once_and_not_after_it_expires(
    secure_database: SecureDatabase,
) -> None:
    email = _user(secure_database)
    assert auth.request_password_reset("nobody-here@example.com") is None
    token = auth.request_password_reset(email)
    assert token is not None
    stored = _one(secure_database.owner, "SELECT reset_token FROM users WHERE email = :e", e=email)
    assert stored and token not in str(stored)  # only a hash is kept
    with pytest.raises(ValidationError) as short:
        auth.reset_password(token, "short")
    assert short.value.field == "new_password"
    auth.reset_password(token, "a brand new password")
    assert auth.sign_in_with_password(email, "a brand new password").email == email
    with pytest.raises(auth.ResetTokenInvalid):
        auth.reset_password(token, "yet another password")
    expired = auth.request_password_reset(email)
    assert expired is not None
    with secure_database.owner.begin() as conn:
        conn.execute(
            text("UPDATE users SET reset_token_expires_at = now() - interval '1 minute'"
                 " WHERE email = :e"),
            {"e": email},
        )  # fmt: skip
    with pytest.raises(auth.ResetTokenInvalid):
        auth.reset_password(expired, "yet another password")
    with pytest.raises(auth.ResetTokenInvalid):
        auth.reset_password("made-up-token", "yet another password")


def test_change_password_checks_the_current_one_and_the_rules(
    secure_database: SecureDatabase,
) -> None:
    who = auth.sign_in_with_password(_user(secure_database), PASSWORD)
    with pytest.raises(ValidationError) as wrong:
        auth.change_password(who.actor(), "not it at all", "a fine new password")
    assert wrong.value.field == "current_password"
    for bad in ("too short", PASSWORD):
        with pytest.raises(ValidationError) as rule:
            auth.change_password(who.actor(), PASSWORD, bad)
        assert rule.value.field == "new_password"
    auth.change_password(who.actor(), PASSWORD, "a fine new password")
    assert auth.sign_in_with_password(who.email, "a fine new password").user_id == who.user_id


# -- the first admin ------------------------------------------------------------------------


def test_first_admin_once_with_a_forced_change_and_no_password_in_logs(
    scratch_database: Engine,
    secure_database: SecureDatabase,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = Settings.from_env()
    app: Engine | None = None
    use_engine(scratch_database)
    caplog.set_level(logging.DEBUG)
    try:
        report = prepare_database(replace(settings, demo_on_first_start=False))
        assert report.first_admin_created
        again = auth.ensure_first_admin(settings)
        url = scratch_database.url.render_as_string(hide_password=False)
        app = create_engine(app_url(url), connect_args={"options": "-c timezone=UTC"})
        use_engine(app, owner=scratch_database)
        printed = capsys.readouterr().out
        password = next(
            line.split(":", 1)[1].strip() for line in printed.splitlines() if "password:" in line
        )
        who = auth.sign_in_with_password(settings.admin_email, password)
        assert who.must_change_password and who.roles == {"admin"}
        auth.change_password(who.actor(), password, "the admin's own password")
        assert not auth.load_identity(who.user_id).must_change_password  # type: ignore[union-attr]
    finally:
        use_engine(secure_database.app, owner=secure_database.owner)
        if app is not None:
            app.dispose()
    assert again is None
    assert printed.count(password) == 1
    assert len(password) >= 16
    assert not any(password in r.getMessage() for r in caplog.records)
    with scratch_database.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM users")).scalar() == 1


# -- OpenID Connect ------------------------------------------------------------------------


def test_oidc_maps_a_known_verified_email_to_its_identity(
    secure_database: SecureDatabase,
) -> None:
    email = _user(secure_database, ("designer",))
    who = auth.sign_in_with_oidc({"email": email, "email_verified": True, "name": "X"})
    assert who.email == email and who.roles == {"designer"}
    assert who.can(perms.SHOWCASE_MANAGE)


def test_oidc_refuses_unknown_and_unverified_emails(secure_database: SecureDatabase) -> None:
    with pytest.raises(auth.UnknownIdentity, match="ask an admin to invite you"):
        auth.sign_in_with_oidc({"email": "stranger@example.com", "email_verified": True})
    with pytest.raises(auth.UnknownIdentity, match="not verified"):
        auth.sign_in_with_oidc({"email": _user(secure_database), "email_verified": False})
    with pytest.raises(auth.UnknownIdentity):
        auth.sign_in_with_oidc({"name": "No Email"})


def test_an_invited_person_signs_in_by_oidc_or_sets_a_password(
    secure_database: SecureDatabase, admin: auth.Identity
) -> None:
    by_oidc = f"invitee-{uuid.uuid4().hex[:8]}@example.com"
    invitation = auth.invite_user(
        admin.actor(), email=by_oidc, full_name="Invited Person", roles=["marketing"]
    )
    who = auth.sign_in_with_oidc({"email": by_oidc, "email_verified": True})
    assert who.user_id == invitation.user_id and who.roles == {"marketing"}

    by_password = f"invitee-{uuid.uuid4().hex[:8]}@example.com"
    second = auth.invite_user(
        admin.actor(), email=by_password, full_name="Second Person", roles=["sponsor", "staff"]
    )
    with pytest.raises(auth.SignInFailed):  # pending, no password yet
        auth.sign_in_with_password(by_password, PASSWORD)
    auth.reset_password(second.reset_token, "the invitee's password")
    assert auth.sign_in_with_password(by_password, "the invitee's password").roles == {
        "sponsor",
        "staff",
    }
    with pytest.raises(Conflict):
        auth.invite_user(admin.actor(), email=by_password.upper(), full_name="Dup", roles=["staff"])
    with pytest.raises(ValidationError) as bad_role:
        auth.invite_user(admin.actor(), email="x@example.com", full_name="X", roles=["root"])
    assert bad_role.value.field == "roles"


# -- permissions and user administration ---------------------------------------------------


def test_require_asks_the_database(secure_database: SecureDatabase) -> None:
    staff = auth.sign_in_with_password(_user(secure_database, ("staff",)), PASSWORD)
    auth.require(staff.actor(), perms.BOX_OFFICE_SELL)
    with pytest.raises(PermissionDenied, match=r"orders\.refund"):
        auth.require(staff.actor(), perms.ORDERS_REFUND)
    with pytest.raises(PermissionDenied):
        auth.require(Actor(user_id=None), perms.OVERVIEW_VIEW)


def test_non_admins_cannot_manage_users(secure_database: SecureDatabase) -> None:
    organizer = auth.sign_in_with_password(_user(secure_database), PASSWORD)
    actor = organizer.actor()
    for call in (
        lambda: auth.list_users(actor),
        lambda: auth.invite_user(actor, email="a@example.com", full_name="A", roles=["staff"]),
        lambda: auth.set_roles(actor, organizer.user_id, ["admin"]),
        lambda: auth.deactivate_user(actor, organizer.user_id),
        lambda: auth.reactivate_user(actor, organizer.user_id),
        lambda: auth.unlock_user(actor, organizer.user_id),
    ):
        with pytest.raises(PermissionDenied):
            call()
    assert auth.load_identity(organizer.user_id).roles == {"organizer"}  # type: ignore[union-attr]


def test_roles_deactivation_and_reactivation_are_audited(
    secure_database: SecureDatabase, admin: auth.Identity
) -> None:
    who = auth.sign_in_with_password(_user(secure_database), PASSWORD)
    actor = admin.actor("10.1.2.3", "pytest")
    auth.set_roles(actor, who.user_id, ["organizer", "marketing"])
    assert auth.load_identity(who.user_id).roles == {"organizer", "marketing"}  # type: ignore[union-attr]
    auth.deactivate_user(actor, who.user_id)
    assert auth.load_identity(who.user_id) is None
    with pytest.raises(auth.SignInFailed):
        auth.sign_in_with_password(who.email, PASSWORD)
    [summary] = auth.list_users(actor, search=who.email, status="inactive")
    assert summary.roles == ("marketing", "organizer")
    auth.reactivate_user(actor, who.user_id)
    assert auth.load_identity(who.user_id) is not None
    with pytest.raises(NotFound):
        auth.deactivate_user(actor, uuid.uuid4())
    with secure_database.owner.connect() as conn:
        actions = conn.execute(
            text(
                "SELECT action, user_id, ip_address, new_data ->> 'status' FROM audit_logs"
                " WHERE record_id = :u AND action LIKE 'users.%' AND user_id = :a ORDER BY seq"
            ),
            {"u": str(who.user_id), "a": admin.user_id},
        ).all()
    # The role change's summary row; the status changes are the audit trigger's rows.
    assert [(a[0], a[3]) for a in actions] == [
        ("users.roles_changed", None),
        ("users.update", "inactive"),
        ("users.update", "active"),
    ]
    assert all(a[1] == admin.user_id and a[2] == "10.1.2.3" for a in actions)


def test_the_last_admin_stays(secure_database: SecureDatabase) -> None:
    with secure_database.owner.begin() as conn:  # leave exactly one active admin
        conn.execute(
            text(
                "UPDATE users SET status = 'inactive' WHERE id IN (SELECT ur.user_id"
                " FROM user_roles ur WHERE ur.role_id = :r)"
            ),
            {"r": perms.role_id("admin")},
        )
    last = auth.sign_in_with_password(_user(secure_database, ("admin",)), PASSWORD)
    with pytest.raises(Conflict, match="last admin"):
        auth.deactivate_user(last.actor(), last.user_id)
    with pytest.raises(Conflict, match="last admin"):
        auth.set_roles(last.actor(), last.user_id, ["organizer"])
    assert auth.load_identity(last.user_id).roles == {"admin"}  # type: ignore[union-attr]
    other = auth.sign_in_with_password(_user(secure_database, ("organizer",)), PASSWORD)
    auth.set_roles(last.actor(), other.user_id, ["admin"])
    auth.set_roles(last.actor(), last.user_id, ["organizer"])  # now someone else is admin
    assert auth.load_identity(last.user_id).roles == {"organizer"}  # type: ignore[union-attr]
