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
from core.auth import passwords
from core.auth import permissions as perms
from core.auth.passwords import token_hash
from core.auth.sessions import purge
from core.bootstrap import prepare_database
from core.config import Settings
from core.db import Actor, use_engine
from core.db.engine import app_url, auth_url
from core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from tests.apptest import set_password
from tests.factories import make_user

# Migration 0012's throttle, as it was written.
FREE_PER_ACCOUNT = 3
FREE_PER_ADDRESS = 10
CEILING_SECONDS = 900

if TYPE_CHECKING:
    from tests.conftest import SecureDatabase

PASSWORD = "correct horse battery"


def _user(db: SecureDatabase, roles: tuple[str, ...] = ("organizer",), **kw: object) -> str:
    """A new active user with PASSWORD and `roles`; returns the email."""
    with Session(db.owner) as s, s.begin():
        user = make_user(s, **kw)
        set_password(s, user.id, PASSWORD)
        for role in roles:
            s.execute(
                text("INSERT INTO user_roles (user_id, role_id) VALUES (:u, :r)"),
                {"u": user.id, "r": perms.role_id(role)},
            )
        return user.email


def _one(engine: Engine, sql: str, **params: object) -> object:
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def _address() -> str:
    """A documentation address (RFC 5737) of its own, so throttles of tests stay apart."""
    n = uuid.uuid4().int
    return f"198.51.{n % 250}.{(n >> 8) % 250 + 1}"


def _wrong(email: str, ip: str) -> Exception:
    """One sign-in with a wrong password from `ip`; the refusal it got."""
    try:
        auth.sign_in_with_password(email, "not the password at all", ip_address=ip)
    except (auth.SignInFailed, auth.SignInThrottled) as exc:
        return exc
    raise AssertionError("a wrong password signed in")


def _let_blocks_pass(db: SecureDatabase, ip: str) -> None:
    """Move every block of `ip` into the past, as if its delay had been waited out."""
    with db.owner.begin() as conn:
        conn.execute(
            text(
                "UPDATE sign_in_throttles SET blocked_until = now() - interval '1 second'"
                " WHERE ip_address = :ip"
            ),
            {"ip": ip},
        )


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
    actor = who.actor("10.0.0.1")
    assert actor.user_id == who.user_id and actor.session_token == who.session_token
    assert who.session_token not in repr(who) + repr(actor)
    assert _one(secure_database.owner, "SELECT last_login IS NOT NULL FROM users WHERE id = :u",
                u=who.user_id)  # fmt: skip
    # One session row, stored as a hash, and one sign-in entry under the person.
    session = _one(
        secure_database.owner,
        "SELECT method FROM auth_sessions WHERE token_hash = :h AND user_id = :u",
        h=token_hash(who.session_token),
        u=who.user_id,
    )
    assert session == "password"
    assert (
        _one(
            secure_database.owner,
            "SELECT count(*) FROM audit_logs WHERE action = 'auth.signed_in' AND user_id = :u",
            u=who.user_id,
        )
        == 1
    )


def test_wrong_password_and_unknown_email_get_the_same_message(
    secure_database: SecureDatabase,
) -> None:
    email = _user(secure_database)
    with pytest.raises(auth.SignInFailed) as wrong:
        auth.sign_in_with_password(email, "not the password", ip_address=_address())
    with pytest.raises(auth.SignInFailed) as unknown:
        auth.sign_in_with_password("nobody-here@example.com", PASSWORD, ip_address=_address())
    assert wrong.value.message == unknown.value.message == "Email or password is wrong."


# -- throttling instead of a lockout (finding 5) -------------------------------------------


def test_failures_from_five_addresses_do_not_lock_the_owner_out(
    secure_database: SecureDatabase,
) -> None:
    """The attack: five wrong passwords from five addresses locked the account, even for
    its owner with the right password, and the lock restarted whenever it ended."""
    email = _user(secure_database, ("admin",))
    attackers = [_address() for _ in range(5)]
    for _round in range(2):
        for ip in attackers:
            assert isinstance(_wrong(email, ip), auth.SignInFailed)
    owner_address = _address()
    who = auth.sign_in_with_password(email, PASSWORD, ip_address=owner_address)
    assert who.email == email and "admin" in who.roles


def test_an_attacking_address_waits_longer_after_each_failure_up_to_a_ceiling(
    secure_database: SecureDatabase,
) -> None:
    email = _user(secure_database)
    ip = _address()
    for _ in range(FREE_PER_ACCOUNT):  # typos cost nothing
        assert isinstance(_wrong(email, ip), auth.SignInFailed)
    waits = []
    for _ in range(4):
        assert isinstance(_wrong(email, ip), auth.SignInFailed)  # counted, then a wait
        throttled = _wrong(email, ip)
        assert isinstance(throttled, auth.SignInThrottled)
        waits.append(throttled.retry_after_seconds)
        # Even the right password waits: nothing is checked while throttled.
        with pytest.raises(auth.SignInThrottled):
            auth.sign_in_with_password(email, PASSWORD, ip_address=ip)
        _let_blocks_pass(secure_database, ip)
    assert waits == [1, 2, 4, 8], "the delay doubles and does not restart when a wait ends"
    with secure_database.owner.begin() as conn:
        conn.execute(
            text("UPDATE sign_in_throttles SET failures = 60 WHERE ip_address = :ip"), {"ip": ip}
        )
    _wrong(email, ip)
    assert _wrong(email, ip).retry_after_seconds <= CEILING_SECONDS  # type: ignore[attr-defined]
    _let_blocks_pass(secure_database, ip)
    # The right password, once the wait is over, signs in and forgets this address's count.
    assert auth.sign_in_with_password(email, PASSWORD, ip_address=ip).email == email
    assert (
        _one(
            secure_database.owner,
            "SELECT count(*) FROM sign_in_throttles WHERE ip_address = :ip AND kind = 'account'",
            ip=ip,
        )
        == 0
    )


def test_one_address_trying_many_accounts_is_slowed_for_all_of_them(
    secure_database: SecureDatabase,
) -> None:
    ip = _address()
    other = _user(secure_database)
    for _ in range(FREE_PER_ADDRESS + 1):
        _wrong(f"spray-{uuid.uuid4().hex[:8]}@example.com", ip)
    assert isinstance(_wrong(other, ip), auth.SignInThrottled)
    # The same account from an address that is not spraying still signs in.
    assert auth.sign_in_with_password(other, PASSWORD, ip_address=_address()).email == other


def test_the_throttle_answers_alike_for_unknown_and_known_emails(
    secure_database: SecureDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The attack: the lock message ("This account is locked") told which emails have an
    account. Now every answer, and the work behind it, is the same for both."""
    verified: list[int] = []
    real = passwords._hasher

    class CountingHasher:
        def verify(self, hash_: str, password: str) -> bool:
            verified.append(1)
            return real.verify(hash_, password)

        def __getattr__(self, name: str) -> object:
            return getattr(real, name)

    monkeypatch.setattr(passwords, "_hasher", CountingHasher())

    def attempts(email: str) -> list[tuple[str, str, int]]:
        ip = _address()
        seen = []
        for _ in range(FREE_PER_ACCOUNT + 3):
            verified.clear()
            exc = _wrong(email, ip)
            seen.append((type(exc).__name__, exc.message, len(verified)))  # type: ignore[attr-defined]
        return seen

    known = attempts(_user(secure_database))
    unknown = attempts(f"nobody-{uuid.uuid4().hex[:8]}@example.com")
    assert known == unknown
    assert {name for name, _, _ in known} == {"SignInFailed", "SignInThrottled"}
    assert not any("lock" in message.lower() for _, message, _ in known)


def test_admins_see_throttled_addresses_and_lift_a_throttle(
    secure_database: SecureDatabase, admin: auth.Identity
) -> None:
    email = _user(secure_database)
    ip = _address()
    for _ in range(FREE_PER_ACCOUNT + 1):
        _wrong(email, ip)
    mine = [t for t in auth.list_throttles(admin.actor()) if t.ip_address == ip]
    assert {(t.email, t.failures, t.throttled) for t in mine} == {
        (email.lower(), FREE_PER_ACCOUNT + 1, True),
        (None, FREE_PER_ACCOUNT + 1, False),
    }
    organizer = auth.sign_in_with_password(_user(secure_database), PASSWORD, ip_address=_address())
    for call in (
        lambda: auth.list_throttles(organizer.actor()),
        lambda: auth.lift_throttle(organizer.actor(), ip),
    ):
        with pytest.raises(PermissionDenied):
            call()
    assert auth.lift_throttle(admin.actor("10.9.8.7", "pytest"), ip) == 2
    assert auth.sign_in_with_password(email, PASSWORD, ip_address=ip).email == email
    lifted = _one(
        secure_database.owner,
        "SELECT new_data FROM audit_logs WHERE action = 'auth.throttle_lifted'"
        " AND record_id = :ip AND user_id = :a",
        ip=ip,
        a=admin.user_id,
    )
    assert lifted == {"address": ip, "email": None, "rows": 2}


def test_throttle_rows_are_forgotten_after_their_quiet_period(
    secure_database: SecureDatabase,
) -> None:
    ip = _address()
    _wrong(f"forget-{uuid.uuid4().hex[:8]}@example.com", ip)
    with secure_database.owner.begin() as conn:
        conn.execute(
            text(
                "UPDATE sign_in_throttles SET last_failed_at = now() - CASE kind"
                " WHEN 'account' THEN interval '24 hours 1 second'"
                " ELSE interval '1 hour 1 second' END WHERE ip_address = :ip"
            ),
            {"ip": ip},
        )
    assert purge() >= 2
    assert _one(
        secure_database.owner, "SELECT count(*) FROM sign_in_throttles WHERE ip_address = :ip",
        ip=ip,
    ) == 0  # fmt: skip


# -- reset tokens and passwords -------------------------------------------------------------


def test_reset_token_works_once_and_not_after_it_expires(
    secure_database: SecureDatabase, admin: auth.Identity
) -> None:
    email = _user(secure_database)
    user_id = _one(secure_database.owner, "SELECT id FROM users WHERE email = :e", e=email)
    token = auth.issue_reset_token(admin.actor(), user_id)  # type: ignore[arg-type]
    stored = _one(
        secure_database.owner,
        "SELECT reset_token_hash FROM user_credentials WHERE user_id = :u",
        u=user_id,
    )
    assert stored == token_hash(token) and token not in str(stored)  # only a hash is kept
    with pytest.raises(ValidationError) as short:
        auth.reset_password(token, "short")
    assert short.value.field == "new_password"
    auth.reset_password(token, "a brand new password")
    assert auth.sign_in_with_password(email, "a brand new password").email == email
    with pytest.raises(auth.ResetTokenInvalid):
        auth.reset_password(token, "yet another password")
    expired = auth.issue_reset_token(admin.actor(), user_id)  # type: ignore[arg-type]
    with secure_database.owner.begin() as conn:
        conn.execute(
            text("UPDATE user_credentials SET reset_token_expires_at = now() - interval '1 minute'"
                 " WHERE user_id = :u"),
            {"u": user_id},
        )  # fmt: skip
    with pytest.raises(auth.ResetTokenInvalid):
        auth.reset_password(expired, "yet another password")
    with pytest.raises(auth.ResetTokenInvalid):
        auth.reset_password("made-up-token", "yet another password")
    with pytest.raises(NotFound):
        auth.issue_reset_token(admin.actor(), uuid.uuid4())


def test_a_reset_ends_every_session_of_the_account(
    secure_database: SecureDatabase, admin: auth.Identity
) -> None:
    who = auth.sign_in_with_password(_user(secure_database), PASSWORD)
    token = auth.issue_reset_token(admin.actor(), who.user_id)
    auth.reset_password(token, "set after a reset")
    assert auth.load_identity(who.session_token) is None
    assert auth.why_ended(who.session_token) == "password_changed"


def test_change_password_checks_the_current_one_and_the_rules(
    secure_database: SecureDatabase,
) -> None:
    email = _user(secure_database)
    who = auth.sign_in_with_password(email, PASSWORD)
    elsewhere = auth.sign_in_with_password(email, PASSWORD)
    with pytest.raises(ValidationError) as wrong:
        auth.change_password(who.actor(), "not it at all", "a fine new password")
    assert wrong.value.field == "current_password"
    for bad in ("too short", PASSWORD):
        with pytest.raises(ValidationError) as rule:
            auth.change_password(who.actor(), PASSWORD, bad)
        assert rule.value.field == "new_password"
    auth.change_password(who.actor(), PASSWORD, "a fine new password")
    assert auth.sign_in_with_password(who.email, "a fine new password").user_id == who.user_id
    # This session goes on; the person's other sessions end.
    assert auth.load_identity(who.session_token) is not None
    assert auth.load_identity(elsewhere.session_token) is None
    with pytest.raises(NotFound):
        auth.change_password(elsewhere.actor(), "a fine new password", "another fine password")


# -- the first admin ------------------------------------------------------------------------


def test_first_admin_once_with_a_forced_change_and_no_password_in_logs(
    scratch_database: Engine,
    secure_database: SecureDatabase,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = Settings.from_env()
    app: Engine | None = None
    sign_in: Engine | None = None
    use_engine(scratch_database)
    caplog.set_level(logging.DEBUG)
    try:
        report = prepare_database(replace(settings, demo_on_first_start=False))
        assert report.first_admin_created
        again = auth.ensure_first_admin(settings)
        url = scratch_database.url.render_as_string(hide_password=False)
        args = {"options": "-c timezone=UTC"}
        app = create_engine(app_url(url), connect_args=args)
        sign_in = create_engine(auth_url(url), connect_args=args)
        use_engine(app, owner=scratch_database, auth=sign_in)
        printed = capsys.readouterr().out
        password = next(
            line.split(":", 1)[1].strip() for line in printed.splitlines() if "password:" in line
        )
        who = auth.sign_in_with_password(settings.admin_email, password)
        assert who.must_change_password and who.roles == {"admin"}
        auth.change_password(who.actor(), password, "the admin's own password")
        fresh = auth.load_identity(who.session_token)
        assert fresh is not None and not fresh.must_change_password
    finally:
        use_engine(secure_database.app, owner=secure_database.owner, auth=secure_database.auth)
        if app is not None:
            app.dispose()
            sign_in.dispose()
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
        lambda: auth.issue_reset_token(actor, organizer.user_id),
    ):
        with pytest.raises(PermissionDenied):
            call()
    assert auth.load_identity(organizer.session_token).roles == {"organizer"}  # type: ignore[union-attr]


def test_roles_deactivation_and_reactivation_are_audited(
    secure_database: SecureDatabase, admin: auth.Identity
) -> None:
    who = auth.sign_in_with_password(_user(secure_database), PASSWORD)
    actor = admin.actor("10.1.2.3", "pytest")
    auth.set_roles(actor, who.user_id, ["organizer", "marketing"])
    assert auth.load_identity(who.session_token).roles == {"organizer", "marketing"}  # type: ignore[union-attr]
    auth.deactivate_user(actor, who.user_id)
    assert auth.load_identity(who.session_token) is None
    assert auth.why_ended(who.session_token) == "deactivated"
    with pytest.raises(auth.SignInFailed):
        auth.sign_in_with_password(who.email, PASSWORD)
    [summary] = auth.list_users(actor, search=who.email, status="inactive")
    assert summary.roles == ("marketing", "organizer")
    auth.reactivate_user(actor, who.user_id)
    # Reactivation lets the person sign in again; the ended session stays ended.
    assert auth.load_identity(who.session_token) is None
    assert auth.sign_in_with_password(who.email, PASSWORD).user_id == who.user_id
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
    assert auth.load_identity(last.session_token).roles == {"admin"}  # type: ignore[union-attr]
    other = auth.sign_in_with_password(_user(secure_database, ("organizer",)), PASSWORD)
    auth.set_roles(last.actor(), other.user_id, ["admin"])
    auth.set_roles(last.actor(), last.user_id, ["organizer"])  # now someone else is admin
    assert auth.load_identity(last.session_token).roles == {"organizer"}  # type: ignore[union-attr]
